"""The action runner of each kind of source, audited where it can reach something real."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from clustertop.actions.audit import AuditedRunner, AuditLog
from clustertop.actions.model import ActionRunner
from clustertop.sources.base import ConnectionLookup, Source


@dataclass(frozen=True)
class ActionRunners:
    """Makes runners for `Source.action_runner` (a sources.base.RunnerFactory).

    Runners are imported when made: a run over SSH never loads the local or demo runner.
    """

    audit_log: Path | None
    """Where actions on real hosts are recorded (None: nowhere, auditing off)."""
    sudo_for: Callable[[str], bool] = lambda host: False
    """Whether actions on an SSH host go through sudo."""
    docker_host_for: Callable[[str], str | None] = lambda host: None
    """DOCKER_HOST for actions on an SSH host (None: the remote default)."""
    local_docker_host: str | None = None
    """DOCKER_HOST for actions on this machine (None: Docker's default)."""

    def local(self) -> ActionRunner:
        """Acts on this machine, audited."""
        from clustertop.actions.local_runner import LocalActionRunner

        return AuditedRunner(LocalActionRunner(self.local_docker_host), AuditLog(self.audit_log))

    def ssh(self, connection_for: ConnectionLookup) -> ActionRunner:
        """Acts over the SSH source's connections, audited."""
        from clustertop.actions.ssh_runner import SshActionRunner

        runner = SshActionRunner(
            connection_for, sudo_for=self.sudo_for, docker_host_for=self.docker_host_for
        )
        return AuditedRunner(runner, AuditLog(self.audit_log))

    def demo(self, demo: Source) -> ActionRunner:
        """Changes what the demo shows and nothing real, so nothing to audit."""
        from clustertop.actions.demo_runner import DemoActionRunner
        from clustertop.sources.demo.source import DemoSource

        if not isinstance(demo, DemoSource):
            raise TypeError(f"the demo runner acts on the demo source, not {type(demo).__name__}")
        return DemoActionRunner(demo)
