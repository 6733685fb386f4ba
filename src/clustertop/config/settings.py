"""The effective settings: defaults < config file < environment < command line, with sources."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from clustertop.config.render import render_config
from clustertop.config.schema import (
    CONFIG_ENV,
    ENV_PREFIX,
    SETTINGS,
    TABLES,
    Config,
    ConfigError,
    HostOverride,
    env_variable,
    option_name,
)
from clustertop.config.tables import did_you_mean, parse_groups, parse_hosts, parse_keys
from clustertop.config.values import toml_key

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = [
    "Config",
    "ConfigError",
    "HostOverride",
    "config_file_path",
    "default_audit_log",
    "default_history_path",
    "load_config",
    "render_config",
]


_DEFAULTS: Mapping[str, object] = MappingProxyType(
    {name: getattr(Config(), name) for name in SETTINGS}
)

PREFIX_TABLES = ("prometheus", "history")
"""Tables whose keys are settings named `<table>_<key>`: `[history] path = ...`."""
TABLE_ALIASES = {"history_window": "history"}
"""`[history] window` is the chart window, the top-level `history` a table would hide."""
"""Tables whose keys are settings named `<table>_<key>` (`[prometheus] url` = prometheus_url)."""

_TABLE_PARSERS: Mapping[str, Callable[[object, str], Mapping[str, Any]]] = MappingProxyType(
    {"groups": parse_groups, "hosts": parse_hosts, "keys": parse_keys}
)


def _home(env: Mapping[str, str]) -> Path:
    home = env.get("HOME")
    return Path(home) if home else Path.home()


def _xdg_dir(env: Mapping[str, str], variable: str, fallback: str) -> Path:
    # The XDG spec says relative values are invalid and must be ignored.
    value = env.get(variable, "")
    return Path(value) if value and Path(value).is_absolute() else _home(env) / fallback


def _expand_home(path: Path, env: Mapping[str, str]) -> Path:
    """~/x with HOME taken from `env`, so tests never touch the developer's home."""
    text = str(path)
    if text == "~" or text.startswith("~/"):
        return _home(env) / text[2:]
    return path.expanduser()


def config_file_path(env: Mapping[str, str] = os.environ) -> Path:
    """$XDG_CONFIG_HOME/clustertop/config.toml, else ~/.config/clustertop/config.toml."""
    return _xdg_dir(env, "XDG_CONFIG_HOME", ".config") / "clustertop" / "config.toml"


def default_audit_log(env: Mapping[str, str] = os.environ) -> Path:
    """$XDG_STATE_HOME/clustertop/audit.jsonl, else ~/.local/state/clustertop/audit.jsonl."""
    return _xdg_dir(env, "XDG_STATE_HOME", ".local/state") / "clustertop" / "audit.jsonl"


def default_history_path(env: Mapping[str, str] = os.environ) -> Path:
    """$XDG_STATE_HOME/clustertop/history.sqlite, else ~/.local/state/clustertop/history.sqlite."""
    return _xdg_dir(env, "XDG_STATE_HOME", ".local/state") / "clustertop" / "history.sqlite"


