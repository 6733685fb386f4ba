"""Prometheus's HTTP API (VictoriaMetrics' too): instant queries and target health, via aiohttp."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import ssl
import urllib.parse
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import orjson

from clustertop.sources.prometheus.memo import (
    Labels,
    Memo,
    Series,
    json_labels,
    memo_vector,
    number,
)
from clustertop.util.textsafe import printable

RangeSeries = tuple[Labels, list[tuple[float, float]]]
"""One series of a range query: its labels and (unix time, value) points, oldest first."""


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """The cyclic collector paused: decoding an answer makes hundreds of thousands of acyclic
    dicts and lists, and each generation-0 threshold crossed would rescan them (measured: about
    half the client's CPU at 5,000 hosts x 8 GPUs)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


_T = TypeVar("_T")
OFF_LOOP_BYTES = 256 * 1024
"""Answers larger than this are decoded in a thread: a reading of 5,000 hosts is tens of MB,
and decoding it on the event loop would hold the UI's keys for a second or more."""


DECODER = ThreadPoolExecutor(1, thread_name_prefix="prometheus-decode")
"""One thread decodes and joins answers, one at a time: several would take turns with the UI's
event loop for the interpreter lock, leaving it a smaller share."""


async def off_loop(work: Callable[[], _T]) -> _T:
    """`work` done in the decoding thread."""
    return await asyncio.get_running_loop().run_in_executor(DECODER, work)


DEFLATE_RATIO = 64
"""How much larger than sent a deflate answer is taken to be (it does not say; Prometheus's
answers of a few labels per series inflate 15-60 times)."""
ENCODINGS = "gzip, deflate"
"""What the client asks answers to be compressed with (and inflates itself: `inflated`)."""
UNCOMPRESSED = "identity"
"""What the client asks for when compressing would only cost: Prometheus on this machine."""


def inflated(body: bytes, coding: str) -> bytes:
    """`body` as sent with Content-Encoding `coding` (gzip, deflate or none), inflated;
    PromError when it cannot be."""
    coding = coding.strip().lower()
    if coding in ("", "identity"):
        return body
    if coding not in ("gzip", "x-gzip", "deflate"):
        raise PromError("error", f"answer in an unknown encoding: {printable(coding[:40])}")
    try:
        # 47: a gzip or zlib header, whichever it has; deflate without a header (-15), as
        # some servers send it, otherwise. zlib lets the interpreter lock go on large input.
        return zlib.decompress(body, 47)
    except zlib.error as exc:
        if coding == "deflate":
            with contextlib.suppress(zlib.error):
                return zlib.decompress(body, -15)
        raise PromError("error", f"answer not readable as {coding}: {exc}") from None


async def _decoded(
    body: bytes,
    parse: Callable[[Any], _T],
    raw: Callable[[bytes], _T | None] | None = None,
    coding: str = "",
) -> _T:
    """`parse` of the JSON `body` (or `raw`'s reading of it, when it has one), inflated first
    when sent compressed (`coding`): off the event loop when the body is large. A 5,000-host
    reading is about 2.5 MB of gzip for 25 MB of JSON; aiohttp would inflate it on the loop."""

    def run() -> _T:
        text = inflated(body, coding) if coding else body
        with no_gc():
            found = raw(text) if raw is not None else None
            return found if found is not None else parse(orjson.loads(text))

    return await off_loop(run) if _size(body, coding) > OFF_LOOP_BYTES else run()


def _size(body: bytes, coding: str) -> int:
    """How large `body` is inflated: gzip's trailer says (its size modulo 2**32, the last
    four bytes), else a guess on the large side."""
    if not coding:
        return len(body)
    if coding.strip().lower() in ("gzip", "x-gzip") and len(body) >= 18:
        return max(len(body), int.from_bytes(body[-4:], "little"))
    return len(body) * DEFLATE_RATIO


def _same(doc: Any) -> Any:
    return doc


class PromError(Exception):
    """Prometheus could not answer; `kind` is 'unreachable', 'timeout' or 'error'."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class PromSettings:
    """Where Prometheus is and how to log in."""

    url: str
    bearer_token_file: Path | None = None
    user: str = ""
    password_file: Path | None = None
    verify_tls: bool = True
    timeout: float = 10.0
    compress: str = "auto"
    """Ask for compressed answers: 'always', 'never', or 'auto' (not from a loopback host)."""


def is_loopback(url: str) -> bool:
    """Whether `url`'s host is this machine by its name or address: `localhost`, 127.0.0.0/8 or
    ::1 (bracketed in URLs, or IPv4-mapped). Other names are not resolved: False."""
    try:
        host = urllib.parse.urlsplit(url).hostname
    except ValueError:  # an unclosed [ in the URL
        return False
    if not host:
        return False
    if host == "localhost":  # hostname is lowercased
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def accept_encoding(settings: PromSettings) -> str:
    """The Accept-Encoding asked with every query. Compressed answers are about a tenth of the
    JSON's size (a slow link's gain), but cost Prometheus about a tenth of its CPU (a first
    reading of 5,000 hosts x 8 GPUs: some 0.5 s of 4.4-5.1 s), so `auto` asks for them only
    when Prometheus is not on this machine."""
    if settings.compress == "always":
        return ENCODINGS
    if settings.compress == "never":
        return UNCOMPRESSED
    if settings.compress == "auto":
        return UNCOMPRESSED if is_loopback(settings.url) else ENCODINGS
    raise ValueError(f"compress: expected 'auto', 'always' or 'never', got {settings.compress!r}")


@dataclass(frozen=True, slots=True)
class TargetHealth:
    """One scrape target as /api/v1/targets reports it."""

    labels: Labels
    up: bool
    error: str


def _read_secret(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise PromError("error", f"cannot read the {what} file {path}: {exc}") from None


def _headers(settings: PromSettings) -> dict[str, str]:
    if settings.bearer_token_file is not None:
        token = _read_secret(settings.bearer_token_file, "bearer token")
        return {"Authorization": f"Bearer {token}"}
    return {}


def _auth(settings: PromSettings) -> aiohttp.BasicAuth | None:
    if not settings.user:
        return None
    password = ""
    if settings.password_file is not None:
        password = _read_secret(settings.password_file, "password")
    return aiohttp.BasicAuth(settings.user, password)


def _items(found: object) -> list[dict[str, Any]]:
    """The objects of a JSON list (anything else in it, or a non-list, is skipped)."""
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def parse_vector(doc: object) -> list[Series]:
    """The series of an instant-query answer; PromError for an error or another result type."""
    if not isinstance(doc, dict):
        raise PromError("error", "answer is not a JSON object")
    if doc.get("status") != "success":
        raise PromError("error", f"{doc.get('errorType', 'error')}: {doc.get('error', '?')}")
    data = doc.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "vector":
        raise PromError("error", "answer is not an instant vector")
    found: list[Series] = []
    result = data.get("result")
    # `type(x) is` rather than isinstance: decoded JSON has no subclasses, and this loop runs
    # for every series.
    for item in result if type(result) is list else ():
        if type(item) is not dict:
            continue
        labels, value = item.get("metric"), item.get("value")
        if type(labels) is dict and type(value) is list and len(value) == 2:
            parsed = number(value[1])
            if parsed is not None:
                found.append((json_labels(labels), parsed))
    return found


def parse_matrix(doc: object) -> list[RangeSeries]:
    """The series of a range-query answer (non-finite points left out)."""
    if not isinstance(doc, dict) or doc.get("status") != "success":
        parse_vector(doc)  # raises with the answer's own error
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, dict) or data.get("resultType") != "matrix":
        raise PromError("error", "answer is not a range vector")
    found: list[RangeSeries] = []
    for item in _items(data.get("result")):
        labels, values = item.get("metric"), item.get("values")
        if not isinstance(labels, dict) or not isinstance(values, list):
            continue
        points = [
            (float(t), v)
            for t, raw in (p for p in values if isinstance(p, list) and len(p) == 2)
            if (v := number(raw)) is not None
        ]
        found.append((json_labels(labels), points))
    return found


MEMO_QUERIES = 64
"""Queries whose last answers are kept (a reading asks about 30)."""


class PromClient:
    """One aiohttp session to one Prometheus."""

    def __init__(self, settings: PromSettings) -> None:
        self.settings = settings
        self.accept_encoding = accept_encoding(settings)
        """Asked with every query; answers are inflated whatever the server sends."""
        self._session: aiohttp.ClientSession | None = None
        self._memos: dict[str, Memo] = {}

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            ssl_context: ssl.SSLContext | bool = bool(self.settings.verify_tls)
            self._session = aiohttp.ClientSession(
                headers={"Accept-Encoding": self.accept_encoding, **_headers(self.settings)},
                # Answers are inflated with their decoding, in its thread (_decoded).
                auto_decompress=False,
                auth=_auth(self.settings),
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout),
                connector=aiohttp.TCPConnector(ssl=ssl_context, limit=8),
            )
        return self._session

    async def get(
        self,
        path: str,
        params: dict[str, str] | None = None,
        parse: Callable[[Any], _T] = _same,
        raw: Callable[[bytes], _T | None] | None = None,
    ) -> _T:
        """GET one API path; `parse` of its JSON (`raw` of the body first: None when it cannot
        read it), or PromError saying precisely what went wrong."""
        where = f"Prometheus at {self.settings.url}"
        try:
            async with self._open().get(self.settings.url + path, params=params) as response:
                body = await response.read()
                coding = response.headers.get("Content-Encoding", "")
                if response.status >= 400:
                    body, coding = inflated(body, coding), ""
                    if not body.startswith(b"{"):
                        text = printable(body[:200].decode("utf-8", "replace"))
                        raise PromError("error", f"{where}: HTTP {response.status}: {text}")
            return await _decoded(body, parse, raw, coding)
        except PromError as exc:
            if str(exc).startswith(where):
                raise
            raise PromError(exc.kind, f"{where}: {exc}") from None
        except asyncio.TimeoutError:
            raise PromError(
                "timeout", f"{where}: no answer within {self.settings.timeout:g} s"
            ) from None
        except aiohttp.ClientConnectorCertificateError as exc:
            why = f"TLS certificate refused ({exc.certificate_error}); see prometheus_verify_tls"
            raise PromError("error", f"{where}: {why}") from None
        except aiohttp.ClientConnectorError as exc:
            raise PromError("unreachable", f"{where}: cannot connect: {exc.os_error}") from None
        except (aiohttp.ClientError, ValueError) as exc:
            raise PromError("error", f"{where}: {type(exc).__name__}: {exc}") from None

    async def query(self, promql: str) -> list[Series]:
        """An instant query's series (each one read again only when its text changed)."""
        if promql not in self._memos and len(self._memos) >= MEMO_QUERIES:
            self._memos.clear()  # the open host's own queries change with it: bounded
        memo = self._memos.setdefault(promql, {})
        try:
            return await self.get(
                "/api/v1/query",
                {"query": promql},
                parse_vector,
                lambda body: memo_vector(body, memo),
            )
        except PromError as exc:
            if str(exc).startswith("Prometheus at"):
                raise
            raise PromError(exc.kind, f"Prometheus at {self.settings.url}: {exc}") from None

    async def query_range(
        self, promql: str, start: float, end: float, step: float
    ) -> list[RangeSeries]:
        """A range query's series, one point per `step` seconds."""
        params = {
            "query": promql,
            "start": f"{start:.3f}",
            "end": f"{end:.3f}",
            "step": f"{step:g}",
        }
        try:
            return await self.get("/api/v1/query_range", params, parse_matrix)
        except PromError as exc:
            if str(exc).startswith("Prometheus at"):
                raise
            raise PromError(exc.kind, f"Prometheus at {self.settings.url}: {exc}") from None

    async def targets(self) -> list[TargetHealth]:
        """Active targets with their health and last scrape error ([] if the API lacks it)."""
        doc: Any = await self.get("/api/v1/targets", {"state": "active"})
        data = doc.get("data") if isinstance(doc, dict) else None
        found = []
        for item in _items((data or {}).get("activeTargets")):
            labels = item.get("labels")
            labels = {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}
            up = item.get("health") == "up"
            found.append(TargetHealth(labels, up, printable(str(item.get("lastError") or ""))))
        return found

    async def aclose(self) -> None:
        """Close the session."""
        if self._session is not None:
            await self._session.close()
            self._session = None


__all__ = [
    "Labels", "Memo", "PromClient", "PromError", "PromSettings", "RangeSeries", "Series",
    "TargetHealth", "accept_encoding", "is_loopback", "memo_vector", "no_gc", "number",
    "off_loop", "parse_matrix", "parse_vector",
]  # fmt: skip
