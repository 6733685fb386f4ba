"""The clustertop Textual app: runs a Source, keeps its snapshots, repaints screens in batches."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Iterable, Sequence
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.driver import Driver
from textual.screen import Screen

from clustertop.analysis.history import History
from clustertop.analysis.live import ClusterAnalysis
from clustertop.model import HostSnapshot
from clustertop.sources.base import Source
from clustertop.ui.commands import HostCommands
from clustertop.ui.context import LiveContext
from clustertop.ui.options import AppOptions
from clustertop.ui.screens.actions import ActionController
from clustertop.ui.screens.alerts import AlertBell, AlertsScreen
from clustertop.ui.screens.cluster_view import ClusterView
from clustertop.ui.screens.free import FreeGpusScreen
from clustertop.ui.screens.grid import GridScreen
from clustertop.ui.screens.help import HelpScreen, key_help
from clustertop.ui.screens.host import HostScreen
from clustertop.ui.screens.users import UsersScreen
from clustertop.ui.shell import run_suspended
from clustertop.ui.store import SnapshotStore
from clustertop.util.textsafe import printable

MIN_REPAINT_GAP = 0.25
"""Seconds between repaints: at most 4 per second, however many hosts report."""
REPAINT_SETTLE = 0.15
"""Seconds a repaint waits for the rest of a tick's hosts once the first has reported (none
when every host that is up has): one repaint per tick instead of two or three."""
AGE_TICK = 1.0
"""Seconds between refreshes of shown ages ("12s ago") when no data arrives."""
AGE_ALL_MAX = 200
"""Above this many hosts showing an age, a tick refreshes only the rows in view."""
GC_SETTLE = 5.0
"""Seconds after start when the start-up heap is frozen out of the cyclic collector's scans."""
GC_GEN0 = 10_000
"""Allocations between young-generation collections (Python's default: 700)."""
_LINUX_DRIVER = "textual.drivers.linux_driver"
"""Module of the driver that QuietLinuxDriver stands in for."""


