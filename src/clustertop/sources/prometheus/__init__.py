"""Hosts read from Prometheus (node_exporter, dcgm-exporter, cAdvisor) over its HTTP API."""
