"""What an action is: a verb, the identities it targets (captured at keypress), and the outcome."""

from __future__ import annotations

import abc
import asyncio
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from clustertop.actions.job_target import JobTarget
from clustertop.model import Container, GpuProcess, Process


class Verb(str, Enum):
    """Every action clustertop can take."""

    STOP = "stop"
    """docker stop (podman stop for a podman container, and so on for each container verb)."""
    KILL = "kill"
    """docker kill (SIGKILL to the container)."""
    RESTART = "restart"
    """docker restart."""
    REMOVE = "remove"
    """docker rm (exited containers)."""
    FORCE_REMOVE = "force-remove"
    """docker rm -f (a running container: an explicit choice)."""
    TERM = "term"
    """SIGTERM to a process."""
    SIGKILL = "sigkill"
    """SIGKILL to a process."""
    CANCEL = "cancel"
    """scancel a Slurm job."""

    @property
    def is_container_verb(self) -> bool:
        """True for the docker verbs."""
        return self in CONTAINER_VERBS

    def __str__(self) -> str:
        return self.value


CONTAINER_VERBS = frozenset({Verb.STOP, Verb.KILL, Verb.RESTART, Verb.REMOVE, Verb.FORCE_REMOVE})
"""Verbs that act on containers."""
PROCESS_VERBS = frozenset({Verb.TERM, Verb.SIGKILL})
"""Verbs that signal processes."""


@dataclass(frozen=True, slots=True)
class ContainerTarget:
    """A container as the user saw it when pressing the key."""

    host: str
    """Host name as the user gave it."""
    id: str
    """Full 64-hex ID: the only thing acted on."""
    name: str
    """Name (shown; checked to still belong to the ID)."""
    image: str
    """Image (shown)."""
    state: str
    """State when captured."""
    owner: str | None
    """Owner (shown)."""
    engine: str = "docker"
    """The engine that runs it ("docker" or "podman"): the CLI the action goes to."""
    rootless_user: str | None = None
    """The Unix user whose rootless podman runs it, when not clustertop's own user."""

    @classmethod
    def of(cls, host: str, container: Container) -> ContainerTarget:
        """Capture a container's identity."""
        return cls(
            host,
            container.id,
            container.name,
            container.image,
            container.state,
            container.owner,
            container.engine,
            container.rootless_user,
        )

    def describe(self) -> str:
        """One line for confirmations and notifications (host text made safe by the caller)."""
        owner = self.owner or "?"
        kind = "podman container" if self.engine == "podman" else "container"
        return f"{self.host}: {kind} {self.name} ({self.id}) image {self.image}, owner {owner}"


@dataclass(frozen=True, slots=True)
class ProcessTarget:
    """A process as the user saw it when pressing the key."""

    host: str
    """Host name as the user gave it."""
    pid: int
    """PID."""
    start_time: float
    """Unix start time: together with the PID, the identity (a reused PID has another)."""
    user: str | None
    """Unix user (shown)."""
    command: str
    """Command line (shown)."""
    owner: str | None = None
    """Owner (shown)."""
    container: str | None = None
    """Container name (shown)."""

    @classmethod
    def of(cls, host: str, proc: Process | GpuProcess) -> ProcessTarget | None:
        """Capture a process's identity; None when its start time is unknown (cannot be checked)."""
        if proc.start_time is None:
            return None
        owner = proc.owner if isinstance(proc, GpuProcess) else None
        return cls(
            host,
            proc.pid,
            proc.start_time,
            proc.user,
            proc.command or "",
            owner,
            proc.container.name if proc.container else None,
        )

    def describe(self) -> str:
        """One line for confirmations and notifications (host text made safe by the caller)."""
        user = self.user or "?"
        started = f"{self.start_time:.0f}"
        return f"{self.host}: PID {self.pid} user {user} started {started}: {self.command}"


_T = TypeVar("_T")

Target = ContainerTarget | ProcessTarget | JobTarget
"""Anything an action can act on."""


