"""Real Prometheus and node_exporter on loopback ports (no systemd), and stand-in exporters."""

from __future__ import annotations

import contextlib
import gzip
import json
import signal
import ssl
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.fleet.loopback import free_port
from tests.waiting import wait_for

# Absolute paths: a stray `prometheus` elsewhere on PATH must not stand in for Debian's.
PROMETHEUS = "/usr/bin/prometheus"
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
PROMTOOL = "/usr/bin/promtool"
VICTORIA = "/usr/bin/victoria-metrics"
OPENSSL = "/usr/bin/openssl"
LOOPBACK = "127.0.0.1"


def unavailable() -> str | None:
    """Why a real Prometheus cannot run here, or None."""
    missing = [t for t in (PROMETHEUS, NODE_EXPORTER) if not Path(t).is_file()]
    return (
        f"missing: {', '.join(missing)} (Debian prometheus, prometheus-node-exporter)"
        if missing
        else None
    )


@dataclass
class Target:
    """One scrape target: its job, address, the `instance` it stands for, and options."""

    job: str
    address: str
    instance: str | None = None
    bearer_file: Path | None = None
    honor_timestamps: bool = True

    def scrape_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "job_name": self.job,
            "scrape_interval": "1s",
            "scrape_timeout": "900ms",
            "honor_timestamps": self.honor_timestamps,
            "static_configs": [{"targets": [self.address]}],
        }
        if self.instance:
            config["relabel_configs"] = [{"target_label": "instance", "replacement": self.instance}]
        if self.bearer_file:
            config["authorization"] = {"credentials_file": str(self.bearer_file)}
        return config


@dataclass
class Daemon:
    """A background process started by a test, stopped by its PID."""

    argv: list[str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def node_exporter(root: Path) -> tuple[Daemon, str]:
    """A real node_exporter on a free loopback port; its address."""
    address = f"{LOOPBACK}:{free_port(LOOPBACK)}"
    daemon = Daemon([NODE_EXPORTER, f"--web.listen-address={address}"], root / "node.log")
    daemon.start()
    wait_for(lambda: _get(f"http://{address}/metrics"), 15, 0.1, f"node_exporter at {address}")
    return daemon, address


@dataclass
class Prometheus:
    """A real Prometheus scraping `targets` every second."""

    root: Path
    targets: list[Target]
    port: int = 0
    daemon: Daemon | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> None:
        self.port = free_port(LOOPBACK)
        config = {"global": {"scrape_interval": "1s"}, "scrape_configs": [
            t.scrape_config() for t in self.targets]}  # fmt: skip
        path = self.root / "prometheus.yml"
        path.write_text(json.dumps(config, indent=1))  # JSON is YAML
        self.daemon = Daemon(self.argv(path), self.root / "prometheus.log")
        self.daemon.start()
        wait_for(self._all_scraped, 30, 0.2, "Prometheus to scrape every target once")

    def argv(self, config: Path) -> list[str]:
        return [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={self.root / 'data'}",
            f"--web.listen-address={LOOPBACK}:{self.port}",
        ]

    def _all_scraped(self) -> bool:
        jobs = {(r["metric"]["job"]) for r in self.query("up")}
        return jobs >= {t.job for t in self.targets}

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The result of an instant query."""
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        doc = json.loads(_get(url) or "{}")
        assert doc.get("status") == "success", doc
        result: list[dict[str, Any]] = doc["data"]["result"]
        return result

    def value(self, promql: str) -> float | None:
        """The one value of a query (None: no series), as a float."""
        result = self.query(promql)
        assert len(result) <= 1, result
        return float(result[0]["value"][1]) if result else None

    def stop(self) -> None:
        if self.daemon is not None:
            self.daemon.stop()


class VictoriaMetrics(Prometheus):
    """Single-node VictoriaMetrics scraping the same targets (Prometheus's query API)."""

    def argv(self, config: Path) -> list[str]:
        return [
            VICTORIA,
            f"-promscrape.config={config}",
            f"-storageDataPath={self.root / 'vmdata'}",
            f"-httpListenAddr={LOOPBACK}:{self.port}",
            "-search.latencyOffset=1s",  # tests read what was scraped a second ago
        ]


def _get(url: str, timeout: float = 5.0) -> str | None:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body: bytes = response.read()
        return body.decode()


def _encoded(body: bytes, encoding: str) -> tuple[bytes, str]:
    """`body` compressed as `encoding` says, and the Content-Encoding to send it under."""
    if encoding == "gzip":
        return gzip.compress(body), "gzip"
    if encoding == "deflate":
        return zlib.compress(body), "deflate"
    if encoding == "raw-deflate":
        packer = zlib.compressobj(wbits=-15)
        return packer.compress(body) + packer.flush(), "deflate"
    return body, encoding.removeprefix("corrupt-")


@dataclass
class StandIn:
    """A stand-in exporter (dcgm-exporter, cAdvisor): serves `text` on /metrics, optionally slowly."""

    text: str
    delay: float = 0.0
    tls: tuple[Path, Path] | None = None
    """Certificate and key files: serve https."""
    headers: list[dict[str, str]] = field(default_factory=list)
    """The headers of each request, in order."""
    encoding: str = ""
    """Content-Encoding to send the text with: gzip, deflate (zlib), raw-deflate (sent as
    deflate), or anything else (sent as is, under that name; "corrupt-gzip": under gzip)."""
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"{host!s}:{port}"

    def start(self) -> StandIn:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.headers.append(dict(self.headers.items()))
                if owner.delay:
                    time.sleep(owner.delay)  # a slow exporter: the scrape times out
                body, coding = _encoded(owner.text.encode(), owner.encoding)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                if coding:
                    self.send_header("Content-Encoding", coding)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)  # a client that gave up (timeout) is gone

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
