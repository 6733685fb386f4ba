"""Peer runner: pdsh or clush fanned out to every host once per tick, as an admin's loop would."""

from __future__ import annotations

import argparse
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.peer_command import done_hosts
from benchmarks.runner_common import cpu_children_s, emit, read_hosts
from benchmarks.ticks import TickBook, window_args, window_of


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
