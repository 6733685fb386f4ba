"""What the config may say: each setting's parser, meaning and rendering; host overrides."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from clustertop.config.values import (
    Parser,
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
    toml_value,
)

ENV_PREFIX = "CLUSTERTOP_"
"""Environment variables `CLUSTERTOP_<SETTING>` set settings; CLUSTERTOP_CONFIG names the file."""

CONFIG_ENV = "CLUSTERTOP_CONFIG"
"""Environment variable naming the config file (like --config)."""

TABLES = ("groups", "hosts", "keys")
"""Tables the config file may hold besides the top-level settings."""


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


@dataclass(frozen=True, slots=True)
class Setting:
    """One top-level setting: how to read it, what it means, how to write it back."""

    parse: Parser
    """Reads a TOML, environment or command-line value; ValueError says what is wrong."""
    help: str
    """One line on what the setting does (shown by `config show`)."""
    render: Callable[[Any], str] = toml_value
    """Writes the value back as a TOML literal."""
    unset: str = ""
    """For optional paths: what leaving it unset ("") means."""


def _duration_literal(seconds: float) -> str:
    return toml_string(format_duration(seconds))


def _size_literal(count: int) -> str:
    return toml_string(format_size(count))


_PERCENT = real(low=0, high=100)


def _time(help_text: str, *, positive: bool = True) -> Setting:
    return Setting(duration(positive=positive), help_text, _duration_literal)


SETTINGS: Mapping[str, Setting] = MappingProxyType(
    {
        "interval": _time("seconds between readings of each host"),
        "timeout": _time("per-host deadline for one reading"),
        "connect_timeout": _time("deadline for one SSH connection"),
        "max_handshakes": Setting(integer(low=1), "SSH handshakes in flight at once"),
        "ssh_config": Setting(optional_path, "ssh config file", unset="~/.ssh/config"),
        "known_hosts": Setting(
            optional_path,
            "known_hosts file for host keys",
            unset="the ssh config's UserKnownHostsFile, else ~/.ssh/known_hosts",
        ),
        "accept_new_hostkeys": Setting(boolean, "trust and record keys of hosts not yet known"),
        "readonly": Setting(boolean, "show only: no actions on hosts"),
        "stale_after": _time("idle time after which a container is stale", positive=False),
        "stale_util_percent": Setting(_PERCENT, "GPU use at or under which a GPU counts as idle"),
        "cleanup_exited_after": _time(
            "age after which an exited container may be cleaned up", positive=False
        ),
        "alert_temperature_c": Setting(real(low=0, high=200), "GPU temperature alert, Celsius"),
        "alert_disk_percent": Setting(_PERCENT, "disk use alert, percent"),
        "alert_log_size": Setting(size, "container log size alert", _size_literal),
        "free_gpu_memory_mib": Setting(
            integer(low=0), "most MiB used on a GPU that counts as free"
        ),
        "free_gpu_util_percent": Setting(_PERCENT, "most GPU use on a GPU that counts as free"),
        "history": _time("how far back charts and trends reach"),
        "theme": Setting(text(), "Textual theme name"),
        "owner_labels": Setting(string_list, "container labels naming the owner, first wins"),
        "owner_name_regex": Setting(
            owner_regex, "regex with a 'user' group matched on container names ('' = off)"
        ),
        "owner_unix_user_fallback": Setting(boolean, "else use the process's Unix user as owner"),
        "audit_log": Setting(optional_path, "where actions are recorded", unset="no audit log"),
    }
)
"""Every top-level setting, in the order `config show` lists them."""


def env_variable(name: str) -> str:
    """The environment variable for a setting: interval -> CLUSTERTOP_INTERVAL."""
    return f"{ENV_PREFIX}{name.upper()}"


def option_name(name: str) -> str:
    """The command-line option for a setting: stale_after -> --stale-after."""
    return f"--{name.replace('_', '-')}"


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


@dataclass(frozen=True, slots=True)
class HostOverride:
    """Settings for one host from `[hosts."<name>"]`; None means 'as for every host'.

    A user or port typed on the command line (`alice@gpu01:2222`) wins over these.
    """

    user: str | None = None
    """Login user."""
    port: int | None = None
    """SSH port."""
    sudo: bool = False
    """Actions on this host may run through `sudo -n` (never asking for a password)."""
    timeout: float | None = None
    """Per-host deadline for one reading, seconds (instead of the global timeout)."""
    interval: float | None = None
    """Seconds between readings of this host (instead of the global interval)."""
    docker_host: str | None = None
    """DOCKER_HOST to use on that host."""
    nvidia_smi: str | None = None
    """Path of nvidia-smi on that host (passed shell-quoted)."""


HOST_FIELDS: Mapping[str, Parser] = MappingProxyType(
    {
        "user": _user_name,
        "port": integer(low=1, high=65535),
        "sudo": boolean,
        "timeout": duration(positive=True),
        "interval": duration(positive=True),
        "docker_host": _docker_host,
        "nvidia_smi": text(),
    }
)
"""Keys allowed in a `[hosts."<name>"]` table, with their parsers."""
