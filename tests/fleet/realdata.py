"""Where the real captured command outputs (nvidia-smi CSV, texts, error messages) live."""

from __future__ import annotations

import os
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]
_CANDIDATES = (_REPO / "tests" / "fixtures" / "real", _REPO.parent / "shared" / "fixtures" / "real")


def fixtures_root() -> Path:
    """$CT_FIXTURES_DIR, else the repo's tests/fixtures/real, else the shared folder beside it."""
    override = os.environ.get("CT_FIXTURES_DIR")
    if override:
        return Path(override)
    for candidate in _CANDIDATES:
        if candidate.is_dir():
            return candidate
    return _CANDIDATES[-1]
