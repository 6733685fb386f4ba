"""The string pool keeps one copy of equal text, stays bounded, and two hosts' frames share it."""

from __future__ import annotations

from clustertop.sources.ssh.assemble import FrameAssembler, HostInfo
from clustertop.sources.ssh.probe import parse_frame
from clustertop.util.strpool import StringPool

M = "@ct0123456789abcdef"
PROCS = (
    "cpu 100 0 50 850 0 0 0 0\nbtime 1700000000\nncpu 2\n"
    "p 4242 1.0 10 500 S - alice\tpython\tpython train.py --lr 0.1\n"
    "p 77 0.0 10 400 S - root\tsshd\t/usr/sbin/sshd -D"
)


def _copy(text: str) -> str:
    # A new string object equal to `text` (as each host's frame brings its own).
    return "".join(list(text))


def test_equal_strings_come_back_as_one_object() -> None:
    pool = StringPool()
    first = pool(_copy("python train.py"))
    again = pool(_copy("python train.py"))
    assert again == "python train.py" and again is first
    assert pool(_copy("other")) is not first


def test_the_pool_stays_bounded_and_forgets_strings_not_asked_for() -> None:
    pool = StringPool(limit=3)
    kept = pool(_copy("kept"))
    for n in range(20):
        pool(f"text {n}")
        assert pool(_copy("kept")) is kept  # asked for every generation: stays the same copy
        assert len(pool) <= 6
    dropped = pool(_copy("dropped"))
    for n in range(10):
        pool(f"more {n}")
    assert pool(_copy("dropped")) is not dropped and pool(_copy("dropped")) == "dropped"


def _frame(seq: int) -> str:
    body = f"{M} b procs\n{_copy(PROCS)}\n\n{M} e procs 0 100.0"
    return f"{M} t {seq} 200.0\n{body}\n{M} d {seq}\n"


def test_two_hosts_running_the_same_programs_share_their_text() -> None:
    snaps = []
    for name in ("gpu01", "gpu02"):
        assembler = FrameAssembler(name, M, HostInfo(hz=100, page_size=4096))
        snaps.append(assembler.apply(parse_frame(_frame(1), M), 5.0))
    one, two = ({p.pid: p for p in s.processes} for s in snaps)
    assert one[4242].command == "python train.py --lr 0.1" and one[4242].user == "alice"
    assert one[77].command == "/usr/sbin/sshd -D" and one[77].user == "root"
    for pid in (4242, 77):
        assert one[pid].command is two[pid].command
        assert one[pid].user is two[pid].user
