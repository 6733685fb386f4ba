"""What the peers run on every host each tick: one plain command line, the same sections."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

from benchmarks.standins import PEER_APPS_FIELDS, PEER_GPU_FIELDS, StandIns
from clustertop.parsers.df import GNU_OUTPUT_COLUMNS
from clustertop.parsers.docker import INSPECT_TEMPLATE

PEER_MARKER = "@ctpeer"
"""Frame marker of the peers' output and of the one-shot probe reference."""
DONE_LINE = f"{PEER_MARKER} d 1"
"""The last line of a peer's output (and of the one-shot probe's frame)."""
_DONE = re.compile(rb"^(\S+): " + re.escape(DONE_LINE.encode()) + rb"\r?$", re.MULTILINE)


def plain_steps() -> list[str]:
    """The commands an admin would chain to read what clustertop shows, one per section."""
    inspect_format = "{{.Id}} {{.State.Pid}} {{.LogPath}} " + INSPECT_TEMPLATE
    return [
        f"nvidia-smi --query-gpu={','.join(PEER_GPU_FIELDS)} --format=csv,noheader,nounits",
        f"nvidia-smi --query-compute-apps={','.join(PEER_APPS_FIELDS)} "
        "--format=csv,noheader,nounits",
        "cat /proc/uptime /proc/loadavg /proc/meminfo /proc/stat",
        f"df -B1 -l --output={GNU_OUTPUT_COLUMNS}",
        "docker ps -a -q --no-trunc | xargs -r docker inspect --format "
        + shlex.quote(inspect_format),
        "ps -eo pid,user,pcpu,rss,stat,lstart,args --sort=-pcpu | head -26",
        f"echo {DONE_LINE}",
    ]


def plain_command() -> str:
    """The one line every peer (pdsh, clush, exec-per-tick) runs on every host every tick."""
    return "; ".join(plain_steps())


def record_output(stand: StandIns, home: Path) -> str:
    """What the plain command prints on a simulated host here (the fake server replays it)."""
    done = subprocess.run(
        ["/bin/sh", "-c", plain_command()],
        env=stand.env(home),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if not done.stdout.rstrip().endswith(DONE_LINE):
        raise RuntimeError(f"plain command failed: {done.stderr[-500:]}")
    return done.stdout


def done_hosts(chunk: bytes) -> list[str]:
    """Hosts whose output ended in `chunk` of `host: line` output (pdsh, clush)."""
    return [m.group(1).decode(errors="replace") for m in _DONE.finditer(chunk)]
