"""Writes RELIABILITY.md from the reliability tests' own records (and the silent-host benchmark).

Run: `.venv/bin/python scripts/reliability.py` (add `--silent 1000` for the benchmark's size).
Each line of the report comes from a test that asserts what a user sees and then records what it
measured (tests/reliability.py); a catalogue line with no record is reported as not shown.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.reliability import LOG_VARIABLE  # noqa: E402

SECTIONS = {
    "silent": "Silent hosts held",
    "faults": "Faults survived",
    "hostile": "Hostile inputs tried",
    "lost": "Nothing lost",
}
"""Report sections, in order."""


@dataclass(frozen=True)
class Entry:
    """One line the report must show."""

    section: str
    item: str
    what: str


CATALOGUE: tuple[Entry, ...] = (
    Entry("silent", "silent-once", "`--once --timeout 5`: silent (dropping) + healthy hosts"),
    Entry("silent", "silent-tui", "live source (the TUI's path): silent + healthy hosts"),
    Entry("silent", "silent-benchmark", "benchmark: 1,000 silent hosts + 10 healthy"),
    Entry("silent", "dead-jump", "hosts behind one dead ProxyJump"),
    Entry("silent", "refused", "refused connections (nothing listening)"),
    Entry("faults", "sshd-killed", "sshd killed and back"),
    Entry("faults", "dockerd-killed", "dockerd killed and back"),
    Entry("faults", "nvidia-smi-hung", "nvidia-smi hung"),
    Entry("faults", "df-hung", "df hung (start-up check and ticks)"),
    Entry("faults", "shm-full", "temp dir (/dev/shm) full"),
    Entry("faults", "jump-killed", "jump host killed and back"),
    Entry("faults", "client-killed", "client SIGKILLed: nothing left on the hosts"),
    Entry("hostile", "markup", "Rich/Textual markup in names, args, labels"),
    Entry("hostile", "escapes", "ESC / C1 / OSC sequences"),
    Entry("hostile", "bidi", "bidi and format characters (U+202E, zero-width, U+2028)"),
    Entry("hostile", "invalid-utf8", "argv that is not UTF-8"),
    Entry("hostile", "huge-argv", "2 MB of argv in one process"),
    Entry("hostile", "long-log-lines", "64 KiB log lines, flood"),
    Entry("hostile", "forged-notice", "log lines that forge clustertop's own notices"),
    Entry("hostile", "forged-frame", "argv carrying the probe's frame marker"),
    Entry("hostile", "hostile-owner", "hostile labels and owners"),
    Entry("lost", "audit-every-action", "every action result in the audit log"),
    Entry("lost", "audit-quit", "an action in flight when the user quits"),
)


def run_tests(log: Path, extra: Sequence[str]) -> int:
    """The reliability tests, recording into `log`; returns pytest's exit status."""
    env = {**os.environ, LOG_VARIABLE: str(log)}
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "reliability"]
    return subprocess.run([*argv, *extra], cwd=ROOT, env=env, check=False).returncode


def run_silent_benchmark(log: Path, silent: int) -> int:
    """The benchmark's silent-host scenario at full size, recording into `log`."""
    env = {**os.environ, LOG_VARIABLE: str(log)}
    argv = [sys.executable, "-m", "benchmarks.silent", "--silent", str(silent), "--record"]
    return subprocess.run(argv, cwd=ROOT, env=env, check=False).returncode


def read_records(log: Path) -> list[dict[str, object]]:
    """The records, oldest first; a torn last line is skipped."""
    records = []
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def _figures(figures: object) -> str:
    if not isinstance(figures, dict) or not figures:
        return ""
    return ", ".join(f"{key} = {value}" for key, value in figures.items())


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def section_lines(section: str, records: Sequence[dict[str, object]]) -> list[str]:
    """One Markdown table: each catalogue line with what its tests saw."""
    lines = [
        f"## {SECTIONS[section]}",
        "",
        "| case | result | figures | test |",
        "|---|---|---|---|",
    ]
    for entry in (e for e in CATALOGUE if e.section == section):
        found = [r for r in records if r.get("item") == entry.item]
        if not found:
            lines.append(f"| {entry.what} | **not shown**: no passing test recorded it | | |")
        for rec in found:
            result, figures = _cell(rec.get("result", "")), _cell(_figures(rec.get("figures")))
            lines.append(f"| {entry.what} | {result} | {figures} | `{_cell(rec.get('test'))}` |")
    counted = [r for r in records if r.get("section") == section]
    lines += ["", f"{len(counted)} checks recorded.", ""]
    return lines


def render(records: Sequence[dict[str, object]], command: str, status: str) -> str:
    """The whole report."""
    shown = {str(r.get("item")) for r in records}
    missing = [e for e in CATALOGUE if e.item not in shown]
    head = [
        "# Reliability",
        "",
        "Generated by `scripts/reliability.py`; do not edit by hand. Every line below comes from",
        "a test that asserts what a user sees and fails when it regresses; the small size of each",
        "runs in the test command (`./scripts/test.sh`), the 1,000 silent hosts in the benchmark.",
        "",
        f"- command: `{command}`",
        f"- finished: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- machine: {platform.platform()}, {os.cpu_count()} CPUs,"
        f" Python {platform.python_version()}",
        f"- {status}; {len(CATALOGUE) - len(missing)} of {len(CATALOGUE)} cases shown",
        "",
    ]
    body = [line for section in SECTIONS for line in section_lines(section, records)]
    return "\n".join(head + body)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tests (and the benchmark when asked), write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--silent", type=int, default=0, help="also run the silent-host benchmark")
    parser.add_argument("--out", type=Path, default=ROOT / "RELIABILITY.md")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "records.jsonl"
        log.touch()
        status = f"reliability tests: pytest exit {run_tests(log, options.pytest_args)}"
        if options.silent:
            status += f"; silent-host benchmark exit {run_silent_benchmark(log, options.silent)}"
        records = read_records(log)
    command = " ".join(["scripts/reliability.py", *(argv if argv is not None else sys.argv[1:])])
    options.out.write_text(render(records, command, status), encoding="utf-8")
    print(f"wrote {options.out} ({len(records)} records; {status})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
