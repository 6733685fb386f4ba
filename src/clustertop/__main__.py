"""Entry point for `python -m clustertop`."""

from __future__ import annotations

from clustertop.cli.main import main

raise SystemExit(main())
