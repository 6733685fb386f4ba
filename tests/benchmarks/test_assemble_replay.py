"""benchmarks.assemble_replay reads a frames recording and assembles it as a session would."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.assemble_replay import load, one_pass, replay

from clustertop.sources.ssh.probe import parse_frame
from tests.ssh.test_assemble_incremental import M, _assemblers, _frames


def test_replay_gives_the_snapshots_of_the_recorded_frames(tmp_path: Path) -> None:
    recording = tmp_path / "frames.jsonl"
    with recording.open("w") as f:
        for when, text, cut in _frames():
            rec = {"name": "gpu01", "marker": M, "info": [100, 4096, "n1\x1b[2J"], "t": when,
                   "text": text, "latency": 5.0, "cut": cut}  # fmt: skip
            f.write(json.dumps(rec) + "\n")
    now = [0.0]
    direct, _ = _assemblers(lambda: now[0])
    expected = []
    for when, text, cut in _frames():
        now[0] = when
        expected.append(direct.apply(parse_frame(text, M), 5.0, cut))
    frames = load(recording)
    assert list(replay(frames)) == expected
    assert one_pass(frames) >= 0.0
