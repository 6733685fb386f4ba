"""The SSH source: one connection and one remote probe per host."""
