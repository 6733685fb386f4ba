"""Which hosts to watch: host specs, pdsh-style ranges and operators, @groups and hosts files."""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from clustertop.inventory.ranges import (
    HostSpecError,
    apply_operator,
    expand_host_list,
    expand_ranges,
    split_host_list,
)

__all__ = [
    "HostSpec",
    "HostSpecError",
    "expand_host_list",
    "expand_ranges",
    "parse_host_spec",
    "parse_hosts_text",
    "read_hosts_file",
    "resolve_hosts",
    "split_host_list",
]

_NAME_CHARS = re.compile(r"[A-Za-z0-9._-]+\Z")
_USER_CHARS = re.compile(r"[A-Za-z0-9._@-]+\Z")
_GROUP_CHARS = re.compile(r"[A-Za-z0-9._-]+\Z")
_IPV6_ZONE_CHARS = re.compile(r"[A-Za-z0-9._-]+\Z")
_SHELL_META = frozenset(";&|$`<>()\\'\"*?!{}~#^=,")
_ALLOWED_NAME = "letters, digits, '.', '-' and '_'"


@dataclass(frozen=True, slots=True)
class HostSpec:
    """One host as the user named it: an ssh config alias or an address, maybe a user and port."""

    name: str
    """What the user typed minus user and port: the display name and the ssh config alias."""
    user: str | None = None
    """Login user given as `user@host`, else None (the ssh config or the local user decides)."""
    port: int | None = None
    """Port given as `host:port`, else None (the ssh config or 22 decides)."""

    @property
    def display(self) -> str:
        """`user@name:port` with only the parts given; IPv6 in brackets when a port follows."""
        host = f"[{self.name}]" if self.port is not None and ":" in self.name else self.name
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port is not None else ""
        return f"{user}{host}{port}"

    @property
    def key(self) -> tuple[str, str | None, int | None]:
        """Identity for de-duplication: ssh lower-cases host names, so `GPU01` is `gpu01`."""
        return (self.name.lower(), self.user, self.port)

    def __str__(self) -> str:
        return self.display


def _answers_to(spec: HostSpec) -> tuple[tuple[str, str | None, int | None], ...]:
    """What an exclusion may name to reach `spec`: `!gpu2` also removes `alice@gpu2:22`."""
    name = spec.name.lower()
    return (spec.key, (name, None, spec.port), (name, spec.user, None), (name, None, None))


def _invalid(text: str, problem: str) -> HostSpecError:
    return HostSpecError(f"invalid host {text!r}: {problem}")


def _char_problem(part: str, allowed: re.Pattern[str], what: str) -> str | None:
    """Why `part` is not a valid user or host name, or None when it is."""
    if not part:
        return f"empty {what}"
    if part.startswith("-"):
        return f"{what} starts with '-', which ssh would read as an option"
    if allowed.match(part):
        return None
    bad = next(char for char in part if not allowed.match(char))
    if bad.isspace():
        return f"{what} contains whitespace"
    if not bad.isprintable():
        return f"{what} contains the control character {bad!r}"
    if bad in _SHELL_META:
        return f"{what} contains the shell metacharacter {bad!r}"
    return f"{what} contains {bad!r}; a {what} may use {_ALLOWED_NAME}"


def _ipv6_problem(address: str) -> str | None:
    """Why `address` is not an IPv6 address (zone ids like %eth0 allowed), or None."""
    base, _, zone = address.partition("%")
    if zone and not _IPV6_ZONE_CHARS.match(zone):
        return f"bad IPv6 zone id {zone!r}"
    try:
        ipaddress.IPv6Address(base)
    except ValueError:
        return (
            f"{address!r} is not a valid IPv6 address "
            "(to give a port, write the address in brackets: [::1]:2222)"
        )
    return None


def _parse_port(text: str) -> int:
    if not text:
        raise ValueError("empty port after ':'")
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"port {text!r} is not a number")
    port = int(text)
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is out of range 1-65535")
    return port


def _split_host_port(rest: str) -> tuple[str, str | None, bool]:
    """Split `host`, `host:port`, `[v6]:port` or bare v6 into (name, port text, is IPv6)."""
    if rest.startswith("["):
        match = re.fullmatch(r"\[([^\[\]]*)\](?::(.*))?", rest)
        if match is None:
            raise ValueError("unbalanced '[': IPv6 addresses go in brackets, like [::1]:2222")
        return match.group(1), match.group(2), ":" in match.group(1)
    if rest.count(":") >= 2:
        return rest, None, True
    name, colon, port = rest.partition(":")
    return name, (port if colon else None), False


def parse_host_spec(text: str) -> HostSpec:
    """Parse `alias`, `user@host`, `host:port`, `user@[::1]:2222` or `::1`; raise HostSpecError."""
    spec = text.strip()
    if not spec:
        raise _invalid(text, "empty host name")
    if spec.startswith("-"):
        raise _invalid(text, "starts with '-', which ssh would read as an option")
    user_text, at, rest = spec.rpartition("@")
    user = None
    if at:
        user = user_text
        problem = _char_problem(user, _USER_CHARS, "user name")
        if problem:
            raise _invalid(text, problem)
    try:
        name, port_text, ipv6 = _split_host_port(rest)
        port = None if port_text is None else _parse_port(port_text)
    except ValueError as exc:
        raise _invalid(text, str(exc)) from None
    problem = _ipv6_problem(name) if ipv6 else _char_problem(name, _NAME_CHARS, "host name")
    if problem:
        raise _invalid(text, problem)
    return HostSpec(name=name, user=user, port=port)


