"""Reliability records: a passing test states what it proved, for RELIABILITY.md."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

LOG_VARIABLE = "CLUSTERTOP_RELIABILITY_LOG"
"""Where records go; unset (a normal test run) records nothing."""


def record(section: str, item: str, result: str, **figures: Any) -> None:
    """Append one record: `section` and `item` name a line of the catalogue, `result` says
    what a user saw, `figures` are the measured numbers. Call it after the test's asserts."""
    path = os.environ.get(LOG_VARIABLE)
    if not path:
        return
    # "tests/x.py::test_y[busybox awk] (call)": the node id is all but the last word.
    test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]
    if not test:  # a benchmark run as a program
        test = os.path.relpath(os.path.abspath(sys.argv[0]))
    line = {"section": section, "item": item, "result": result, "figures": figures, "test": test}
    line["at"] = time.time()
    with open(path, "a", encoding="utf-8") as log:
        log.write(json.dumps(line, ensure_ascii=True) + "\n")
