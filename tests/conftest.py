"""Test-suite wide pytest configuration: registers the loopback fleet plugin; SIGTERM tears down."""

from __future__ import annotations

import signal

import pytest

pytest_plugins = ["tests.fleet.plugin"]


def pytest_configure(config: pytest.Config) -> None:
    """A run stopped with SIGTERM (a CI time limit, `kill`) ends as Ctrl+C does: pytest then runs
    every fixture's teardown, so the servers and containers the tests started are stopped.
    Python's default for SIGTERM ends the process at once, and podman's containers (run
    detached, under conmon) kept busy-looping long after such a run."""
    del config
    signal.signal(signal.SIGTERM, signal.default_int_handler)
