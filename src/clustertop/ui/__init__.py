"""The Textual user interface: host grid, host screen, help."""

from __future__ import annotations

from clustertop.ui.app import ClusterTopApp
from clustertop.ui.binding_ids import binding_ids
from clustertop.ui.options import AppOptions

__all__ = ["AppOptions", "ClusterTopApp", "binding_ids"]
