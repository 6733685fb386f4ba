"""How a host's failing or stale sections are worded, for the grid and the `--once` table alike."""

from __future__ import annotations

from clustertop.model import HostSnapshot, Section
from clustertop.util.units import duration

_SECTIONS = tuple(Section)
"""Every section (iterating the Enum class itself is slow, and this runs per host per repaint)."""


def section_issues(snap: HostSnapshot) -> list[str]:
    """'gpu: nvidia-smi timed out 14s' for stale sections, 'docker: <error>' for failing ones."""
    issues = []
    for section in _SECTIONS:
        error = snap.error_of(section)
        if section in snap.stale:
            what = error or "stale"
            issues.append(f"{section}: {what} {duration(snap.stale[section])}")
        elif error:
            issues.append(f"{section}: {error}")
    return issues
