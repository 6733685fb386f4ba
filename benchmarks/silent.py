"""Dead hosts never delay live ones: 1,000 silent hosts, 10 healthy ones, 40 behind a dead jump.

Run as root from the repository root: `.venv/bin/python -m benchmarks.silent`. Silent hosts
are addresses of a loopback /22 whose TCP packets an iptables DROP rule swallows (powered off or
firewalled); the rule is deleted on the way out, whatever happens. Healthy hosts are real sshd
servers of the test fleet. Four measurements, each printed as one JSON line:

- `once`: `clustertop --once --json --timeout 5` on every host (healthy ones spread through the
  list, one of them last): elapsed time and every healthy host's state;
- `source`: the TUI's path, SshSource with the default settings: seconds from start to the first
  and the last healthy host up;
- `jump`: 40 hosts behind one dead jump host: seconds until each reported the jump's failure;
- `behind_live_jump`: the silent hosts and the healthy ones all behind one live jump host
  (its connects to the silent ones hang): seconds to the first and the last healthy host up.

Exit status 1 when a target is missed (a healthy host not up within 5 s, or the hosts behind the
dead jump not failing together); `--record` also records the figures for RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tests.fleet.fleet import Fleet
from tests.fleet.simhost import HostPlan

from clustertop.inventory.hosts import parse_host_spec
from clustertop.model import HostSnapshot, HostState
from clustertop.sources.ssh.connect import SshSettings
from clustertop.sources.ssh.source import SshSource, raise_open_file_limit

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 5.0
"""Every healthy host up within this many seconds of the start."""


@contextlib.contextmanager
def dropped_block() -> Iterator[str]:
    """A random "127.A.B" whose /22 (B, B+1, B+2, B+3) drops every TCP packet, until exit."""
    base = f"127.{16 + secrets.randbelow(230)}.{4 * secrets.randbelow(63)}"
    rule = ["INPUT", "-d", f"{base}.0/22", "-p", "tcp", "-j", "DROP"]
    subprocess.run(["iptables", "-w", "-A", *rule], check=True, capture_output=True)
    try:
        yield base
    finally:
        subprocess.run(["iptables", "-w", "-D", *rule], check=True, capture_output=True)


def silent_addresses(base: str, count: int) -> list[str]:
    """`count` addresses of the dropped /22 (at most 1,016), 254 per third octet."""
    prefix, third = base.rsplit(".", 1)
    if count > 4 * 254:
        raise ValueError(f"a /22 holds 1016 hosts, not {count}")
    return [f"{prefix}.{int(third) + i // 254}.{1 + i % 254}" for i in range(count)]


def write_config(path: Path, fleet: Fleet, base: str, jump: str | None, behind: int) -> Path:
    """The fleet's aliases and one pattern block for the silent range, as a lab's config would
    have; with `jump`, also `behind` aliases of h1 reached through that (dead) jump host."""
    block = (
        f"  User root\n  IdentityFile {fleet.client_key}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {fleet.known_hosts}\n  StrictHostKeyChecking yes\n"
    )
    h1 = fleet["h1"]
    via = "".join(
        f"Host via{i}\n  HostName {h1.address}\n  Port {h1.port}\n  ProxyJump {jump}\n{block}"
        for i in range(1, behind + 1)
        if jump is not None
    )
    prefix = base.rsplit(".", 1)[0]
    path.write_text(f"Include {fleet.ssh_config}\n\n{via}Host {prefix}.*\n  Port 22\n{block}")
    return path


def write_live_jump_config(path: Path, fleet: Fleet, base: str, healthy: Sequence[str]) -> Path:
    """Every silent host and every healthy one (as okN) behind the fleet's live jump host."""
    block = (
        f"  User root\n  IdentityFile {fleet.client_key}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {fleet.known_hosts}\n  StrictHostKeyChecking yes\n"
        "  ProxyJump jump\n"
    )
    ok = "".join(
        f"Host ok{name}\n  HostName {fleet[name].address}\n  Port {fleet[name].port}\n{block}"
        for name in healthy
    )
    prefix = base.rsplit(".", 1)[0]
    path.write_text(f"Include {fleet.ssh_config}\n\n{ok}Host {prefix}.*\n  Port 22\n{block}")
    return path


def interleave(silent: Sequence[str], healthy: Sequence[str]) -> list[str]:
    """Healthy hosts spread evenly through the silent ones, the last one at the very end."""
    hosts = list(silent)
    step = len(silent) // len(healthy)
    for i, name in enumerate(healthy):
        hosts.insert(min(len(hosts), (i + 1) * step + i), name)
    if hosts[-1] != healthy[-1]:
        hosts.remove(healthy[-1])
        hosts.append(healthy[-1])
    return hosts