def _choose_file(path: Path | None, env: Mapping[str, str]) -> Path | None:
    """The file to read: --config, else CLUSTERTOP_CONFIG, else the default one if it exists."""
    if path is not None:
        given, by = path, "--config"
    elif env.get(CONFIG_ENV, "").strip():
        given, by = Path(env[CONFIG_ENV]), f"environment variable {CONFIG_ENV}"
    else:
        default = config_file_path(env)
        return default if default.exists() else None
    given = _expand_home(given, env)
    if not given.exists():
        raise ConfigError(str(given), None, f"config file not found (named by {by})")
    return given


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot read: {exc.strerror or exc}") from None
    try:
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(str(path), None, "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), None, f"invalid TOML: {exc}") from None
    return data


def _parse(name: str, value: object, where: str, key: str | None) -> object:
    try:
        return SETTINGS[name].parse(value)
    except ValueError as exc:
        raise ConfigError(where, key, str(exc)) from None


class _Layers:
    """Setting values and their sources as each layer is applied over the last."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.values: dict[str, object] = dict(_DEFAULTS)
        self.values["audit_log"] = default_audit_log(env)
        self.values["history_path"] = default_history_path(env)
        self.sources: dict[str, str] = dict.fromkeys(SETTINGS, "default")
        self.tables: dict[str, Mapping[str, Any]] = {}
        self.warnings: list[str] = []

    def file(self, data: Mapping[str, Any], path: Path) -> None:
        """Top-level settings and the [groups], [hosts] and [keys] tables of the file."""
        where = str(path)
        for key, value in data.items():
            if key in _TABLE_PARSERS:
                self.tables[key] = MappingProxyType(dict(_TABLE_PARSERS[key](value, where)))
            elif key in PREFIX_TABLES and isinstance(value, dict):
                self._prefixed(key, value, where)
            elif key in SETTINGS:
                self.values[key] = _parse(key, value, where, toml_key(key))
                self.sources[key] = f"file {where}"
            else:
                hint = did_you_mean(key, [*SETTINGS, *TABLES])
                raise ConfigError(where, toml_key(key), f"unknown setting{hint}")

    def _prefixed(self, table: str, data: Mapping[str, Any], where: str) -> None:
        """`[prometheus] url = ...` is `prometheus_url = ...`: a table of prefixed settings
        (`[history] window` is `history`, the chart window)."""
        for key, value in data.items():
            dotted = f"{toml_key(table)}.{toml_key(key)}"
            name = TABLE_ALIASES.get(f"{table}_{key}", f"{table}_{key}")
            if name not in SETTINGS:
                known = [n.removeprefix(f"{table}_") for n in SETTINGS if n.startswith(f"{table}_")]
                known += [a.removeprefix(f"{table}_") for a in TABLE_ALIASES if a.startswith(table)]
                raise ConfigError(where, dotted, f"unknown setting{did_you_mean(key, known)}")
            self.values[name] = _parse(name, value, where, dotted)
            self.sources[name] = f"file {where}"

    def environment(self, env: Mapping[str, str]) -> None:
        """CLUSTERTOP_<NAME> variables; unknown CLUSTERTOP_ names become warnings."""
        known = {env_variable(name): name for name in SETTINGS}
        for variable in sorted(env):
            name = known.get(variable)
            if name is not None:
                where = f"environment variable {variable}"
                self.values[name] = _parse(name, env[variable], where, None)
                self.sources[name] = f"env {variable}"
            elif variable.startswith(ENV_PREFIX) and variable != CONFIG_ENV:
                hint = did_you_mean(variable, [*known, CONFIG_ENV])
                self.warnings.append(f"ignoring unknown environment variable {variable}{hint}")

    def command_line(self, cli: Mapping[str, object]) -> None:
        """Options the user gave; None means not given."""
        for name, value in cli.items():
            if value is None:
                continue
            if name not in SETTINGS:
                raise ValueError(f"load_config: {name!r} is not a setting name")
            option = option_name(name)
            self.values[name] = _parse(name, value, f"option {option}", None)
            self.sources[name] = f"command line {option}"


def load_config(
    cli: Mapping[str, object], env: Mapping[str, str] = os.environ, path: Path | None = None
) -> Config:
    """Settings from defaults, the config file, CLUSTERTOP_* variables and `cli`, later winning.

    `cli` holds only the options the user gave (None values count as not given); `path` is
    --config. Raises ConfigError naming the file, variable or option, the key and the problem.
    """
    layers = _Layers(env)
    file = _choose_file(path, env)
    if file is not None:
        layers.file(_read_toml(file), file)
    layers.environment(env)
    layers.command_line(cli)
    values = {
        name: _expand_home(value, env) if isinstance(value, Path) else value
        for name, value in layers.values.items()
    }
    empty: Mapping[str, Any] = MappingProxyType({})
    settings: dict[str, Any] = values
    return Config(
        **settings,
        groups=layers.tables.get("groups", empty),
        hosts=layers.tables.get("hosts", empty),
        keys=layers.tables.get("keys", empty),
        path=file,
        default_path=config_file_path(env),
        sources=MappingProxyType(layers.sources),
        warnings=tuple(layers.warnings),
    )
