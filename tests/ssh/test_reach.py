"""The way in before SSH: TCP on loopback, the banner wait, config parsing kept and reused."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import asyncssh
import asyncssh.config
import pytest

from clustertop.inventory.hosts import parse_host_spec
from clustertop.model import HostState
from clustertop.sources.ssh.connect import (
    ConnectFailure,
    OptionsCache,
    SshSettings,
    classify,
    resolve_options,
)
from clustertop.sources.ssh.reach import open_socket, wait_readable
from tests.fleet import loopback


def _options() -> asyncssh.SSHClientConnectionOptions:
    return asyncssh.SSHClientConnectionOptions(config=[], host="x", agent_forwarding=False)


async def test_a_refused_port_is_unreachable_connection_refused() -> None:
    address = f"{loopback.random_base()}.1"
    port = loopback.free_port(address)
    with pytest.raises(OSError) as caught:
        await open_socket(address, port, _options())
    assert classify(caught.value) == (HostState.UNREACHABLE, "connection refused")


async def test_the_banner_wait_ends_when_the_server_speaks_not_before() -> None:
    listener = loopback.silent_listener(f"{loopback.random_base()}.1")
    address, port = listener.getsockname()[:2]
    try:
        sock = await open_socket(address, port, _options())
        with sock:
            with pytest.raises(asyncio.TimeoutError):  # accepted by the kernel, nobody speaks
                await asyncio.wait_for(wait_readable(sock), 0.3)
            server, _ = listener.accept()
            with server:
                server.sendall(b"SSH-2.0-test\r\n")
                await asyncio.wait_for(wait_readable(sock), 10)
                assert sock.recv(64, socket.MSG_PEEK).startswith(b"SSH-2.0-")  # nothing eaten
    finally:
        listener.close()


def test_a_channel_the_jump_host_could_not_open_is_unreachable() -> None:
    error = asyncssh.ChannelOpenError(asyncssh.OPEN_CONNECT_FAILED, "Connection refused")
    state, text = classify(error)
    assert state is HostState.UNREACHABLE
    assert "Connection refused" in text and "jump host" in text


async def test_options_are_resolved_once_until_the_config_changes(tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text("Host gpu1\n  HostName 127.0.0.7\n  Port 2201\n  User alice\n")
    cache = OptionsCache(parse_host_spec("gpu1"), SshSettings(config_paths=(config,)))
    first = await cache.get()
    assert (first.host, first.port) == ("127.0.0.7", 2201)
    assert await cache.get() is first
    config.write_text("Host gpu1\n  HostName 127.0.0.8\n  Port 2202\n  User alice\n")
    stat = config.stat()
    os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = await cache.get()
    assert (second.host, second.port) == ("127.0.0.8", 2202)


def test_config_lines_still_split_as_shlex_does() -> None:
    split = asyncssh.config.shlex.split
    assert split('IdentityFile "/keys/my key"') == ["IdentityFile", "/keys/my key"]
    assert split('IdentityFile "/keys/my key"') == ["IdentityFile", "/keys/my key"]  # cached
    with pytest.raises(ValueError):
        split('IdentityFile "/keys/unbalanced')


async def test_a_config_that_includes_itself_is_a_clear_error_not_a_silent_hang(
    tmp_path: Path,
) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(f"Include {config}\nHost gpu1\n  HostName 127.0.0.7\n")
    with pytest.raises(ConnectFailure) as caught:
        await resolve_options(parse_host_spec("gpu1"), SshSettings(config_paths=(config,)))
    assert caught.value.state is HostState.ERROR
    assert str(caught.value) == (
        "bad ssh config for gpu1: Include nested too deep (a file includes itself?)"
    )


def test_a_channel_closed_under_the_probe_reads_as_a_lost_connection() -> None:
    # What asyncssh raises when the probe's channel is written after sshd went away.
    assert classify(BrokenPipeError("Channel not open for sending")) == (
        HostState.UNREACHABLE,
        "connection lost: the SSH connection closed",
    )