def run_once(
    config: Path, hosts_file: Path, healthy: Sequence[str], timeout: float
) -> dict[str, Any]:
    """`clustertop --once --json` as a user runs it; elapsed time and what it said."""
    argv = [sys.executable, "-m", "clustertop", "--once", "--json", "-F", str(config)]
    argv += ["--timeout", f"{timeout:g}", "-H", str(hosts_file)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERTOP_")}
    env["PYTHONPATH"] = str(REPO / "src")
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    elapsed = time.monotonic() - started
    doc = json.loads(done.stdout) if done.stdout.strip() else {"hosts": []}
    states: dict[str, int] = {}
    for host in doc["hosts"]:
        if host["name"] not in healthy:
            key = f"{host['state']}: {host['error']}"
            states[key] = states.get(key, 0) + 1
    up = [h["name"] for h in doc["hosts"] if h["name"] in healthy and h["state"] == "up"]
    return {
        "what": "once",
        "hosts": len(doc["hosts"]),
        "elapsed_s": round(elapsed, 2),
        "healthy_up": f"{len(up)} of {len(healthy)}",
        "silent_states": states,
        "returncode": done.returncode,
    }


async def first_times(
    hosts: Sequence[str], config: Path, wanted: Sequence[str], until: float, done: str
) -> dict[str, float]:
    """Seconds from start until each wanted host reached `done` ("up" or "failed")."""
    reached: dict[str, float] = {}
    started = time.monotonic()

    def sink(snap: HostSnapshot) -> None:
        hit = snap.is_up if done == "up" else snap.state not in (HostState.CONNECTING, HostState.UP)
        if snap.name in wanted and hit and snap.name not in reached:
            reached[snap.name] = time.monotonic() - started

    source = SshSource([parse_host_spec(h) for h in hosts], SshSettings(config_paths=(config,)))
    task = asyncio.create_task(source.run(sink))
    try:
        while len(reached) < len(wanted) and time.monotonic() - started < until:
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await source.aclose()
    return reached


def spread(what: str, reached: dict[str, float], wanted: int, **extra: Any) -> dict[str, Any]:
    """One measurement's line: how many reached it, the first and the last time."""
    times = sorted(reached.values())
    return {
        "what": what,
        "reached": f"{len(times)} of {wanted}",
        "first_s": round(times[0], 2) if times else None,
        "last_s": round(times[-1], 2) if times else None,
        **extra,
    }


def measure(args: argparse.Namespace, fleet: Fleet, work: Path) -> list[dict[str, Any]]:
    """The four measurements on one fleet and one dropped range."""
    healthy = [f"h{i}" for i in range(1, args.healthy + 1)]
    with dropped_block() as base:
        silent = silent_addresses(base, args.silent + 1)  # the first is the dead jump host
        config = write_config(work / "dead_hosts_config", fleet, base, None, 0)
        jump_config = write_config(
            work / "dead_jump_config", fleet, base, silent[0], args.behind_jump
        )
        hosts = interleave(silent[1:], healthy)
        hosts_file = work / "hosts"
        hosts_file.write_text("\n".join(hosts) + "\n")
        lines = [{**run_once(config, hosts_file, healthy, args.timeout), "dropped": f"{base}.0/22"}]
        ups = asyncio.run(first_times(hosts, config, healthy, 120.0, "up"))
        lines.append(spread("source", ups, len(healthy), hosts=len(hosts)))
        behind = [f"via{i}" for i in range(1, args.behind_jump + 1)]
        failed = asyncio.run(first_times(behind, jump_config, behind, 120.0, "failed"))
        lines.append(spread("jump", failed, len(behind), connect_timeout_s=10.0))
        live_config = write_live_jump_config(work / "live_jump_config", fleet, base, healthy)
        ok = [f"ok{name}" for name in healthy]
        behind_live = interleave(silent[1:], ok)
        ups = asyncio.run(first_times(behind_live, live_config, ok, 120.0, "up"))
        lines.append(spread("behind_live_jump", ups, len(ok), hosts=len(behind_live)))
    return lines


def verdict(lines: Sequence[dict[str, Any]], healthy: int, behind: int) -> list[str]:
    """The targets this run missed (none: every healthy host up within 5 s everywhere, and the
    hosts behind the dead jump failing together, within one connect timeout)."""
    by = {line["what"]: line for line in lines}
    missed = []
    if by["once"]["healthy_up"] != f"{healthy} of {healthy}":
        missed.append(f"--once: healthy hosts up {by['once']['healthy_up']}")
    for what in ("source", "behind_live_jump"):
        line = by[what]
        if line["reached"] != f"{healthy} of {healthy}" or line["last_s"] > TARGET_S:
            missed.append(f"{what}: {line['reached']} up, the last after {line['last_s']} s")
    jump = by["jump"]
    if jump["reached"] != f"{behind} of {behind}" or (
        jump["last_s"] - jump["first_s"] >= jump["connect_timeout_s"]
    ):
        missed.append(f"dead jump: {jump['reached']} failed, {jump['first_s']}..{jump['last_s']} s")
    return missed


def record_lines(lines: Sequence[dict[str, Any]], missed: Sequence[str]) -> None:
    """Records for RELIABILITY.md (scripts/reliability.py sets where they go)."""
    from tests.reliability import record

    by = {line["what"]: line for line in lines}
    result = "every healthy host up" if not missed else "missed: " + "; ".join(missed)
    record(
        "silent",
        "silent-benchmark",
        result,
        hosts=by["source"]["hosts"],
        once_elapsed_s=by["once"]["elapsed_s"],
        once_healthy_up=by["once"]["healthy_up"],
        first_healthy_s=by["source"]["first_s"],
        last_healthy_s=by["source"]["last_s"],
        behind_live_jump_last_s=by["behind_live_jump"]["last_s"],
        dead_jump_hosts_failed_s=f"{by['jump']['first_s']}..{by['jump']['last_s']}",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--silent", type=int, default=1000)
    parser.add_argument("--healthy", type=int, default=10)
    parser.add_argument("--behind-jump", type=int, default=40)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--record", action="store_true", help="record for RELIABILITY.md")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("benchmarks.silent: needs root (sshd, iptables)", file=sys.stderr)
        return 1
    problem = raise_open_file_limit(args.silent + args.healthy)
    if problem:
        print(f"warning: {problem}", file=sys.stderr)
    plans = [HostPlan(f"h{i}", docker="none-running") for i in range(1, args.healthy + 1)]
    with Fleet.start(plans) as fleet:
        lines = measure(args, fleet, fleet.root)
    for line in lines:
        print(json.dumps(line), flush=True)
    missed = verdict(lines, args.healthy, args.behind_jump)
    if args.record:
        record_lines(lines, missed)
    for miss in missed:
        print(f"target missed: {miss}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
