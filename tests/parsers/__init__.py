"""Tests of the parsers layer."""
