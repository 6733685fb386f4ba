"""Opening SSH connections the way the user's ssh does, and naming why one failed."""

from __future__ import annotations

import asyncio
import errno
import functools
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import asyncssh.config

from clustertop.inventory.hosts import HostSpec
from clustertop.model import HostState
from clustertop.sources.ssh.configparse import config_reader
from clustertop.sources.ssh.gates import FIRST_TRY, ConnectGates
from clustertop.sources.ssh.hostkeys import HostKeyPolicy
from clustertop.sources.ssh.reach import open_socket, wait_readable
from clustertop.sources.ssh.tunnel import OpenedChannel, open_channel
from clustertop.util.aio import within


@dataclass(frozen=True, slots=True)
class SshSettings:
    """Connection settings shared by every host."""

    config_paths: tuple[Path, ...] | None = None
    """ssh config files (-F); None: ~/.ssh/config when it exists."""
    known_hosts: Path | None = None
    """known_hosts override; None: the ssh config's UserKnownHostsFile, else the default."""
    accept_new_hostkeys: bool = False
    """Learn unknown host keys (changed keys are still refused)."""
    connect_timeout: float = 10.0
    """Seconds for TCP connect, key exchange and authentication together."""
    keepalive_interval: float = 15.0
    """Seconds between keepalives when the ssh config sets none."""


class ConnectFailure(Exception):
    """A connection attempt failed; `state` and the message say how."""

    def __init__(self, state: HostState, message: str) -> None:
        super().__init__(message)
        self.state = state
        """The host state this failure means."""


class _Client(asyncssh.SSHClient):
    def __init__(self, policy: HostKeyPolicy) -> None:
        self._policy = policy

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        return self._policy.decide(host, addr, port, key)


def _config_arg(settings: SshSettings) -> Sequence[str] | None:
    if settings.config_paths is not None:
        return [str(p) for p in settings.config_paths]
    default = Path("~/.ssh/config").expanduser()
    return [str(default)] if default.is_file() else None


Options = asyncssh.SSHClientConnectionOptions


async def host_options(
    spec: HostSpec, settings: SshSettings, lane: str = "hosts"
) -> asyncssh.SSHClientConnectionOptions:
    """Options for one host from the ssh config (aliases, HostName, User, Port, keys, ProxyJump);
    parsed on the thread of `lane` (configparse.config_reader)."""
    kwargs: dict[str, object] = {}
    if spec.user:
        kwargs["username"] = spec.user
    if spec.port:
        kwargs["port"] = spec.port
    loop = asyncio.get_running_loop()
    build = functools.partial(
        Options,
        loop=loop,
        config=_config_arg(settings) or (),
        host=spec.name,
        agent_forwarding=False,
        **kwargs,
    )
    # What Options.construct does, on a thread of our own: a thousand hosts resolving at once
    # would otherwise fill the default pool, where every DNS lookup then waits behind them.
    options: Options = await loop.run_in_executor(config_reader(lane), build)
    prefer_gcm(options)
    return options


FAST_CIPHERS = (b"aes128-gcm@openssh.com", b"aes256-gcm@openssh.com")
"""Tried first when the ssh config names no Ciphers: in asyncssh (through OpenSSL, with AES-NI)
they cost ~2 us per 3 KB packet against ~21 us for chacha20-poly1305, its first choice, which it
runs a Python-level cipher setup per packet for. Both are AEAD ciphers OpenSSH offers."""


def prefer_gcm(options: Options) -> None:
    """Move AES-GCM ahead of the other ciphers unless the user's ssh config chose them."""
    if options.config.get("Ciphers") is not None:
        return
    algs = list(options.encryption_algs)
    first = [alg for alg in FAST_CIPHERS if alg in algs]
    options.encryption_algs = first + [alg for alg in algs if alg not in first]


