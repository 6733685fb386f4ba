"""Tests of the actions backend: scripts, runners (SSH and local), audit log."""
