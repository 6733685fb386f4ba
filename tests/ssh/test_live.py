"""The SSH source over time: hung sections, a host that goes and comes back, nothing left behind."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from clustertop.model import HostState, Process, Section
from tests.fleet.fleet import Fleet
from tests.fleet.gpu_specs import gpu, spec
from tests.fleet.simhost import SimHost
from tests.reliability import record
from tests.ssh.helpers import (
    HUGE_ARGV,
    LiveFleet,
    huge_argv_process,
    probe_processes,
    probe_temp_dirs,
)
from tests.waiting import async_wait_for


def _stand_in_processes(host: SimHost) -> int:
    """This fleet's stand-in nvidia-smi processes of `host` (other fleets on the machine may
    have a host of the same name: their spec file differs)."""
    count = 0
    for proc in psutil.process_iter(["cmdline", "environ"]):
        cmdline = " ".join(proc.info["cmdline"] or ())
        env = proc.info["environ"] or {}
        if "fake_nvidia_smi" in cmdline and env.get("CT_FAKE_GPU") == str(host.gpu_spec_path):
            count += 1
    return count


@pytest.mark.reliability
async def test_hung_nvidia_smi_marks_only_gpu_stale_and_never_piles_up(clean_fleet: Fleet) -> None:
    async with LiveFleet(clean_fleet, ["h1", "h2"]) as live:
        await async_wait_for(
            lambda: live.latest.get("h1") and live.latest["h1"].gpus, 20, what="h1 GPUs"
        )
        clean_fleet["h1"].set_gpu_spec(spec([gpu("h1", 0)], mode="hang"))
        await async_wait_for(
            lambda: live.latest["h1"].stale.get(Section.GPU, 0) > 2.0, 20, what="GPU stale > 2 s"
        )
        snap = live.latest["h1"]
        assert snap.state is HostState.UP
        assert snap.gpus, "the last GPU data stays on screen, marked stale"
        assert Section.PROCESSES not in snap.stale and Section.DOCKER not in snap.stale
        assert snap.cpu is not None and snap.memory is not None
        assert Section.GPU not in live.latest["h2"].stale
        hung = _stand_in_processes(clean_fleet["h1"])
        assert hung >= 1
        frames = len(live.history["h1"])
        await async_wait_for(lambda: len(live.history["h1"]) >= frames + 4, 20, what="4 frames")
        assert _stand_in_processes(clean_fleet["h1"]) == hung, (
            "a hung nvidia-smi is never started again"
        )
        clean_fleet["h1"].reset_gpu_spec()
        clean_fleet["h1"].set_gpu_spec(spec([gpu("h1", 0)]))
    record(
        "faults",
        "nvidia-smi-hung",
        "only the GPU part marked stale, last data kept, no nvidia-smi piled up",
        hung_processes=hung,
    )


@pytest.mark.reliability
async def test_killed_sshd_changes_only_that_host_and_it_returns(
    fleet: Fleet, spare_host: SimHost
) -> None:
    async with LiveFleet(fleet, ["h2", "spare"]) as live:
        await async_wait_for(
            lambda: all(n in live.latest and live.latest[n].is_up for n in ("h2", "spare")),
            20,
            what="both up",
        )
        spare_host.stop_sshd()
        await async_wait_for(
            lambda: live.latest["spare"].state not in (HostState.UP, HostState.CONNECTING),
            20,
            what="spare down",
        )
        down = live.latest["spare"]
        assert down.error
        assert live.latest["h2"].is_up
        ups = len(live.history["h2"])
        await async_wait_for(
            lambda: len(live.history["h2"]) >= ups + 2, 20, what="h2 updating while spare is down"
        )
        assert not live.latest["spare"].is_up, "spare stays down while its sshd is gone"
        spare_host.start_sshd()
        await async_wait_for(lambda: live.latest["spare"].is_up, 20, what="spare back up")
        states = [s.state for s in live.history["h2"]]
        assert set(states[states.index(HostState.UP) :]) == {HostState.UP}
    record("faults", "sshd-killed", f"only that host went down ({down.error!r}), then came back")


async def test_probe_ends_with_the_connection_and_leaves_nothing(clean_fleet: Fleet) -> None:
    async with LiveFleet(clean_fleet, ["h3"]) as live:
        await async_wait_for(lambda: "h3" in live.latest and live.latest["h3"].is_up, 20, what="up")
        assert probe_processes("h3"), "the probe runs while connected"
        assert _stand_in_processes(clean_fleet["h3"]) == 2, (
            "one sampler for GPUs, one for their processes"
        )
        # In memory (/dev/shm) where there is one, else /tmp.
        temp_dirs = await async_wait_for(lambda: probe_temp_dirs("h3"), 10, what="its temp dir")
        assert all(d.parent in (Path("/dev/shm"), Path("/tmp")) and d.is_dir() for d in temp_dirs)
    await async_wait_for(lambda: not probe_processes("h3"), 10, what="probe gone")
    await async_wait_for(
        lambda: _stand_in_processes(clean_fleet["h3"]) == 0, 10, what="GPU samplers gone"
    )
    await async_wait_for(lambda: not any(d.exists() for d in temp_dirs), 10, what="temp dir gone")


async def test_hosts_behind_one_jump_share_one_connection(fleet: Fleet, tmp_path: Path) -> None:
    jump = fleet.jump
    assert jump is not None
    config = tmp_path / "ssh_config"
    common = (
        f"  User root\n  IdentityFile {fleet.files.client_key}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {fleet.known_hosts}\n  ProxyJump jump\n"
    )
    config.write_text(
        f"Include {fleet.ssh_config}\n"  # before any Host line: inside one it would be conditional
        f"Host h2-via-jump\n  HostName {fleet['h2'].address}\n  Port {fleet['h2'].port}\n{common}"
        f"Host h3-via-jump\n  HostName {fleet['h3'].address}\n  Port {fleet['h3'].port}\n{common}"
    )
    live = LiveFleet(fleet, ["h1-via-jump", "h2-via-jump", "h3-via-jump"])
    live.source._ssh = type(live.source._ssh)(
        config_paths=(config,), connect_timeout=5.0
    )  # the extra aliases, then the fleet's file
    async with live:
        await async_wait_for(
            lambda: len(live.latest) == 3 and all(s.is_up for s in live.latest.values()),
            30,
            what="all three up through the jump host",
        )
        me = psutil.Process()
        to_jump = [
            c
            for c in me.net_connections(kind="tcp")
            if c.raddr and c.raddr.ip == jump.address and c.raddr.port == jump.port
        ]
        assert len(to_jump) == 1


@pytest.mark.reliability
async def test_a_process_with_megabytes_of_arguments_shows_cut_and_the_host_stays_up(
    clean_fleet: Fleet,
) -> None:
    with huge_argv_process() as huge:
        # Listed by the stand-in nvidia-smi: a GPU process is read and shown every tick.
        on_gpu = {"gpu": 0, "pid": huge.pid, "used_memory_mib": 100, "process_name": "sh"}
        clean_fleet["h1"].set_gpu_spec(spec([gpu("h1", 0)], [on_gpu]))
        try:
            async with LiveFleet(clean_fleet, ["h1"]) as live:

                def row() -> Process | None:
                    snap = live.latest.get("h1")
                    return (
                        next((p for p in snap.processes if p.pid == huge.pid), None)
                        if snap
                        else None
                    )

                shown = await async_wait_for(row, 20, what="the process's row")
                frames = len(live.history["h1"])
                await async_wait_for(
                    lambda: len(live.history["h1"]) >= frames + 3, 20, what="3 frames"
                )
        finally:
            clean_fleet["h1"].reset_gpu_spec()
    assert shown.command is not None and shown.command.startswith("sh -c sleep 300; true x xxxx")
    assert shown.command.endswith("…") and len(shown.command.encode()) <= 4096
    states = [s.state for s in live.history["h1"]]
    assert set(states[states.index(HostState.UP) :]) == {HostState.UP}
    [on_screen] = [p for p in live.latest["h1"].gpu_processes if p.pid == huge.pid]
    assert on_screen.command == shown.command
    record(
        "hostile",
        "huge-argv",
        "over SSH: the host stays up, the process row shows its arguments cut, ending in '…'",
        argv_bytes=sum(len(a) + 1 for a in HUGE_ARGV),
        shown_bytes=len(shown.command.encode()),
        frames=len(live.history["h1"]),
    )
