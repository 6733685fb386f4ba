"""The real `clustertop` command in a real terminal: stop a fleet container by keys, then quit."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.actions.helpers import container_state
from tests.e2e.tmux import TmuxTerminal, tmux_available
from tests.fleet.fleet import Fleet
from tests.waiting import wait_for

pytestmark = pytest.mark.skipif(not tmux_available(), reason="tmux is not installed")


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[TmuxTerminal]:
    """A 160x48 terminal whose programs never see the developer's own config or state."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLUSTERTOP_", "TMUX"))}
    env |= {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "TERM": "xterm-256color",
    }
    term = TmuxTerminal(env, tmp_path / "terminal-output")
    try:
        yield term
    finally:
        term.kill()


def test_stop_a_container_from_the_keyboard_and_quit_cleanly(
    clean_fleet: Fleet, terminal: TmuxTerminal, tmp_path: Path
) -> None:
    engine = clean_fleet["h1"].docker
    assert engine is not None
    engine.run_container("a-first")
    cid = engine.run_container("e2e-job")
    argv = [sys.executable, "-m", "clustertop", "-F", str(clean_fleet.ssh_config)]
    terminal.start([*argv, "--interval", "1", "h1"])
    terminal.wait_for_text("Hosts 1 up")
    terminal.send("Enter")
    terminal.wait_for_text("Containers", "Processes")
    terminal.send("3")
    # The pane's sort in the title is set just after its table is given focus: from then on,
    # keys reach that table. (Keys sent before a focus change lands reach the old widget.)
    terminal.wait_for_text("a-first", "e2e-job", "h1 · sorted by Name")
    terminal.send("Down", "T")  # sorted by name: e2e-job is the second row
    shown = terminal.wait_for_text("Stop 1 container?", cid, "Cancel")
    assert "h1" in shown and "e2e-job" in shown
    assert container_state(engine, cid) == "running", "nothing happens before y"
    terminal.send("y")
    terminal.wait_for_text("Stop: done", "container stopped")
    wait_for(lambda: container_state(engine, cid) == "exited", 15, what="the container to stop")
    audit = (tmp_path / "state" / "clustertop" / "audit.jsonl").read_text()
    assert f'"id": "{cid}"' in audit and '"outcome": "done"' in audit
    terminal.send("q")
    assert terminal.exit_status(15) == 0, terminal.written()[-2000:]
    # Once the pane's shell has ended too, tmux has read all the output: the pane is dead.
    wait_for(lambda: terminal.pane("pane_dead") == "1", 15, what="the pane to end")
    # The terminal is given back as it was: main screen, no mouse reporting, cursor shown.
    assert terminal.pane("alternate_on") == "0"
    assert terminal.pane("mouse_any_flag") == "0"

    def restored() -> bytes:
        written = terminal.written()  # pipe-pane's cat may still be appending the last bytes
        main_screen = written.rfind(b"\x1b[?1049l") > written.rfind(b"\x1b[?1049h") >= 0
        cursor = written.rfind(b"\x1b[?25h") > written.rfind(b"\x1b[?25l") >= 0
        return written if main_screen and cursor else b""

    written = wait_for(restored, 10, what="main screen and cursor restored in the output")
    assert b"Traceback" not in written