def known_hosts_files(options: Options, settings: SshSettings) -> list[Path]:
    """Where host keys are looked up: override, the config's UserKnownHostsFile, or the default."""
    if settings.known_hosts is not None:
        return [settings.known_hosts]
    configured = options.known_hosts
    if isinstance(configured, list | tuple) and configured:
        return [Path(str(p)).expanduser() for p in configured]
    # Never None (no checking): `UserKnownHostsFile none` still means nothing is trusted.
    return [Path("~/.ssh/known_hosts").expanduser(), Path("/etc/ssh/ssh_known_hosts")]


_known_hosts_cache: dict[tuple[tuple[str, float], ...], asyncssh.SSHKnownHosts | list[str]] = {}


def known_hosts_for(files: list[Path]) -> asyncssh.SSHKnownHosts | list[str]:
    """The known_hosts files parsed once per (path, mtime), not once per connection.

    asyncssh re-reads a path on every connect, which makes starting N hosts O(N^2) in the size
    of known_hosts. A file that changes (accept-new writes to it) is read again.
    """
    present = [p for p in files if p.is_file()]
    key = tuple((str(p), p.stat().st_mtime) for p in present)
    cached = _known_hosts_cache.get(key)
    if cached is None:
        try:
            # An empty SSHKnownHosts trusts nothing; an empty list would make asyncssh fall back
            # to ~/.ssh/known_hosts, which the user did not name.
            cached = (
                asyncssh.read_known_hosts([str(p) for p in present])
                if present
                else asyncssh.import_known_hosts("")
            )
        except (OSError, ValueError):
            cached = [str(p) for p in present]  # let asyncssh report the problem per host
        if len(_known_hosts_cache) > 16:
            _known_hosts_cache.clear()
        _known_hosts_cache[key] = cached
    return cached


def proxy_jump(options: asyncssh.SSHClientConnectionOptions) -> str | None:
    """The ProxyJump chain the ssh config gives this host ("none" and empty mean none)."""
    tunnel = options.tunnel
    if isinstance(tunnel, str) and tunnel.strip() and tunnel.strip().lower() != "none":
        return tunnel.strip()
    return None


def config_stamp(settings: SshSettings) -> tuple[tuple[str, float], ...]:
    """The ssh config files and their mtimes: resolved options stay valid while this holds."""
    stamp = []
    for path in _config_arg(settings) or ():
        try:
            stamp.append((path, Path(path).stat().st_mtime))
        except OSError:
            stamp.append((path, -1.0))
    return tuple(stamp)


class OptionsCache:
    """One host's resolved options, kept across attempts until its ssh config file changes.

    Parsing the ssh config costs O(its size) per host; doing it again on every retry of every
    dead host would keep the CPU busy for nothing (Includes are not watched).
    """

    __slots__ = ("_held", "_lane", "_settings", "_spec")  # one per host: no instance dict

    def __init__(self, spec: HostSpec, settings: SshSettings, lane: str = "hosts") -> None:
        self._spec = spec
        self._settings = settings
        self._lane = lane
        self._held: tuple[tuple[tuple[str, float], ...], Options] | None = None

    async def get(self) -> Options:
        """The options, resolved again only when the config's mtime changed."""
        stamp = config_stamp(self._settings)
        if self._held is None or self._held[0] != stamp:
            self._held = (stamp, await resolve_options(self._spec, self._settings, self._lane))
        return self._held[1]

    def forget(self) -> None:
        """Drop the options once connected: the connection holds its own copy (a few kB a host
        at 1,000 hosts); they are resolved again if the host must reconnect."""
        self._held = None


async def resolve_options(spec: HostSpec, settings: SshSettings, lane: str = "hosts") -> Options:
    """host_options, with a config error turned into ConnectFailure."""
    try:
        return await host_options(spec, settings, lane)
    except RecursionError as exc:  # asyncssh follows Include without a depth limit
        raise ConnectFailure(
            HostState.ERROR,
            f"bad ssh config for {spec.name}: Include nested too deep (a file includes itself?)",
        ) from exc
    except (OSError, ValueError, asyncssh.Error) as exc:
        raise ConnectFailure(HostState.ERROR, f"bad ssh config for {spec.name}: {exc}") from exc


