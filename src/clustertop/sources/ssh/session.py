"""One host over SSH: connect with backoff, run the probe, turn its frames into snapshots."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass, field, replace

import asyncssh

from clustertop.inventory.hosts import HostSpec
from clustertop.model import WAITING_FOR_SLOT, HostSnapshot, HostState, placeholder
from clustertop.model.owners import DEFAULT_RULE, OwnerRule
from clustertop.sources.base import SnapshotSink
from clustertop.sources.ssh.applyq import ApplyQueue
from clustertop.sources.ssh.assemble import FrameAssembler, HostInfo
from clustertop.sources.ssh.connect import (
    ConnectFailure,
    OptionsCache,
    SshSettings,
    classify,
    open_connection,
    proxy_jump,
)
from clustertop.sources.ssh.gates import FIRST_TRY, RETRY, ConnectGates, backoff_delay
from clustertop.sources.ssh.jumps import JumpPool
from clustertop.sources.ssh.probe import (
    REMOTE_COMMAND,
    ProbeSettings,
    new_marker,
    parse_frame,
    probe_script,
)
from clustertop.sources.ssh.reader import READ_LIMIT, read_frame, read_ready
from clustertop.sources.ssh.warmup import Warmup
from clustertop.util.aio import Flag, within


class ProbeFailure(Exception):
    """The remote probe could not start or stopped answering."""


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """How one host is watched."""

    interval: float = 2.0
    """Seconds between ticks."""
    deadline: float = 1.5
    """Remote per-section deadline in seconds."""
    frame_grace: float = 5.0
    """Seconds beyond the deadline before a frame is given up (probe restarted)."""
    backoff_base: float = 1.0
    """First reconnect delay in seconds."""
    backoff_cap: float = 10.0
    """Longest reconnect delay in seconds."""
    owner_rule: OwnerRule = field(default_factory=lambda: DEFAULT_RULE)
    """Owner rule."""
    nvidia_smi: str = "nvidia-smi"
    """nvidia-smi command on this host."""
    docker_host: str | None = None
    """DOCKER_HOST on this host (None: its own environment)."""


class HostSession:
    """Keeps one host connected and probed until cancelled, reporting every change to the sink."""

    __slots__ = (  # a thousand hosts: no instance dict
        "_applier", "_assembler", "_gates", "_jumps", "_last", "_options", "_rng", "_seq",
        "_settings", "_sink", "_ssh", "_tick", "_tried", "_warmup", "_withheld", "connection",
        "full_scan", "name", "spec",
    )  # fmt: skip

    def __init__(  # noqa: PLR0917 - the session's collaborators, all required
        self,
        spec: HostSpec,
        ssh: SshSettings,
        settings: SessionSettings,
        jumps: JumpPool,
        gates: ConnectGates,
        sink: SnapshotSink,
        applier: ApplyQueue | None = None,
        *,
        warmup: Warmup | None = None,
    ) -> None:
        self.spec = spec
        self.name = spec.display
        self._ssh = ssh
        self._settings = settings
        self._jumps = jumps
        self._gates = gates
        self._tried = False
        self._options = OptionsCache(spec, ssh)
        self._sink = sink
        self._applier = applier
        self._warmup = warmup or Warmup((), hold=False)
        self._assembler: FrameAssembler | None = None
        self._withheld = 0  # ticks withheld since the last frame (warmup.py)
        self._tick = Flag()  # an asyncio.Event costs ~1 kB more a host
        self._seq = 0
        self._rng: random.Random | None = None  # made at the first failure: 2.5 KB each
        self._last: HostSnapshot | None = None
        self.connection: asyncssh.SSHClientConnection | None = None
        """The live connection (actions reuse it); None while down."""
        self.full_scan = False
        """Ask for a full process scan every tick (its host screen is open)."""

    def request_tick(self) -> None:
        """Ask for one frame; a request while a frame is in flight waits for it (no pile-up)."""
        self._tick.set()

    def warm_tick(self) -> None:
        """A tick while the fleet warms up (warmup.py): requested only when due for this host;
        else withheld, and its readings may be an interval older when the next frame comes."""
        if self._warmup.due(self._withheld):
            self.request_tick()
            return
        self._withheld += 1
        if self._assembler is not None:
            self._assembler.withheld(self._settings.interval)

    async def run(self) -> None:
        """Connect, probe, reconnect with backoff; forever."""
        attempt = 0
        self._report(HostState.CONNECTING, WAITING_FOR_SLOT)
        while True:
            try:
                # After a failure the host queues behind every host not yet tried.
                conn = await self._connect(RETRY if attempt else FIRST_TRY)
                attempt = 0
                self._options.forget()  # a host that keeps failing keeps its options
                try:
                    await self._serve(conn)
                finally:
                    self.connection = None
                    conn.close()
            except ConnectFailure as failure:
                self._report(failure.state, str(failure))
            except ProbeFailure as failure:
                self._report(HostState.ERROR, str(failure))
            except (OSError, asyncssh.Error) as exc:
                self._report(*classify(exc))
            except Exception as exc:  # noqa: BLE001 - shown and retried, never a silent stop
                self._report(HostState.ERROR, f"internal error: {type(exc).__name__}: {exc}")
            if self._rng is None:
                self._rng = random.Random(hash(self.name))
            delay = backoff_delay(
                attempt, self._settings.backoff_base, self._settings.backoff_cap, self._rng
            )
            attempt += 1
            await asyncio.sleep(delay)

    def _report(self, state: HostState, error: str | None) -> None:
        now = time.time()
        last = self._last
        since = last.state_since if last and last.state is state and last.error == error else now
        data_time = last.data_time if last else None
        snap = replace(placeholder(self.name, state, now, error), state_since=since)
        self._emit(replace(snap, data_time=data_time))

    def _emit(self, snap: HostSnapshot) -> None:
        self._last = snap
        if snap.state is not HostState.CONNECTING:
            self._warmup.settled(self.name)
        self._sink(snap)

    async def _connect(self, rank: int) -> asyncssh.SSHClientConnection:
        options = await self._options.get()
        tunnel = None
        if chain := proxy_jump(options):
            self._started()
            tunnel = await self._jumps.connection(chain, rank)
        return await open_connection(
            self.spec,
            self._ssh,
            self._gates,
            rank=rank,
            tunnel=tunnel,
            options=options,
            started=self._started,
        )

    def _started(self) -> None:
        """The first attempt left the queue: the host is connecting, no longer waiting."""
        if not self._tried:
            self._tried = True
            self._report(HostState.CONNECTING, None)

    async def _serve(self, conn: asyncssh.SSHClientConnection) -> None:
        self.connection = conn
        failures = 0
        while True:
            started = time.monotonic()
            try:
                await self._probe(conn)
            except ProbeFailure:
                failures += 1
                # A probe that keeps dying right away is a host problem, not a blip.
                if failures >= 3 or time.monotonic() - started > 60:
                    raise
            if conn.is_closed():
                raise OSError("connection closed")

    async def _probe(self, conn: asyncssh.SSHClientConnection) -> None:
        settings = ProbeSettings(
            marker=new_marker(),
            deadline_s=self._settings.deadline,
            sample_ms=round(self._settings.interval * 1000),
            nvidia_smi=self._settings.nvidia_smi,
            docker_host=self._settings.docker_host,
        )
        # The probe's stderr is of no use: asyncssh drops it as it comes (a task per host that
        # read and dropped it cost ~1 kB a host).
        process = await conn.create_process(
            REMOTE_COMMAND,
            encoding="utf-8",
            errors="replace",
            window=READ_LIMIT,
            stderr=asyncssh.DEVNULL,
        )
        try:
            process.stdin.write(probe_script(settings))
            info = await self._ready(process, settings.marker)
            assembler = FrameAssembler(
                self.name,
                settings.marker,
                info,
                rule=self._settings.owner_rule,
                stale_after=max(3.0, 1.5 * self._settings.interval),
                interval=self._settings.interval,
                # Ports come every port_every ticks while the host screen is open, else every
                # port_idle: only the slower cadence can say they are late.
                every={
                    "disks": settings.disk_every,
                    "docker": settings.docker_every,
                    "ports": max(settings.port_every, settings.port_idle),
                },
            )
            self._assembler = assembler
            await self._frames(process, assembler)
        finally:
            self._assembler = None
            with contextlib.suppress(Exception):
                process.stdin.write("q\n")
            process.close()

    async def _ready(self, process: asyncssh.SSHClientProcess[str], marker: str) -> HostInfo:
        try:
            found = await within(read_ready(process.stdout, marker), 15.0)
            line = await within(process.stdout.readline(), 5.0)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError) as exc:
            raise ProbeFailure(f"remote probe did not start (sh missing? {exc!r})") from exc
        if found.endswith(" fatal "):  # e.g. "temp dir full: /dev/shm /tmp"
            raise ProbeFailure(f"remote probe: {line.strip()[:200]}")
        words = line.split()
        try:
            return HostInfo(
                hz=int(words[2]), page_size=int(words[3]), hostname=" ".join(words[4:]) or None
            )
        except (IndexError, ValueError):
            return HostInfo()

    async def _frames(
        self, process: asyncssh.SSHClientProcess[str], assembler: FrameAssembler
    ) -> None:
        frames = 0
        while True:
            # The first two frames go out at once (the second gives CPU deltas) with full
            # process scans; then one frame per tick.
            if frames >= 2:
                await self._tick.wait()
                await self._frame(process, assembler, full=self.full_scan)
            elif frames == 1:
                await asyncio.sleep(min(0.5, self._settings.interval))
                async with self._warmup.second_frame(self._tick):
                    await self._frame(process, assembler, full=True)
            else:
                await self._frame(process, assembler, full=True)
            frames += 1

    async def _frame(
        self, process: asyncssh.SSHClientProcess[str], assembler: FrameAssembler, *, full: bool
    ) -> None:
        """Ask for one frame, read it, and report its snapshot."""
        limit = self._settings.deadline + self._settings.frame_grace
        self._tick.clear()
        self._withheld = 0
        self._seq += 1
        sent = time.monotonic()
        process.stdin.write(f"t {self._seq} {int(full)}\n")
        end = f"{assembler.marker} d {self._seq}\n"
        try:
            text, cut = await within(read_frame(process.stdout, end), limit)
        except asyncio.TimeoutError as exc:
            raise ProbeFailure(f"remote probe sent no frame within {limit:g} s") from exc
        except asyncio.IncompleteReadError as exc:
            raise ProbeFailure("remote probe ended") from exc
        latency = round((time.monotonic() - sent) * 1000.0, 1)

        def build() -> HostSnapshot:
            return assembler.apply(parse_frame(text, assembler.marker), latency, cut)

        # Through the shared queue the loop serves every socket between two hosts' frames.
        self._emit(await self._applier.apply(build) if self._applier else build())
