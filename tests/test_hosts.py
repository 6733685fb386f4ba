"""Host specs, ranges, groups and hosts files: what the user types becomes the hosts watched."""

from __future__ import annotations

from pathlib import Path

import pytest

from clustertop.inventory.hosts import (
    HostSpec,
    HostSpecError,
    expand_host_list,
    expand_ranges,
    parse_host_spec,
    parse_hosts_text,
    read_hosts_file,
    resolve_hosts,
)


@pytest.mark.parametrize(
    ("text", "name", "user", "port", "display"),
    [
        ("gpu01", "gpu01", None, None, "gpu01"),
        ("my-alias_2.lab", "my-alias_2.lab", None, None, "my-alias_2.lab"),
        ("alice@gpu01", "gpu01", "alice", None, "alice@gpu01"),
        ("gpu01:2222", "gpu01", None, 2222, "gpu01:2222"),
        ("alice@gpu01:2222", "gpu01", "alice", 2222, "alice@gpu01:2222"),
        ("10.0.0.5:22", "10.0.0.5", None, 22, "10.0.0.5:22"),
        ("[::1]:2222", "::1", None, 2222, "[::1]:2222"),
        ("bob@[fe80::1%eth0]:22", "fe80::1%eth0", "bob", 22, "bob@[fe80::1%eth0]:22"),
        ("::1", "::1", None, None, "::1"),
        ("2001:db8::7", "2001:db8::7", None, None, "2001:db8::7"),
        ("root@::1", "::1", "root", None, "root@::1"),
        ("[gpu01]:22", "gpu01", None, 22, "gpu01:22"),
        ("ad.user@corp@gpu01", "gpu01", "ad.user@corp", None, "ad.user@corp@gpu01"),
        ("  gpu01  ", "gpu01", None, None, "gpu01"),
    ],
)
def test_parse_host_spec_accepts(
    text: str, name: str, user: str | None, port: int | None, display: str
) -> None:
    spec = parse_host_spec(text)
    assert spec == HostSpec(name=name, user=user, port=port)
    assert spec.display == display
    assert str(spec) == display


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "invalid host '': empty host name"),
        ("   ", "empty host name"),
        ("gpu 01", "host name contains whitespace"),
        ("gpu01;reboot", "host name contains the shell metacharacter ';'"),
        ("$(reboot)", "host name contains the shell metacharacter '$'"),
        ("gpu`id`", "shell metacharacter '`'"),
        ("gpu|x", "shell metacharacter '|'"),
        ("bad'name", 'shell metacharacter "\'"'),
        ("gpu/01", "host name contains '/'; a host name may use letters"),
        ("gpu\x1b[31m", "control character '\\x1b'"),
        ("-oProxyCommand=reboot", "starts with '-', which ssh would read as an option"),
        ("alice@-oProxyCommand=x", "host name starts with '-', which ssh would read"),
        ("-alice@gpu01", "starts with '-'"),
        ("@gpu01", "empty user name"),
        ("ali;ce@gpu01", "user name contains the shell metacharacter ';'"),
        ("alice@", "empty host name"),
        ("gpu01:", "empty port after ':'"),
        ("gpu01:ssh", "port 'ssh' is not a number"),
        ("gpu01:0", "port 0 is out of range 1-65535"),
        ("gpu01:65536", "port 65536 is out of range 1-65535"),
        ("[::1]:70000", "port 70000 is out of range 1-65535"),
        ("[::1", "unbalanced '['"),
        ("[::1]x", "unbalanced '['"),
        ("::zz", "'::zz' is not a valid IPv6 address (to give a port, write the address in"),
        ("fe80::1%;x", "bad IPv6 zone id ';x'"),
    ],
)
def test_parse_host_spec_rejects_with_a_message_naming_the_input(text: str, message: str) -> None:
    with pytest.raises(HostSpecError) as caught:
        parse_host_spec(text)
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"invalid host {text!r}")


