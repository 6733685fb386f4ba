"""Benchmark of clustertop against pdsh, ClusterShell and exec-per-tick on a loopback fleet."""
