"""Where the real captured command outputs (nvidia-smi CSV, texts, error messages) live.

The repository carries the permissively licensed ones (tests/fixtures/real, see SOURCES.md there);
the shared fixture folder beside the repository, when present, also has the others. This is the
one lookup of those folders: the tests, the fleet's stand-in nvidia-smi and the benchmark use it.
"""

from __future__ import annotations

import os
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
ROOTS = (_REPO / "tests" / "fixtures" / "real", _REPO.parent / "shared" / "fixtures" / "real")
"""The repository's captures, then the shared set beside it."""


def roots() -> tuple[Path, ...]:
    """The folders searched, in order: $CT_FIXTURES_DIR alone when set, else ROOTS."""
    override = os.environ.get("CT_FIXTURES_DIR")
    return (Path(override),) if override else ROOTS


def fixture(relative: str) -> Path:
    """One captured file from the first folder that has it (else its path in the last one)."""
    searched = roots()
    for root in searched:
        if (root / relative).is_file():
            return root / relative
    return searched[-1] / relative


def fixture_names(folder: str, suffix: str = "") -> list[str]:
    """Relative names of the files in one fixture folder, over every root; [] when absent."""
    names = {
        f"{folder}/{p.name}"
        for root in roots()
        if (root / folder).is_dir()
        for p in (root / folder).iterdir()
        if p.name.endswith(suffix)
    }
    return sorted(names)