def test_host_key_ignores_case_but_not_user_or_port() -> None:
    assert parse_host_spec("GPU01").key == parse_host_spec("gpu01").key
    assert parse_host_spec("alice@gpu01").key != parse_host_spec("gpu01").key
    assert parse_host_spec("gpu01:2222").key != parse_host_spec("gpu01").key
    assert parse_host_spec("GPU01").name == "GPU01"  # shown as typed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gpu01", ["gpu01"]),
        ("gpu[1-3]", ["gpu1", "gpu2", "gpu3"]),
        ("gpu[01-03]", ["gpu01", "gpu02", "gpu03"]),
        ("gpu[08-11]", ["gpu08", "gpu09", "gpu10", "gpu11"]),
        ("gpu[9-11]", ["gpu9", "gpu10", "gpu11"]),
        ("node[1-2,7]", ["node1", "node2", "node7"]),
        ("node[7]", ["node7"]),
        ("node[ 1-2 , 5 ]", ["node1", "node2", "node5"]),
        ("r[1-2]n[1-3]", ["r1n1", "r1n2", "r1n3", "r2n1", "r2n2", "r2n3"]),
        ("alice@gpu[1-2]:2222", ["alice@gpu1:2222", "alice@gpu2:2222"]),
        ("[::1]:22", ["[::1]:22"]),
        ("a,b", ["a,b"]),
        ("@rack[1-2]", ["@rack1", "@rack2"]),
    ],
)
def test_expand_ranges(text: str, expected: list[str]) -> None:
    assert expand_ranges(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gpu[5-1]", "invalid range 'gpu[5-1]': 5-1 is reversed"),
        ("gpu[1-20000]", "expands to 20000 hosts, more than 10000"),
        ("r[1-200]n[1-200]", "expands to 40000 hosts, more than 10000"),
        ("gpu[1-3", "'[' without ']'"),
        ("gpu1-3]", "']' without '['"),
        ("gpu[[1-3]]", "'[' without ']'"),
        ("gpu[]", "empty brackets []"),
        ("gpu[a-c]", "expected numbers in brackets like [1-4] or [01-16,20], got [a-c]"),
        ("gpu[1-]", "got [1-]"),
        ("gpu[1,,2]", "got [1,,2]"),
    ],
)
def test_expand_ranges_rejects(text: str, message: str) -> None:
    with pytest.raises(HostSpecError) as caught:
        expand_ranges(text)
    assert message in str(caught.value)


def test_a_huge_range_is_rejected_without_building_it() -> None:
    with pytest.raises(HostSpecError, match="more than 10000"):
        expand_ranges("x[1-999999999999]y[1-999999999999]")


def test_expand_host_list_splits_top_level_commas_only() -> None:
    assert expand_host_list("gpu[1-3],cpu1") == ["gpu1", "gpu2", "gpu3", "cpu1"]
    assert expand_host_list("gpu[1,3], @big ,[::1]:22") == ["gpu1", "gpu3", "@big", "[::1]:22"]
    with pytest.raises(HostSpecError, match="empty item between commas"):
        expand_host_list("a,,b")
    with pytest.raises(HostSpecError, match="empty item between commas"):
        expand_host_list("a,")


def test_hosts_file_comments_blank_lines_and_items(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.txt"
    hosts.write_text(
        "# lab servers\n\ngpu[01-02]   # the A100s\n  alice@dgx1:2222\n@cpus\n[::1]:22\na,b\n"
    )
    assert read_hosts_file(hosts) == ["gpu[01-02]", "alice@dgx1:2222", "@cpus", "[::1]:22", "a,b"]
    assert read_hosts_file(str(hosts))[0] == "gpu[01-02]"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gpu01\ngpu02 gpu03\n", ":2: expected one host per line, got 'gpu02 gpu03'"),
        ("gpu01\n\n# x\ngpu;01\n", ":4: invalid host 'gpu;01': host name contains the shell"),
        ("gpu[3-1]\n", ":1: invalid range 'gpu[3-1]': 3-1 is reversed"),
        ("@\n", ":1: invalid group '@': empty group name after '@'"),
        ("@a/b\n", ":1: invalid group '@a/b'"),
    ],
)
def test_hosts_file_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    hosts = tmp_path / "hosts.txt"
    hosts.write_text(text)
    with pytest.raises(HostSpecError) as caught:
        read_hosts_file(hosts)
    assert str(caught.value).startswith(str(hosts))
    assert message in str(caught.value)


