"""The Textual user interface: host grid, host screen, help."""

from __future__ import annotations

from clustertop.ui.app import ClusterTopApp, binding_ids

__all__ = ["ClusterTopApp", "binding_ids"]
