"""The real captured outputs for parser tests (found by tests.realdata), skipping when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.realdata import fixture, fixture_names, roots

__all__ = ["fixture_names", "fixture_path", "read_fixture"]


def fixture_path(relative: str) -> Path:
    """Path of one fixture; skips the test (with the reason) when no fixture set has it."""
    path = fixture(relative)
    if not path.is_file():
        pytest.skip(f"fixture {relative} not present (in none of {', '.join(map(str, roots()))})")
    return path


def read_fixture(relative: str) -> str:
    """Text of one fixture, decoded as UTF-8 (bad bytes replaced, as the SSH source does)."""
    return fixture_path(relative).read_bytes().decode("utf-8", errors="replace")