class Outcome(str, Enum):
    """How one target's action ended."""

    DONE = "done"
    """The host did it."""
    FAILED = "failed"
    """The host refused or the command failed (error says why)."""
    CHANGED = "changed"
    """The target is no longer the one confirmed (replaced container, reused PID): nothing done."""
    GONE = "gone"
    """The target no longer exists: nothing done."""

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class ActionResult:
    """The outcome of one verb on one target."""

    verb: Verb
    """What was asked."""
    target: Target
    """On what."""
    outcome: Outcome
    """How it ended."""
    detail: str = ""
    """The host's own message (stderr, the identity found instead)."""


class ActionRunner(abc.ABC):
    """Runs actions on hosts; implementations for SSH, the local machine and the demo.

    An action once sent is never cut off half-way: act() and run_all() run it in a task of its
    own, shielded from the caller's cancellation (quitting) and kept in `in_flight` until done.
    """

    timeout: float = 30.0
    """Seconds one action may take before it is reported unanswered (bounds waiting on quit)."""
    closing: bool = False
    """True once close() was called: act() sends nothing new."""
    _tasks: set[asyncio.Task[Any]] | None = None

    @property
    def in_flight(self) -> set[asyncio.Task[Any]]:
        """Actions sent and not finished yet (also what keeps their tasks alive)."""
        if self._tasks is None:  # per instance; subclasses need not call an __init__ here
            self._tasks = set()
        return self._tasks

    async def shielded(self, work: Coroutine[Any, Any, _T]) -> _T:
        """Run `work` to its end even if the caller is cancelled; counted in `in_flight`."""
        task = asyncio.ensure_future(work)
        self.in_flight.add(task)
        task.add_done_callback(self._finished)
        return await asyncio.shield(task)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.in_flight.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved here: the caller that would have may be gone

    async def settle(self, timeout: float) -> int:
        """Wait (at most `timeout` s) for the actions in flight; how many are still running."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        # Loop: an action may finish and its batch start none (act() refuses while closing).
        while (pending := set(self.in_flight)) and (left := deadline - loop.time()) > 0:
            await asyncio.wait(pending, timeout=left)
        return len(self.in_flight)

    def read_only_stream(self, host: str, script: str) -> LogStream | None:
        """Run a read-only sh program (du, docker system df) on `host`, its output as lines;
        None where this runner cannot. Never through sudo: it reads as the user."""
        return None

    def acts_with_sudo(self, host: str) -> bool:
        """True when actions on `host` run through `sudo -n` (they act as root)."""
        return False

    @abc.abstractmethod
    async def run(self, verb: Verb, target: Target) -> ActionResult:
        """Check the target is still the same one on its host, then act; never raises for a host."""

    async def act(self, verb: Verb, target: Target) -> ActionResult:
        """run(), shielded: once sent, an action runs to its result whatever the caller does."""
        if self.closing:
            return ActionResult(verb, target, Outcome.FAILED, "not sent: clustertop is quitting")
        return await self.shielded(self.run(verb, target))

    def close(self) -> None:
        """Start no new action from now on (quitting); those in flight go on."""
        self.closing = True

    async def run_all(self, verb: Verb, targets: Sequence[Target]) -> list[ActionResult]:
        """Run one verb on many targets (one at a time per host, hosts in parallel)."""
        by_host: dict[str, list[Target]] = {}
        for target in targets:
            by_host.setdefault(target.host, []).append(target)

        async def host_batch(batch: list[Target]) -> list[ActionResult]:
            return [await self.act(verb, t) for t in batch]

        batches = await asyncio.gather(*(host_batch(b) for b in by_host.values()))
        return [result for batch in batches for result in batch]

    def logs(self, target: ContainerTarget, lines: int = 200) -> LogStream | None:
        """A live stream of a container's log (last `lines`, then following); None: unsupported."""
        return None


@dataclass(frozen=True, slots=True)
class Notice:
    """What clustertop itself says in a log stream (why it ended, why there is none).

    Its own type, never a text prefix: no line a container prints can pass for one.
    """

    text: str
    """The message (may quote host text; shown made printable)."""


LogItem = str | Notice
"""A line of the container's log (str), or clustertop's own notice."""


class LogStream(abc.ABC):
    """Lines of a container log, followed live until closed."""

    @abc.abstractmethod
    def lines(self) -> AsyncIterator[LogItem]:
        """Yield log lines (without newline) as they come, and clustertop's notices."""

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Stop following."""
