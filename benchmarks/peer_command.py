"""The peers' plain command for the same sections, and the pdsh / clush runner that fans it out."""

from __future__ import annotations

import argparse
import os
import re
import selectors
import shlex
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.standins import PEER_APPS_FIELDS, PEER_GPU_FIELDS, StandIns
from benchmarks.ticks import TickBook, cpu_children_s, emit, read_hosts, window_args, window_of
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


def tool_argv(tool: str, hosts_file: str, hosts: int, ssh_config: str, command: str) -> list[str]:
    """The command line of one sweep, fan-out as wide as the host count (their fastest)."""
    fanout = str(max(1, hosts))
    if tool == "pdsh":
        return ["pdsh", "-R", "ssh", "-f", fanout, "-t", "30", "-w", f"^{hosts_file}", command]
    if tool == "clush":
        venv_clush = Path(sys.executable).with_name("clush")  # installed by benchmarks/setup.sh
        clush = str(venv_clush) if venv_clush.exists() else "clush"
        return [
            clush,
            "-f",
            fanout,
            "-t",
            "30",
            "-o",
            f"-F {ssh_config}",
            "--hostfile",
            hosts_file,
            command,
        ]
    raise ValueError(f"unknown tool {tool}")


def tool_env(ssh_config: str) -> dict[str, str]:
    """pdsh's ssh module takes its ssh arguments from PDSH_SSH_ARGS."""
    return {**os.environ, "PDSH_SSH_ARGS": f"-F {ssh_config} -a -x %h"}


def sweep(argv: list[str], env: dict[str, str], book: TickBook) -> int:
    """Run one sweep, noting each host's frame end as it streams in; the tool's exit status."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    rest = b""
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while True:
            sel.select(timeout=60)
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            now = time.monotonic()
            for host in done_hosts(data[:cut]):
                book.arrived(host, now)
            rest = data[cut:]
    return proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tool", choices=("pdsh", "clush"), required=True)
    parser.add_argument("--hosts-file", required=True)
    parser.add_argument("--ssh-config", required=True)
    parser.add_argument("--command", required=True)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--timeout", type=float, default=300.0)
    window_args(parser)
    args = parser.parse_args()
    emit("start")
    hosts = read_hosts(args.hosts_file)
    # Only the tool's CPU counts (pdsh or clush and the ssh processes they fork), not this loop.
    book = TickBook(hosts, window_of(args), args.interval, cpu=cpu_children_s)
    argv = tool_argv(args.tool, args.hosts_file, len(hosts), args.ssh_config, args.command)
    env = tool_env(args.ssh_config)
    next_tick = time.monotonic()
    deadline = next_tick + args.timeout
    failures = 0
    while time.monotonic() < deadline:
        time.sleep(max(0.0, next_tick - time.monotonic()))
        book.tick()
        if book.finished:
            break
        failures += sweep(argv, env, book) != 0
        # Like `while sleep`: a sweep longer than the interval delays the next one, never overlaps.
        next_tick = max(next_tick + args.interval, time.monotonic())
    emit("exit", failures=failures)


if __name__ == "__main__":
    main()
