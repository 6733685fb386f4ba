"""The GPU samplers' awk (collect.awk) fed one nvidia-smi line at a time, as a pipe delivers them:
what a frame reading its file at any moment gets."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

from tests.ssh.test_probe_local import AWKS
from tests.waiting import wait_for

UUID_A, UUID_B = (
    "GPU-aaaaaaaa-0000-0000-0000-000000000000",
    "GPU-bbbbbbbb-0000-0000-0000-000000000000",
)


def row(sample: int, uuid: str, pid: int, mib: int, name: str) -> str:
    """One `--query-compute-apps=timestamp,gpu_uuid,pid,used_memory,process_name` row."""
    return f"2026/11/25 10:00:0{sample}.000, {uuid}, {pid}, {mib}, {name}"


class Sampler:
    """collect.awk reading a pipe we write to line by line, its sample file in `folder`."""

    def __init__(self, awk: str, kind: str, folder: Path) -> None:
        program = resources.files("clustertop.sources.ssh").joinpath("collect.awk").read_text()
        interactive = ["-W", "interactive"] if awk == "mawk" else []  # as the probe runs it
        self.file = folder / f"{kind}.cur"
        self.proc = subprocess.Popen(
            [*awk.split(), *interactive, "-v", f"KIND={kind}", "-v", f"DIR={folder}", program],
            stdin=subprocess.PIPE,
            text=True,
        )

    def feed(self, line: str) -> list[str]:
        """Write one line; the sample file's rows once the awk has taken it in."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return wait_for(lambda: self._rows_with(line), 10, what=f"the sampler to take {line!r}")

    def _rows_with(self, line: str) -> list[str] | None:
        try:
            lines = self.file.read_text().split("\n")
        except FileNotFoundError:
            return None
        if lines[-2:] != ["@end", ""] or line not in lines:
            return None
        return lines[1:-2]  # past the uptime line, before "@end"

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture(params=AWKS)
def apps(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Sampler]:
    sampler = Sampler(request.param, "apps", tmp_path)
    try:
        yield sampler
    finally:
        sampler.close()


def test_a_half_written_sample_never_loses_a_process(apps: Sampler) -> None:
    first = [row(1, UUID_A, 10, 100, "train.py"), row(1, UUID_B, 20, 200, "eval, fast.py")]
    assert apps.feed(first[0]) == first[:1]
    assert apps.feed(first[1]) == first
    # The next sample, one row in: the other process's row of the last sample stays.
    second = [row(2, UUID_A, 10, 110, "train.py"), row(2, UUID_B, 20, 210, "eval, fast.py")]
    assert apps.feed(second[0]) == [second[0], first[1]]
    assert apps.feed(second[1]) == second
    # pid 20 ended: carried while the third sample is being written, gone once the fourth begins.
    third = row(3, UUID_A, 10, 120, "train.py")
    assert apps.feed(third) == [third, second[1]]
    fourth = row(4, UUID_A, 10, 130, "train.py")
    assert apps.feed(fourth) == [fourth]


def test_one_process_on_two_gpus_is_two_rows(apps: Sampler) -> None:
    first = [row(1, UUID_A, 10, 100, "ddp.py"), row(1, UUID_B, 10, 100, "ddp.py")]
    apps.feed(first[0])
    apps.feed(first[1])
    second = row(2, UUID_B, 10, 150, "ddp.py")
    assert apps.feed(second) == [second, first[0]]


def test_error_text_carries_no_process_rows(apps: Sampler) -> None:
    apps.feed(row(1, UUID_A, 10, 100, "train.py"))
    failure = "Unable to determine the device handle for GPU0000:41:00.0: Unknown Error"
    assert apps.feed(failure) == [failure]
    after = row(3, UUID_A, 10, 100, "train.py")
    assert apps.feed(after) == [after]
