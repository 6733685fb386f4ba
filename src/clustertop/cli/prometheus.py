"""Builds the Prometheus source from the effective config (`--prometheus URL`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from clustertop.config.settings import Config
from clustertop.inventory.hosts import HostSpec, parse_host_spec
from clustertop.sources.prometheus.asking import discover
from clustertop.sources.prometheus.client import PromError, PromSettings
from clustertop.sources.prometheus.source import PrometheusSource
from clustertop.sources.prometheus.with_ssh import PrometheusWithSsh
from clustertop.sources.ssh.source import SshSource


def prom_settings(config: Config) -> PromSettings:
    """Where Prometheus is and how to log in, from the prometheus_* settings."""
    return PromSettings(
        url=config.prometheus_url,
        bearer_token_file=config.prometheus_bearer_token_file,
        user=config.prometheus_user,
        password_file=config.prometheus_password_file,
        verify_tls=config.prometheus_verify_tls,
        timeout=config.timeout,
        compress=config.prometheus_compress,
    )


def prometheus_source(config: Config, specs: Sequence[HostSpec]) -> PrometheusWithSsh:
    """The hosts given, else every host Prometheus knows now (PromError when it cannot say);
    the host on screen is also read over SSH, with the config's ssh settings."""
    settings = prom_settings(config)
    label = config.prometheus_host_label
    names = [s.name for s in specs] or asyncio.run(discover(settings, label))
    if not names:
        raise PromError(
            "error",
            f"Prometheus at {settings.url} knows no hosts (no node_exporter, dcgm-exporter or "
            "cAdvisor series, no failing target)",
        )
    prom = PrometheusSource(
        settings, names, interval=config.interval, host_label=label, owner_rule=config.owner_rule()
    )
    prom.sweep_s = config.prometheus_sweep
    return PrometheusWithSsh(prom, lambda host: _ssh_for(config, host))


def _ssh_for(config: Config, host: str) -> SshSource:
    from clustertop.cli.fleet import ssh_source

    override = config.host_override(host)
    spec = parse_host_spec(host)
    return ssh_source(
        [HostSpec(spec.name, spec.user or override.user, spec.port or override.port)], config
    )
