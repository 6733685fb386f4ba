"""Entry point for `python -m clustertop`."""

from __future__ import annotations

from clustertop.util.quiet import quiet_third_party_warnings

quiet_third_party_warnings()  # before anything can import asyncssh

from clustertop.cli.main import main  # noqa: E402

raise SystemExit(main())
