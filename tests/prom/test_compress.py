"""`prometheus_compress`: which Accept-Encoding is asked (auto: none from a loopback host), and,
against a real Prometheus on loopback, that its answers come compressed or not as asked and
read the same either way."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from clustertop.sources.prometheus import client as client_module
from clustertop.sources.prometheus.client import (
    ENCODINGS,
    UNCOMPRESSED,
    PromClient,
    PromSettings,
    RangeSeries,
    Series,
    accept_encoding,
    is_loopback,
    parse_vector,
)
from tests.prom.servers import Prometheus, Target, node_exporter
from tests.prom.servers import unavailable as prometheus_unavailable
from tests.waiting import wait_for

LOOPBACK_URLS = [
    "http://localhost:9090",
    "http://LOCALHOST:9090/prom",
    "https://localhost",
    "http://127.0.0.1:9090",
    "http://127.0.0.1",
    "http://127.1.2.3:9090",
    "http://127.255.255.254:9090",
    "http://[::1]:9090",
    "http://[::1]",
    "https://[0:0:0:0:0:0:0:1]:9443/",
    "http://[::ffff:127.0.0.1]:9090",
    "http://user:pw@127.0.0.1:9090",
]
OTHER_URLS = [
    "http://prometheus.example.org:9090",
    "http://prom:9090",
    "http://localhost.example.org:9090",  # a name other than localhost: never resolved
    "http://mylocalhost:9090",
    "http://10.0.0.5:9090",
    "http://192.168.1.10:9090",
    "http://0.0.0.0:9090",
    "http://128.0.0.1:9090",
    "http://[2001:db8::1]:9090",
    "http://[fe80::1]:9090",
    "http://[::]:9090",
    "http://[::ffff:10.0.0.1]:9090",
    "http://[::1:9090",  # unclosed bracket: not readable, so not known to be loopback
    "",
]


@pytest.mark.parametrize("url", LOOPBACK_URLS)
def test_loopback_hosts(url: str) -> None:
    assert is_loopback(url)
    assert accept_encoding(PromSettings(url)) == UNCOMPRESSED == "identity"
    assert accept_encoding(PromSettings(url, compress="auto")) == "identity"
    assert accept_encoding(PromSettings(url, compress="never")) == "identity"
    assert accept_encoding(PromSettings(url, compress="always")) == ENCODINGS == "gzip, deflate"


@pytest.mark.parametrize("url", OTHER_URLS)
def test_other_hosts(url: str) -> None:
    assert not is_loopback(url)
    assert accept_encoding(PromSettings(url)) == "gzip, deflate"
    assert accept_encoding(PromSettings(url, compress="never")) == "identity"
    assert accept_encoding(PromSettings(url, compress="always")) == "gzip, deflate"


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="expected 'auto', 'always' or 'never', got 'yes'"):
        accept_encoding(PromSettings("http://prom:9090", compress="yes"))


def test_the_client_decides_once() -> None:
    assert PromClient(PromSettings("http://[::1]:9090")).accept_encoding == "identity"
    assert PromClient(PromSettings("http://prom:9090")).accept_encoding == "gzip, deflate"


@pytest.fixture(scope="module")
def prometheus() -> Iterator[Prometheus]:
    """A real Prometheus on 127.0.0.1 scraping a real node_exporter (hundreds of series)."""
    if prometheus_unavailable():
        pytest.skip(str(prometheus_unavailable()))
    with tempfile.TemporaryDirectory(prefix="ctprom-") as name:
        root = Path(name)
        node, address = node_exporter(root)
        server = Prometheus(root, [Target("node", address, "gpu01:9100")])
        try:
            server.start()
            wait_for(
                lambda: server.query('count_over_time(up{job="node"}[1m]) >= 4'),
                20, 0.2, "four scrapes of node_exporter",
            )  # fmt: skip
            yield server
        finally:
            server.stop()
            node.stop()


QUERIES = ["node_cpu_seconds_total", "node_memory_MemTotal_bytes", "up"]
Reading = tuple[list[list[Series]], list[RangeSeries], list[tuple[str, bytes]]]


def _read(url: str, compress: str, at: float, monkeypatch: pytest.MonkeyPatch) -> Reading:
    """The QUERIES at time `at` and a range query before it, and each answer's Content-Encoding
    with its first bytes, as the client reads them (its `_decoded` observed, not changed)."""
    seen: list[tuple[str, bytes]] = []
    decoded = client_module._decoded

    async def observed(body: bytes, parse: Callable[[Any], Any], *args: Any) -> Any:
        seen.append((args[1] if len(args) > 1 else "", body[:2]))
        return await decoded(body, parse, *args)

    monkeypatch.setattr(client_module, "_decoded", observed)

    async def ask() -> Reading:
        client = PromClient(PromSettings(url, timeout=30.0, compress=compress))
        try:
            vectors = [
                await client.get("/api/v1/query", {"query": q, "time": f"{at:.3f}"}, parse_vector)
                for q in QUERIES
            ]
            matrix = await client.query_range("node_load1", at - 3, at, 1)
            return vectors, matrix, seen
        finally:
            await client.aclose()

    try:
        return asyncio.run(ask())
    finally:
        monkeypatch.undo()


def test_answers_compressed_as_asked_and_read_the_same(
    prometheus: Prometheus, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = round(time.time() - 2, 3)  # one moment for every client: the same samples
    url = prometheus.url
    assert url.startswith("http://127.0.0.1:")
    localhost = url.replace("127.0.0.1", "localhost")
    readings = {
        (where, compress): _read(address, compress, at, monkeypatch)
        for where, address in (("127.0.0.1", url), ("localhost", localhost))
        for compress in ("auto", "never", "always")
    }
    plain_vectors, plain_matrix, _ = readings["127.0.0.1", "never"]
    assert len(plain_vectors[0]) >= 2 and len(plain_matrix) == 1 and plain_matrix[0][1]
    for (where, compress), (vectors, matrix, seen) in readings.items():
        assert len(seen) == len(QUERIES) + 1, (where, compress)
        if compress == "always":
            assert all(coding == "gzip" and start == b"\x1f\x8b" for coding, start in seen)
        else:
            assert all(coding in ("", "identity") and start == b'{"' for coding, start in seen)
        assert vectors == plain_vectors and matrix == plain_matrix, (where, compress)
