"""Where the real captured command outputs (nvidia-smi CSV, texts, error messages) live.

The repository carries the permissively licensed ones (tests/fixtures/real, see SOURCES.md there);
the shared fixture folder beside the repository, when present, also has the others.
"""

from __future__ import annotations

import os
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]
_CANDIDATES = (_REPO / "tests" / "fixtures" / "real", _REPO.parent / "shared" / "fixtures" / "real")


def fixture(relative: str) -> Path:
    """One captured file: from $CT_FIXTURES_DIR, the repository's set, or the shared folder."""
    override = os.environ.get("CT_FIXTURES_DIR")
    roots = (Path(override),) if override else _CANDIDATES
    for root in roots:
        if (root / relative).is_file():
            return root / relative
    return roots[-1] / relative
