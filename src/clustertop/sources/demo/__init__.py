"""The demo source: a deterministic made-up lab cluster for screenshots and tests."""
