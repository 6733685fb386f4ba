"""The probe's slurm section run directly: absent without Slurm, a hung scontrol cut at its wait."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from clustertop.sources.ssh.probe import Frame, ProbeSettings, parse_frame, probe_script
from clustertop.sources.ssh.slurm import SlurmView, read_slurm
from tests.slurm.cluster import SlurmCluster, wait_running
from tests.waiting import wait_for

MARKER = "@ct0123456789abcdef"


class Probe:
    """probe.sh in a subprocess (its own process group, as under sshd), one frame per tick."""

    def __init__(self, settings: ProbeSettings, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            ["/bin/sh", "-s"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            errors="replace", start_new_session=True,
        )  # fmt: skip
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(probe_script(settings))
        self.proc.stdin.flush()
        assert " ready " in self.proc.stdout.readline()
        self.seq = 0

    def tick(self) -> Frame:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.seq += 1
        self.proc.stdin.write(f"t {self.seq} 0\n")
        self.proc.stdin.flush()
        lines = []
        while not (line := self.proc.stdout.readline()).startswith(f"{MARKER} d {self.seq}"):
            assert line, "the probe ended"
            lines.append(line)
        return parse_frame("".join(lines) + line, MARKER)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@contextmanager
def probe(settings: ProbeSettings, env: dict[str, str]) -> Iterator[Probe]:
    running = Probe(settings, env)
    try:
        yield running
    finally:
        running.close()


def test_no_slurm_section_without_scontrol() -> None:
    settings = ProbeSettings(marker=MARKER, sample_ms=500, scontrol="ct-no-such-scontrol")
    with probe(settings, dict(os.environ)) as running:
        frames = [running.tick() for _ in range(3)]
    assert all("slurm" not in f.sections and "slurm" not in f.pending for f in frames)
    assert all({"sys", "procs"} <= set(f.sections) for f in frames)


def test_a_hung_scontrol_is_pending_then_cut_and_said(slurm: SlurmCluster, tmp_path: Path) -> None:
    job = slurm.submit("--job-name=probe-hang", wrap="exec sleep 300")
    wait_running(slurm, job)
    stub = tmp_path / "scontrol"
    stub.write_text("#!/bin/sh\nexec sleep 600\n")
    stub.chmod(0o755)
    settings = ProbeSettings(
        marker=MARKER,
        sample_ms=500,
        scontrol=str(stub),
        slurm_wait_s=2,
        slurm_every=1,
        slurm_look=1,
    )
    view = SlurmView(hang_s=1.0)
    try:
        with probe(settings, slurm.env) as running:

            def said() -> str | None:
                frame = running.tick()  # every tick answered while scontrol hangs
                view.take(frame)
                out = frame.sections.get("slurm")
                return out.body if out is not None and "no answer" in out.body else None

            body = wait_for(said, 60, 0.2, "the hung scontrol cut at its wait")
        assert "no answer within 2 s" in body
        assert read_slurm(body) == ({}, "scontrol: no answer within 2 s")
    finally:
        slurm.cancel(job)


def test_the_section_describes_the_node_jobs(slurm: SlurmCluster) -> None:
    job = slurm.submit("--gres=gpu:1", "--job-name=probe-read", wrap="exec sleep 300")
    wait_running(slurm, job)
    try:
        settings = ProbeSettings(marker=MARKER, sample_ms=500)
        view = SlurmView()
        with probe(settings, slurm.env) as running:

            def described() -> bool:
                view.take(running.tick())
                return job in view.jobs

            wait_for(described, 60, 0.2, "the job described by the slurm section")
        state = view.state()
        assert state is not None and state.error is None
        found = state.jobs[job]
        assert (found.name, found.user, found.state) == ("probe-read", "nobody", "RUNNING")
        assert found.gpus == {slurm.node: slurm.job_gpus(job)}
    finally:
        slurm.cancel(job)
