"""The host screen's header lines: identity, CPU and memory, then section errors and staleness."""

from __future__ import annotations

from rich.text import Text

from clustertop.model import HostSnapshot, HostState, Section
from clustertop.ui.widgets.cells import BAD, DIM, OK, WARN, safe_text, severity
from clustertop.util.textsafe import literal
from clustertop.util.units import NA, duration, percent, ratio_percent, used_of

_SECTION_TITLES = {
    Section.SYSTEM: "System",
    Section.GPU: "GPU",
    Section.DOCKER: "Docker",
    Section.PROCESSES: "Processes",
    Section.DISKS: "Disks",
    Section.NETWORK: "Network",
    Section.DISK_IO: "Disk I/O",
    Section.PORTS: "Ports",
}


def header_text(snap: HostSnapshot, now: float) -> Text:
    """All header lines of one host."""
    lines = [_identity(snap, now), _resources(snap)]
    lines.extend(_problems(snap, now))
    return Text("\n").join(lines)


def _label(text: Text, label: str) -> Text:
    return text.append(f"  {label} ", DIM)


def _identity(snap: HostSnapshot, now: float) -> Text:
    text = Text()
    text.append_text(literal(snap.name, "bold"))
    state_style = OK if snap.is_up else (DIM if snap.state is HostState.CONNECTING else BAD)
    text.append(f"  {snap.state}", state_style)
    if snap.error:
        text.append(": ", state_style).append_text(safe_text(snap.error, state_style))
    if snap.state_since is not None and not snap.is_up:
        text.append(f" for {duration(now - snap.state_since)}", DIM)
    if snap.hostname:
        _label(text, "hostname").append_text(literal(snap.hostname))
    _label(text, "uptime").append(duration(snap.uptime_s))
    if snap.latency_ms is not None:
        _label(text, "latency").append(f"{snap.latency_ms:.0f} ms")
    age = now - (snap.data_time or snap.time)
    return _label(text, "data").append(f"{duration(age)} old", DIM)


def _resources(snap: HostSnapshot) -> Text:
    text = Text("CPU ", DIM)
    cpu = snap.cpu
    if cpu is None:
        text.append(NA, DIM)
    else:
        text.append(percent(cpu.percent), severity(cpu.percent, 70, 90))
        # A large Prometheus fleet's row has the busy share alone: the open host's own modes
        # come with the reading that opening it starts.
        parts = []
        if cpu.user_percent is not None or cpu.system_percent is not None:
            parts += [f"user {percent(cpu.user_percent)}", f"sys {percent(cpu.system_percent)}"]
        if cpu.iowait_percent is not None:
            parts.append(f"iowait {percent(cpu.iowait_percent)}")
        if cpu.count:
            parts.append(f"{cpu.count} cores")
        if parts:
            text.append(f" ({', '.join(parts)})")
    load = " ".join(f"{value:.2f}" for value in snap.load) if snap.load else NA
    _label(text, "load").append(load)
    mem = snap.memory
    _label(text, "mem")
    if mem is None:
        return text.append(NA, DIM)
    share = ratio_percent(mem.used, mem.total)
    text.append(f"{used_of(mem.used, mem.total)} ({percent(share)})", severity(share, 75, 90))
    swap = ratio_percent(mem.swap_used, mem.swap_total)
    _label(text, "swap").append(
        f"{used_of(mem.swap_used, mem.swap_total)} ({percent(swap)})", severity(swap, 25, 75)
    )
    return text


def _problems(snap: HostSnapshot, now: float) -> list[Text]:
    """A line per failing or stale section: 'GPU: <error as reported>', 'Disks: stale, 14s old'."""
    lines = []
    for section in Section:
        error = snap.error_of(section)
        age = snap.stale.get(section)
        if error is None and age is None:
            continue
        # Every section has a title: a stale ports section must not take the screen down.
        title = _SECTION_TITLES.get(section, section.value)
        line = Text(f"{title}: ", BAD if error else WARN)
        if error:
            line.append_text(safe_text(error, BAD))
        if age is not None:
            line.append("; " if error else "", DIM).append(f"stale, {duration(age)} old", WARN)
        lines.append(line)
    if snap.podman_error:
        lines.append(Text("podman: ", BAD).append_text(safe_text(snap.podman_error, BAD)))
    return lines
