"""What fills a disk: the largest directories under a mount, and Docker's own share."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DirSize:
    """One directory du reported, with everything under it on the same filesystem."""

    path: str
    """Directory path as du printed it."""
    size: int
    """Bytes (du -k, times 1024)."""
    depth: int
    """Levels under the mount (0: the mount itself)."""


@dataclass(frozen=True, slots=True)
class DiskUsage:
    """The result of one du run on one mount."""

    mount: str
    """The mount point scanned."""
    depth: int
    """How many levels du listed."""
    dirs: tuple[DirSize, ...]
    """Directories du finished, largest first."""
    partial: bool
    """True when du stopped at its deadline: sizes listed are complete, directories not
    listed were not finished (the mount's own total is missing or a lower bound)."""
    seconds: float
    """How long the scan took."""
    finished_at: float
    """Unix time the scan ended (its results' age)."""
    status: int | None = None
    """du's exit status (124: the deadline; 1: some directory unreadable)."""
    problems: tuple[str, ...] = ()
    """What du said on stderr (unreadable directories), and lines that could not be read."""


@dataclass(frozen=True, slots=True)
class DockerItem:
    """One image, container writable layer, volume or build cache entry."""

    kind: str
    """images, containers, volumes or build cache."""
    name: str
    """Repository:tag, container name, volume name or cache ID."""
    size: int | None
    """Bytes (Docker prints rounded decimal units: about 4 significant digits)."""


@dataclass(frozen=True, slots=True)
class DockerUsage:
    """`docker system df -v`: the space Docker holds."""

    items: tuple[DockerItem, ...]
    """Every item, largest first."""
    error: str | None = None
    """Why Docker's share could not be read."""

    def total(self, kind: str) -> int:
        """Bytes of one kind (images count their unique size, shared layers once elsewhere)."""
        return sum(item.size or 0 for item in self.items if item.kind == kind)
