"""Access to the real captured outputs (tests/fixtures/real, then ../shared), skipping when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parents[2]
ROOTS = (_REPO / "tests" / "fixtures" / "real", _REPO.parent / "shared" / "fixtures" / "real")
"""The repository's (permissively licensed) captures, then the shared set beside it."""


def fixture_path(relative: str) -> Path:
    """Path of one fixture; skips the test (with the reason) when no fixture set has it."""
    for root in ROOTS:
        if (root / relative).is_file():
            return root / relative
    pytest.skip(f"fixture {relative} not present (in neither {ROOTS[0]} nor {ROOTS[1]})")


def read_fixture(relative: str) -> str:
    """Text of one fixture, decoded as UTF-8 (bad bytes replaced, as the SSH source does)."""
    return fixture_path(relative).read_bytes().decode("utf-8", errors="replace")


def fixture_names(folder: str, suffix: str = "") -> list[str]:
    """Files in one fixture folder (relative names), [] when absent (tests then skip)."""
    names = {
        f"{folder}/{p.name}"
        for root in ROOTS
        if (root / folder).is_dir()
        for p in (root / folder).iterdir()
        if p.name.endswith(suffix)
    }
    return sorted(names)