async def open_connection(
    spec: HostSpec,
    settings: SshSettings,
    gates: ConnectGates,
    *,
    rank: int = FIRST_TRY,
    tunnel: asyncssh.SSHClientConnection | None = None,
    options: asyncssh.SSHClientConnectionOptions | None = None,
    started: Callable[[], None] | None = None,
) -> asyncssh.SSHClientConnection:
    """Connect and authenticate one host; raises ConnectFailure with a precise state.

    The way in (a TCP connect, or a channel through the jump host `tunnel`) and the wait for the
    banner hold a `connects` slot; only the key exchange holds a `handshakes` slot, so silent
    hosts never hold up the CPU-bound part. `started` is called when the attempt leaves the queue.
    """
    if options is None:
        options = await resolve_options(spec, settings)
    if tunnel is None and options.proxy_command:
        # Through a ProxyCommand asyncssh starts the transport itself.
        async with gates.handshakes.slot(rank):
            if started is not None:
                started()
            return await _handshake(spec, settings, options)
    async with gates.connects.slot(rank):
        if started is not None:
            started()
        if tunnel is None:
            way: socket.socket | OpenedChannel = await _reach(options, settings.connect_timeout)
        else:
            way = await _reach_via(tunnel, options, settings.connect_timeout)
    try:
        async with gates.handshakes.slot(rank):
            if isinstance(way, OpenedChannel):
                return await _handshake(spec, settings, options, tunnel=way)
            return await _handshake(spec, settings, options, sock=way)
    except BaseException:
        # Never taken by asyncssh (cancelled before), or already closed by it when its attempt
        # failed: closing again is harmless, leaving it open until garbage collection is not.
        way.close()
        raise


async def _reach_via(
    via: asyncssh.SSHClientConnection, options: Options, timeout: float
) -> OpenedChannel:
    """A channel through the jump host to the host, its banner arrived, within `timeout` s."""
    try:
        return await within(open_channel(via, options.host, options.port), timeout)
    except asyncio.TimeoutError as exc:
        raise ConnectFailure(
            HostState.TIMEOUT, f"no SSH answer through the jump host within {timeout:g} s"
        ) from exc
    except (OSError, asyncssh.Error) as exc:
        raise ConnectFailure(*classify(exc)) from exc


