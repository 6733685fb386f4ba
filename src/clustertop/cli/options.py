"""The command line's options, and the settings and hosts they resolve to (for main and serve)."""

from __future__ import annotations

import argparse
import getpass
import os
from pathlib import Path

from clustertop import __version__
from clustertop.config.settings import Config, load_config
from clustertop.inventory.hosts import HostSpec, read_hosts_file, resolve_hosts


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for `clustertop [options] [hosts...]`."""
    parser = argparse.ArgumentParser(
        prog="clustertop",
        description="htop for a whole GPU cluster. No hosts: this machine. "
        "Hosts: ssh config aliases, [user@]host[:port], ranges like gpu[01-16], @groups.",
        epilog="Also: `clustertop config show` prints the effective settings and their sources; "
        "`clustertop serve` serves this TUI to web browsers; "
        "`clustertop export` serves the hosts' readings to Prometheus; "
        "`clustertop report` sums up the recorded history.",
    )
    parser.add_argument("hosts", nargs="*", help="hosts, ranges and @groups to watch")
    add = parser.add_argument
    add("-V", "--version", action="version", version=f"clustertop {__version__}")
    add("-H", "--hosts-file", metavar="FILE", action="append", help="file with one host per line")
    add("--once", action="store_true", help="print one reading and exit")
    add("--json", action="store_true", help="with --once: print JSON (schema 2)")
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
    add(
        "--prometheus",
        "--prometheus-url",  # the setting's own name, as `config show` cites it
        dest="prometheus",
        metavar="URL",
        help="read hosts from this Prometheus instead of SSH",
    )


def cli_settings(args: argparse.Namespace) -> dict[str, object]:
    """The config settings given on the command line (None: not given)."""
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
        "prometheus_url": args.prometheus,
    }


def host_specs(args: argparse.Namespace, config: Config) -> list[HostSpec]:
    """The hosts to watch: arguments and hosts files, ranges and @groups expanded, with the
    config's per-host user and port where the command line gives none."""
    items = list(args.hosts)
    for path in args.hosts_file or ():
        items += read_hosts_file(path)
    specs = resolve_hosts(items, config.groups)
    result = []
    for spec in specs:
        override = config.host_override(spec.name)
        result.append(HostSpec(spec.name, spec.user or override.user, spec.port or override.port))
    return result


def load_settings(args: argparse.Namespace) -> Config:
    """The effective config: command line over environment over config file over defaults."""
    return load_config(cli_settings(args), os.environ, Path(args.config) if args.config else None)


def owner(args: argparse.Namespace) -> str | None:
    """Whose hosts and rows alone to show: --owner, or --mine's login name (None: all)."""
    owner: str | None = args.owner or (getpass.getuser() if args.mine else None)
    return owner
