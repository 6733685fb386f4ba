"""pdsh/Slurm host ranges through ClusterShell's NodeSet: `gpu[01-16]`, `gpu[1-9/2]`, `a!b`."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from ClusterShell.NodeSet import RESOLVER_NOGROUP, NodeSet, NodeSetException

MAX_RANGE_HOSTS = 10_000
"""Most hosts one range expression may expand to (a typo like [1-100000] is an error)."""

OPERATORS = ",!&^"
"""ClusterShell's list operators, applied left to right: union, minus, intersection, xor."""

_MAX_DIGITS = 18
_RANGE_ITEM = re.compile(r"\s*([0-9]+)(?:-([0-9]+)(?:/([0-9]+))?)?\s*\Z")
_BRACKETED_IPV6 = re.compile(r"\[[^\[\]]*:[^\[\]]*\]")


_Item = TypeVar("_Item")


class HostSpecError(ValueError):
    """A host, range, group or hosts file that cannot be used; the message names the input."""


def _span_size(part: str, content: str, text: str) -> int:
    """How many numbers `3`, `1-16` or `1-16/2` names; our own messages for what is wrong."""
    match = _RANGE_ITEM.match(part)
    if match is None:
        raise HostSpecError(
            f"invalid range {text!r}: expected numbers in brackets like [1-4] or "
            f"[01-16,20], got [{content}]"
        )
    first_text, last_text, step_text = match.group(1), match.group(2), match.group(3)
    if max(len(number or "") for number in match.groups()) > _MAX_DIGITS:
        raise HostSpecError(f"invalid range {text!r}: a number has more than {_MAX_DIGITS} digits")
    first, last = int(first_text), int(last_text or first_text)
    if last < first:
        raise HostSpecError(f"invalid range {text!r}: {first_text}-{last_text} is reversed")
    step = int(step_text or "1")
    if step < 1:
        raise HostSpecError(f"invalid range {text!r}: a step must be at least 1, got /{step_text}")
    return (last - first) // step + 1


def _group_sizes(name: str, text: str) -> list[int]:
    """Check each `[...]` of `name` and count its numbers, without building any of them.

    ClusterShell builds every number of a range before it can say how many there are (3 million
    took 460 MB and 2.4 s here), so the cap is checked on the text first.
    """
    sizes: list[int] = []
    position = 0
    while True:
        start, stray = name.find("[", position), name.find("]", position)
        if stray != -1 and (start == -1 or stray < start):
            raise HostSpecError(f"invalid range {text!r}: ']' without '['")
        if start == -1:
            return sizes
        end, nested = name.find("]", start), name.find("[", start + 1)
        if end == -1 or (nested != -1 and nested < end):
            raise HostSpecError(f"invalid range {text!r}: '[' without ']'")
        content = name[start + 1 : end]
        if not content.strip():
            raise HostSpecError(f"invalid range {text!r}: empty brackets []")
        sizes.append(sum(_span_size(part, content, text) for part in content.split(",")))
        position = end + 1


def _split_name(text: str) -> tuple[str, str, str]:
    """(`user@`, name, `:port`) of one item; only the name holds ranges.

    An IPv6 address (`[::1]:22`, `fe80::1`) comes back as prefix only: it is never a range.
    """
    user, at, rest = text.rpartition("@")
    if _BRACKETED_IPV6.match(rest) or (rest.count(":") >= 2 and "[" not in rest):
        return text, "", ""
    name, colon, port = rest.partition(":")
    return user + at, name, colon + port


def expand_ranges(text: str) -> list[str]:
    """`gpu[01-03]` -> gpu01, gpu02, gpu03; several groups expand as a product, in order.

    Only the host name is expanded: `alice@gpu[1-2]:22` -> alice@gpu1:22, alice@gpu2:22.
    Numbers within one bracket come out sorted and once (NodeSet's order). A name holding a list
    operator (`a,b`) is not one item and comes back as it is (see `split_host_list`).
    """
    prefix, name, suffix = _split_name(text)
    if not name or ("[" not in name and "]" not in name) or _has_operator(name):
        return [text]
    total = math.prod(_group_sizes(name, text))
    if total > MAX_RANGE_HOSTS:
        raise HostSpecError(
            f"invalid range {text!r}: expands to {total} hosts, more than {MAX_RANGE_HOSTS}"
        )
    try:
        # No group resolver: @groups are clustertop's own, never the system's groups.conf.
        nodes = NodeSet(name, resolver=RESOLVER_NOGROUP)
    except NodeSetException as exc:
        problem = getattr(exc, "part", None) or str(exc)
        raise HostSpecError(f"invalid range {text!r}: {problem}") from None
    return [f"{prefix}{node}{suffix}" for node in nodes]


def _has_operator(name: str) -> bool:
    outside_brackets = re.sub(r"\[[^\[\]]*\]", "", name)
    return any(char in OPERATORS for char in outside_brackets)


def split_host_list(text: str) -> list[tuple[str, str]]:
    """`gpu[1-4]!gpu2,cpu1` -> [(',', 'gpu[1-4]'), ('!', 'gpu2'), (',', 'cpu1')].

    Splits on the operators outside brackets; each item is stripped and must not be empty. An
    unclosed '[' keeps the rest as one item, so expanding it names the problem.
    """
    terms: list[tuple[str, str]] = []
    depth, operator, current = 0, ",", ""
    for char in text:
        if char in OPERATORS and depth == 0:
            terms.append((operator, _item(text, operator, current, char, not terms)))
            operator, current = char, ""
            continue
        depth = max(0, depth + {"[": 1, "]": -1}.get(char, 0))
        current += char
    terms.append((operator, _item(text, operator, current, None, not terms)))
    return terms


def _item(text: str, before: str, item: str, after: str | None, at_start: bool) -> str:
    """`item` stripped; an error naming the operators around it when it is empty."""
    if item.strip():
        return item.strip()
    if before == "," and after in (",", None):
        where = "empty item between commas"
    elif at_start and after is not None:
        where = f"nothing before {after!r}"
    elif after is None:
        where = f"nothing after {before!r}"
    else:
        where = f"nothing between {before!r} and {after!r}"
    raise HostSpecError(f"invalid host list {text!r}: {where}")


def expand_host_list(text: str) -> list[str]:
    """A host list as text: expand each item, then apply the operators left to right, in order.

    `gpu[1-4]!gpu2,cpu1` -> gpu1, gpu3, gpu4, cpu1. Items compare as written here; hosts.py
    applies the operators to parsed hosts and @groups.
    """
    names: list[str] = []
    for operator, item in split_host_list(text):
        names = apply_operator(names, operator, expand_ranges(item), lambda name: (name,))
    return names


def apply_operator(
    left: list[_Item],
    operator: str,
    right: list[_Item],
    keys: Callable[[_Item], Sequence[Hashable]],
) -> list[_Item]:
    """`left <operator> right`, keeping the order of `left` (then `right`).

    `keys(x)[0]` is what x names when it is a pattern on the right; all of `keys(x)` are what x
    answers to on the left (so `!gpu2` can remove `alice@gpu2`). Sets, not pairwise checks:
    `x[1-10000]!x[1-10000]` stays fast.
    """
    if operator == ",":
        return [*left, *right]
    named = {keys(item)[0] for item in right}
    kept = [item for item in left if named.isdisjoint(keys(item))]
    if operator == "!":
        return kept
    if operator == "&":
        return [item for item in left if not named.isdisjoint(keys(item))]
    named_left = {keys(item)[0] for item in left}
    return kept + [item for item in right if named_left.isdisjoint(keys(item))]
