"""`clustertop report`: who held which GPUs, how much sat idle, per host up time, from the store."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from clustertop.cli import options
from clustertop.cli.report_format import dumps, report_csv, report_table
from clustertop.config.values import duration
from clustertop.store.report import build_report
from clustertop.store.schema import StoreError

DEFAULT_SINCE = 7 * 86400.0
"""Span of a report when neither --since nor --from is given."""
SVG_BUCKETS = 200
"""Time buckets of the --svg chart."""


def build_report_parser() -> argparse.ArgumentParser:
    """Options of `clustertop report`."""
    parser = argparse.ArgumentParser(
        prog="clustertop report",
        description="GPU-hours held, busy and held idle per owner, peak GPUs, per host up time "
        "and utilisation, and the longest-stale containers, from the history store.",
    )
    add = parser.add_argument
    add("hosts", nargs="*", help="only these hosts (as recorded; default: all)")
    add("--since", metavar="DURATION", help="the last DURATION, e.g. 7d, 12h (default 7d)")
    add(
        "--from",
        dest="start",
        metavar="TIME",
        help="start: 2026-12-01, 2026-12-01T08:00, "
        "with a UTC offset or Z, else local time; or unix seconds",
    )
    add("--to", dest="end", metavar="TIME", help="end (default now)")
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON")
    fmt.add_argument("--csv", action="store_true", help="print CSV")
    add("--svg", metavar="FILE", type=Path, help="also draw per-owner GPU use over time")
    add("--store", metavar="FILE", type=Path, help="history store to read (default: config's)")
    add("--config", metavar="FILE", help="clustertop config file (TOML)")
    return parser


def parse_time(text: str) -> float:
    """Unix time from unix seconds or ISO 8601 (local time when no offset is given)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"expected a time like 2026-12-01 or 2026-12-01T08:00Z or unix seconds, got {text!r}"
        ) from None
    return moment.timestamp()


def _span(args: argparse.Namespace, now: float) -> tuple[float, float]:
    if args.since is not None and args.start is not None:
        raise ValueError("give --since or --from, not both")
    until = parse_time(args.end) if args.end is not None else now
    if args.start is not None:
        since = parse_time(args.start)
    else:
        ago = duration(positive=True)(args.since) if args.since is not None else DEFAULT_SINCE
        since = until - ago
    if since >= until:
        raise ValueError("the span is empty: its start is not before its end")
    return since, until


def _store_path(args: argparse.Namespace) -> Path:
    if args.store is not None:
        return Path(args.store)
    plain = vars(options.build_parser().parse_args([]))
    config = options.load_settings(argparse.Namespace(**{**plain, "config": args.config}))
    if config.history_path is None:
        raise StoreError("no history store: history_path is empty in the config")
    return config.history_path


def report_command(argv: Sequence[str], now: float | None = None) -> int:
    """Run `clustertop report`; returns the exit status."""
    from clustertop.config.settings import ConfigError

    args = build_report_parser().parse_args(list(argv))
    try:
        since, until = _span(args, time.time() if now is None else now)
        path = _store_path(args)
        report = build_report(path, since, until, args.hosts, SVG_BUCKETS if args.svg else 0)
    except (ValueError, StoreError, ConfigError, OSError) as exc:
        print(f"clustertop report: {exc}", file=sys.stderr)
        return 1
    if args.svg is not None:
        from clustertop.cli.report_svg import report_svg

        try:
            args.svg.write_text(report_svg(report), encoding="utf-8")
        except OSError as exc:
            print(f"clustertop report: cannot write {args.svg}: {exc.strerror}", file=sys.stderr)
            return 1
    text = dumps(report) if args.json else report_csv(report) if args.csv else report_table(report)
    sys.stdout.write(text)
    return 0


__all__ = ["build_report_parser", "parse_time", "report_command"]
