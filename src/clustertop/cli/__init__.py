"""The command line: options, `--once`, `serve`, and building the app."""
