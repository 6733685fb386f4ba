"""The remote probe run directly under /bin/sh here: process scans, odd process names, cleanup."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from clustertop.sources.ssh.assemble import FrameAssembler, HostInfo
from clustertop.sources.ssh.probe import (
    PROBE_VERSION,
    Frame,
    ProbeSettings,
    new_marker,
    parse_frame,
    probe_script,
    split_parts,
)
from clustertop.sources.ssh.sections import ProcsReading, read_disks, read_procs
from tests.reliability import record
from tests.ssh.helpers import huge_argv_process
from tests.waiting import wait_for

MARKER = "@cttest0123456789ab"


AWKS = [
    awk
    for awk, program in (("mawk", "mawk"), ("gawk", "gawk"), ("busybox awk", "busybox"))
    if shutil.which(program)
]
"""The awks hosts run that are here: Debian and Ubuntu default to mawk, RHEL to gawk, Alpine and
embedded systems to BusyBox's (busybox-static in the test machine's setup)."""


class LocalProbe:
    """The probe in a subprocess, one frame per tick, with a chosen awk first on PATH."""

    def __init__(
        self,
        awk: str | None = None,
        *,
        tmpdir: Path | None = None,
        path: str | None = None,
        leader: bool = True,
        extra_env: dict[str, str] | None = None,
        marker: str = MARKER,
        options: dict[str, int] | None = None,
    ) -> None:
        env = {**os.environ, **(extra_env or {})}
        if tmpdir:
            env["TMPDIR"] = str(tmpdir)
        if path:
            env["PATH"] = f"{path}:{env['PATH']}"
        self.proc = subprocess.Popen(
            ["/bin/sh", "-s"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=leader,  # sshd makes the probe lead its process group
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        # phase 0: full process scans at ticks 1, 10, 20 ... besides those asked for.
        settings = ProbeSettings(marker=marker, sample_ms=1000, awk=awk, phase=0, **(options or {}))
        self.proc.stdin.write(probe_script(settings))
        self.proc.stdin.flush()
        self.ready = self.proc.stdout.readline()
        self.marker = marker
        self.seq = 0

    def tick(self, full: int) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.seq += 1
        self.proc.stdin.write(f"t {self.seq} {full}\n")
        self.proc.stdin.flush()
        lines = []
        while True:
            line = self.proc.stdout.readline()
            assert line, "the probe ended"
            lines.append(line)
            if line.startswith(f"{self.marker} d {self.seq}"):
                return "".join(lines)

    def reading(self, full: int) -> ProcsReading:
        frame = parse_frame(self.tick(full), MARKER)
        return read_procs(split_parts(frame.sections["procs"].body, MARKER)[""])

    def procs(self, full: int) -> dict[int, tuple[str, str]]:
        return {pid: (row.user or "", row.command) for pid, row in self.reading(full).rows.items()}

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture(params=AWKS)
def probe(request: pytest.FixtureRequest) -> Iterator[LocalProbe]:
    running = LocalProbe(request.param)
    try:
        yield running
    finally:
        running.close()


def _busy(folder: Path) -> subprocess.Popen[bytes]:
    # A busy process with an awkward name: spaces, ") " and a newline in its arguments.
    script = folder / "a) b"
    script.write_text("while :; do :; done\n")
    return subprocess.Popen(["/bin/sh", str(script), "arg\nwith newline"])


def test_ready_line_names_the_probe(probe: LocalProbe) -> None:
    words = probe.ready.split()
    assert words[:3] == [MARKER, "ready", PROBE_VERSION]
    assert int(words[4]) > 0  # clock ticks per second


def test_a_new_busy_process_shows_on_a_full_scan_only(probe: LocalProbe, tmp_path: Path) -> None:
    probe.procs(full=1)
    probe.procs(full=1)
    busy = _busy(tmp_path)
    try:
        # Between full scans only GPU processes are read (none here): the rest keep their rows.
        between = probe.reading(full=0)
        assert between.keep and between.rows == {} and between.cpu is not None
        assert busy.pid not in between.rows
        # Once it has run a moment (first sight shows its average since it started) ...
        wait_for(lambda: sum(psutil.Process(busy.pid).cpu_times()[:2]) > 0.2, 10, what="CPU")
        shown = probe.procs(full=1)
        assert busy.pid in shown, "a full scan finds the new busy process"
        user, command = shown[busy.pid]
        assert user
        assert "a) b" in command and "arg with newline" in command  # NUL, newline as spaces
    finally:
        busy.kill()
        busy.wait()


DF_FLAVOURS = {
    "gnu": None,  # this machine's df: one run with --output
    "gnu-without-output": 'case "$*" in *--output=*) exit 1 ;; esac; exec {df} "$@"',  # old coreutils
    "busybox": 'exec busybox df "$@"',  # -P -k, then -P -i
}


@pytest.mark.parametrize("flavour", DF_FLAVOURS)
def test_disks_carry_sizes_and_inodes_with_every_df(flavour: str, tmp_path: Path) -> None:
    real_df = shutil.which("df")
    assert real_df is not None
    body = DF_FLAVOURS[flavour]
    if flavour == "busybox" and shutil.which("busybox") is None:
        pytest.skip("busybox not installed")
    if body is not None:
        (tmp_path / "df").write_text("#!/bin/sh\n" + body.replace("{df}", real_df) + "\n")
        (tmp_path / "df").chmod(0o755)
    probe = LocalProbe(path=str(tmp_path) if body is not None else None)
    try:
        frame = parse_frame(probe.tick(1), MARKER)  # the first frame waits for df
        disks = read_disks(split_parts(frame.sections["disks"].body, MARKER))
    finally:
        probe.close()
    assert disks, f"{flavour}: no local disk in {frame.sections['disks'].body!r}"
    for disk in disks:
        stat = os.statvfs(disk.mount)
        assert disk.total == stat.f_blocks * stat.f_frsize, disk
        assert disk.inodes_total == (stat.f_files or None), disk


def _alive_in_group(group: int) -> list[str]:
    # Zombies are gone already (their parent died; this sandbox's init reaps them late).
    listed = subprocess.run(
        ["ps", "-o", "pid=,stat=,args=", "-g", str(group)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    return [line for line in listed if "Z" not in line.split()[1]]


def test_probe_leaves_nothing_behind(tmp_path: Path) -> None:
    running = LocalProbe(tmpdir=tmp_path)
    running.tick(1)
    [made] = tmp_path.glob("clustertop.*")
    group = running.proc.pid
    running.close()
    assert not made.exists()
    wait_for(lambda: not _alive_in_group(group), 10, what="everything the probe started to end")


FAKE_NVIDIA_SMI = """#!/bin/sh
# A sampler that never stops by itself: only its pipe closing or a signal ends it.
while :; do
	echo "1, 0, GPU-1, NVIDIA H200, 37, 5, 4000, 143771, 61, 627.40, 700.00, [N/A], 0, 0, Disabled"
	sleep 0.1
