"""Access to the real captured outputs in ../shared/fixtures/real, skipping when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "real"
"""Root of the real-output fixtures (a sibling of the repository)."""


def fixture_path(relative: str) -> Path:
    """Path of one fixture; skips the test (with the reason) when the fixture set is absent."""
    path = FIXTURES / relative
    if not FIXTURES.is_dir():
        pytest.skip(f"real fixtures not present at {FIXTURES}")
    if not path.is_file():
        pytest.skip(f"fixture {relative} not present")
    return path


def read_fixture(relative: str) -> str:
    """Text of one fixture, decoded as UTF-8 (bad bytes replaced, as the SSH source does)."""
    return fixture_path(relative).read_bytes().decode("utf-8", errors="replace")


def fixture_names(folder: str, suffix: str = "") -> list[str]:
    """Files in one fixture folder (relative names), [] when absent (tests then skip)."""
    directory = FIXTURES / folder
    if not directory.is_dir():
        return []
    return sorted(f"{folder}/{p.name}" for p in directory.iterdir() if p.name.endswith(suffix))
