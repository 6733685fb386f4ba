"""`clustertop export`: the fleet's readings on /metrics for Prometheus, read-only."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from clustertop.analysis.metrics import Family, build_metrics
from clustertop.analysis.stale import StaleTracker
from clustertop.cli import options
from clustertop.cli.serve import is_loopback
from clustertop.cli.web_guard import host_problem, make_guard, new_token, parse_authority
from clustertop.config.settings import Config, ConfigError
from clustertop.inventory.hosts import HostSpecError
from clustertop.model import HostSnapshot
from clustertop.sources.base import Source

DEFAULT_LISTEN = "127.0.0.1:9877"
"""Where the exporter listens unless told otherwise: this machine only."""


def build_export_parser() -> argparse.ArgumentParser:
    """Options of `clustertop export`; the rest are clustertop's own (hosts, -F, --config...)."""
    parser = argparse.ArgumentParser(
        prog="clustertop export",
        usage="clustertop export [--listen HOST:PORT] [--token-file FILE] [--no-auth] "
        "[clustertop options] [hosts ...]",
        description="Serve the hosts' readings as Prometheus metrics on /metrics. Read-only: "
        "it never acts on a host. Scrapers send `Authorization: Bearer <token>`; the token "
        "comes from --token-file, or a fresh one is printed at start.",
        allow_abbrev=False,
    )
    add = parser.add_argument
    add(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help=f"where to serve /metrics (default {DEFAULT_LISTEN})",
    )
    add("--token-file", type=Path, metavar="FILE", help="file holding the bearer token")
    add("--no-auth", action="store_true", help="serve without a token (loopback addresses only)")
    return parser


def _listen_address(text: str) -> tuple[str, int] | None:
    authority = parse_authority(text, default_port=0)
    if authority is None or not 0 < authority[1] < 65536:
        return None
    return authority


def _read_token(path: Path) -> str:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"--token-file {path}: cannot read: {exc}") from None
    if not token or any(c.isspace() for c in token):
        raise ValueError(f"--token-file {path}: expected one token without spaces")
    return token


class Readings:
    """The latest snapshot of each host and its stale containers, kept by the source's sink."""

    def __init__(self, source: Source, config: Config) -> None:
        self.names = list(source.host_names)
        self.latest: dict[str, HostSnapshot] = {}
        self.stale = StaleTracker.from_config(config)

    def sink(self, snap: HostSnapshot) -> None:
        self.latest[snap.name] = snap
        self.stale.update(snap)

    def payload(self) -> bytes:
        snaps = [self.latest[n] for n in self.names if n in self.latest]
        families = build_metrics(snaps, {s.name: self.stale.stale(s.name) for s in snaps})
        registry = CollectorRegistry(auto_describe=False)
        registry.register(FamilyCollector(families))
        return generate_latest(registry)


class FamilyCollector(Collector):
    """Hands prometheus-client the families built for one scrape (it does the escaping)."""

    def __init__(self, families: list[Family]) -> None:
        self.families = families

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for fam in self.families:
            gauge = GaugeMetricFamily(fam.name, fam.help, labels=list(fam.labels))
            for values, value in fam.samples:
                gauge.add_metric(list(values), value)
            yield gauge


def _auth_middleware(host: str, port: int, token: str | None) -> Middleware:
    guard = make_guard(host, port, None, token)
    expected = f"Bearer {token}".encode() if token else None

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        # A page on another site resolving its name to this address must not read the fleet.
        why = host_problem(guard, request.headers.get(hdrs.HOST, ""))
        if why is not None:
            return web.Response(status=403, text=f"clustertop export: refused: {why}\n")
        offered = request.headers.get(hdrs.AUTHORIZATION, "").encode()
        if expected is not None and not hmac.compare_digest(offered, expected):
            return web.Response(
                status=401,
                headers={hdrs.WWW_AUTHENTICATE: "Bearer"},
                text="clustertop export: refused: send `Authorization: Bearer <token>`\n",
            )
        return await handler(request)

    return check


def _app(readings: Readings, host: str, port: int, token: str | None) -> web.Application:
    async def metrics(_request: web.Request) -> web.Response:
        body = readings.payload()
        return web.Response(body=body, headers={hdrs.CONTENT_TYPE: CONTENT_TYPE_LATEST})

    app = web.Application(middlewares=[_auth_middleware(host, port, token)])
    app.router.add_get("/metrics", metrics)
    return app


async def _serve(source: Source, config: Config, host: str, port: int, token: str | None) -> None:
    readings = Readings(source, config)
    runner = web.AppRunner(_app(readings, host, port, token), access_log=None)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    task: asyncio.Task[None] | None = None
    try:
        await web.TCPSite(runner, host, port).start()  # first: a taken port connects to nothing
        task = asyncio.create_task(source.run(readings.sink))
        print(
            f"clustertop export: serving http://{_url_host(host)}:{port}/metrics", file=sys.stderr
        )
        await stop.wait()
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await source.aclose()
        await runner.cleanup()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _make_source(argv: Sequence[str]) -> tuple[Source, Config]:
    args = options.build_parser().parse_args(list(argv))
    if args.once or args.json or args.demo:
        raise ValueError("export serves the live readings: --once, --json and --demo do not apply")
    config = options.load_settings(args)
    if config.prometheus_url:
        raise ValueError("export serves the SSH fleet's readings: --prometheus does not apply")
    specs = options.host_specs(args, config)
    if not specs:
        raise ValueError("export needs hosts (it exports the SSH fleet), e.g. `export gpu[01-04]`")
    from clustertop.cli.fleet import ssh_source

    return ssh_source(specs, config), config


def export_command(argv: Sequence[str]) -> int:
    """Run `clustertop export [--listen HOST:PORT] [--token-file F | --no-auth] hosts...`."""
    args, rest = build_export_parser().parse_known_args(list(argv))
    address = _listen_address(args.listen)
    try:
        if address is None:
            raise ValueError(f"--listen {args.listen!r}: expected HOST:PORT, e.g. {DEFAULT_LISTEN}")
        if args.no_auth and not is_loopback(address[0]):
            raise ValueError("--no-auth only on a loopback address (anyone could read the fleet)")
        if args.no_auth and args.token_file:
            raise ValueError("--no-auth and --token-file: choose one")
        token = (
            None if args.no_auth else (_read_token(args.token_file) if args.token_file else None)
        )
        source, config = _make_source(rest)
    except (ValueError, ConfigError, HostSpecError, OSError) as exc:
        print(f"clustertop export: {exc}", file=sys.stderr)
        return 1
    if not args.no_auth and token is None:
        token = new_token()
        print(f"clustertop export: bearer token: {token}", file=sys.stderr)
    try:
        asyncio.run(_serve(source, config, *address, token))
    except OSError as exc:  # the address is taken or not this machine's
        print(f"clustertop export: cannot listen on {args.listen}: {exc.strerror or exc}",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0