def test_hosts_file_unreadable_or_not_text(tmp_path: Path) -> None:
    with pytest.raises(HostSpecError, match=r"cannot read hosts file .*missing.txt"):
        read_hosts_file(tmp_path / "missing.txt")
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00gpu")
    with pytest.raises(HostSpecError, match="not UTF-8 text"):
        read_hosts_file(binary)


def test_parse_hosts_text_names_its_origin() -> None:
    assert parse_hosts_text("a\nb # c\n", "<stdin>") == ["a", "b"]
    with pytest.raises(HostSpecError, match=r"^<stdin>:1: "):
        parse_hosts_text("a;b\n", "<stdin>")


def _names(specs: list[HostSpec]) -> list[str]:
    return [spec.display for spec in specs]


def test_resolve_hosts_expands_groups_ranges_and_keeps_first_order() -> None:
    groups = {
        "gpus": ["gpu[01-02]", "@dgx"],
        "dgx": ["dgx1", "gpu01"],
        "all": ["@gpus", "cpu[1-2],cpu1"],
    }
    specs = resolve_hosts(["cpu2", "@all", "GPU02", "alice@gpu01"], groups)
    assert _names(specs) == ["cpu2", "gpu01", "gpu02", "dgx1", "cpu1", "alice@gpu01"]


def test_resolve_hosts_without_groups() -> None:
    assert _names(resolve_hosts(["b", "a", "b:22", "b"])) == ["b", "a", "b:22"]
    assert resolve_hosts([]) == []


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ({"a": ["@b"], "b": ["@a"]}, "group cycle: @a -> @b -> @a"),
        ({"a": ["x", "@a"]}, "group cycle: @a -> @a"),
        ({"a": ["@b"], "b": ["@c"], "c": ["@b"]}, "group cycle: @b -> @c -> @b"),
    ],
)
def test_resolve_hosts_detects_cycles(groups: dict[str, list[str]], message: str) -> None:
    with pytest.raises(HostSpecError) as caught:
        resolve_hosts(["@a"], groups)
    assert str(caught.value) == message


def test_unknown_group_lists_known_groups() -> None:
    with pytest.raises(HostSpecError) as caught:
        resolve_hosts(["@gpu"], {"gpus": ["a"], "cpus": ["b"]})
    assert str(caught.value) == (
        "unknown group '@gpu' (did you mean '@gpus'?); known groups: @cpus, @gpus"
    )
    with pytest.raises(HostSpecError, match="no groups are defined"):
        resolve_hosts(["@gpus"], {})


def test_bad_member_names_its_group() -> None:
    with pytest.raises(HostSpecError) as caught:
        resolve_hosts(["@all"], {"all": ["@gpus"], "gpus": ["gpu01", "gpu;02"]})
    assert str(caught.value).startswith("in group @gpus: invalid host 'gpu;02'")
    with pytest.raises(HostSpecError, match=r"^in group @gpus: invalid range 'g\[2-1\]'"):
        resolve_hosts(["@gpus"], {"gpus": ["g[2-1]"]})


def test_group_given_as_one_string_and_deep_nesting_stays_small() -> None:
    assert _names(resolve_hosts(["@a"], {"a": "x[1-2]"})) == ["x1", "x2"]
    # Each level names the next twice: remembered groups keep this linear, not 2**40.
    groups = {f"g{n}": [f"@g{n + 1}", f"@g{n + 1}"] for n in range(40)}
    groups["g40"] = ["leaf"]
    assert _names(resolve_hosts(["@g0"], groups)) == ["leaf"]
