"""Compressed answers: inflated with their decoding (off the event loop when large), the same
series as sent plain, whether asked for or not (a server may compress anyway); an answer that
cannot be inflated is a clear error, never a crash."""

from __future__ import annotations

import asyncio
import json

import pytest

from clustertop.sources.prometheus.client import (
    OFF_LOOP_BYTES,
    PromClient,
    PromError,
    PromSettings,
    Series,
)
from tests.prom.servers import StandIn


def _vector(count: int) -> str:
    result = [
        {"metric": {"__name__": "node_load1", "instance": f"gpu{i:05d}:9100"},
         "value": [1.8e9, f"{i / 7:.17g}"]}
        for i in range(count)
    ]  # fmt: skip
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}})


def _query(server: StandIn, compress: str = "auto") -> list[Series]:
    async def ask() -> list[Series]:
        settings = PromSettings(f"http://{server.address}", timeout=30.0, compress=compress)
        client = PromClient(settings)
        try:
            return await client.query("node_load1")
        finally:
            await client.aclose()

    return asyncio.run(ask())


@pytest.mark.parametrize("count", [3, 20_000])
def test_compressed_answers_read_as_plain_ones(count: int) -> None:
    text = _vector(count)
    assert (count > 3) == (len(text) > OFF_LOOP_BYTES)  # the large one goes to the thread
    servers = [StandIn(text, encoding=e).start() for e in ("", "gzip", "deflate", "raw-deflate")]
    try:
        # The stand-ins compress whatever is asked: on loopback, auto asks for no compression.
        plain, *others = [_query(server, c) for c in ("auto", "always") for server in servers]
        assert len(plain) == count and plain[1] == ({"__name__": "node_load1",
                                                     "instance": "gpu00001:9100"}, 1 / 7)  # fmt: skip
        assert len(others) == 7 and all(found == plain for found in others)
        asked = [h.get("Accept-Encoding", "") for h in servers[1].headers]
        assert asked == ["identity", "gzip, deflate"]
    finally:
        for server in servers:
            server.stop()


@pytest.mark.parametrize(
    ("encoding", "why"),
    [("corrupt-gzip", "answer not readable as gzip"), ("br", "answer in an unknown encoding: br")],
)
def test_an_answer_that_cannot_be_inflated_is_a_clear_error(encoding: str, why: str) -> None:
    # Plain text sent under a compressed encoding's name: not what it says it is.
    server = StandIn(_vector(3), encoding=encoding).start()
    try:
        with pytest.raises(PromError) as caught:
            _query(server)
        assert caught.value.kind == "error"
        assert str(caught.value).startswith(f"Prometheus at http://{server.address}: {why}")
    finally:
        server.stop()
