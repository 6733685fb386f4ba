"""Command line: parse options, pick the source, run the TUI or print one reading."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from clustertop.cli import options
from clustertop.config.settings import Config, ConfigError, render_config
from clustertop.inventory.hosts import HostSpec, HostSpecError
from clustertop.sources.base import Source
from clustertop.sources.prometheus.client import PromError
from clustertop.util.quiet import quiet_third_party_warnings

EXIT_USAGE = 1
"""Exit status for usage and configuration errors."""

_SUBCOMMANDS = {"config": ("show",)}


def make_source(args: argparse.Namespace, config: Config, specs: list[HostSpec]) -> Source:
    """Demo, local machine, or SSH hosts."""
    if args.demo:
        from clustertop.sources.demo.source import DemoSource

        return DemoSource(interval=config.interval)
    if config.prometheus_url:
        from clustertop.cli.prometheus import prometheus_source

        return prometheus_source(config, specs)
    if not specs:
        from clustertop.sources.local.source import LocalSource

        return LocalSource(config.interval, owner_rule=config.owner_rule())
    from clustertop.cli.fleet import ssh_source

    return ssh_source(specs, config, once=args.once)


def _usage_error(message: str) -> int:
    print(f"clustertop: {message}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Run clustertop; returns the exit status."""
    quiet_third_party_warnings()  # the console script's first step, before asyncssh loads
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except BrokenPipeError:  # `clustertop --once | head`: the reader left, nothing is wrong
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130


def _main(argv: list[str]) -> int:
    if argv[:1] == ["config"]:
        return _config_command(argv[1:])
    if argv[:1] == ["report"]:
        from clustertop.cli.report import report_command

        return report_command(argv[1:])
    if argv[:1] == ["serve"]:
        from clustertop.cli.serve import serve_command

        return serve_command(argv[1:])
    if argv[:1] == ["export"]:
        from clustertop.cli.export import export_command

        return export_command(argv[1:])
    parser = options.build_parser()
    args = parser.parse_args(argv)
    if args.json and not args.once:
        return _usage_error("--json needs --once")
    try:
        config = options.load_settings(args)
        specs = options.host_specs(args, config)
    except (ConfigError, HostSpecError, OSError) as exc:
        return _usage_error(str(exc))
    for warning in config.warnings:
        print(f"clustertop: warning: {warning}", file=sys.stderr)
    try:
        source = make_source(args, config, specs)
    except PromError as exc:
        return _usage_error(f"{exc} (name the hosts to watch them anyway)")
    if args.once:
        return _once(source, config, as_json=args.json, owner=options.owner(args))
    return _tui(source, config, args, specs)


def _once(source: Source, config: Config, *, as_json: bool, owner: str | None) -> int:
    from clustertop.analysis.live import ClusterAnalysis
    from clustertop.analysis.users import owner_view
    from clustertop.cli import once_json as jsonout
    from clustertop.cli import once_table as report
    from clustertop.util.textsafe import safe_stdout

    safe_stdout()  # an encoding error on stdout never ends the report half-way
    snapshots = asyncio.run(source.collect_once(config.timeout + 1.0))
    analysis = ClusterAnalysis.from_config(config)
    for snap in snapshots:
        analysis.update(snap)
    # --owner/--mine: the hosts where that person has something, with only their rows, as in
    # the grid; alerts, free GPUs and the summary stay the whole fleet's.
    shown = snapshots if owner is None else owner_view(snapshots, owner)
    if as_json:
        extra = analysis.document_extras(snapshots)
        if owner is not None:
            extra["users"] = [row for row in extra["users"] if row["owner"] == owner]
        doc = jsonout.document(
            shown,
            stale_ids={s.name: analysis.stale(s) for s in shown},
            extra={**extra, "owner": owner},
        )
        json.dump(doc, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        if owner is not None:
            sys.stdout.write(report.owner_line(owner, len(shown), len(snapshots)))
        if shown:
            sys.stdout.write(report.render(shown))
    return 0


def _tui(source: Source, config: Config, args: argparse.Namespace, specs: list[HostSpec]) -> int:
    from clustertop.cli.launch import build_app
    from clustertop.ui.shell import launcher_for

    app = build_app(
        source,
        config,
        owner=options.owner(args),
        bell=args.bell,
        shell=launcher_for(demo=args.demo, ssh_config=config.ssh_config, specs=specs),
    )
    app.run()
    return 0


def _config_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="clustertop config", description="show the effective settings and their sources"
    )
    parser.add_argument("action", choices=_SUBCOMMANDS["config"])
    options.add_setting_options(parser)
    args = parser.parse_args(argv)
    try:
        config = options.load_settings(args)
    except ConfigError as exc:
        return _usage_error(str(exc))
    sys.stdout.write(render_config(config))
    return 0
