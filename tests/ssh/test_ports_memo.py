"""A host's ports section is parsed again only when its text changed (PortsMemo)."""

from __future__ import annotations

import pytest

from clustertop.sources.ssh.netio import read_ports
from clustertop.sources.ssh.ports_memo import PortsMemo

TCP = (
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
    "  1000        0 4242 1 0 100 0 0 10 0\n"
    "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
    "     0        0 77 1 0 100 0 0 10 0\n"
)


def _parts(holders: str = "4242 9000 jupyter lab\n", users: str = "1000 alice\n") -> dict[str, str]:
    return {"tcp": TCP, "holders": holders, "users": users}


def test_the_same_text_gives_the_same_ports_as_read_ports_without_parsing_again() -> None:
    memo = PortsMemo()
    first = memo.read(_parts())
    assert first == read_ports(_parts())
    assert [(p.port, p.user, p.process) for p in first] == [
        (22, "0", None),
        (8080, "alice", "jupyter lab"),
    ]
    assert memo.read(_parts()) is first  # equal text (new strings): the kept tuple


@pytest.mark.parametrize(
    "changed",
    [
        _parts(holders="4242 9001 jupyter lab\n"),  # another holder
        _parts(users="1000 bob\n"),  # another owner name
        {**_parts(), "tcp": TCP.replace("1F90", "1F91")},  # another port
        {**_parts(), "tcp6": ""},  # another part, even an empty one
        {"tcp": TCP, "holders": "4242 9000 jupyter lab\n1000 alice\n", "users": ""},  # text moved
    ],
)
def test_any_change_of_any_part_is_parsed_again(changed: dict[str, str]) -> None:
    memo = PortsMemo()
    first = memo.read(_parts())
    again = memo.read(changed)
    assert again is not first and again == read_ports(changed)
    assert memo.read(_parts()) == first  # and back


def test_unreadable_text_raises_as_read_ports_does_and_keeps_the_last_good_reading() -> None:
    memo = PortsMemo()
    first = memo.read(_parts())
    broken = {**_parts(), "tcp": TCP.replace("0100007F:1F90", "zz:1F90")}
    with pytest.raises(ValueError, match="/proc/net/tcp"):
        read_ports(broken)
    with pytest.raises(ValueError, match="/proc/net/tcp"):
        memo.read(broken)
    with pytest.raises(ValueError, match="/proc/net/tcp"):
        memo.read(broken)  # not remembered as good
    assert memo.read(_parts()) is first