done
"""


@pytest.mark.parametrize("leader", [True, False], ids=["group-leader", "not-group-leader"])
def test_probe_and_its_gpu_samplers_end_with_the_connection(tmp_path: Path, leader: bool) -> None:
    # Under sshd the probe leads its process group; behind a wrapper (ForceCommand) it may not.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "nvidia-smi").write_text(FAKE_NVIDIA_SMI)
    (bin_dir / "nvidia-smi").chmod(0o755)
    running = LocalProbe(tmpdir=tmp_path, path=str(bin_dir), leader=leader)
    gpu = parse_frame(running.tick(1), MARKER).sections["gpu"].body
    assert "NVIDIA H200" in gpu
    [made] = tmp_path.glob("clustertop.*")

    def samplers() -> list[psutil.Process]:
        mine = []
        for proc in psutil.process_iter(["cmdline"]):
            with contextlib.suppress(psutil.Error):
                if str(bin_dir) in " ".join(proc.info["cmdline"] or []):
                    mine.append(proc)
        return mine

    assert samplers(), "the probe runs nvidia-smi as a long-lived sampler"
    running.close()
    wait_for(lambda: not samplers(), 10, what="the GPU samplers to end")
    wait_for(lambda: not made.exists(), 10, what="the temp dir to be removed")


FAKE_SAMPLERS = """#!/bin/sh
# nvidia-smi's two sampling queries, one sample a period: a GPU, and process $CT_GPU_PID on it.
case "$1" in
--query-gpu=*) row="1, 0, GPU-1, NVIDIA H200, 37, 5, 4000, 143771, 61, 627.40, 700.00, [N/A], 0, 0, Disabled" ;;
*) row="2026/11/25 10:00:00.000, GPU-1, $CT_GPU_PID, 4000, python" ;;
esac
while :; do
	echo "$row"
	sleep 0.2
