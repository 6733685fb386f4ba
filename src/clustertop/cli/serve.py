"""`clustertop serve`: the same TUI in a browser, one clustertop process per browser session."""

from __future__ import annotations

import argparse
import ipaddress
import os
import shlex
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from clustertop.cli import options
from clustertop.config.settings import ConfigError, load_config
from clustertop.inventory.hosts import HostSpecError

if TYPE_CHECKING:
    from clustertop.cli.web_server import GuardedServer

DEFAULT_HOST = "127.0.0.1"
"""Where the web server listens unless told otherwise: this machine only."""
DEFAULT_PORT = 8000
"""Its default port."""
DEFAULT_MAX_SESSIONS = 2
"""Browser sessions (each its own clustertop with its own SSH connections) at once."""
_NOT_SERVED = ("--once", "--json", "-h", "--help", "-V", "--version")


def build_serve_parser() -> argparse.ArgumentParser:
    """Options of `clustertop serve`; everything else is passed to each served clustertop."""
    parser = argparse.ArgumentParser(
        prog="clustertop serve",
        usage="clustertop serve [--host HOST] [--port PORT] [--public-url URL] "
        "[--unix-socket PATH] [--max-sessions N] [--no-auth] [--allow-actions] "
        "[clustertop options] [hosts ...]",
        description="Serve the clustertop TUI in a web browser (textual-serve). Other options "
        "and hosts are those of clustertop itself; each browser session runs its own "
        "clustertop, read-only unless --allow-actions. The URL it prints carries a token "
        "that every page and session needs.",
        allow_abbrev=False,  # `--host` must never swallow clustertop's `--hosts-file`
    )
    add = parser.add_argument
    add("--host", help=f"address to listen on (default {DEFAULT_HOST})")
    add("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    add("--public-url", metavar="URL", help="URL browsers reach the server at, if not host:port")
    add(
        "--unix-socket",
        metavar="PATH",
        type=Path,
        help="listen on this unix socket instead, in a folder only you can enter (made 0700 "
        "if missing); reach it with ssh -L PORT:PATH",
    )
    add(
        "--max-sessions",
        type=_positive_int,
        default=DEFAULT_MAX_SESSIONS,
        metavar="N",
        help=f"browser sessions at once; more are refused (default {DEFAULT_MAX_SESSIONS})",
    )
    add(
        "--no-auth",
        action="store_true",
        help="serve without the token (Host and Origin are still checked); not with "
        "--allow-actions",
    )
    add(
        "--allow-actions",
        action="store_true",
        help="let browser users act on hosts (default: served sessions are --readonly)",
    )
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def is_loopback(host: str) -> bool:
    """True for 'localhost' and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def served_argv(clustertop_args: Sequence[str], *, allow_actions: bool) -> list[str]:
    """The clustertop command each browser session runs: this Python, read-only by default."""
    # Before the passed-through arguments: after a `--` it would be a host name.
    readonly = [] if allow_actions else ["--readonly"]
    return [sys.executable, "-m", "clustertop", *readonly, *clustertop_args]


def check_clustertop_args(clustertop_args: Sequence[str]) -> str | None:
    """Why the passed-through options would fail in every session, or None when they are fine.

    Checked once here, so a mistake shows on the terminal instead of as an ended browser session.
    """
    refused = [arg for arg in clustertop_args if arg.split("=", 1)[0] in _NOT_SERVED]
    if refused:
        return f"serve runs the live TUI: {refused[0]} cannot be served"
    try:
        args = options.build_parser().parse_args(list(clustertop_args))
    except SystemExit as exc:  # argparse already printed the usage error
        return "" if exc.code else None
    try:
        config = load_config(
            options.cli_settings(args), os.environ, Path(args.config) if args.config else None
        )
        options.host_specs(args, config)
    except (ConfigError, HostSpecError, OSError) as exc:
        return str(exc)
    return None


def serve_command(argv: Sequence[str]) -> int:
    """Run `clustertop serve [--host H] [--port P] [--allow-actions] [clustertop options]`."""
    args, rest = build_serve_parser().parse_known_args(list(argv))
    problem = _serve_options_problem(args) or check_clustertop_args(rest)
    if problem is not None:
        if problem:
            print(f"clustertop serve: {problem}", file=sys.stderr)
        return 1
    if args.unix_socket is None and not is_loopback(args.host):
        print(
            f"clustertop serve: warning: listening on {args.host}: anyone who can reach this "
            "address and port can see the cluster"
            + ("" if not args.allow_actions else " and act on its hosts"),
            file=sys.stderr,
        )
    _server(args, rest).serve()
    return 0


def _serve_options_problem(args: argparse.Namespace) -> str | None:
    """Why these serve options cannot be used together, or None; sets the default host."""
    if args.no_auth and args.allow_actions:
        return (
            "--allow-actions needs authentication: it cannot be used with --no-auth "
            "(anyone reaching the server could act with your credentials)"
        )
    if args.unix_socket is None:
        args.host = args.host or DEFAULT_HOST
        return None
    if args.host is not None:
        return "--host and --unix-socket: choose one"
    from clustertop.cli.web_server import socket_path_problem

    args.unix_socket = args.unix_socket.absolute()
    return socket_path_problem(args.unix_socket)


def _default_public_url(host: str, port: int) -> str | None:
    """Where to tell browsers to go when textual-serve's http://HOST:PORT would not work."""
    name = host.strip("[]")
    if name in ("0.0.0.0", "::", ""):  # every interface: this machine's own name
        return f"http://{socket.gethostname()}:{port}"
    return f"http://[{name}]:{port}" if ":" in name else None


def _server(args: argparse.Namespace, rest: Sequence[str]) -> GuardedServer:
    """The web server for these options, with a fresh token unless --no-auth."""
    from clustertop.cli.web_guard import make_guard, new_token, unix_socket_guard
    from clustertop.cli.web_server import GuardedServer

    command = shlex.join(served_argv(rest, allow_actions=args.allow_actions))
    token = None if args.no_auth else new_token()
    public_url = args.public_url
    if args.unix_socket is None:
        public_url = public_url or _default_public_url(args.host, args.port)
        guard = make_guard(args.host, args.port, public_url, token)
    else:
        guard = unix_socket_guard(str(args.unix_socket), public_url, token)
        public_url = public_url or f"http://localhost:{args.port}"  # the tunnel's near end
    return GuardedServer(
        command,
        guard=guard,
        max_sessions=args.max_sessions,
        unix_socket=args.unix_socket,
        host=args.host or "localhost",
        port=args.port,
        title="clustertop",
        public_url=public_url,
    )
