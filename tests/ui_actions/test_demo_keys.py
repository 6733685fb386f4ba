"""Action keys on the demo cluster: the confirmation, its answers, results, logs and stale."""

from __future__ import annotations

from pathlib import Path

from clustertop.actions.audit import AuditedRunner, AuditLog
from clustertop.actions.demo_runner import DemoActionRunner
from clustertop.model import Container, HostSnapshot
from clustertop.sources.demo.cluster import HOSTILE_COMMAND
from clustertop.sources.demo.source import DemoSource
from clustertop.ui import AppOptions, ClusterTopApp, binding_ids
from clustertop.ui.screens.help import HelpScreen
from clustertop.ui.screens.logs import LogsScreen
from tests.ui.helpers import until
from tests.ui_actions.helpers import (
    SIZE,
    confirmation,
    demo_app,
    modal_open,
    open_host,
    show_only,
    stale_now,
    toast_with,
)


def _container(app: ClusterTopApp, host: str, name: str) -> Container | None:
    snap = app.live.store.get(host)
    assert snap is not None
    return next((c for c in snap.containers if c.name == name), None)


def _demo_host(source: DemoSource, name: str) -> HostSnapshot:
    return next(snap for snap in source.snapshots() if snap.name == name)


def _state(app: ClusterTopApp, host: str, name: str) -> str | None:
    found = _container(app, host, name)
    return None if found is None else found.state


async def test_stop_shows_the_full_identity_with_cancel_focused_and_y_stops() -> None:
    app, _ = demo_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_host(app, pilot, "gpu02")
        await show_only(screen, pilot, "3", "alice")
        wanted = _container(app, "gpu02", "alice-train")
        assert wanted is not None and wanted.state == "running"
        await pilot.press("T")
        modal = await confirmation(app)
        assert modal.focused is not None and modal.focused.id == "confirm-cancel"
        text = modal.text()
        assert text.startswith("Stop 1 container?")
        for part in ("gpu02", "alice-train", wanted.id, wanted.image, "owner     alice"):
            assert part in text
        await pilot.press("y")
        shown = await toast_with(app, "Stop: done", "gpu02: container alice-train")
        assert "container stopped" in shown
        await until(lambda: _state(app, "gpu02", "alice-train") == "exited", "stopped in view")


async def test_escape_n_and_enter_on_cancel_leave_the_container_alone() -> None:
    app, source = demo_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_host(app, pilot, "gpu02")
        await show_only(screen, pilot, "3", "alice")
        for key, answer in (("K", "escape"), ("R", "n"), ("T", "enter")):
            await pilot.press(key)
            await confirmation(app)
            await pilot.press(answer)
            await until(lambda: app.screen is screen, f"{answer} closes the modal")
        await pilot.pause(0.3)  # a result would be notified right after the answer
        assert not app.screen.query("Toast")
        runner = app.actions.runner
        assert isinstance(runner, DemoActionRunner)
        assert not runner.stopped and not runner.started
        assert _demo_host(source, "gpu02").containers[0].state == "running"


async def test_remove_never_forces_by_default_and_f_force_removes() -> None:
    app, _ = demo_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_host(app, pilot, "gpu02")
        await show_only(screen, pilot, "3", "eve")
        await pilot.press("D")
        modal = await confirmation(app)
        assert modal.force and "Force remove (f) stops and removes it" in modal.text()
        await pilot.press("y")
        await toast_with(app, "Remove: failed", "container is running: not removed")
        assert _state(app, "gpu02", "eve-notebook") == "running"
        await pilot.press("D")
        await confirmation(app)
        await pilot.press("f")
        await toast_with(app, "Force remove: done", "container removed")
        await until(lambda: _container(app, "gpu02", "eve-notebook") is None, "removed")
        await until(lambda: screen.current_table.row_count == 0, "row gone")


async def test_exited_container_is_removed_without_a_force_choice() -> None:
    app, _ = demo_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_host(app, pilot, "gpu02")
        await show_only(screen, pilot, "3", "alice")
        await pilot.press("K", "y")
        await until(lambda: _state(app, "gpu02", "alice-train") == "exited", "killed")
        await until(lambda: getattr(screen.selected_target(), "state", "") == "exited", "shown")
        await pilot.press("D")
        modal = await confirmation(app)
        assert not modal.force and not modal.query("#confirm-force")
        await pilot.press("f")  # not offered: does nothing
        assert app.screen is modal
        await pilot.press("y")
        await toast_with(app, "Remove: done", "container removed")
        await until(lambda: _container(app, "gpu02", "alice-train") is None, "removed")


async def test_sigterm_shows_a_hostile_command_literally_and_ends_the_process() -> None:
    app, source = demo_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_host(app, pilot, "gpu05")
        await show_only(screen, pilot, "4", "31337")
        await pilot.press("T")
        modal = await confirmation(app)
        text = modal.text()
        assert text.startswith("Send SIGTERM to 1 process?")
        assert "PID 31337" in text and "user      eve" in text
        assert "command   [red]x[/] \\x1b[2J" in text  # markup shown as text, ESC made visible
        assert "\x1b" not in text
        assert "started   " in text and " ago)" in text
        await pilot.press("y")
        await toast_with(app, "SIGTERM: done", "PID 31337 [red]x[/] \\x1b[2J", "SIGTERM sent")
        await until(lambda: screen.current_table.row_count == 0, "process gone")
        gpu05 = _demo_host(source, "gpu05")
        assert all(p.command != HOSTILE_COMMAND for p in gpu05.processes)


