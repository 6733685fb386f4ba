"""Scale figures of the Prometheus side: the exporter's scrape and the Prometheus source."""
