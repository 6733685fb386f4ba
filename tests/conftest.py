"""Test-suite wide pytest configuration: registers the loopback fleet plugin."""

from __future__ import annotations

pytest_plugins = ["tests.fleet.plugin"]
