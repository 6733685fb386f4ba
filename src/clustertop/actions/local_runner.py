"""Actions on the local machine: the same sh programs as over SSH, run as local subprocesses."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
from collections.abc import AsyncIterator

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
from clustertop.actions.scripts import action_script, logs_command, parse_result
from clustertop.actions.streams import MAX_NOTICE_TEXT, NoticeStream, notices, split_lines
from clustertop.util.aio import within

SHELL = ("/bin/sh", "-s")
"""The program that reads the action programs on stdin."""


class LocalActionRunner(ActionRunner):
    """Runs actions here, as the user running clustertop."""

    def __init__(
        self, docker_host: str | None = None, *, sudo: bool = False, timeout: float = 30.0
    ) -> None:
        self._docker_host = docker_host
        self._sudo = sudo
        self.timeout = timeout

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self._docker_host:
            env["DOCKER_HOST"] = self._docker_host
        return env

    async def run(self, verb: Verb, target: Target) -> ActionResult:
        try:
            script = action_script(verb, target, sudo=self._sudo)
        except ValueError as exc:
            return ActionResult(verb, target, Outcome.FAILED, f"refused: {exc}")
        try:
            shell = await asyncio.create_subprocess_exec(
                *SHELL,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self._env(),
            )
        except OSError as exc:
            return ActionResult(verb, target, Outcome.FAILED, f"cannot run /bin/sh: {exc}")
        try:
            out, err = await within(shell.communicate(script.encode()), self.timeout)
        except asyncio.TimeoutError:
            detail = f"no answer within {self.timeout:g} s (it may still happen)"
            return ActionResult(verb, target, Outcome.FAILED, detail)
        finally:
            if shell.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    shell.kill()
                await shell.wait()
        text = out.decode("utf-8", "replace")
        return parse_result(verb, target, text, err.decode("utf-8", "replace"), shell.returncode)

    def logs(self, target: ContainerTarget, lines: int = 200) -> LogStream | None:
        try:
            script = logs_command(target, lines, sudo=self._sudo)
        except ValueError as exc:
            return NoticeStream(f"refused: {exc}")
        return LocalLogStream(script, self._env())

    def read_only_stream(self, host: str, script: str) -> LogStream | None:
        return LocalLogStream(script, self._env())

    def acts_with_sudo(self, host: str) -> bool:
        return self._sudo


class LocalLogStream(LogStream):
    """`docker logs --follow` in a local subprocess; ends when the log ends or on aclose()."""

    def __init__(self, script: str, env: dict[str, str]) -> None:
        self._script = script
        self._env = env
        self._shell: asyncio.subprocess.Process | None = None
        self._closed = False

    async def lines(self) -> AsyncIterator[LogItem]:
        if self._closed:
            return
        try:
            shell = self._shell = await asyncio.create_subprocess_exec(
                *SHELL,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self._env,
            )
        except OSError as exc:
            yield Notice(f"cannot run /bin/sh: {exc}")
            return
        assert shell.stdin is not None and shell.stdout is not None and shell.stderr is not None
        # stdin stays open: its EOF is what tells the program to stop following.
        shell.stdin.write(self._script.encode())
        stdout = shell.stdout
        decoder = codecs.getincrementaldecoder("utf-8")("replace")

        async def read() -> str | None:
            data = await stdout.read(65536)
            return decoder.decode(data) if data else None

        async for line in split_lines(read):
            yield line
        # The program's own words, after the log: docker output never goes there (2>&1).
        said = await shell.stderr.read(MAX_NOTICE_TEXT)
        for notice in notices(said.decode("utf-8", "replace")):
            yield notice

    async def aclose(self) -> None:
        self._closed = True
        shell = self._shell
        if shell is None:
            return
        if shell.stdin is not None:
            shell.stdin.close()
        try:
            await within(shell.wait(), 5.0)
        except asyncio.TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                shell.kill()
            await shell.wait()
