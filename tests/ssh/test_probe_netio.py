"""The probe's net, dio and ports sections, run here under every awk, in a namespace of its own."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clustertop.model import HostSnapshot
from clustertop.model.network import InterfaceKind
from clustertop.sources.ssh.assemble import FrameAssembler, HostInfo
from clustertop.sources.ssh.netio import NOT_PERMITTED
from clustertop.sources.ssh.probe import ProbeSettings, parse_frame, probe_script
from tests.ssh.test_probe_local import AWKS, MARKER
from tests.test_local_netio import COUNT, PAYLOAD, UDP_IP

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None, reason="needs root and iproute2"
)


class NetnsProbe:
    """The probe under /bin/sh in network namespace `netns` (None: this one), as `user`."""

    def __init__(
        self, awk: str, netns: str | None, as_nobody: bool = False, **settings: Any
    ) -> None:
        argv = ["/bin/sh", "-s"]
        if as_nobody:
            argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
        if netns:
            argv = ["ip", "netns", "exec", netns, *argv]
        self.proc = subprocess.Popen(
            # Other users' process names need not be UTF-8: read as the client does.
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, errors="replace",
            cwd="/",
            env={**os.environ, "TMPDIR": "/tmp"}, start_new_session=True,
        )  # fmt: skip
        assert self.proc.stdin is not None and self.proc.stdout is not None
        chosen = {"sample_ms": 1000, "phase": 0, "port_every": 1, **settings}
        self.proc.stdin.write(probe_script(ProbeSettings(marker=MARKER, awk=awk, **chosen)))
        self.proc.stdin.flush()
        assert " ready 3 " in self.proc.stdout.readline()
        self.seq = 0
        self.assembler = FrameAssembler("h", MARKER, HostInfo())

    def snapshot(self, full: int = 0) -> HostSnapshot:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.seq += 1
        self.proc.stdin.write(f"t {self.seq} {full}\n")
        self.proc.stdin.flush()
        lines = []
        while not (lines and lines[-1].startswith(f"{MARKER} d {self.seq}")):
            line = self.proc.stdout.readline()
            assert line, "the probe ended"
            lines.append(line)
        return self.assembler.apply(parse_frame("".join(lines), MARKER), 1.0)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"ctp-{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def _send_loopback(netns: str) -> None:
    code = (
        "import socket\n"
        "r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(('127.0.0.1', 0))\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        f"for _ in range({COUNT}): s.sendto(b'x' * {PAYLOAD}, r.getsockname())\n"
    )
    argv = ["ip", "netns", "exec", netns, "python3", "-c", code]
    subprocess.run(argv, check=True, timeout=60)


@needs_root
@pytest.mark.parametrize("awk", AWKS)
def test_loopback_traffic_of_a_known_size_arrives_exactly_with_its_rate(
    awk: str, netns: str
) -> None:
    probe = NetnsProbe(awk, netns)
    try:
        first = {i.name: i for i in probe.snapshot(1).interfaces}
        _send_loopback(netns)
        second = probe.snapshot(0)
    finally:
        probe.close()
    assert second.network_error is None and second.disk_io_error is None
    lo0, lo1 = first["lo"], {i.name: i for i in second.interfaces}["lo"]
    sent = COUNT * (PAYLOAD + UDP_IP)
    assert lo1.counters.rx_bytes - lo0.counters.rx_bytes == sent
    assert lo1.kind is InterfaceKind.LOOPBACK and lo1.rx_rate is not None and lo1.rx_rate > 0
    assert second.disk_io  # the host's block devices: diskstats is not per namespace


@needs_root
@pytest.mark.parametrize("awk", AWKS)
def test_ports_name_our_own_processes_and_say_not_permitted_for_others(
    awk: str, tmp_path: Path
) -> None:
    """The probe as an unprivileged user: its own listener resolves, root's is not permitted."""
    mine = subprocess.Popen(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
         "import socket, time\ns = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
         "print(s.getsockname()[1], flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    root_socket = socket.socket()
    root_socket.bind(("127.0.0.1", 0))
    root_socket.listen()
    root_port = root_socket.getsockname()[1]
    probe = None
    try:
        assert mine.stdout is not None
        my_port = int(mine.stdout.readline())
        probe = NetnsProbe(awk, None, as_nobody=True)
        ports = {p.port: p for p in probe.snapshot(1).ports}
        name = Path(f"/proc/{mine.pid}/comm").read_text().strip()
    finally:
        if probe is not None:
            probe.close()
        mine.kill()
        mine.wait()
        root_socket.close()
    own = ports[my_port]
    assert (own.pid, own.process, own.user, own.note) == (mine.pid, name, "nobody", None)
    other = ports[root_port]
    assert (other.user, other.pid, other.note) == ("root", None, NOT_PERMITTED)
