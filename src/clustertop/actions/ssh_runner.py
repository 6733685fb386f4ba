"""Actions over SSH: each one a short exec channel on the host's live connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import asyncssh

from clustertop.actions.model import (
    ActionResult,
    ActionRunner,
    ContainerTarget,
    LogItem,
    LogStream,
    Notice,
    Outcome,
    Target,
    Verb,
)
from clustertop.actions.scripts import (
    REMOTE_COMMAND,
    action_script,
    logs_command,
    one_line,
    parse_result,
)
from clustertop.actions.streams import MAX_NOTICE_TEXT, NoticeStream, notices, split_lines
from clustertop.util.aio import within

Connections = Callable[[str], asyncssh.SSHClientConnection | None]
"""Host name -> its live connection, or None while it is down."""
NOT_CONNECTED = "host not connected"
"""Detail of a result on a host without a connection."""


def _ssh_error(exc: BaseException) -> str:
    return f"SSH: {one_line(str(exc)) or type(exc).__name__}"


class SshActionRunner(ActionRunner):
    """Runs each action as `sh -s` over the connection the SSH source keeps to the host."""

    def __init__(
        self,
        sessions: Connections,
        sudo_for: Callable[[str], bool] = lambda host: False,
        timeout: float = 30.0,
        docker_host_for: Callable[[str], str | None] = lambda host: None,
    ) -> None:
        self._sessions = sessions
        self._sudo_for = sudo_for
        self.timeout = timeout
        self._docker_host_for = docker_host_for

    async def run(self, verb: Verb, target: Target) -> ActionResult:
        try:
            script = action_script(
                verb,
                target,
                sudo=self._sudo_for(target.host),
                docker_host=self._docker_host_for(target.host),
            )
        except ValueError as exc:
            return ActionResult(verb, target, Outcome.FAILED, f"refused: {exc}")
        conn = self._sessions(target.host)
        if conn is None:
            return ActionResult(verb, target, Outcome.FAILED, NOT_CONNECTED)
        try:
            # The whole exchange is bounded: opening the channel can hang on a stuck host too.
            return await within(self._execute(conn, verb, target, script), self.timeout)
        except asyncio.TimeoutError:
            detail = f"no answer within {self.timeout:g} s (it may still happen)"
            return ActionResult(verb, target, Outcome.FAILED, detail)
        except (asyncssh.Error, OSError) as exc:
            return ActionResult(verb, target, Outcome.FAILED, _ssh_error(exc))

    async def _execute(
        self, conn: asyncssh.SSHClientConnection, verb: Verb, target: Target, script: str
    ) -> ActionResult:
        process = await conn.create_process(REMOTE_COMMAND, encoding="utf-8", errors="replace")
        try:
            process.stdin.write(script)
            process.stdin.write_eof()
            done = await process.wait()
        finally:
            # Also on a timeout (cancelled): an open channel counts against sshd's MaxSessions
            # for as long as the connection lives.
            process.close()
        out, err = str(done.stdout or ""), str(done.stderr or "")
        return parse_result(verb, target, out, err, done.exit_status)

    def logs(self, target: ContainerTarget, lines: int = 200) -> LogStream | None:
        try:
            script = logs_command(
                target,
                lines,
                sudo=self._sudo_for(target.host),
                docker_host=self._docker_host_for(target.host),
            )
        except ValueError as exc:
            return NoticeStream(f"refused: {exc}")
        return SshLogStream(lambda: self._sessions(target.host), script)

    def read_only_stream(self, host: str, script: str) -> LogStream | None:
        return SshLogStream(lambda: self._sessions(host), script)

    def acts_with_sudo(self, host: str) -> bool:
        return self._sudo_for(host)


class SshLogStream(LogStream):
    """`docker logs --follow` on its own exec channel; aclose() ends it on the host too."""

    def __init__(
        self, connection: Callable[[], asyncssh.SSHClientConnection | None], script: str
    ) -> None:
        self._connection = connection
        self._script = script
        self._process: asyncssh.SSHClientProcess[str] | None = None
        self._closed = False

    async def lines(self) -> AsyncIterator[LogItem]:
        if self._closed:
            return
        conn = self._connection()
        if conn is None:
            yield Notice(NOT_CONNECTED)
            return
        try:
            # The log (container stdout and stderr) comes on stdout; stderr is the program's own.
            process = self._process = await conn.create_process(
                REMOTE_COMMAND, encoding="utf-8", errors="replace"
            )
        except (asyncssh.Error, OSError) as exc:
            yield Notice(_ssh_error(exc))
            return
        # stdin stays open: its EOF is what tells the program to stop following.
        process.stdin.write(self._script)

        async def read() -> str | None:
            try:
                chunk = await process.stdout.read(65536)
            except (asyncssh.Error, OSError):
                return None  # the connection went away: the stream simply ends
            return chunk or None

        async for line in split_lines(read):
            yield line
        try:
            said = await within(process.stderr.read(MAX_NOTICE_TEXT), 5.0)
        except (asyncssh.Error, OSError, asyncio.TimeoutError):
            return
        for notice in notices(said):
            yield notice

    async def aclose(self) -> None:
        self._closed = True
        process = self._process
        if process is None:
            return
        with contextlib.suppress(asyncssh.Error, OSError):
            process.stdin.write_eof()
        process.close()
        with contextlib.suppress(asyncssh.Error, OSError, asyncio.TimeoutError):
            await within(process.wait_closed(), 5.0)
