"""A plain `pip install .` ships every file the package reads at run time (probe, scripts, styles)."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from clustertop.config.settings import tomllib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "clustertop"


def test_every_data_file_is_in_the_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["clustertop"]
    names = [pattern.rsplit("/", 1)[-1] for pattern in patterns]
    data = [
        path.relative_to(PACKAGE)
        for path in PACKAGE.rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
    ]
    assert any(path.name == "probe.awk" for path in data)
    missing = [str(p) for p in data if not any(fnmatch.fnmatch(p.name, n) for n in names)]
    assert not missing, f"not installed by `pip install .`: {missing}"
