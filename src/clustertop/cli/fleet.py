"""Builds the SSH source for a list of hosts from the effective config."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from clustertop.config.settings import Config
from clustertop.inventory.hosts import HostSpec
from clustertop.sources.ssh.connect import SshSettings
from clustertop.sources.ssh.session import SessionSettings
from clustertop.sources.ssh.source import SshSource, raise_open_file_limit


def ssh_settings(config: Config, *, once: bool) -> SshSettings:
    """Connection settings; in --once mode no connect may outlive the per-host timeout."""
    connect_timeout = (
        min(config.connect_timeout, config.timeout) if once else config.connect_timeout
    )
    return SshSettings(
        config_paths=(config.ssh_config,) if config.ssh_config else None,
        known_hosts=config.known_hosts,
        accept_new_hostkeys=config.accept_new_hostkeys,
        connect_timeout=connect_timeout,
    )


def session_settings(config: Config, spec: HostSpec) -> SessionSettings:
    """How one host is watched: global settings with its `[hosts."name"]` overrides."""
    override = config.host_override(spec.name)
    interval = override.interval or config.interval
    return SessionSettings(
        interval=interval,
        deadline=max(0.5, min(1.5, 0.75 * interval)),
        owner_rule=config.owner_rule(),
        nvidia_smi=override.nvidia_smi or "nvidia-smi",
        docker_host=override.docker_host,
    )


def ssh_source(specs: Sequence[HostSpec], config: Config, *, once: bool = False) -> SshSource:
    """An SshSource for these hosts."""
    problem = raise_open_file_limit(len(specs))
    if problem:
        print(f"clustertop: warning: {problem}", file=sys.stderr)
    return SshSource(
        specs,
        ssh_settings(config, once=once),
        interval=config.interval,
        max_handshakes=config.max_handshakes,
        session_settings=lambda spec: session_settings(config, spec),
    )
