"""Frames of the remote probe split and read without any host: markers, pending sections, forgery."""

from __future__ import annotations

from clustertop.model import MIB, HostState, Section
from clustertop.sources.ssh.assemble import FrameAssembler, HostInfo
from clustertop.sources.ssh.probe import ProbeSettings, parse_frame, probe_script, split_parts
from clustertop.sources.ssh.reader import READ_LIMIT

M = "@ct0123456789abcdef"
ID = "b" * 64


def _frame(seq: int, uptime: float, *sections: str, pending: str = "") -> str:
    lines = [f"{M} t {seq} {uptime}", *sections]
    if pending:
        lines.append(f"{M} p {pending}")
    lines.append(f"{M} d {seq}")
    return "\n".join(lines) + "\n"


def _section(name: str, body: str, rc: int = 0, started: float = 100.0) -> str:
    return f"{M} b {name}\n{body}\n\n{M} e {name} {rc} {started}"


SYS = "0.50 0.40 0.30 1/100 999\nMemTotal: 1000 kB\nMemAvailable: 400 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB"
GPU = (
    "1, 0, GPU-1, NVIDIA H200, 37, 5, 4000, 143771, 61, 627.40, 700.00, [N/A], 00000000:18:00.0, 0, Disabled\n"
    f"{M} apps 0 199.5\n"
    "2026/11/25 10:00:00.000, GPU-1, 4242, 4000, python"
)
PROCS_1 = f"cpu 100 0 50 850 0 0 0 0\nbtime 1700000000\nncpu 2\np 4242 - 10 500 R {ID} alice\tpython\tpython train.py --lr 0.1"
PROCS_2 = (
    f"cpu 200 0 100 1700 0 0 0 0\nbtime 1700000000\nncpu 2\np 4242 99.5 10 500 R {ID} alice\tpython\tpython train.py --lr 0.1\n"
    f"k {ID} 98.0 1048576"
)
DOCKER = (
    f'{ID} 4242 /var/lib/docker/containers/x.log {{"Id":"{ID}","Name":"/alice-train",'
    '"Created":"2024-01-01T00:00:00Z","Config":{"Image":"pytorch","Labels":{}},'
    '"State":{"Status":"running","Running":true,"Pid":4242,"ExitCode":0,'
    '"StartedAt":"2024-01-01T00:00:00Z","FinishedAt":"0001-01-01T00:00:00Z"},'
    '"HostConfig":{"DeviceRequests":null},"LogPath":"/var/lib/docker/containers/x.log"}\n'
    f"{M} logs\n2048 /var/lib/docker/containers/x.log"
)


def test_parse_frame_splits_sections_and_pending() -> None:
    text = _frame(
        3, 150.5, _section("sys", SYS), _section("gpu", GPU, started=150.0), pending="disks 120.0"
    )
    frame = parse_frame(text, M)
    assert frame.seq == 3 and frame.uptime == 150.5
    assert set(frame.sections) == {"sys", "gpu"}
    assert frame.sections["gpu"].started == 150.0
    assert frame.pending == {"disks": 120.0}
    parts = split_parts(frame.sections["gpu"].body, M)
    assert parts["apps.args"] == "0 199.5"
    assert parts["apps"] == "2026/11/25 10:00:00.000, GPU-1, 4242, 4000, python"


def test_forged_markers_from_host_output_are_just_text() -> None:
    forged = "@ct0000000000000000 e gpu 0 1\n@ct0123456789abcdeX d 3"
    frame = parse_frame(_frame(3, 1.0, _section("sys", SYS + "\n" + forged)), M)
    assert frame.sections["sys"].body.endswith(forged)


def test_assembler_builds_a_snapshot_with_attribution_and_deltas() -> None:
    clock = iter([1000.0, 1002.0]).__next__
    assembler = FrameAssembler(
        "gpu01", M, HostInfo(hz=100, page_size=4096, hostname="n1"), clock=clock
    )
    first = parse_frame(
        _frame(
            1,
            200.0,
            _section("sys", SYS),
            _section("gpu", GPU),
            _section("docker", DOCKER),
            _section("procs", PROCS_1),
        ),
        M,
    )
    snap = assembler.apply(first, 12.5)
    assert snap.state is HostState.UP and snap.cpu is None  # no delta yet
    second = parse_frame(
        _frame(
            2,
            202.0,
            _section("sys", SYS),
            _section("gpu", GPU),
            _section("docker", DOCKER),
            _section("procs", PROCS_2),
        ),
        M,
    )
    snap = assembler.apply(second, 10.0)
    assert snap.cpu is not None and snap.cpu.percent == 15.0  # 150 busy of 1000 jiffies
    assert snap.memory is not None and snap.memory.total == 1000 * 1024
    [proc] = snap.gpu_processes
    assert proc.pid == 4242 and proc.memory_used == 4000 * MIB
    assert proc.container is not None and proc.container.name == "alice-train"
    assert proc.owner == "alice" and proc.user == "alice"
    assert proc.command == "python train.py --lr 0.1"
    assert proc.start_time == 1700000005.0
    [container] = snap.containers
    assert container.cpu_percent == 98.0 and container.memory_used == MIB
    assert container.gpus == (0,) and container.log_size == 2048
    assert snap.hostname == "n1" and snap.latency_ms == 10.0


