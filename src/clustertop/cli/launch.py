"""Builds the TUI for a source and a config: analysis, action runner, and the app itself."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from clustertop.analysis.live import ClusterAnalysis
from clustertop.config.settings import Config
from clustertop.sources.base import Source
from clustertop.sources.demo.source import DemoSource
from clustertop.ui.app import ClusterTopApp

if TYPE_CHECKING:
    from asyncssh import SSHClientConnection

    from clustertop.actions.model import ActionRunner
    from clustertop.ui.shell import ShellLauncher


def build_app(
    source: Source,
    config: Config,
    *,
    owner: str | None = None,
    bell: bool = False,
    shell: ShellLauncher | None = None,
    clock: Callable[[], float] | None = None,
) -> ClusterTopApp:
    """The app exactly as `clustertop` runs it (screenshots use this too)."""
    analysis = ClusterAnalysis.from_config(config)
    if isinstance(source, DemoSource):  # an hour of made-up past, so the charts show something
        from clustertop.sources.demo.history import fill_history

        fill_history(source, analysis.history)
    return ClusterTopApp(
        source,
        analysis=analysis,
        owner=owner,
        bell=bell,
        shell=shell,
        clock=clock,
        interval=config.interval,
        readonly=config.readonly,
        theme=config.theme,
        key_overrides=dict(config.keys),
        groups={name: list(items) for name, items in config.groups.items()},
        # Read-only: no runner at all, so nothing in the UI could reach a host even by mistake.
        runner=None if config.readonly else action_runner(source, config),
    )


def action_runner(source: Source, config: Config) -> ActionRunner | None:
    """What acts for the TUI: over the SSH source's connections or locally, audited; the demo's."""
    from clustertop.actions.audit import AuditedRunner, AuditLog
    from clustertop.sources.demo.source import DemoSource
    from clustertop.sources.local.source import LocalSource
    from clustertop.sources.ssh.source import SshSource

    if isinstance(source, DemoSource):
        from clustertop.actions.demo_runner import DemoActionRunner

        return DemoActionRunner(source)  # changes nothing real, so nothing to audit
    audit = AuditLog(config.audit_log)
    if isinstance(source, SshSource):
        from clustertop.actions.ssh_runner import SshActionRunner

        def connection(host: str) -> SSHClientConnection | None:
            session = source.sessions.get(host)  # looked up per action: sessions come and go
            return session.connection if session is not None else None

        return AuditedRunner(
            SshActionRunner(
                connection,
                sudo_for=lambda host: config.host_override(host).sudo,
                docker_host_for=lambda host: config.host_override(host).docker_host,
            ),
            audit,
        )
    if isinstance(source, LocalSource):
        from clustertop.actions.local_runner import LocalActionRunner

        return AuditedRunner(LocalActionRunner(os.environ.get("DOCKER_HOST")), audit)
    return None
