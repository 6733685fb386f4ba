"""The effective settings: each declared once, loaded, checked and rendered."""

from __future__ import annotations

from clustertop.config.render import render_config
from clustertop.config.schema import MIN_INTERVAL, Config, ConfigError, HostOverride
from clustertop.config.settings import config_file_path, default_audit_log, load_config

__all__ = [
    "MIN_INTERVAL",
    "Config",
    "ConfigError",
    "HostOverride",
    "config_file_path",
    "default_audit_log",
    "load_config",
    "render_config",
]
