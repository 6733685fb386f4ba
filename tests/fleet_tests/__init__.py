"""Tests of the loopback test fleet itself."""
