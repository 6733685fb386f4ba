"""Recording a real probe run once (its first and steady frames), replaying it for any session."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import peer_command
from benchmarks.standins import StandIns
from clustertop.sources.ssh.probe import ProbeSettings, probe_script

RECORD_MARKER = "@ctrec5f0c3a9e"
FIRST_FRAMES = 2
"""Frames a session gets first, in order: the client asks for two full scans at once."""
STEADY_FRAMES = ProbeSettings(marker="").proc_every
"""Frames cycled afterwards: one whole cycle of the probe's cadences (a full process scan once,
df every `disk_every` ticks, containers every `docker_every`)."""
RECORD_GAP_S = 0.3
"""Seconds between recorded ticks; the GPU samplers run at this period, as they do at 2 s."""
_M, _S = "\x00M", "\x00S"
_TOKEN = re.compile("\x00(?:(M)|(S)|U(-?[0-9.]+)\x00)")
_LITERAL, _MARKER, _SEQ, _UPTIME = range(4)
_TIMED_WORD = {"e": 3, "p": 2, "same": 2, "apps": 2}
"""Marker line kind -> index of the word that holds a host uptime (when the section started)."""


def _uptime_slot(offset: float) -> str:
    return f"\x00U{offset:.2f}\x00"


@dataclass(frozen=True)
class FrameTemplate:
    """A recorded frame with its marker, sequence number and uptimes left open.

    Uptimes are kept as offsets before the frame's own uptime, so a replayed frame says that
    a section started as long before the tick as it did in the recording.
    """

    text: str
    """The frame with \\0M (marker), \\0S (sequence) and \\0U<offset>\\0 (uptime) slots."""

    @functools.cached_property
    def _pieces(self) -> list[tuple[int, str | float]]:
        """(LITERAL, text), (MARKER, ""), (SEQ, ""), (UPTIME, offset) in order."""
        pieces: list[tuple[int, str | float]] = []
        at = 0
        for match in _TOKEN.finditer(self.text):
            pieces.append((_LITERAL, self.text[at : match.start()]))
            if match.group(1):
                pieces.append((_MARKER, ""))
            elif match.group(2):
                pieces.append((_SEQ, ""))
            else:
                pieces.append((_UPTIME, float(match.group(3))))
            at = match.end()
        pieces.append((_LITERAL, self.text[at:]))
        return pieces

    def render(self, marker: str, seq: int, uptime: float) -> str:
        """The frame as a probe with `marker` would print it for tick `seq` at `uptime`."""
        out = []
        for kind, value in self._pieces:
            if kind == _LITERAL:
                out.append(str(value))
            elif kind == _MARKER:
                out.append(marker)
            elif kind == _SEQ:
                out.append(str(seq))
            else:
                out.append(f"{uptime - float(value):.2f}")
        return "".join(out)


def template_of(frame: str) -> FrameTemplate:
    """Turn a frame recorded with RECORD_MARKER into a template."""
    prefix = RECORD_MARKER + " "
    uptime = 0.0
    lines = []
    for line in frame.split("\n"):
        if not line.startswith(prefix):
            lines.append(line)
            continue
        words = line[len(prefix) :].split(" ")
        kind = words[0]
        if kind == "t" and len(words) >= 3:
            uptime = float(words[2])
            words[1:3] = [_S, _uptime_slot(0.0)]
        elif kind == "d" and len(words) >= 2:
            words[1] = _S
        elif (at := _TIMED_WORD.get(kind)) is not None and len(words) > at:
            with contextlib.suppress(ValueError):  # "-": no sample yet
                words[at] = _uptime_slot(uptime - float(words[at]))
        lines.append(_M + " " + " ".join(words))
    return FrameTemplate("\n".join(lines))


@dataclass(frozen=True)
class FrameSet:
    """One real probe run, replayable: its ready line, first frames, steady frames to cycle."""

    ready: str
    """The ready line after the marker ("ready 2 PID HZ PAGESIZE HOSTNAME")."""
    first: tuple[FrameTemplate, ...]
    """Frames 1..FIRST_FRAMES of the run, sent in order at the start of every session."""
    steady: tuple[FrameTemplate, ...]
    """The frames after them, cycled for the rest of a session."""
    peer_output: str
    """What the peers' plain command printed on the same simulated host."""

    def frame(self, sent: int, phase: int = 0) -> FrameTemplate:
        """The frame to send when `sent` frames were sent already in this session.

        `phase` rotates the steady cycle, as each probe's PID sets its own phase for df and
        full process scans, so sessions started together do not all scan in the same tick.
        """
        if sent < len(self.first):
            return self.first[sent]
        return self.steady[(sent - len(self.first) + phase) % len(self.steady)]

    def sizes(self) -> dict[str, float]:
        """Bytes of the first frame and the mean of the steady ones (marker and numbers filled)."""
        steady = [len(t.render(RECORD_MARKER, 10, 1000.0)) for t in self.steady]
        return {
            "first_frame_bytes": len(self.first[0].render(RECORD_MARKER, 1, 1000.0)),
            "steady_frame_bytes": sum(steady) / len(steady),
            "peer_output_bytes": len(self.peer_output),
        }

    def save(self, path: Path) -> None:
        """Write it to a file (read back with load)."""
        raw = {
            "ready": self.ready,
            "first": [t.text for t in self.first],
            "steady": [t.text for t in self.steady],
            "peer_output": self.peer_output,
        }
        path.write_text(json.dumps(raw))

    @classmethod
    def load(cls, path: Path) -> FrameSet:
        """Read a saved frame set."""
        raw = json.loads(path.read_text())
        return cls(
            raw["ready"],
            tuple(FrameTemplate(t) for t in raw["first"]),
            tuple(FrameTemplate(t) for t in raw["steady"]),
            raw["peer_output"],
        )


