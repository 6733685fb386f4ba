"""Command line: parse options, pick the source, run the TUI or print one reading."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from clustertop import __version__
from clustertop.config.settings import Config, ConfigError, load_config, render_config
from clustertop.inventory.hosts import HostSpec, HostSpecError, read_hosts_file, resolve_hosts
from clustertop.sources.base import Source

EXIT_USAGE = 1
"""Exit status for usage and configuration errors."""

_SUBCOMMANDS = {"config": ("show",)}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for `clustertop [options] [hosts...]`."""
    parser = argparse.ArgumentParser(
        prog="clustertop",
        description="htop for a whole GPU cluster. No hosts: this machine. "
        "Hosts: ssh config aliases, [user@]host[:port], ranges like gpu[01-16], @groups.",
        epilog="Also: `clustertop config show` prints the effective settings and their sources; "
        "`clustertop serve` serves this TUI to web browsers.",
    )
    parser.add_argument("hosts", nargs="*", help="hosts, ranges and @groups to watch")
    add = parser.add_argument
    add("-V", "--version", action="version", version=f"clustertop {__version__}")
    add("-H", "--hosts-file", metavar="FILE", action="append", help="file with one host per line")
    add("--once", action="store_true", help="print one reading and exit")
    add("--json", action="store_true", help="with --once: print JSON (schema 1)")
    add("--demo", action="store_true", help="show a built-in demo cluster")
    add("--owner", metavar="NAME", help="show only this person's hosts, containers and processes")
    add("--mine", action="store_true", help="like --owner with your own login name")
    add("--bell", action="store_true", help="ring the terminal bell when a new alert appears")
    add_setting_options(parser)
    return parser


def add_setting_options(parser: argparse.ArgumentParser) -> None:
    """Options that override config settings (shared by `config show`)."""
    add = parser.add_argument
    add("-F", "--ssh-config", metavar="FILE", help="ssh config file (like ssh -F)")
    add("--config", metavar="FILE", help="clustertop config file (TOML)")
    add("-i", "--interval", metavar="SECONDS", help="seconds between readings (default 2)")
    add("-t", "--timeout", metavar="SECONDS", help="per-host deadline (default 10)")
    add("--connect-timeout", metavar="SECONDS", help="SSH connection deadline")
    add("--max-handshakes", metavar="N", help="SSH handshakes in flight at once")
    add("--known-hosts", metavar="FILE", help="known_hosts file to check host keys against")
    add(
        "--accept-new-hostkeys",
        action="store_const",
        const=True,
        help="learn keys of hosts not in known_hosts (changed keys are still refused)",
    )
    add("--readonly", action="store_const", const=True, help="no actions on hosts")
    add("--stale-after", metavar="DURATION", help="GPU idle time before a container is stale")
    add("--theme", metavar="NAME", help="Textual theme")


def _cli_settings(args: argparse.Namespace) -> dict[str, object]:
    return {
        "interval": args.interval,
        "timeout": args.timeout,
        "connect_timeout": args.connect_timeout,
        "max_handshakes": args.max_handshakes,
        "ssh_config": args.ssh_config,
        "known_hosts": args.known_hosts,
        "accept_new_hostkeys": args.accept_new_hostkeys,
        "readonly": args.readonly,
        # The demo has no past: its idle containers are stale at once, as the demo is meant to show.
        "stale_after": "0"
        if args.stale_after is None and getattr(args, "demo", False)
        else args.stale_after,
        "theme": args.theme,
    }


def _host_specs(args: argparse.Namespace, config: Config) -> list[HostSpec]:
    items = list(args.hosts)
    for path in args.hosts_file or ():
        items += read_hosts_file(path)
    specs = resolve_hosts(items, config.groups)
    result = []
    for spec in specs:
        override = config.host_override(spec.name)
        result.append(HostSpec(spec.name, spec.user or override.user, spec.port or override.port))
    return result


def make_source(args: argparse.Namespace, config: Config, specs: list[HostSpec]) -> Source:
    """Demo, local machine, or SSH hosts."""
    if args.demo:
        from clustertop.sources.demo.source import DemoSource

        return DemoSource(interval=config.interval)
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
    if argv[:1] == ["serve"]:
        from clustertop.cli.serve import serve_command

        return serve_command(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.json and not args.once:
        return _usage_error("--json needs --once")
    try:
        config = load_config(
            _cli_settings(args), os.environ, Path(args.config) if args.config else None
        )
        specs = _host_specs(args, config)
    except (ConfigError, HostSpecError, OSError) as exc:
        return _usage_error(str(exc))
    for warning in config.warnings:
        print(f"clustertop: warning: {warning}", file=sys.stderr)
    source = make_source(args, config, specs)
    if args.once:
        return _once(source, config, as_json=args.json, owner=_owner(args))
    return _tui(source, config, args, specs)


def _owner(args: argparse.Namespace) -> str | None:
    owner: str | None = args.owner or (getpass.getuser() if args.mine else None)
    return owner


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
        owner=_owner(args),
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
    add_setting_options(parser)
    args = parser.parse_args(argv)
    try:
        config = load_config(
            _cli_settings(args), os.environ, Path(args.config) if args.config else None
        )
    except ConfigError as exc:
        return _usage_error(str(exc))
    sys.stdout.write(render_config(config))
    return 0
