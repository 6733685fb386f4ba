"""One probe section's last result for the assembler: its value, error and data time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from clustertop.sources.ssh.sections import SectionError

T = TypeVar("T")


@dataclass(slots=True)
class SlotState:
    """When one section last answered, and how."""

    error: str | None = None
    """Error of the last run."""
    data_time: float | None = None
    """Client time the last run started on the host (None: the section never answered)."""
    pending_since: float | None = None
    """Client time a still-running run started, when one is running."""

    def fail(self, error: str, data_time: float) -> None:
        """A run whose output could not be had at all."""
        self.error, self.data_time = error, data_time


@dataclass(slots=True)
class Slot(SlotState, Generic[T]):
    """The last result of one section."""

    value: T | None = None
    """Parsed data of the last good run (None before the first, and after a failed one)."""
    source: tuple[bytes, int | None] | None = None
    """What `value` was parsed from (a digest of the output, its exit status), where parsing
    is a function of it alone (`read_same`); None where it is not, or there is no value."""

    def fail(self, error: str, data_time: float) -> None:
        """A run whose output could not be had at all: no value, and why."""
        self.value, self.error, self.data_time, self.source = None, error, data_time, None

    def read(self, parse: Callable[[], T], name: str, data_time: float) -> None:
        """Replace the value with a new run's, or record why that run's output is unusable."""
        self.source = None
        try:
            self.value, self.error = parse(), None
        except SectionError as exc:
            self.value, self.error = None, str(exc)
        except (ValueError, KeyError, IndexError) as exc:
            self.value, self.error = None, f"unreadable {name} output ({exc})"
        self.data_time = data_time

    def read_same(
        self, parse: Callable[[], T], name: str, data_time: float, source: tuple[bytes, int | None]
    ) -> None:
        """`read` for a section whose value depends on its output alone, told by `source`
        (a digest of the output, its exit status): the same output as the last good run's
        keeps that run's value without parsing it again, and a new value equal to the last
        one keeps the last one's very objects. Later comparisons of the host's snapshots are
        then identity checks, and a host holds one copy of its reading (not the output text:
        a digest of it)."""
        before = self.value
        if before is not None and self.source == source:
            self.error, self.data_time = None, data_time
            return
        self.read(parse, name, data_time)
        if before is not None and self.value is not None and self.value == before:
            self.value = before
        self.source = source if self.value is not None else None


@dataclass(slots=True)
class HostInfo:
    """Facts from the probe's ready line."""

    hz: int = 100
    """Clock ticks per second."""
    page_size: int = 4096
    """Bytes per page."""
    hostname: str | None = None
    """uname -n."""
