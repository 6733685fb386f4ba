"""Every setting, declared once: Config and HostOverride fields carry parser, help and rendering."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from clustertop.config.declare import Setting, declared_settings, setting
from clustertop.config.values import (
    boolean,
    duration,
    format_duration,
    format_size,
    integer,
    optional_path,
    owner_regex,
    real,
    shown,
    size,
    string_list,
    text,
    toml_string,
)
from clustertop.model.owners import DEFAULT_NAME_PATTERN, OwnerRule

__all__ = [
    "CONFIG_ENV",
    "ENV_PREFIX",
    "HOST_SETTINGS",
    "MIN_INTERVAL",
    "SETTINGS",
    "TABLES",
    "Config",
    "ConfigError",
    "HostOverride",
    "Setting",
    "env_variable",
    "option_name",
]

ENV_PREFIX = "CLUSTERTOP_"
"""Environment variables `CLUSTERTOP_<SETTING>` set settings; CLUSTERTOP_CONFIG names the file."""

CONFIG_ENV = "CLUSTERTOP_CONFIG"
"""Environment variable naming the config file (like --config)."""

TABLES = ("groups", "hosts", "keys")
"""Tables the config file may hold besides the top-level settings."""

MIN_INTERVAL = 0.1
"""Shortest `interval`, seconds. The probe has nvidia-smi sample at most every 100 ms (it clamps
-lms there), so shorter ticks would repeat the same GPU reading while paying a /proc scan each."""


class ConfigError(ValueError):
    """A config file, variable or option that cannot be used; says where, which key and why."""

    def __init__(self, where: str, key: str | None, problem: str) -> None:
        self.where = where
        """The file path, `environment variable X` or `option --x`."""
        self.key = key
        """Dotted key inside the file (`hosts."gpu01".port`), or None."""
        self.problem = problem
        """What is wrong, with the value that was given."""
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


def env_variable(name: str) -> str:
    """The environment variable for a setting: interval -> CLUSTERTOP_INTERVAL."""
    return f"{ENV_PREFIX}{name.upper()}"


def option_name(name: str) -> str:
    """The command-line option for a setting: stale_after -> --stale-after."""
    return f"--{name.replace('_', '-')}"


def _duration_literal(seconds: float) -> str:
    return toml_string(format_duration(seconds))


def _size_literal(count: int) -> str:
    return toml_string(format_size(count))


_USER = re.compile(r"[A-Za-z0-9._@][A-Za-z0-9._@-]*\Z")
_DOCKER_HOST = re.compile(r"(unix|tcp|ssh|fd|npipe)://\S+\Z")


def _user_name(value: object) -> str:
    name = text()(value)
    if not _USER.match(name):
        raise ValueError(f"expected a user name (letters, digits, '.', '-', '_'), got {name!r}")
    return name


def _docker_host(value: object) -> str:
    url = text()(value)
    if not _DOCKER_HOST.match(url):
        raise ValueError(
            f"expected a DOCKER_HOST like 'unix:///run/docker.sock' or 'tcp://127.0.0.1:2375', "
            f"got {shown(url)}"
        )
    return url


def _prometheus_url(value: object) -> str:
    url = text(allow_empty=True)(value).strip()
    if url and not re.match(r"https?://[^\s/]+", url):
        raise ValueError(f"expected an http:// or https:// URL, got {shown(url)}")
    return url.rstrip("/")


PROMETHEUS_COMPRESS = ("auto", "always", "never")
"""Values of `prometheus_compress`."""


def _prometheus_compress(value: object) -> str:
    word = text(allow_empty=True)(value).strip().lower()
    if word not in PROMETHEUS_COMPRESS:
        raise ValueError(f"expected 'auto', 'always' or 'never', got {shown(value)}")
    return word


_PERCENT = real(low=0, high=100)
_SECONDS = duration(positive=True)
_INTERVAL = duration(positive=True, minimum=MIN_INTERVAL)
_AGE = duration(positive=False)


@dataclass(frozen=True, slots=True)
class HostOverride:
    """Settings for one host from `[hosts."<name>"]`; None means 'as for every host'.

    A user or port typed on the command line (`alice@gpu01:2222`) wins over these.
    """

    user: str | None = setting(None, _user_name, "Login user.")
    port: int | None = setting(None, integer(low=1, high=65535), "SSH port.")
    sudo: bool = setting(
        False,
        boolean,
        "Actions on this host may run through `sudo -n` (never asking for a password).",
    )
    timeout: float | None = setting(
        None,
        _SECONDS,
        "Per-host deadline for one reading (instead of the global timeout).",
        render=_duration_literal,
    )
    interval: float | None = setting(
        None,
        _INTERVAL,
        "Time between readings of this host (instead of the global interval).",
        render=_duration_literal,
    )
    docker_host: str | None = setting(None, _docker_host, "DOCKER_HOST to use on that host.")
    nvidia_smi: str | None = setting(
        None, text(), "Path of nvidia-smi on that host (passed shell-quoted)."
    )


HOST_SETTINGS: Mapping[str, Setting] = declared_settings(HostOverride)
"""Keys allowed in a `[hosts."<name>"]` table, in the order `config show` writes them."""


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Config:
    """Every setting with its effective value, plus groups, host overrides and key remaps.

    The fields up to `idle_held_memory_mib` are the top-level settings, in the order `config
    show` lists them; each is declared once, here, with its parser, help and rendering.
    """

    interval: float = setting(
        2.0, _INTERVAL, "Time between readings of each host.", render=_duration_literal
    )
    timeout: float = setting(
        10.0, _SECONDS, "Per-host deadline for one reading.", render=_duration_literal
    )
    connect_timeout: float = setting(
        10.0, _SECONDS, "Deadline for one SSH connection.", render=_duration_literal
    )
    max_handshakes: int = setting(
        16,
        integer(low=1),
        "SSH handshakes in flight at once (sshd refuses bursts beyond MaxStartups).",
    )
    ssh_config: Path | None = setting(
        None, optional_path, "ssh config file, as asyncssh reads it.", unset="~/.ssh/config"
    )
    known_hosts: Path | None = setting(
        None,
        optional_path,
        "known_hosts file to check host keys against.",
        unset="the ssh config's UserKnownHostsFile, else ~/.ssh/known_hosts",
    )
    accept_new_hostkeys: bool = setting(
        False, boolean, "Trust and record the keys of hosts not yet in known_hosts."
    )
    readonly: bool = setting(False, boolean, "Show only: every action on hosts is refused.")
    stale_after: float = setting(
        30 * 60.0,
        _AGE,
        "How long a container's GPUs must idle before it counts as stale.",
        render=_duration_literal,
    )
    stale_util_percent: float = setting(
        5.0, _PERCENT, "GPU use at or under which a GPU counts as idle, percent."
    )
    cleanup_exited_after: float = setting(
        7 * 86400.0,
        _AGE,
        "How long after exiting a container may be cleaned up.",
        render=_duration_literal,
    )
    alert_temperature_c: float = setting(
        85.0, real(low=0, high=200), "GPU temperature that raises an alert, Celsius."
    )
    alert_disk_percent: float = setting(90.0, _PERCENT, "Disk use that raises an alert, percent.")
    alert_log_size: int = setting(
        2**30, size, "Container log size that raises an alert, bytes.", render=_size_literal
    )
    free_gpu_memory_mib: int = setting(
        500, integer(low=0), "Most MiB in use on a GPU that still counts as free."
    )
    free_gpu_util_percent: float = setting(
        5.0, _PERCENT, "Most GPU use on a GPU that still counts as free, percent."
    )
    history: float = setting(
        3600.0, _SECONDS, "How far back charts and trends reach.", render=_duration_literal
    )
    theme: str = setting("textual-dark", text(), "Textual theme name.")
    owner_labels: tuple[str, ...] = setting(
        ("owner",), string_list, "Container labels naming the owner, first non-empty wins."
    )
    owner_name_regex: str = setting(
        DEFAULT_NAME_PATTERN,
        owner_regex,
        "Regex with a `user` group matched on container names; '' turns it off.",
    )
    owner_unix_user_fallback: bool = setting(
        True, boolean, "Use a process's Unix user when nothing else names an owner."
    )
    audit_log: Path | None = setting(
        None,
        optional_path,
        "Where actions are recorded (JSON lines); load_config fills in the XDG state path.",
        unset="no audit log",
    )
    prometheus_url: str = setting(
        "",
        _prometheus_url,
        "Prometheus (or VictoriaMetrics) to read hosts from instead of SSH; '' for none.",
    )
    prometheus_bearer_token_file: Path | None = setting(
        None, optional_path, "File holding the bearer token for Prometheus.", unset="no token"
    )
    prometheus_user: str = setting("", text(allow_empty=True), "Basic auth user for Prometheus.")
    prometheus_password_file: Path | None = setting(
        None, optional_path, "File holding the basic auth password.", unset="no password"
    )
    prometheus_verify_tls: bool = setting(
        True, boolean, "Check Prometheus's TLS certificate (https URLs)."
    )
    prometheus_host_label: str = setting(
        "instance",
        text(),
        "Label naming the host (its port is dropped; dcgm-exporter's Hostname wins for GPUs).",
    )
    prometheus_sweep: float = setting(
        60.0,
        duration(positive=True),
        "Seconds between readings of every host in a fleet over 200 hosts: between them, the "
        "TUI's rows in view, the open host and hosts down are read each interval.",
        render=_duration_literal,
    )
    prometheus_compress: str = setting(
        "auto",
        _prometheus_compress,
        "Ask Prometheus for gzip answers: 'always', 'never', or 'auto' (uncompressed when the "
        "URL's host is a loopback address, compressed otherwise).",
    )
    history_store: bool = setting(
        True,
        boolean,
        "Record history in the store (for `clustertop report` and long charts); false: off.",
    )
    history_path: Path | None = setting(
        None,
        optional_path,
        "The history store (SQLite); load_config fills in the XDG state path.",
        unset="$XDG_STATE_HOME/clustertop/history.sqlite",
    )
    history_retention: float = setting(
        365 * 86400.0,
        duration(positive=True, minimum=86400.0),
        "How long the store keeps hourly history (at least 1 day).",
        render=_duration_literal,
    )
    idle_held_memory_mib: int = setting(
        1,
        integer(low=0),
        "GPU memory (MiB) an owner must hold on an idle GPU for it to count as held idle.",
    )
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=_empty)
    """Host groups from `[groups]`: name -> items (hosts, ranges, @groups)."""
    hosts: Mapping[str, HostOverride] = field(default_factory=_empty)
    """Per-host overrides from `[hosts."<name>"]`, keyed by host name."""
    keys: Mapping[str, str] = field(default_factory=_empty)
    """Key remaps from `[keys]`: binding id -> key."""
    path: Path | None = None
    """The config file read, or None when there was none."""
    default_path: Path | None = None
    """Where the config file is looked for when neither --config nor CLUSTERTOP_CONFIG names one."""
    sources: Mapping[str, str] = field(default_factory=_empty)
    """Setting -> where its value came from: 'default', 'file P', 'env V', 'command line --x'."""
    warnings: tuple[str, ...] = ()
    """Things worth telling the user that are not errors (an unknown CLUSTERTOP_ variable)."""

    def host_override(self, name: str) -> HostOverride:
        """The `[hosts."<name>"]` settings for a host (names ignore case); empty when none."""
        found = self.hosts.get(name)
        if found is None:
            lowered = name.lower()
            found = next((o for n, o in self.hosts.items() if n.lower() == lowered), None)
        return found if found is not None else HostOverride()

    def owner_rule(self) -> OwnerRule:
        """The owner rule these settings describe."""
        return OwnerRule.from_config(
            labels=list(self.owner_labels),
            name_regex=self.owner_name_regex,
            unix_user_fallback=self.owner_unix_user_fallback,
        )


NOT_SETTINGS = (*TABLES, "path", "default_path", "sources", "warnings")
"""Config fields that are not top-level settings: the tables and what loading found out."""

SETTINGS: Mapping[str, Setting] = declared_settings(Config, plain=NOT_SETTINGS)
"""Every top-level setting, in the order `config show` lists them."""
