"""End-to-end tests: the real clustertop command in a real terminal (tmux) against the fleet."""
