"""Tests of the TUI's actions: keys, confirmation, marks, logs, read-only, on the demo and the fleet."""
