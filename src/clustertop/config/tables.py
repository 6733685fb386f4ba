"""The config file's tables: `[groups]`, `[hosts."<name>"]` overrides and `[keys]` remaps."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from clustertop.config.schema import HOST_SETTINGS, SETTINGS, ConfigError, HostOverride
from clustertop.config.values import shown, toml_key
from clustertop.inventory.hosts import (
    HostSpecError,
    expand_host_list,
    parse_host_spec,
    resolve_hosts,
)


def did_you_mean(key: str, choices: Iterable[str]) -> str:
    """' (did you mean 'interval'?)' for a near miss, else ''."""
    close = difflib.get_close_matches(key, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _misplaced(name: str) -> str:
    """A hint for a setting written below a [table] header, where TOML puts it in the table."""
    return (
        f" ({name!r} is a setting: settings go above the first [table])" if name in SETTINGS else ""
    )


def _table(value: object, where: str, key: str, example: str, hint: str = "") -> Mapping[str, Any]:
    if not isinstance(value, dict):
        problem = f"expected a table like {example}, got {shown(value)}"
        raise ConfigError(where, key, problem + hint)
    return value


def _group_items(value: object, where: str, name: str) -> tuple[str, ...]:
    """A group's members: a list of host items (a single string is a list of one)."""
    key = f"groups.{toml_key(name)}"
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        example = '["gpu[01-04]", "@cpus"]'
        problem = f"expected a list of hosts like {example}, got {shown(value)}"
        raise ConfigError(where, key, problem + _misplaced(name))
    for index, item in enumerate(items):
        try:
            for piece in expand_host_list(item):
                if not piece.startswith("@"):
                    parse_host_spec(piece)
        except HostSpecError as exc:
            raise ConfigError(where, f"{key}[{index}]", str(exc)) from None
    return tuple(items)


def parse_groups(value: object, where: str) -> dict[str, tuple[str, ...]]:
    """`[groups]`: name -> host items; checks every item, unknown @references and cycles."""
    table = _table(value, where, "groups", '[groups] gpus = ["gpu[01-04]"]')
    groups = {name: _group_items(items, where, name) for name, items in table.items()}
    for name in groups:
        try:
            resolve_hosts([f"@{name}"], groups)
        except HostSpecError as exc:
            raise ConfigError(where, f"groups.{toml_key(name)}", str(exc)) from None
    return groups


def _host_override(name: str, value: object, where: str) -> HostOverride:
    key = f"hosts.{toml_key(name, quote=True)}"
    try:
        spec = parse_host_spec(name)
    except HostSpecError as exc:
        raise ConfigError(where, key, str(exc)) from None
    if spec.user is not None or spec.port is not None:
        raise ConfigError(
            where, key, f'name the host without user or port, like hosts."{spec.name}"'
        )
    table = _table(value, where, key, f'[hosts."{name}"] port = 2222', _misplaced(name))
    fields: dict[str, Any] = {}
    for field, raw in table.items():
        declared = HOST_SETTINGS.get(field)
        if declared is None:
            hint = did_you_mean(field, HOST_SETTINGS)
            raise ConfigError(where, f"{key}.{toml_key(field)}", f"unknown key{hint}")
        try:
            fields[field] = declared.parse(raw)
        except ValueError as exc:
            raise ConfigError(where, f"{key}.{toml_key(field)}", str(exc)) from None
    return HostOverride(**fields)


def parse_hosts(value: object, where: str) -> dict[str, HostOverride]:
    """`[hosts."<name>"]` tables: per-host overrides keyed by the host's name."""
    table = _table(value, where, "hosts", '[hosts."gpu01"] port = 2222')
    overrides = {name: _host_override(name, raw, where) for name, raw in table.items()}
    seen: dict[str, str] = {}
    for name in overrides:
        other = seen.setdefault(name.lower(), name)
        if other != name:
            raise ConfigError(
                where,
                f"hosts.{toml_key(name, quote=True)}",
                f"same host as hosts.{toml_key(other, quote=True)} (host names ignore case)",
            )
    return overrides


def parse_keys(value: object, where: str) -> dict[str, str]:
    """`[keys]`: binding id -> key string, e.g. quit = "ctrl+q"."""
    table = _table(value, where, "keys", '[keys] quit = "ctrl+q"')
    keys: dict[str, str] = {}
    for binding, key in table.items():
        if not isinstance(key, str) or not key.strip() or not key.isprintable():
            raise ConfigError(
                where,
                f"keys.{toml_key(binding)}",
                f"expected a key like 'q' or 'ctrl+q', got {shown(key)}{_misplaced(binding)}",
            )
        keys[binding] = key
    return keys