def _check_group_name(name: str, item: str) -> None:
    if not name:
        raise HostSpecError(f"invalid group {item!r}: empty group name after '@'")
    if not _GROUP_CHARS.match(name):
        raise HostSpecError(f"invalid group {item!r}: a group name may use {_ALLOWED_NAME}")


def _check_item(item: str) -> None:
    """Raise HostSpecError for any bad host, range or group name in one item, excluded ones too."""
    for _, term in split_host_list(item):
        for piece in expand_ranges(term):
            if piece.startswith("@"):
                _check_group_name(piece[1:], piece)
            else:
                parse_host_spec(piece)


def parse_hosts_text(text: str, origin: str) -> list[str]:
    """Host items from hosts-file text (one per line, `#` comments); errors say `origin:line`."""
    items: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if any(char.isspace() for char in line):
            raise HostSpecError(f"{origin}:{number}: expected one host per line, got {line!r}")
        try:
            _check_item(line)
        except HostSpecError as exc:
            raise HostSpecError(f"{origin}:{number}: {exc}") from None
        items.append(line)
    return items


def read_hosts_file(path: Path | str) -> list[str]:
    """Host items (hosts, ranges, @groups) from a file; errors name the file and line."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise HostSpecError(f"hosts file {file}: not UTF-8 text") from None
    except OSError as exc:
        raise HostSpecError(f"cannot read hosts file {file}: {exc.strerror or exc}") from None
    return parse_hosts_text(text, str(file))


def _dedup(specs: Iterable[HostSpec]) -> list[HostSpec]:
    """Drop repeats, keeping each host where it first appeared."""
    seen: dict[tuple[str, str | None, int | None], HostSpec] = {}
    for spec in specs:
        seen.setdefault(spec.key, spec)
    return list(seen.values())


class _GroupResolver:
    """Expands items and @group references, remembering each group's hosts once."""

    def __init__(self, groups: Mapping[str, Sequence[str]]) -> None:
        self._groups = groups
        self._done: dict[str, list[HostSpec]] = {}

    def item(self, item: str, stack: tuple[str, ...] = ()) -> list[HostSpec]:
        """The hosts one item names: a host, a range, an @group, or a list with operators."""
        specs: list[HostSpec] = []
        for operator, term in self._terms(item, stack):
            specs = apply_operator(specs, operator, self._term(term, stack), _answers_to)
        return specs

    def _term(self, term: str, stack: tuple[str, ...]) -> list[HostSpec]:
        specs: list[HostSpec] = []
        for piece in self._expand(term, stack):
            if piece.startswith("@"):
                specs.extend(self.group(piece, stack))
            else:
                specs.append(self._parse(piece, stack))
        return specs

    def _terms(self, item: str, stack: tuple[str, ...]) -> list[tuple[str, str]]:
        try:
            return split_host_list(item)
        except HostSpecError as exc:
            raise self._in_group(exc, stack) from None

    def _expand(self, term: str, stack: tuple[str, ...]) -> list[str]:
        try:
            return expand_ranges(term)
        except HostSpecError as exc:
            raise self._in_group(exc, stack) from None

    def _parse(self, piece: str, stack: tuple[str, ...]) -> HostSpec:
        try:
            return parse_host_spec(piece)
        except HostSpecError as exc:
            raise self._in_group(exc, stack) from None

    @staticmethod
    def _in_group(exc: HostSpecError, stack: tuple[str, ...]) -> HostSpecError:
        return HostSpecError(f"in group @{stack[-1]}: {exc}") if stack else exc

    def group(self, reference: str, stack: tuple[str, ...]) -> list[HostSpec]:
        """The hosts of `@name`, with nested groups expanded; cycles and unknowns raise."""
        name = reference[1:]
        _check_group_name(name, reference)
        if name in stack:
            cycle = " -> ".join(f"@{step}" for step in (*stack[stack.index(name) :], name))
            raise HostSpecError(f"group cycle: {cycle}")
        if name in self._done:
            return self._done[name]
        if name not in self._groups:
            raise HostSpecError(self._unknown(name))
        members = self._groups[name]
        items = [members] if isinstance(members, str) else members
        specs = [spec for item in items for spec in self.item(item, (*stack, name))]
        self._done[name] = _dedup(specs)
        return self._done[name]

    def _unknown(self, name: str) -> str:
        if not self._groups:
            return f"unknown group '@{name}': no groups are defined (add a [groups] table)"
        close = difflib.get_close_matches(name, list(self._groups), n=1)
        hint = f" (did you mean '@{close[0]}'?)" if close else ""
        known = ", ".join(f"@{group}" for group in sorted(self._groups))
        return f"unknown group '@{name}'{hint}; known groups: {known}"


def resolve_hosts(
    items: Sequence[str], groups: Mapping[str, Sequence[str]] | None = None
) -> list[HostSpec]:
    """Expand @groups, ranges and comma lists into host specs: first-seen order, no repeats."""
    resolver = _GroupResolver(groups or {})
    return _dedup(spec for item in items for spec in resolver.item(item))
