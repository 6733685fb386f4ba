"""Who a container or process belongs to: the one owner rule."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_NAME_PATTERN = r"^(?P<user>[^-_.]+)"
"""Leading part of a container name, split on '-', '_' or '.' (alice-train -> alice)."""


@dataclass(frozen=True, slots=True)
class OwnerRule:
    """How to find a person from a container's labels, its name, or a process's Unix user."""

    labels: tuple[str, ...] = ("owner",)
    """Container labels tried in order; the first non-empty one wins."""
    name_pattern: re.Pattern[str] | None = field(
        default_factory=lambda: re.compile(DEFAULT_NAME_PATTERN)
    )
    """Regex with a `user` group matched against the container name (None: skip)."""
    unix_user_fallback: bool = True
    """Use the Unix user of the process when nothing else names an owner."""

    @classmethod
    def from_config(
        cls,
        labels: list[str] | None = None,
        name_regex: str | None = None,
        unix_user_fallback: bool = True,
    ) -> OwnerRule:
        """Build a rule from config values; raises ValueError on a regex without `user`."""
        pattern = re.compile(name_regex if name_regex is not None else DEFAULT_NAME_PATTERN)
        if name_regex == "":
            pattern_or_none = None
        else:
            if "user" not in pattern.groupindex:
                raise ValueError("name regex needs a named group 'user', e.g. ^(?P<user>[a-z]+)-")
            pattern_or_none = pattern
        return cls(
            labels=tuple(labels) if labels is not None else ("owner",),
            name_pattern=pattern_or_none,
            unix_user_fallback=unix_user_fallback,
        )


DEFAULT_RULE = OwnerRule()
"""The rule used when the config says nothing."""


def owner_of(
    *,
    labels: Mapping[str, str] | None = None,
    container_name: str | None = None,
    unix_user: str | None = None,
    rule: OwnerRule = DEFAULT_RULE,
) -> str | None:
    """The owner: a label, else the container-name part, else the Unix user, else None."""
    for label in rule.labels:
        value = (labels or {}).get(label, "").strip()
        if value:
            return value
    if container_name and rule.name_pattern is not None:
        match = rule.name_pattern.search(container_name.lstrip("/"))
        if match and match.group("user"):
            return match.group("user")
    if rule.unix_user_fallback and unix_user:
        return unix_user
    return None
