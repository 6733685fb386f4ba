"""The probe's start-up on a host whose temp dirs are full or whose df hangs: said plainly, and
nothing left behind."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from clustertop.model import HostState, Section
from clustertop.sources.ssh.probe import ProbeSettings, probe_script
from tests.fleet.fleet import Fleet
from tests.fleet.simhost import HostPlan, SimHost
from tests.reliability import record
from tests.ssh.helpers import LiveFleet, probe_processes, probe_temp_dirs
from tests.waiting import async_wait_for

MARKER = "@cttest0123456789ab"
FILL = "mount -t tmpfs -o size=64k tmpfs {0} && dd if=/dev/zero of={0}/fill bs=4k 2>/dev/null"


def _first_line_with_full(*folders: str) -> str:
    # A private mount namespace: tiny full tmpfs mounts over these folders for this probe only.
    fill = "; ".join(FILL.format(folder) for folder in folders)
    probe = subprocess.Popen(
        ["unshare", "-m", "sh", "-c", f"{fill}; exec /bin/sh -s"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    out, _ = probe.communicate(probe_script(ProbeSettings(marker=MARKER)), timeout=30)
    return out.split("\n")[0]


@pytest.fixture
def namespaces() -> None:
    if shutil.which("unshare") is None:
        pytest.skip("unshare not installed")
    if subprocess.run(["unshare", "-m", "true"], check=False).returncode != 0:
        pytest.skip("no mount namespaces here")


@pytest.mark.usefixtures("namespaces")
def test_full_dev_shm_and_tmp_are_named_in_the_fatal_line() -> None:
    assert (
        _first_line_with_full("/dev/shm", "/tmp") == f"{MARKER} fatal temp dir full: /dev/shm /tmp"
    )


@pytest.mark.usefixtures("namespaces")
def test_a_full_dev_shm_is_passed_over_for_tmp() -> None:
    assert _first_line_with_full("/dev/shm").startswith(f"{MARKER} ready ")


@contextlib.contextmanager
def _full_tmpfs(folder: Path) -> Iterator[Path]:
    folder.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)]
    if subprocess.run(mount, check=False).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        fill = ["dd", "if=/dev/zero", f"of={folder}/fill", "bs=4k"]
        subprocess.run(fill, capture_output=True, check=False)  # until it is full
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@contextlib.contextmanager
def _host(fleet: Fleet, plan: HostPlan) -> Iterator[SimHost]:
    host = fleet.add_host(plan)
    try:
        yield host
    finally:
        fleet.remove_host(host.name)


@pytest.mark.reliability
async def test_a_full_tmpdir_is_passed_over_and_the_host_reads_as_usual(
    fleet: Fleet, tmp_path: Path
) -> None:
    with (
        _full_tmpfs(tmp_path / "full") as full,
        _host(fleet, HostPlan("fulltmp", docker="none-running", extra_env={"TMPDIR": str(full)})),
    ):
        async with LiveFleet(fleet, ["fulltmp"]) as live:
            await async_wait_for(
                lambda: "fulltmp" in live.latest and live.latest["fulltmp"].gpus, 20, what="GPUs"
            )
            assert live.latest["fulltmp"].gpu_error is None
            assert not list(full.glob("clustertop.*"))
    record(
        "faults", "shm-full", "a full TMPDIR is passed over for /dev/shm: the host reads as usual"
    )


@pytest.mark.reliability
async def test_a_full_temp_dir_is_the_error_shown(fleet: Fleet, tmp_path: Path) -> None:
    # This host's mktemp makes the probe's folder on a full filesystem, wherever it asks.
    with (
        _full_tmpfs(tmp_path / "full") as full,
        _host(fleet, HostPlan("fullshm", docker="none-running")) as host,
    ):
        mktemp = shutil.which("mktemp")
        (host.bin_dir / "mktemp").write_text(f'#!/bin/sh\nexec {mktemp} -d "{full}/ct.XXXXXX"\n')
        (host.bin_dir / "mktemp").chmod(0o755)
        async with LiveFleet(fleet, ["fullshm"]) as live:
            await async_wait_for(
                lambda: (
                    "fullshm" in live.latest and live.latest["fullshm"].state is HostState.ERROR
                ),
                30,
                what="the host's error",
            )
            snap = live.latest["fullshm"]
    assert snap.error == "remote probe: temp dir full: /dev/shm /tmp"
    record("faults", "shm-full", f"all temp dirs full: the host's error says so ({snap.error!r})")


def _probes(host: SimHost) -> list[int]:
    # The probe itself, not the subshells it forks (they share its command line).
    shells = probe_processes(host)
    return [pid for pid in shells if psutil.Process(pid).ppid() not in shells]


HUNG_DF = "#!/bin/sh\nexec sleep 1000\n"


def _hung_dfs(host: SimHost) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and (entry / "cmdline").read_bytes() == b"sleep\x001000\x00":
                environ = (entry / "environ").read_bytes().split(b"\0")
                if f"CT_HOST={host.name}".encode() in environ:
                    found.append(int(entry.name))
    return found


@pytest.mark.reliability
async def test_a_hung_df_marks_disks_and_leaves_nothing_behind(fleet: Fleet) -> None:
    with _host(fleet, HostPlan("hungdf", docker="none-running")) as host:
        (host.bin_dir / "df").write_text(HUNG_DF)
        (host.bin_dir / "df").chmod(0o755)
        async with LiveFleet(fleet, ["hungdf"]) as live:
            await async_wait_for(
                lambda: "hungdf" in live.latest and live.latest["hungdf"].gpus, 20, what="GPUs"
            )
            await async_wait_for(
                lambda: "timed out" in (live.latest["hungdf"].disks_error or ""),
                20,
                what="disks timed out",
            )
            snap = live.latest["hungdf"]
            assert snap.state is HostState.UP and snap.cpu is not None
            assert Section.DISKS not in snap.waiting
            assert len(_probes(host)) == 1, "one probe, never restarted"
            assert len(_hung_dfs(host)) == 1, "df is never started twice"
            temp_dirs = probe_temp_dirs(host)
            assert temp_dirs, "the probe's temp dir exists while it runs"
        await async_wait_for(lambda: not probe_processes(host), 10, what="the probe gone")
        await async_wait_for(lambda: not _hung_dfs(host), 10, what="the hung df gone")
        await async_wait_for(
            lambda: not any(d.exists() for d in temp_dirs), 10, what="its temp dir gone"
        )
    record(
        "faults",
        "df-hung",
        f"only disks marked ({snap.disks_error!r}); one probe, one df; nothing left after",
    )