def _read_until(proc: subprocess.Popen[bytes], end: bytes, timeout: float) -> bytes:
    assert proc.stdout is not None
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(end):
        if time.monotonic() > deadline:
            raise RuntimeError(f"probe did not print {end!r} within {timeout} s")
        byte = proc.stdout.read(1)
        if not byte:
            raise RuntimeError(f"probe ended before {end!r}: {data[-500:]!r}")
        data += byte
    return data


def record_frames(stand: StandIns, home: Path) -> tuple[str, list[str]]:
    """Run the real probe here (stand-ins on PATH): its ready line and frames, as the client asks.

    Ticks 1 and 2 ask for full process scans (the client's first two frames), later ones not.
    """
    settings = ProbeSettings(marker=RECORD_MARKER, sample_ms=round(RECORD_GAP_S * 1000))
    proc = subprocess.Popen(
        ["/bin/sh", "-s"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=stand.env(home),
        bufsize=0,
        start_new_session=True,  # a process group leader, as sshd starts it
    )
    assert proc.stdin is not None
    frames = []
    try:
        proc.stdin.write(probe_script(settings).encode())
        ready = _read_until(proc, b"\n", 15).decode().strip()
        for seq in range(1, FIRST_FRAMES + STEADY_FRAMES + 1):
            proc.stdin.write(f"t {seq} {int(seq <= FIRST_FRAMES)}\n".encode())
            end = f"{RECORD_MARKER} d {seq}\n".encode()
            frames.append(_read_until(proc, end, 30).decode(errors="replace"))
            time.sleep(RECORD_GAP_S)
        proc.stdin.write(b"q\n")
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    return ready.removeprefix(RECORD_MARKER + " "), frames


def record(stand: StandIns, home: Path) -> FrameSet:
    """A probe run and the peers' output recorded on this machine, as a replayable FrameSet."""
    ready, frames = record_frames(stand, home)
    templates = [template_of(f) for f in frames]
    return FrameSet(
        ready,
        tuple(templates[:FIRST_FRAMES]),
        tuple(templates[FIRST_FRAMES:]),
        peer_command.record_output(stand, home),
    )


def home_for_recording(root: Path) -> Path:
    """An empty HOME for the recording probe."""
    home = root / "rec-home"
    home.mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o755)
    return home
