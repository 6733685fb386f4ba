"""`clustertop config show`: the effective settings with their sources, as readable TOML."""

from __future__ import annotations

from clustertop.config.schema import HOST_SETTINGS, SETTINGS, Config, HostOverride
from clustertop.config.values import toml_key, toml_string, toml_value

_VALUE_WIDTH = 24
"""Values longer than this push their comment right instead of widening every line."""


def _header(config: Config) -> list[str]:
    lines = ["# clustertop settings in effect (command line > environment > file > defaults)"]
    if config.path is not None:
        lines.append(f"# config file: {config.path}")
    elif config.default_path is not None:
        lines.append(f"# config file: none (looked for {config.default_path})")
    else:
        lines.append("# config file: none")
    lines.extend(f"# warning: {warning}" for warning in config.warnings)
    return lines


def _settings(config: Config) -> list[str]:
    rows: list[tuple[str, str, str]] = []
    for name, setting in SETTINGS.items():
        value = getattr(config, name)
        source = config.sources.get(name, "default")
        if value is None and setting.unset:
            source = f"{source} (unset: {setting.unset})"
        rows.append((name, setting.render(value), source))
    name_width = max(len(name) for name, _, _ in rows)
    value_width = min(max(len(value) for _, value, _ in rows), _VALUE_WIDTH)
    return [
        f"{name:<{name_width}} = {value:<{value_width}}  # {source}" for name, value, source in rows
    ]


def _groups(config: Config) -> list[str]:
    if not config.groups:
        return ["# no [groups]"]
    lines = ["[groups]"]
    lines.extend(
        f"{toml_key(name)} = {toml_value(list(items))}" for name, items in config.groups.items()
    )
    return lines


def _hosts(config: Config) -> list[str]:
    if not config.hosts:
        return ['# no [hosts."<name>"] overrides']
    lines: list[str] = []
    unset = HostOverride()
    for host, override in config.hosts.items():
        if lines:
            lines.append("")
        lines.append(f"[hosts.{toml_key(host, quote=True)}]")
        for name, setting in HOST_SETTINGS.items():
            value = getattr(override, name)
            if value != getattr(unset, name):
                lines.append(f"{name} = {setting.render(value)}")
    return lines


def _keys(config: Config) -> list[str]:
    if not config.keys:
        return ["# no [keys] remaps"]
    lines = ["[keys]"]
    lines.extend(
        f"{toml_key(binding)} = {toml_string(key)}" for binding, key in config.keys.items()
    )
    return lines


def render_config(config: Config) -> str:
    """Every setting with its value and source, then groups, host overrides and key remaps.

    The output is valid TOML (sources are comments), so it can seed a config file.
    """
    sections = [_header(config), _settings(config), _groups(config), _hosts(config), _keys(config)]
    return "\n\n".join("\n".join(lines) for lines in sections) + "\n"
