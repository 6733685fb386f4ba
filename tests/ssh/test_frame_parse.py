"""parse_frame (marker lines only) against the line-by-line reading it replaced, on random frames."""

from __future__ import annotations

import random

from clustertop.sources.ssh.probe import (
    Frame,
    SectionOutput,
    as_float,
    as_int,
    parse_frame,
    split_parts,
)

M = "@ct0123456789abcdef"


def _line_by_line(text: str, marker: str) -> Frame:
    """The reading parse_frame replaced (every line looked at), kept as the reference."""
    prefix = marker + " "
    seq, uptime = -1, None
    sections: dict[str, SectionOutput] = {}
    pending: dict[str, float] = {}
    same: dict[str, float] = {}
    current: str | None = None
    body: list[str] = []
    for line in text.split("\n"):
        if not line.startswith(prefix):
            if current is not None:
                body.append(line)
            continue
        words = line[len(prefix) :].split(" ")
        kind = words[0]
        if kind == "t" and len(words) >= 3:
            seq, uptime = as_int(words[1]) or -1, as_float(words[2])
        elif kind == "b" and len(words) >= 2:
            current, body = words[1], []
        elif kind == "e" and len(words) >= 4 and current == words[1]:
            if body and body[-1] == "":
                body.pop()
            sections[current] = SectionOutput(
                current, "\n".join(body), as_int(words[2]), as_float(words[3])
            )
            current = None
        elif kind in ("p", "same") and len(words) >= 3:
            started = as_float(words[2])
            if started is not None:
                (pending if kind == "p" else same)[words[1]] = started
        elif kind == "d" and len(words) >= 2 and seq < 0:
            seq = as_int(words[1]) or -1
        elif current is not None:
            body.append(line)
    size = sum(len(line) + 1 for line in body) if current is not None else 0
    return Frame(seq, uptime, sections, pending, same, unfinished=current, unfinished_chars=size)


NAMES = ["sys", "gpu", "procs", "x"]
MARKER_LINES = [
    "t 3 100.5", "t 3", "t x y", "b {n}", "b", "e {n} 0 100.0", "e {n} 1", "e {n} x y",
    "e other 0 1", "p {n} 99.0", "p {n} -", "same {n} 98.5", "same {n}", "d 3", "d", "d x",
    "apps 0 199.5", "apps", "logs", "", " ", "M", "{m}b {n}",
]  # fmt: skip
PLAIN_LINES = ["", " ", "1, 0, GPU-1", "\x1b[2J", "@ct0000000000000000 e gpu 0 1",
               f"{M}x", f" {M} b sys", "\r", "é\u2028x", "\t"]  # fmt: skip


def _random_frame(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randrange(0, 30)):
        if rng.random() < 0.5:
            form = rng.choice(MARKER_LINES)
            lines.append(f"{M} " + form.format(n=rng.choice(NAMES), m=M))
        else:
            lines.append(rng.choice(PLAIN_LINES))
    text = "\n".join(lines) + rng.choice(["", "\n", "\n\n"])
    return text[: rng.randrange(len(text) + 1)] if rng.random() < 0.2 else text


def test_random_frames_read_as_line_by_line() -> None:
    rng = random.Random(1913)
    for n in range(5000):
        text = _random_frame(rng)
        assert parse_frame(text, M) == _line_by_line(text, M), f"frame {n}: {text!r}"


def test_a_whole_frame_and_a_cut_one() -> None:
    text = (
        f"junk\n{M} t 7 50.0\n{M} b gpu\nrow 1\n{M} apps 0 49.0\napp 1\n\n{M} e gpu 0 49.5\n"
        f"{M} same disks 40.0\n{M} p docker 45.0\n{M} b procs\np 1\n\n{M} e procs 0 49.9\n{M} d 7\n"
    )
    frame = parse_frame(text, M)
    assert frame == _line_by_line(text, M)
    assert frame.sections["gpu"].body == f"row 1\n{M} apps 0 49.0\napp 1"
    assert frame.same == {"disks": 40.0} and frame.pending == {"docker": 45.0}
    cut = text[: text.index("\np 1") + 4]
    assert parse_frame(cut, M) == _line_by_line(cut, M)
    assert parse_frame(cut, M).unfinished == "procs" and parse_frame(cut, M).unfinished_chars == 4


def test_split_parts_of_a_body_without_part_markers_is_one_part() -> None:
    for body in ("", "a\nb\n", f"x {M} apps\n@ct0000000000000000 apps 1", f"{M}apps"):
        assert split_parts(body, M) == {"": body}
    assert split_parts(f"a\n{M} apps 0 1\nb", M) == {"": "a", "apps": "b", "apps.args": "0 1"}
