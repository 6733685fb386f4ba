"""How `clustertop` wires the TUI: each source provides its past and its action runner."""

from __future__ import annotations

from pathlib import Path

from clustertop.actions.audit import AuditedRunner
from clustertop.actions.demo_runner import DemoActionRunner
from clustertop.actions.local_runner import LocalActionRunner
from clustertop.actions.ssh_runner import SshActionRunner
from clustertop.analysis.history import Metric
from clustertop.cli.launch import action_runner, build_app
from clustertop.config.settings import Config
from clustertop.inventory.hosts import parse_host_spec
from clustertop.sources.demo.source import DemoSource
from clustertop.sources.local.source import LocalSource
from clustertop.sources.ssh.connect import SshSettings
from clustertop.sources.ssh.source import SshSource
from tests.ui.helpers import ScriptedSource, host


def test_each_source_gets_its_own_runner_audited_where_it_reaches_real_hosts(
    tmp_path: Path,
) -> None:
    config = Config(audit_log=tmp_path / "audit.jsonl")
    demo = action_runner(DemoSource(frozen=True), config)
    assert isinstance(demo, DemoActionRunner)  # changes nothing real: nothing to audit
    for source, inner in (
        (LocalSource(), LocalActionRunner),
        (SshSource([parse_host_spec("h1")], SshSettings()), SshActionRunner),
    ):
        runner = action_runner(source, config)
        assert isinstance(runner, AuditedRunner) and isinstance(runner.inner, inner)
        assert runner.audit.path == config.audit_log
    assert action_runner(ScriptedSource([host("a")]), config) is None


def test_a_readonly_config_gives_the_app_no_runner_at_all() -> None:
    app = build_app(DemoSource(frozen=True), Config(readonly=True))
    assert app.readonly and app.actions.runner is None


def test_the_demo_starts_with_an_hour_of_history_and_other_sources_with_none() -> None:
    source = DemoSource(frozen=True)
    analysis = build_app(source, Config()).live.analysis
    assert analysis is not None
    points = analysis.history.series("gpu01", Metric.CPU)
    assert points and points[-1][0] - points[0][0] >= 0.95 * analysis.history.window_s
    assert not list(ScriptedSource([host("a")]).past_snapshots(3600.0, 10.0))
