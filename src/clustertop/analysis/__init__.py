"""Pure analysis over snapshots: history, stale containers, users, free GPUs, alerts, summary."""

from __future__ import annotations

from clustertop.analysis.alert_rules import AlertKind, AlertThresholds, Severity
from clustertop.analysis.alerts import Alert, AlertTracker, alerts_json
from clustertop.analysis.free_gpus import FreeGpu, HostFreeGpus, free_gpus, free_gpus_json
from clustertop.analysis.history import History, Metric
from clustertop.analysis.stale import StaleTracker, exited_for_cleanup, stale_containers
from clustertop.analysis.summary import ClusterSummary, cluster_summary, summary_line
from clustertop.analysis.users import UserRow, owner_filter, user_rows, users_json

__all__ = [
    "Alert",
    "AlertKind",
    "AlertThresholds",
    "AlertTracker",
    "ClusterSummary",
    "FreeGpu",
    "History",
    "HostFreeGpus",
    "Metric",
    "Severity",
    "StaleTracker",
    "UserRow",
    "alerts_json",
    "cluster_summary",
    "exited_for_cleanup",
    "free_gpus",
    "free_gpus_json",
    "owner_filter",
    "stale_containers",
    "summary_line",
    "user_rows",
    "users_json",
]
