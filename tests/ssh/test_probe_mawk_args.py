"""The probe's awk by default (mawk 1.3.4 where installed) and new processes' arguments under it."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.ssh.test_probe_local import LocalProbe, _busy
from tests.waiting import wait_for

needs_both = pytest.mark.skipif(
    not (shutil.which("mawk") and shutil.which("gawk")), reason="needs mawk and gawk"
)

HOSTILE_PS = """#!/bin/sh
# A stray ps on PATH: it records that it ran and names every process wrongly.
echo ran >>"{log}"
for a; do case $a in [0-9]*) echo "$a forged by a stray ps" ;; esac; done
"""

OLD_MAWK = """#!/bin/sh
# mawk 1.3.3 (older Debian and Ubuntu): passed over for gawk.
case "$*" in *version*) echo "mawk 1.3.3 Nov 1996, Copyright (C) Michael D. Brennan"; exit 0 ;; esac
exec {mawk} "$@"
"""


def _awks_of(probe: LocalProbe) -> set[str]:
    """The names of the awks running in the probe's process group."""
    names = set()
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            argv = proc.info["cmdline"] or []
            ours = proc.pid != probe.proc.pid and _in_group(proc, probe.proc.pid)
            if ours and argv and argv[0].endswith("awk") and "DIR=" in " ".join(argv):
                names.add(Path(argv[0]).name)
    return names


def _in_group(proc: psutil.Process, group: int) -> bool:
    with contextlib.suppress(OSError):
        return int(Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[2]) == group
    return False


@contextlib.contextmanager
def _probe(path: Path) -> Iterator[LocalProbe]:
    running = LocalProbe(tmpdir=path, path=str(path / "bin"))
    try:
        yield running
    finally:
        running.close()


@needs_both
def test_mawk_is_the_default_and_reads_new_arguments_without_ps(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    log = tmp_path / "ps-ran"
    (tmp_path / "bin" / "ps").write_text(HOSTILE_PS.format(log=log))
    (tmp_path / "bin" / "ps").chmod(0o755)
    busy = _busy(tmp_path)
    try:
        with _probe(tmp_path) as probe:
            assert "mawk" in wait_for(lambda: _awks_of(probe), 10, what="the probe's awks")
            # Once it has run a moment, a full scan shows the busy process with its arguments.
            wait_for(lambda: sum(psutil.Process(busy.pid).cpu_times()[:2]) > 0.2, 10, what="CPU")

            def shown() -> str | None:
                return probe.procs(full=1).get(busy.pid, (None, None))[1]

            command = wait_for(shown, 10, what="the busy process in a full scan")
    finally:
        busy.kill()
        busy.wait()
    assert "a) b" in command and "arg with newline" in command, command
    assert "forged" not in command
    assert not log.exists(), "the probe ran ps for arguments"


@needs_both
def test_an_old_mawk_is_passed_over_for_gawk(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    real = shutil.which("mawk")
    (tmp_path / "bin" / "mawk").write_text(OLD_MAWK.format(mawk=real))
    (tmp_path / "bin" / "mawk").chmod(0o755)
    with _probe(tmp_path) as probe:
        probe.tick(1)
        awks = wait_for(lambda: _awks_of(probe), 10, what="the probe's awks")
    assert awks == {"gawk"}, awks