async def _reach(options: Options, timeout: float) -> socket.socket:
    """A TCP connection to the host whose SSH banner has arrived, within `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        sock = await within(open_socket(options.host, options.port, options), timeout)
    except asyncio.TimeoutError as exc:
        raise ConnectFailure(
            HostState.TIMEOUT,
            f"no answer to TCP connect within {timeout:g} s (host down or packets dropped)",
        ) from exc
    except OSError as exc:
        raise ConnectFailure(*classify(exc)) from exc
    try:
        await within(wait_readable(sock), max(0.0, deadline - loop.time()))
    except asyncio.TimeoutError as exc:
        sock.close()
        raise ConnectFailure(
            HostState.TIMEOUT, f"no SSH answer within {timeout:g} s (TCP up, no banner)"
        ) from exc
    except BaseException:
        sock.close()
        raise
    return sock


async def _handshake(
    spec: HostSpec,
    settings: SshSettings,
    options: Options,
    *,
    tunnel: OpenedChannel | None = None,
    sock: socket.socket | None = None,
) -> asyncssh.SSHClientConnection:
    files = known_hosts_files(options, settings)
    policy = HostKeyPolicy(files, settings.accept_new_hostkeys)
    keepalive = options.keepalive_interval or settings.keepalive_interval
    connect_kwargs: dict[str, object] = {
        "options": options,
        "known_hosts": known_hosts_for(files),
        "client_factory": lambda: _Client(policy),
        "keepalive_interval": keepalive,
        "keepalive_count_max": 3,
        "agent_forwarding": False,
        # Given other arguments, asyncssh builds its options again from the config: the cipher
        # order prefer_gcm chose must be passed on explicitly.
        "encryption_algs": [alg.decode("ascii") for alg in options.encryption_algs],
    }
    connect_kwargs.update(loaded_keys(options))
    if tunnel is not None:
        connect_kwargs["tunnel"] = tunnel
    if sock is not None:
        connect_kwargs.update(sock=sock, tunnel=None)  # never a second ProxyJump of its own
    try:
        return await within(
            asyncssh.connect(spec.name, **connect_kwargs),
            settings.connect_timeout,
        )
    except asyncio.TimeoutError as exc:
        raise ConnectFailure(
            HostState.TIMEOUT,
            f"SSH key exchange and login not done within {settings.connect_timeout:g} s",
        ) from exc
    except asyncssh.HostKeyNotVerifiable as exc:
        seen = policy.seen
        text = seen.message(spec.name, files[0] if files else None) if seen else str(exc)
        raise ConnectFailure(HostState.HOSTKEY_FAILED, text) from exc
    except (OSError, asyncssh.Error) as exc:
        raise ConnectFailure(*classify(exc)) from exc


def loaded_keys(options: Options) -> dict[str, object]:
    """The client keys (and agent identities) the options already loaded, for asyncssh.connect.

    asyncssh builds the options again inside connect, and from file names it reads every
    IdentityFile (its .pub and -cert.pub) and ~/.ssh's default public keys once more for each
    host; handed the loaded keys it uses them as they are. The same keys, the same auth.
    """
    if not options.client_keys:
        return {}  # no keys, or none found: let asyncssh decide as before
    # [] and None mean the same to asyncssh's agent (all of its keys).
    return {"client_keys": options.client_keys, "agent_identities": options.agent_identities}


_OS_REASONS = {
    errno.ECONNREFUSED: "connection refused",
    errno.EHOSTUNREACH: "no route to host",
    errno.ENETUNREACH: "network unreachable",
    errno.ECONNRESET: "connection reset",
    errno.ETIMEDOUT: "connection timed out",
}


def classify(exc: BaseException) -> tuple[HostState, str]:
    """A failed connect or a lost connection as a host state and a readable reason."""
    if isinstance(exc, socket.gaierror):
        return HostState.UNREACHABLE, f"DNS: cannot resolve host ({exc.strerror or exc})"
    if isinstance(exc, asyncssh.PermissionDenied):
        return HostState.AUTH_FAILED, f"authentication failed: {exc.reason or 'permission denied'}"
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return HostState.HOSTKEY_FAILED, f"host key not verifiable: {exc.reason}"
    if isinstance(exc, asyncssh.ChannelOpenError):
        return HostState.UNREACHABLE, f"the jump host could not reach it: {exc.reason}"
    if isinstance(exc, asyncssh.ConnectionLost):
        return HostState.UNREACHABLE, f"connection lost: {exc.reason}"
    if isinstance(exc, asyncssh.DisconnectError):
        return HostState.ERROR, f"SSH error: {exc.reason}"
    if isinstance(exc, BrokenPipeError):  # asyncssh: "Channel not open for sending"
        return HostState.UNREACHABLE, "connection lost: the SSH connection closed"
    if isinstance(exc, OSError):
        errors = [exc, *getattr(exc, "exceptions", ())]  # create_connection's multi-errors
        for err in errors:
            if isinstance(err, OSError) and err.errno in _OS_REASONS:
                return HostState.UNREACHABLE, _OS_REASONS[err.errno]
        if exc.errno == errno.ETIMEDOUT:
            return HostState.TIMEOUT, "connection timed out"
        return HostState.UNREACHABLE, exc.strerror or str(exc)
    if isinstance(exc, asyncssh.Error):
        return HostState.ERROR, f"SSH error: {exc.reason}"
    return HostState.ERROR, f"{type(exc).__name__}: {exc}"
