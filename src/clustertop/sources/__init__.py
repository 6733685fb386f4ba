"""Where snapshots come from: the local machine, SSH hosts, or the built-in demo."""
