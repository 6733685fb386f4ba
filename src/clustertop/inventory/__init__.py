"""Which hosts to watch: host specs, ranges, groups and hosts files."""
