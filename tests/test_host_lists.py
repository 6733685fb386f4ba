"""ClusterShell syntax in host lists: step ranges, `!` `&` `^` operators, and the size cap."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from clustertop.inventory.hosts import (
    HostSpec,
    HostSpecError,
    expand_host_list,
    expand_ranges,
    read_hosts_file,
    resolve_hosts,
    split_host_list,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gpu[1-9/2]", ["gpu1", "gpu3", "gpu5", "gpu7", "gpu9"]),
        ("gpu[01-12/4]", ["gpu01", "gpu05", "gpu09"]),
        ("n[1-2,10-20/5]", ["n1", "n2", "n10", "n15", "n20"]),
        ("r[1-3/2]n[1-2]", ["r1n1", "r1n2", "r3n1", "r3n2"]),
        ("alice@gpu[0-4/2]:2222", ["alice@gpu0:2222", "alice@gpu2:2222", "alice@gpu4:2222"]),
        # NodeSet's order inside one bracket: sorted, each number once.
        ("node[7,1-2,2]", ["node1", "node2", "node7"]),
        ("gpu-[1-2].lab", ["gpu-1.lab", "gpu-2.lab"]),
    ],
)
def test_step_ranges_and_nodeset_order(text: str, expected: list[str]) -> None:
    assert expand_ranges(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gpu[1-9/0]", "invalid range 'gpu[1-9/0]': a step must be at least 1, got /0"),
        ("gpu[1-9/]", "got [1-9/]"),
        ("gpu[9-011]", "invalid range 'gpu[9-011]': padding length mismatch"),
        ("gpu[1-" + "9" * 5000 + "]", "a number has more than 18 digits"),
    ],
)
def test_bad_step_padding_and_long_numbers_name_the_text(text: str, message: str) -> None:
    with pytest.raises(HostSpecError) as caught:
        expand_ranges(text)
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"invalid range {text!r}")


def test_only_the_host_name_is_a_range() -> None:
    # A port or user holding brackets is left alone, so parsing it names what is wrong.
    with pytest.raises(HostSpecError, match=r"port '\[22-23\]' is not a number"):
        resolve_hosts(["gpu1:[22-23]"])
    with pytest.raises(HostSpecError, match="user name contains '\\['"):
        resolve_hosts(["u[1-2]@gpu1"])
    assert expand_ranges("[fe80::1%eth0]:22") == ["[fe80::1%eth0]:22"]
    assert expand_ranges("fe80::1") == ["fe80::1"]


def test_the_cap_counts_the_text_without_building_the_hosts() -> None:
    assert len(expand_ranges("gpu[1-10000]")) == 10_000
    assert len(expand_ranges("gpu[1-20000/2]")) == 10_000
    tracemalloc.start()
    try:
        with pytest.raises(HostSpecError) as caught:
            resolve_hosts(["gpu[1-10000000]"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(caught.value) == (
        "invalid range 'gpu[1-10000000]': expands to 10000000 hosts, more than 10000"
    )
    assert peak < 1_000_000  # building the range would take over a gigabyte


def test_operators_split_outside_brackets_only() -> None:
    assert split_host_list("gpu[1-4,6]!gpu2 , @a&b^c") == [
        (",", "gpu[1-4,6]"),
        ("!", "gpu2"),
        (",", "@a"),
        ("&", "b"),
        ("^", "c"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gpu[1-4]!gpu2,cpu1", ["gpu1", "gpu3", "gpu4", "cpu1"]),
        # Left to right, as clush does: the '!' applies to everything before it.
        ("gpu[1-3],cpu[1-2]!gpu2", ["gpu1", "gpu3", "cpu1", "cpu2"]),
        ("gpu[1-10]&gpu[8-20]", ["gpu8", "gpu9", "gpu10"]),
        ("gpu[1-3]^gpu[2-5]", ["gpu1", "gpu4", "gpu5"]),
        ("gpu[1-3]!gpu9", ["gpu1", "gpu2", "gpu3"]),
    ],
)
def test_expand_host_list_applies_operators_in_order(text: str, expected: list[str]) -> None:
    assert expand_host_list(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gpu1!", "invalid host list 'gpu1!': nothing after '!'"),
        ("!gpu1", "invalid host list '!gpu1': nothing before '!'"),
        ("a!,b", "invalid host list 'a!,b': nothing between '!' and ','"),
        ("a&&b", "invalid host list 'a&&b': nothing between '&' and '&'"),
    ],
)
def test_an_operator_without_an_item_is_named(text: str, message: str) -> None:
    with pytest.raises(HostSpecError) as caught:
        expand_host_list(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("gpu[1-3", "invalid range 'gpu[1-3': '[' without ']'"),
        ("cpu1,gpu[1-3", "invalid range 'gpu[1-3': '[' without ']'"),
        ("gpu1-3]!cpu1", "invalid range 'gpu1-3]': ']' without '['"),
    ],
)
def test_unbalanced_brackets_in_a_list_are_named_not_dropped(item: str, message: str) -> None:
    with pytest.raises(HostSpecError) as caught:
        resolve_hosts([item])
    assert str(caught.value) == message


def _shown(specs: list[HostSpec]) -> list[str]:
    return [spec.display for spec in specs]


def test_exclusions_reach_groups_users_and_ports() -> None:
    groups = {"all": ["gpu[1-4]", "alice@dgx1:2222"], "broken": "gpu[2-3]"}
    assert _shown(resolve_hosts(["@all!@broken"], groups)) == ["gpu1", "gpu4", "alice@dgx1:2222"]
    # A name alone removes that host whatever its user or port; a port removes only that port.
    assert _shown(resolve_hosts(["@all!dgx1!GPU4"], groups)) == ["gpu1", "gpu2", "gpu3"]
    assert _shown(resolve_hosts(["bob@x[1-3]!x2:22!bob@x3"])) == ["bob@x1", "bob@x2"]
    assert _shown(resolve_hosts(["@all&gpu[3-9]"], groups)) == ["gpu3", "gpu4"]


def test_exclusion_errors_name_the_group_and_the_file_line(tmp_path: Path) -> None:
    with pytest.raises(HostSpecError, match=r"^in group @a: invalid host 'x;y'"):
        resolve_hosts(["@a"], {"a": "gpu[1-2]!x;y"})
    with pytest.raises(HostSpecError, match=r"unknown group '@gone'"):
        resolve_hosts(["gpu[1-2]!@gone"], {"gpus": ["gpu1"]})
    hosts = tmp_path / "hosts.txt"
    hosts.write_text("gpu[1-4]!gpu2\ngpu[1-4]!gpu`id`\n")
    with pytest.raises(HostSpecError) as caught:
        read_hosts_file(hosts)
    assert str(caught.value).startswith(f"{hosts}:2: invalid host 'gpu`id`'")
    hosts.write_text("gpu[1-4]!gpu2\n")
    assert read_hosts_file(hosts) == ["gpu[1-4]!gpu2"]


def test_at_signs_are_our_groups_never_clustershell_groups() -> None:
    # NodeSet would ask /etc/clustershell/groups.conf; clustertop's groups come from its config.
    with pytest.raises(HostSpecError, match="no groups are defined"):
        resolve_hosts(["@all"])
    assert expand_ranges("@rack[1-2/1]") == ["@rack1", "@rack2"]