async def test_logs_view_shows_the_last_lines_and_escape_closes_the_stream() -> None:
    app, _ = demo_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_host(app, pilot, "gpu02")
        await show_only(screen, pilot, "3", "alice")
        await pilot.press("l")
        await until(lambda: isinstance(app.screen, LogsScreen), "logs screen")
        logs = app.screen
        assert isinstance(logs, LogsScreen)
        await until(lambda: logs.log_widget.line_count == 200, "200 lines of history")
        assert "loss" in logs.log_widget.lines[-1]
        await pilot.press("escape")
        await until(lambda: app.screen is screen, "back on the host screen")
        assert logs.ended.is_set()


async def test_x_on_the_grid_offers_every_stale_container_and_stops_them() -> None:
    app, _ = demo_app(analysis=stale_now())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(lambda: app.grid.table.row_count == 24, "every host")
        await until(lambda: app.actions.stale_containers(app.host_names()), "stale found")
        await pilot.press("X")
        modal = await confirmation(app)
        names = {target.name for target in modal.targets}  # type: ignore[union-attr]
        assert names == {"eve-notebook", "farid-sweep-old"}
        assert modal.text().startswith("Stop 2 stale containers?")
        await pilot.press("y")
        await until(lambda: _state(app, "dgx-a", "farid-sweep-old") == "exited", "dgx-a")
        await until(lambda: _state(app, "gpu02", "eve-notebook") == "exited", "gpu02")
        assert _state(app, "gpu02", "alice-train") == "running"


async def test_x_on_the_host_screen_offers_only_that_hosts_stale_containers() -> None:
    app, _ = demo_app(analysis=stale_now())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_host(app, pilot, "gpu02")
        await until(lambda: app.actions.stale_containers(["gpu02"]), "stale found")
        await pilot.press("X")
        modal = await confirmation(app)
        assert [(t.host, t.name) for t in modal.targets] == [("gpu02", "eve-notebook")]
        await pilot.press("escape", "escape")
        await open_host(app, pilot, "gpu01")
        assert not app.actions.stale_containers(["gpu01"])
        await pilot.press("X")
        await toast_with(app, "No stale containers to stop.")
        assert not modal_open(app)


async def test_footer_and_help_offer_only_the_keys_of_the_pane() -> None:
    app, _ = demo_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_host(app, pilot, "gpu02")

        def shown() -> dict[str, str]:
            return {k: b.binding.description for k, b in screen.active_bindings.items()}

        await pilot.press("3")
        keys = shown()
        assert {k: keys.get(k) for k in "TKRDlX"} == {
            "T": "Stop",
            "K": "Kill",
            "R": "Restart",
            "D": "Remove",
            "l": "Logs",
            "X": "Stop stale",
        }
        assert keys["space"] == "Mark"
        for pane in ("2", "4"):
            await pilot.press(pane)
            keys = shown()
            assert (keys["T"], keys["K"]) == ("SIGTERM", "SIGKILL")
            assert not {"R", "D", "l"} & set(keys)
        await pilot.press("1")
        assert not {"T", "K", "R", "D", "l", "space"} & set(shown())
        await pilot.press("3", "question_mark")
        await until(lambda: isinstance(app.screen, HelpScreen), "help")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        lines = {(line.keys, line.description) for line in help_screen.lines}
        assert {("T", "Stop"), ("D", "Remove"), ("space", "Mark"), ("X", "Stop stale")} <= lines
        assert not any(line.description == "SIGTERM" for line in help_screen.lines)


async def test_action_keys_can_be_remapped_by_binding_id() -> None:
    assert {"host.action.stop", "host.action.term", "grid.action.stop_stale"} <= set(binding_ids())
    app, _ = demo_app(keys={"host.action.stop": "S"})
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_host(app, pilot, "gpu02")
        await show_only(screen, pilot, "3", "alice")
        await pilot.press("S")
        modal = await confirmation(app)
        assert modal.text().startswith("Stop 1 container?")


async def test_unwritable_audit_log_is_reported_and_refuses_actions(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    source = DemoSource(frozen=True, interval=0.2)
    runner = AuditedRunner(DemoActionRunner(source), AuditLog(blocker / "audit.jsonl"))
    app = ClusterTopApp(source, options=AppOptions(clock=source.clock, runner=runner))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await toast_with(app, "audit log not writable", "actions will be refused")
        screen = await open_host(app, pilot, "gpu02")
        await show_only(screen, pilot, "3", "alice")
        await pilot.press("T", "y")
        await toast_with(app, "Stop: failed", "audit log not writable", "nothing done")
        assert _state(app, "gpu02", "alice-train") == "running"
