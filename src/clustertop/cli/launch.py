"""Builds the TUI for a source and a config: analysis, action runner, and the app itself."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from clustertop.actions.factory import ActionRunners
from clustertop.actions.model import ActionRunner
from clustertop.analysis.live import ClusterAnalysis
from clustertop.config.settings import Config
from clustertop.sources.base import Source
from clustertop.store.past import store_past
from clustertop.store.recorder import HistoryRecorder
from clustertop.store.rows import Thresholds
from clustertop.store.schema import StoreError
from clustertop.ui.app import ClusterTopApp
from clustertop.ui.options import AppOptions
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
    analysis.add_past(source.past_snapshots)  # the demo's made-up hour, so charts show something
    recorder, problem = history_recorder(source, config, clock or time.time)
    if recorder is not None:
        path = recorder.path
        now = clock or time.time
        analysis.add_past(lambda window, res: store_past(path, now(), window, res))
    options = AppOptions(
        interval=config.interval,
        readonly=config.readonly,
        # Read-only: no runner at all, so nothing in the UI could reach a host even by mistake.
        runner=None if config.readonly else action_runner(source, config),
        owner=owner,
        bell=bell,
        shell=shell or ShellLauncher(),
        keys=dict(config.keys),
        groups={name: list(items) for name, items in config.groups.items()},
        theme=config.theme,
        clock=clock or time.time,
        recorder=recorder,
        history_problem=problem,
    )
    return ClusterTopApp(source, analysis, options)


def history_recorder(
    source: Source, config: Config, clock: Callable[[], float] = time.time
) -> tuple[HistoryRecorder | None, str | None]:
    """The recorder of this run, or None with why not (None, None: history is off).

    A source with a past of its own is never recorded: the demo's readings are made up and
    must not enter the user's store, and Prometheus keeps the history itself (the charts'
    longer windows come from its range queries instead).
    """
    if not config.history_store or config.history_path is None:
        return None, None
    if type(source).past_snapshots is not Source.past_snapshots:
        return None, None
    limits = Thresholds(config.stale_util_percent, config.idle_held_memory_mib)
    try:
        recorder = HistoryRecorder(
            config.history_path,
            interval=config.interval,
            interval_for=lambda host: config.host_override(host).interval,
            limits=limits,
            retention_s=config.history_retention,
            clock=clock,
        )
    except StoreError as exc:
        return None, f"history is not recorded: {exc}"
    return recorder, None


def action_runner(source: Source, config: Config) -> ActionRunner | None:
    """What acts for the TUI, as the source provides: over its SSH connections or locally
    (both audited), on the demo's made-up hosts, or nothing."""
    return source.action_runner(
        ActionRunners(
            audit_log=config.audit_log,
            sudo_for=lambda host: config.host_override(host).sudo,
            docker_host_for=lambda host: config.host_override(host).docker_host,
            local_docker_host=os.environ.get("DOCKER_HOST"),
        )
    )