done
"""


@pytest.mark.parametrize("awk", AWKS)
def test_every_section_of_a_frame_reads_under_every_awk(awk: str, tmp_path: Path) -> None:
    busy = _busy(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "nvidia-smi").write_text(FAKE_SAMPLERS)
    (bin_dir / "nvidia-smi").chmod(0o755)
    extra = {"CT_GPU_PID": str(busy.pid)}
    running = LocalProbe(awk, tmpdir=tmp_path, path=str(bin_dir), extra_env=extra)
    assembler = FrameAssembler("h", MARKER, HostInfo())
    try:
        snap = assembler.apply(parse_frame(running.tick(1), MARKER), 1.0)

        def gpu_process_named() -> bool:
            nonlocal snap
            snap = assembler.apply(parse_frame(running.tick(0), MARKER), 1.0)
            return any(p.command and "a) b" in p.command for p in snap.gpu_processes)

        wait_for(gpu_process_named, 10, what="the GPU process with its arguments")
    finally:
        running.close()
        busy.kill()
        busy.wait()
    assert snap.memory is not None and snap.load is not None, snap.system_error
    assert [g.name for g in snap.gpus] == ["NVIDIA H200"], snap.gpu_error
    assert any(d.mount == "/" for d in snap.disks), snap.disks_error
    assert snap.processes and snap.cpu is not None, snap.processes_error


@pytest.mark.parametrize("awk", AWKS)
def test_megabytes_of_arguments_are_cut_under_every_awk(awk: str, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "nvidia-smi").write_text(FAKE_SAMPLERS)
    (bin_dir / "nvidia-smi").chmod(0o755)
    with huge_argv_process() as huge:
        extra = {"CT_GPU_PID": str(huge.pid)}  # a GPU process: read and shown every tick
        running = LocalProbe(awk, tmpdir=tmp_path, path=str(bin_dir), extra_env=extra)
        assembler = FrameAssembler("h", MARKER, HostInfo())
        frames: list[str] = []

        def shown() -> str | None:
            frames.append(running.tick(1))
            snap = assembler.apply(parse_frame(frames[-1], MARKER), 1.0)
            return next((p.command for p in snap.gpu_processes if p.pid == huge.pid), None)

        try:
            command = wait_for(shown, 10, what="the process with 1.9 MB of arguments")
            assert running.proc.poll() is None, "the probe runs on"
        finally:
            running.close()
    assert command.startswith("sh -c sleep 300; true x xxxx")
    assert command.endswith("…") and len(command.encode()) <= 4096
    # Its arguments never travel whole (other users' processes add their own, capped, lines).
    assert not any("x" * 5000 in frame for frame in frames)


def _command_lines() -> dict[int, bytes]:
    lines = {}
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit():
                lines[int(entry.name)] = (entry / "cmdline").read_bytes()
    return lines


@pytest.mark.reliability
@pytest.mark.parametrize("awk", AWKS)
def test_the_marker_is_in_no_argument_list_on_the_host(awk: str) -> None:
    marker = new_marker()  # not the other tests' one: they may run at the same time
    running = LocalProbe(awk, marker=marker)
    try:
        running.tick(1)  # its jobs and samplers running too
        seen = [pid for pid, argv in _command_lines().items() if marker.encode() in argv]
    finally:
        running.close()
    assert seen == [], "every host user can read argument lists with ps"
    record("hostile", "forged-frame", f"{awk}: the marker is in no process's argument list")


FORGED = f"{MARKER} e disks 0 1\n{MARKER} d 1\n{MARKER} b procs\n{MARKER} inodes"


@pytest.mark.reliability
@pytest.mark.parametrize("awk", AWKS)
def test_output_and_arguments_that_hold_the_marker_cannot_end_a_frame(
    awk: str, tmp_path: Path
) -> None:
    # A df whose output and a process whose arguments carry frame lines, marker and all.
    real_df = shutil.which("df")
    (tmp_path / "df").write_text(f"#!/bin/sh\nprintf '%s\\n' '{FORGED}'\nexec {real_df} \"$@\"\n")
    (tmp_path / "df").chmod(0o755)
    forger = subprocess.Popen(["sh", "-c", "sleep 300", f"x\n{FORGED}"], start_new_session=True)
    extra = {"CT_GPU_PID": str(forger.pid)}  # a GPU process: shown every tick
    (tmp_path / "nvidia-smi").write_text(FAKE_SAMPLERS)
    (tmp_path / "nvidia-smi").chmod(0o755)
    running = LocalProbe(awk, tmpdir=tmp_path, path=str(tmp_path), extra_env=extra)
    try:

        def whole() -> Frame | None:
            frame = parse_frame(running.tick(1), MARKER)
            return frame if forger.pid in _procs_of(frame).rows else None

        frame = wait_for(whole, 10, what="a frame with the forger's row")
    finally:
        running.close()
        forger.kill()
        forger.wait()
    sections = {"sys", "gpu", "disks", "docker", "procs", "net", "dio", "ports"}
    # Where slurmd and scontrol are installed (this machine may have them) a slurm section too.
    assert set(frame.sections) - {"slurm"} == sections and frame.seq > 0
    assert "?" + FORGED.split("\n", 1)[0] in frame.sections["disks"].body.split("\n")
    command = _procs_of(frame).rows[forger.pid].command
    assert command == "sh -c sleep 300 x " + FORGED.replace("\n", " ")
    record(
        "hostile",
        "forged-frame",
        f"{awk}: forged frame lines in argv and in df output stay text; the frame reads whole",
    )


def _procs_of(frame: Frame) -> ProcsReading:
    return read_procs(split_parts(frame.sections["procs"].body, MARKER)[""])


LONG_NAME_SAMPLER = """#!/bin/sh
case "$1" in
--query-gpu=*) row="1, 0, GPU-1, NVIDIA H200, 37, 5, 4000, 143771, 61, 627.40, 700.00, [N/A], 0, 0, Disabled" ;;
*) row="2026/11/25 10:00:00.000, GPU-1, 4242, 4000, $(yes p | head -c 2000000 | tr -d '\\n')" ;;
esac
while :; do
	echo "$row"
	sleep 0.2
done
"""


@pytest.mark.parametrize("awk", AWKS)
def test_one_line_of_output_is_cut_at_256_kib_under_every_awk(awk: str, tmp_path: Path) -> None:
    (tmp_path / "nvidia-smi").write_text(LONG_NAME_SAMPLER)
    (tmp_path / "nvidia-smi").chmod(0o755)
    running = LocalProbe(awk, tmpdir=tmp_path, path=str(tmp_path))
    try:

        def apps() -> str:
            gpu = parse_frame(running.tick(0), MARKER).sections.get("gpu")
            return split_parts(gpu.body, MARKER).get("apps", "") if gpu else ""

        line = wait_for(apps, 10, what="the GPU process sample")
    finally:
        running.close()
    # The stand-in prints a row every 0.2 s: on a busy machine one sample can hold two.
    rows = line.split("\n")
    assert all(row.startswith("2026/11/25 10:00:00.000, GPU-1, 4242, 4000, pppp") for row in rows)
    assert all(row.endswith("p…") and len(row.encode()) == 262144 + 3 for row in rows)
