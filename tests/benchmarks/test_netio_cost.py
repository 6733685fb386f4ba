"""The netio benchmark's "off" probe differs from the real one only by the three calls."""

from __future__ import annotations

from benchmarks.netio_cost import script
from benchmarks.probe_cost import GAP_S, MARKER

from clustertop.sources.ssh.probe import ProbeSettings, probe_script


def test_off_takes_out_the_net_dio_and_ports_calls_only() -> None:
    on, off = script(True), script(False)
    assert on == probe_script(ProbeSettings(marker=MARKER, sample_ms=round(GAP_S * 1000)))
    for call in ("\tnet_section()\n", "\tdio_section()\n", "ports_section()\n\tPORT_TICK++"):
        assert call in on and call not in off
    taken = len("\tnet_section()\n\tdio_section()\n") + len("ports_section()") - len(";")
    assert len(on) - len(off) == taken