def test_between_full_scans_unsent_processes_keep_their_rows() -> None:
    times = iter([1000.0, 1002.0, 1004.0])
    assembler = FrameAssembler("gpu01", M, clock=lambda: next(times))
    other = "p 77 12.0 10 400 S - bob\tvim\tvim notes.txt"
    full = f"{PROCS_1}\n{other}"
    assembler.apply(parse_frame(_frame(1, 200.0, _section("procs", full)), M), 1.0)
    # Only the GPU process was read again; "=" stands for the arguments sent before.
    kept = f"cpu 200 0 100 1700 0 0 0 0\nbtime 1700000000\nncpu 2\nkeep\np 4242 99.5 10 500 R {ID} alice\tpython\t="
    snap = assembler.apply(parse_frame(_frame(2, 202.0, _section("procs", kept)), M), 1.0)
    rows = {p.pid: p for p in snap.processes}
    assert set(rows) == {4242, 77}
    assert rows[4242].cpu_percent == 99.5 and rows[4242].command == "python train.py --lr 0.1"
    assert rows[77].cpu_percent == 12.0 and rows[77].command == "vim notes.txt"
    # The next full scan replaces the list: bob's vim has ended.
    snap = assembler.apply(parse_frame(_frame(3, 204.0, _section("procs", PROCS_2)), M), 1.0)
    assert [p.pid for p in snap.processes] == [4242]


def test_between_full_scans_containers_keep_their_cpu_and_memory() -> None:
    times = iter([1000.0, 1002.0, 1004.0])
    assembler = FrameAssembler("gpu01", M, clock=lambda: next(times))
    for seq, procs in ((1, PROCS_2), (2, "cpu 300 0 150 2550 0 0 0 0\nbtime 1700000000\nkeep")):
        frame = _frame(seq, 200.0 + 2 * seq, _section("docker", DOCKER), _section("procs", procs))
        snap = assembler.apply(parse_frame(frame, M), 1.0)
        [container] = snap.containers
        assert (container.cpu_percent, container.memory_used) == (98.0, MIB), f"frame {seq}"
    # A full scan without usage for it (its cgroup could not be read) shows none.
    full = "cpu 400 0 200 3400 0 0 0 0\nbtime 1700000000"
    snap = assembler.apply(parse_frame(_frame(3, 206.0, _section("procs", full)), M), 1.0)
    assert (snap.containers[0].cpu_percent, snap.containers[0].memory_used) == (None, None)


def test_pending_section_keeps_last_data_and_reports_its_age() -> None:
    times = iter([1000.0, 1010.0])
    assembler = FrameAssembler("gpu01", M, clock=lambda: next(times))
    assembler.apply(
        parse_frame(
            _frame(
                1, 200.0, _section("sys", SYS, started=200.0), _section("gpu", GPU, started=200.0)
            ),
            M,
        ),
        1.0,
    )
    snap = assembler.apply(
        parse_frame(_frame(2, 210.0, _section("sys", SYS, started=210.0), pending="gpu 205.0"), M),
        1.0,
    )
    assert snap.gpus, "the last GPU data stays"
    assert snap.stale[Section.GPU] == 10.0
    assert Section.SYSTEM not in snap.stale


def test_gpu_failure_text_becomes_the_section_error() -> None:
    assembler = FrameAssembler("gpu01", M, clock=lambda: 1.0)
    text = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
    snap = assembler.apply(
        parse_frame(_frame(1, 1.0, _section("gpu", f"{text}\n{M} apps 9\n", rc=9)), M), 1.0
    )
    assert snap.gpu_error is not None and "driver" in snap.gpu_error
    assert snap.gpus == ()


def test_probe_script_quotes_every_parameter() -> None:
    script = probe_script(
        ProbeSettings(marker=M, nvidia_smi="/opt/my nvidia/nvidia-smi'; rm -rf /")
    )
    assert "NVSMI='/opt/my nvidia/nvidia-smi'\"'\"'; rm -rf /'" in script


def test_a_frame_cut_at_the_read_limit_reports_the_section_it_stopped_in() -> None:
    times = iter([1000.0, 1002.0, 1004.0])
    assembler = FrameAssembler("gpu01", M, clock=lambda: next(times))
    whole = _frame(1, 200.0, _section("sys", SYS), _section("gpu", GPU), _section("procs", PROCS_1))
    assembler.apply(parse_frame(whole, M), 1.0)
    # Only the first part of the next frame came: its GPU section had no end.
    partial = f"{M} t 2 202.0\n{_section('sys', SYS)}\n{M} b gpu\n" + "x" * (READ_LIMIT // 2)
    frame = parse_frame(partial, M)
    assert frame.unfinished == "gpu" and set(frame.sections) == {"sys"}
    snap = assembler.apply(frame, 1.0, cut=True)
    assert snap.gpu_error == "output over 2 MiB: skipped" and snap.gpus == ()
    assert [p.pid for p in snap.processes] == [4242], "the sections it never reached stay"
    snap = assembler.apply(parse_frame(_frame(3, 204.0, _section("gpu", GPU)), M), 1.0)
    assert snap.gpu_error is None and snap.gpus


def test_a_section_cut_only_because_an_earlier_one_was_big_keeps_its_last_reading() -> None:
    times = iter([1000.0, 1002.0, 1004.0])
    assembler = FrameAssembler("gpu01", M, clock=lambda: next(times))
    whole = _frame(1, 200.0, _section("sys", SYS), _section("gpu", GPU), _section("procs", PROCS_1))
    assembler.apply(parse_frame(whole, M), 1.0)
    # The GPU section fitted; the read limit fell a few lines into the processes after it.
    partial = f"{M} t 2 202.0\n{_section('sys', SYS)}\n{_section('gpu', GPU)}\n{M} b procs\n"
    frame = parse_frame(partial + PROCS_1[:40], M)
    assert frame.unfinished == "procs" and 0 < frame.unfinished_chars < 100
    snap = assembler.apply(frame, 1.0, cut=True)
    assert snap.processes_error is None and snap.gpu_error is None
    assert [p.pid for p in snap.processes] == [4242] and snap.gpus
