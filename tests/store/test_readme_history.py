"""README's History section: every `clustertop report` example runs as written."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

from clustertop.cli.report import report_command
from tests.store.crafted import END, write_crafted

ROOT = Path(__file__).resolve().parents[2]
SECTION = (ROOT / "README.md").read_text().split("## History", 1)[1].split("\n## ", 1)[0]
EXAMPLES = [
    shlex.split(line.split("#", 1)[0].split(">", 1)[0])
    for line in re.findall(r"```sh\n(.*?)```", SECTION, re.S)[0].splitlines()
]


def test_the_section_has_report_examples() -> None:
    assert len(EXAMPLES) >= 4
    assert all(argv[:2] == ["clustertop", "report"] for argv in EXAMPLES)


@pytest.mark.parametrize("argv", EXAMPLES, ids=[" ".join(a[2:]) or "plain" for a in EXAMPLES])
def test_each_example_runs(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state = tmp_path / "state" / "clustertop"
    state.mkdir(parents=True)
    write_crafted(state / "history.sqlite")
    monkeypatch.setattr(
        os, "environ", {"HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")}
    )
    monkeypatch.chdir(tmp_path)
    assert report_command(argv[2:], now=END) == 0, capsys.readouterr().err
    assert capsys.readouterr().out
