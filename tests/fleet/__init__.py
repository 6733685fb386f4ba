"""Loopback test fleet: real sshd and dockerd per simulated host, plus a stand-in nvidia-smi."""

from __future__ import annotations