class ClusterTopApp(App[None]):
    """htop for a cluster: a grid of hosts, a screen per host, keys listed by `?`."""

    CSS_PATH = "styles.tcss"
    COMMANDS = App.COMMANDS | {HostCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
    ]
    _quitting = False
    """True once quitting started (waiting for actions under way)."""
    _history_told = False
    """True once the user was told that history is not recorded."""

    def __init__(
        self,
        source: Source,
        analysis: ClusterAnalysis | None = None,
        options: AppOptions | None = None,
    ) -> None:
        super().__init__()
        options = options or AppOptions()
        if options.theme is not None and options.theme not in self.available_themes:
            known = ", ".join(sorted(self.available_themes))
            raise ValueError(f"unknown theme {options.theme!r}; known themes: {known}")
        self.options = options
        """What the app was told at start."""
        self.source = source
        """Where snapshots come from."""
        self.readonly = options.readonly or options.runner is None
        """When True (asked for, or no runner), no action key is offered and nothing is run."""
        self.title = options.title
        self.live = LiveContext(
            store=SnapshotStore(source.host_names, options.clock()),
            clock=options.clock,
            interval=options.interval,
            analysis=analysis,
            groups={name: list(hosts) for name, hosts in options.groups.items()},
        )
        """Snapshots, clock and the analysis, shared with the screens."""
        self._source_task: asyncio.Task[None] | None = None
        self._repaint_pending = False
        # Event-loop timers, not Textual Timers: one is set nearly every tick, and a Textual
        # Timer starts a task of its own (a few percent of an idle grid's main thread).
        self._settling: asyncio.TimerHandle | None = None
        self._spacing: asyncio.TimerHandle | None = None
        self._last_repaint = 0.0
        self.actions = ActionController(self, options.runner, self.live, readonly=self.readonly)
        """Confirms and runs actions on hosts, and reports their outcome."""
        self.shell = options.shell
        """How `o` opens a shell on a host."""
        self._bell = AlertBell(analysis.alert_tracker) if options.bell and analysis else None
        self.grid = GridScreen(self.live, self.actions, owner=options.owner)
        """The start screen."""
        self.host_screen = HostScreen(self.live, actions=self.actions, owner=options.owner)
        """The one host screen, re-targeted to each host opened (mounting one costs ~100 ms)."""

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver, but on Linux and macOS one whose input thread sleeps when idle."""
        found = super().get_driver_class()
        if found.__qualname__ != "LinuxDriver" or found.__module__ != _LINUX_DRIVER:
            return found  # Windows, or a driver named in TEXTUAL_DRIVER
        from clustertop.ui.driver import QuietLinuxDriver  # imports termios: not on Windows

        return QuietLinuxDriver

    def on_mount(self) -> None:
        """Apply theme and keymap, show the grid, start the source."""
        if self.options.theme:
            self.theme = self.options.theme
        if self.options.keys:
            self.set_keymap(dict(self.options.keys))
        # Installed: popping it keeps it mounted for the next host.
        self.install_screen(self.host_screen, name="host")
        self._source_task = asyncio.create_task(self.source.run(self._receive))
        self._source_task.add_done_callback(self._source_stopped)
        self.set_interval(AGE_TICK, self._age_tick)
        if not self.is_headless:  # a test process runs many apps: leave its collector be
            self.set_timer(GC_SETTLE, _settle_gc, name="gc-settle")
        self.actions.check_audit()
        self._history_notice(self.options.history_problem)
        if self.live.analysis is not None and len(self.live.analysis.zoom.levels) > 1:
            self.run_worker(self._load_zoom, thread=True, group="zoom", exit_on_error=False)

    def get_default_screen(self) -> Screen[None]:
        """The grid is the bottom of the screen stack."""
        return self.grid

    async def action_quit(self) -> None:
        """Quit, once every action under way has its result and audit line (visibly)."""
        if self._quitting:
            return
        self._quitting = True
        self.run_worker(self._quit_after_actions(), group="quit")

    async def _quit_after_actions(self) -> None:
        await self.actions.finish()
        self.exit()

    async def on_unmount(self) -> None:
        """Stop the source and let it release connections (after actions under way end)."""
        # Any other way out (exit(), a signal) still waits: actions use the source's connections.
        await self.actions.finish(visible=False)
        task = self._source_task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.source.aclose()
        if self.options.recorder is not None:
            await asyncio.to_thread(self.options.recorder.close)

    def _receive(self, snap: HostSnapshot) -> None:
        """The source's sink: store and schedule a repaint; never blocks."""
        self.live.store.put(snap)
        if self.live.analysis is not None:
            self.live.analysis.update(snap)
        if self.options.recorder is not None:
            self.options.recorder.offer(snap, self.live.analysis)  # queued: written off this path
        self._schedule_repaint()

    def _source_stopped(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self.log.error("source stopped", error=error)
            self.notify(
                printable(f"{type(error).__name__}: {error}"),
                title="Source stopped",
                severity="error",
                timeout=30,
                markup=False,
            )

    def _schedule_repaint(self) -> None:
        # Hosts ticked together answer within a few ms of each other: each repaint costs a
        # compositor pass, so the first answer waits (briefly) for the others of its tick.
        complete = self.live.store.every_up_host_changed
        if self._repaint_pending:
            # A whole tick (every host answered) is shown at once, even within the gap: at
            # most one such repaint a tick (a large fleet's reading: its last slices no longer
            # wait 0.25 s behind the first one's repaint).
            waiting = self._settling if self._settling is not None else self._spacing
            if complete and waiting is not None:
                waiting.cancel()
                self._settling = self._spacing = None
                self.call_later(self._repaint)
            return
        self._repaint_pending = True
        delay = self._last_repaint + MIN_REPAINT_GAP - time.monotonic()
        if delay > 0:
            self._spacing = self._repaint_in(delay)
        elif complete:
            self.call_later(self._repaint)
        else:
            self._settling = self._repaint_in(REPAINT_SETTLE)

    def _repaint_in(self, delay: float) -> asyncio.TimerHandle:
        """A repaint `delay` seconds from now, run as the app's callback (as set_timer's is)."""
        return asyncio.get_running_loop().call_later(delay, self.call_later, self._repaint)

    def _repaint(self) -> None:
        """Show every host changed since the last repaint, in one batch."""
        if not self._repaint_pending:
            return  # a settle timer's repaint that already ran early
        self._repaint_pending = False
        self._settling = self._spacing = None
        self._last_repaint = time.monotonic()
        dirty = self.live.store.take_dirty()
        if not dirty or not self.is_running:  # not while shutting down: widgets are going
            return
        with self.batch_update():
            self.grid.show_updates(dirty)
            for screen in self.screen_stack:
                if isinstance(screen, HostScreen) and screen.host in dirty:
                    screen.host_changed()
                elif isinstance(screen, ClusterView):
                    screen.show_updates()
        if self._bell is not None and self._bell.poll(self.live.store.all()):
            self.bell()

    def _load_zoom(self) -> None:
        """Fill the 24 h and 7 d histories from the past (the store, the demo) off the UI path."""
        analysis = self.live.analysis
        assert analysis is not None
        try:
            loaded = analysis.zoom.load(list(analysis.pasts))
        except Exception as exc:  # noqa: BLE001 - a past that fails leaves the charts live-only
            self.log.error("history past not loaded", error=exc)
            loaded = analysis.zoom.load([])
        self.call_from_thread(self._zoom_loaded, loaded)

    def _zoom_loaded(self, loaded: list[History]) -> None:
        assert self.live.analysis is not None
        self.live.analysis.zoom.finish(loaded)
        if self.live.analysis.zoom.index:
            self._zoom_changed()

    def action_zoom_history(self) -> None:
        """Show the next history window (1 h, 24 h, 7 d) in the grid's trend and the charts."""
        if self.live.analysis is None:
            return
        self.live.analysis.zoom.cycle()
        self._zoom_changed()

    def _zoom_changed(self) -> None:
        self.grid.zoom_changed()
        self.host_screen.zoom_changed()

    def _history_notice(self, problem: str | None) -> None:
        """Say once, visibly, that history is not being recorded (the monitor carries on)."""
        if problem is None or self._history_told:
            return
        self._history_told = True
        self.notify(printable(problem), title="History", severity="error", timeout=30, markup=False)

    def _age_tick(self) -> None:
        """Hosts whose screens show an age (down, stale data) repaint even without new data."""
        if self.options.recorder is not None:
            self._history_notice(self.options.recorder.problem)
        stack = self.screen_stack  # empty while the app starts or ends (no `screen` then)
        if stack and stack[-1] is self.grid:
            # The rows on screen (and a screenful either side): a large fleet's readings may
            # ask for these more often than for the others.
            self.source.view(self.grid.hosts_in_view())
        aging = self.live.store.aging(self.live.clock() - 2 * self.live.interval)
        if len(aging) > AGE_ALL_MAX:
            # Thousands aging at once (a large fleet's readings taking over two intervals):
            # each second the ages in view move; the others with the next reading, or within
            # a second of being scrolled into view. Every row each second held the keys.
            in_view = self.grid.hosts_in_view()
            aging = [name for name in aging if name in in_view]
        aging += [screen.host for screen in stack if isinstance(screen, HostScreen)]
        if aging:
            self.live.store.touch(aging)
            self._schedule_repaint()

    def host_names(self) -> Sequence[str]:
        """Every host, in source order (for the command palette)."""
        return list(self.live.store.names)

    def go_to_host(self, name: str) -> None:
        """Open the host screen of `name`, from wherever the user is."""
        self._pop_to_grid()
        self.grid.go_to(name)
        self._open_host(name)

    def on_grid_screen_open_host(self, message: GridScreen.OpenHost) -> None:
        """Enter on the grid."""
        self._open_host(message.host)

    def _open_host(self, name: str) -> None:
        self.host_screen.show_host(name)
        self.push_screen(self.host_screen)

    def _pop_to_grid(self) -> None:
        while self.screen is not self.grid and len(self.screen_stack) > 1:
            self.pop_screen()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's commands (theme, keys, quit) plus 'Filter hosts'."""
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Filter hosts", "Show only hosts matching a name or @group", self._filter_hosts
        )

    def _filter_hosts(self) -> None:
        self._pop_to_grid()
        self.grid.action_start_filter()

    def action_help(self) -> None:
        """Show the keys of the current screen."""
        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        title = "host " + printable(screen.host) if isinstance(screen, HostScreen) else "grid"
        title = screen.VIEW_TITLE if isinstance(screen, ClusterView) else title
        self.push_screen(HelpScreen(title, key_help(self, screen.active_bindings)))

    def selected_target(self) -> object | None:
        """The model object under the cursor on a host screen (the seam for actions)."""
        screen = self.screen
        return screen.selected_target() if isinstance(screen, HostScreen) else None

    def action_show_users(self) -> None:
        """Who uses what, across the cluster."""
        self.push_screen(UsersScreen(self.live))

    def action_show_free(self) -> None:
        """Where the free GPUs are."""
        self.push_screen(FreeGpusScreen(self.live))

    def action_show_alerts(self) -> None:
        """What needs attention."""
        self.push_screen(AlertsScreen(self.live))

    def on_users_screen_owner_chosen(self, message: UsersScreen.OwnerChosen) -> None:
        """Enter in the users view: filter everything to that person, back on the grid."""
        self._pop_to_grid()
        self.set_owner(message.owner)

    def on_grid_screen_owner_cleared(self) -> None:
        """Escape on the grid with only the owner filter left."""
        self.set_owner(None)

    def on_cluster_view_open_host(self, message: ClusterView.OpenHost) -> None:
        """Enter in the free GPUs or alerts view."""
        self.go_to_host(message.host)

    def set_owner(self, owner: str | None) -> None:
        """Show only `owner`'s hosts in the grid and their rows on host screens (None: all)."""
        self.grid.set_owner(owner)
        self.host_screen.set_owner(owner)

    def shell_target(self) -> str | None:
        """The host `o` opens a shell on: the host screen's, else the grid's cursor row."""
        screen = self.screen
        if isinstance(screen, HostScreen):
            return screen.host
        return self.grid.table.cursor_key if screen is self.grid else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`o` only where there is a shell to open (not on the demo)."""
        if action == "open_shell":
            return self.shell.mode != "none"
        return True

    def action_open_shell(self) -> None:
        """Suspend, run ssh to the host (or $SHELL for this machine), resume when it exits."""
        host = self.shell_target()
        argv = self.shell.argv(host) if host is not None else None
        if argv is None:
            self.notify("No shell to open here (demo hosts are made up)", severity="warning")
            return
        problem = run_suspended(self, argv)
        if problem is not None:
            self.notify(problem, title="No shell", severity="warning", markup=False)


def _settle_gc() -> None:
    """Each tick's snapshots live until the next and the start-up heap (Textual, CSS, widgets)
    for good, yet the cyclic collector rescanned both: ~10 % of an idle clustertop's CPU, with
    a ~60 ms pause per full collection (benchmarks/IDLE.md). Frozen, the start-up heap is never
    scanned again; a larger young generation lets a tick's objects die by reference count
    before a collection promotes them."""
    gc.collect()
    gc.freeze()
    young, middle, old = gc.get_threshold()
    # A large SSH fleet's source may already have chosen a wider pace (util/gcpolicy.py).
    gc.set_threshold(max(young, GC_GEN0), middle, old)
