"""The probe's `a` lines (cgroup paths, once per process) become attributions in the snapshot."""

from __future__ import annotations

from clustertop.sources.ssh.assemble import FrameAssembler, HostInfo
from clustertop.sources.ssh.probe import parse_frame
from tests.ssh.test_frames import GPU, SYS, M, _frame, _section

POD = "b96a7488-3ee1-4bdc-9c98-155cc887b417"
CTR = "6ef14b5a76df7b5d24285e3a04ccbc6fd323620272b3787b5dc440fc1b75d294"
HEAD = "cpu 100 0 50 850 0 0 0 0\nbtime 1700000000\nncpu 2\n"


def _assembler() -> FrameAssembler:
    clock = iter(float(t) for t in range(1000, 1100)).__next__
    return FrameAssembler("gpu01", M, HostInfo(hz=100, page_size=4096, hostname="n1"), clock=clock)


def _procs(*lines: str) -> str:
    return HEAD + "\n".join(lines)


def test_a_pod_process_is_a_pod_and_no_unnamed_docker_container() -> None:
    """The probe's container id regex also finds the bare id of a cgroupfs kubepods path."""
    assembler = _assembler()
    first = _procs(
        f"a 4242\t/kubepods/besteffort/pod{POD}/{CTR}",
        f"p 4242 - 10 500 R {CTR} root\tpython\tpython serve.py",
    )
    snap = assembler.apply(
        parse_frame(_frame(1, 200.0, _section("sys", SYS), _section("gpu", GPU),
                           _section("procs", first)), M), 1.0)  # fmt: skip
    (gpu_proc,) = snap.gpu_processes
    assert gpu_proc.container is None
    assert gpu_proc.attribution is not None
    assert (gpu_proc.attribution.kind, gpu_proc.owner, gpu_proc.attribution.via) == (
        "pod", POD, "pod-uid")  # fmt: skip
    # The next frame sends "=" for its arguments and no `a` line: the attribution stays.
    second = _procs(f"p 4242 50.0 10 500 R {CTR} root\tpython\t=")
    snap = assembler.apply(
        parse_frame(_frame(2, 202.0, _section("sys", SYS), _section("gpu", GPU),
                           _section("procs", second)), M), 1.0)  # fmt: skip
    (row,) = snap.processes
    assert row.attribution is not None and row.attribution.id == POD
    assert row.container is None


def test_a_reused_pid_is_classified_afresh() -> None:
    assembler = _assembler()
    job = _procs("a 4242\t/slurm_n1/uid_1001/job_7/step_0\t/slurm_n1/uid_1001/job_7/step_0/task_0",
                 "p 4242 - 10 500 R - alice\tpython\tpython a.py")  # fmt: skip
    snap = assembler.apply(parse_frame(_frame(1, 200.0, _section("procs", job)), M), 1.0)
    (row,) = snap.processes
    assert row.attribution is not None
    assert (row.attribution.kind, row.attribution.id, row.attribution.uid) == ("slurm", "7", 1001)
    later = _procs("p 4242 - 10 900 R - bob\tsh\tsh")  # same PID, another start: no `a` line
    snap = assembler.apply(parse_frame(_frame(2, 202.0, _section("procs", later)), M), 1.0)
    (row,) = snap.processes
    assert row.attribution is not None and row.attribution.kind == "none"
    assert row.attribution.owner == "bob"


def test_processes_sharing_a_cgroup_keep_their_own_users_owners() -> None:
    """The assembler works an attribution out once per cgroup and user in a frame: processes
    of one session scope run by two users still get each user as owner."""
    scope = "/user.slice/user-1001.slice/session-3.scope"
    frame = _procs(
        f"a 4242\t{scope}", "p 4242 - 10 500 R - alice\tpython\tpython a.py",
        f"a 4243\t{scope}", "p 4243 - 10 501 R - alice\tpython\tpython b.py",
        f"a 4244\t{scope}", "p 4244 - 10 502 R - root\tsudo\tsudo -i",
        f"a 4245\t{scope}", "p 4245 - 10 503 R - alice\tvim\tvim c.py",
    )  # fmt: skip
    snap = _assembler().apply(parse_frame(_frame(1, 200.0, _section("procs", frame)), M), 1.0)
    owners = {p.pid: (p.user, p.attribution.owner if p.attribution else None)
              for p in snap.processes}  # fmt: skip
    assert owners == {
        4242: ("alice", "alice"),
        4243: ("alice", "alice"),
        4244: ("root", "root"),
        4245: ("alice", "alice"),
    }


def test_after_an_unreadable_procs_reading_equals_still_stand_for_what_came_before() -> None:
    assembler = _assembler()
    full = _procs(
        f"a 4242\t/kubepods/besteffort/pod{POD}/{CTR}",
        f"p 4242 - 10 500 R {CTR} root\tpython\tpython serve.py",
        "p 77 - 10 400 S - bob\tvim\tvim notes.txt",
    )
    keep = "cpu 100 0 50 850 0 0 0 0\nbtime 1700000000\nncpu 2\nkeep\n"
    frames = [full, "cpu 1 2", keep + f"p 4242 5.0 10 500 R {CTR} root\tpython\t="]
    frames.append(keep + "p 77 1.0 10 400 S - bob\tvim\t=")
    snaps = [
        assembler.apply(parse_frame(_frame(seq, 200.0 + seq, _section("procs", text)), M), 1.0)
        for seq, text in enumerate(frames, 1)
    ]
    assert snaps[1].processes == ()  # the unreadable reading: no rows to show
    (server,) = snaps[2].processes
    assert server.command == "python serve.py"
    assert server.attribution is not None and server.attribution.id == POD
    rows = {p.pid: p for p in snaps[3].processes}
    assert rows[77].command == "vim notes.txt"
