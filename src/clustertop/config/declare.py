"""Declaring a setting once: a dataclass field that carries its parser, help and TOML rendering."""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, TypeVar

from clustertop.config.values import Parser, toml_value

T = TypeVar("T")

_METADATA_KEY = "clustertop.setting"
"""Where `setting()` puts the Setting in a dataclass field's metadata."""


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: how to read it, what it means, how to write it back."""

    parse: Parser
    """Reads a TOML, environment or command-line value; ValueError says what is wrong."""
    help: str
    """One line on what the setting does."""
    render: Callable[[Any], str] = toml_value
    """Writes the value back as a TOML literal (for `config show`)."""
    unset: str = ""
    """For optional paths: what leaving it unset ("") means."""


def setting(
    default: T,
    parse: Callable[[object], T],
    help: str,
    *,
    render: Callable[[Any], str] = toml_value,
    unset: str = "",
) -> T:
    """A dataclass field declaring a setting: its default, parser, help and rendering.

    Used as `interval: float = setting(2.0, duration(positive=True), "Seconds between ...")`.
    """
    if not help.strip():
        raise ValueError("a setting needs a line of help")
    # Every Config shares the default object, so it must not be mutable (a list, a dict).
    if not isinstance(default, Hashable):
        raise TypeError(f"a setting's default must be immutable, got {default!r}")
    declared = Setting(parse, help.strip(), render, unset)
    return field(default=default, metadata={_METADATA_KEY: declared})


def declared_settings(cls: type, *, plain: Collection[str] = ()) -> Mapping[str, Setting]:
    """The settings a dataclass declares with `setting()`, in field order.

    Every field not named in `plain` must be a setting, so that none can be added without its
    parser and help; raises TypeError naming the field otherwise.
    """
    found: dict[str, Setting] = {}
    for item in fields(cls):
        declared = item.metadata.get(_METADATA_KEY)
        if isinstance(declared, Setting):
            found[item.name] = declared
        elif item.name not in plain:
            raise TypeError(
                f"{cls.__name__}.{item.name} is declared without setting(): "
                "give it a parser and a line of help"
            )
    return MappingProxyType(found)
