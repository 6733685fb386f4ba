"""README stays true: its config example loads, its test command is what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from clustertop.config.settings import load_config
from clustertop.inventory.hosts import resolve_hosts

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_config_example_loads(tmp_path: Path) -> None:
    # The Configuration section's example (other sections have their own, tested beside them).
    example = next(b for b in re.findall(r"```toml\n(.*?)```", README, re.S) if "[groups]" in b)
    path = tmp_path / "config.toml"
    path.write_text(example)
    config = load_config({}, {"HOME": str(tmp_path)}, path)
    assert config.host_override("dgx-a").sudo is True
    hosts = [spec.name for spec in resolve_hosts(["@gpu"], config.groups)]
    assert hosts[:2] == ["gpu01", "gpu02"] and hosts[-2:] == ["dgx-a", "dgx-b"]
    assert config.keys["grid.sort"] == "S"


def test_ci_runs_the_readme_test_command() -> None:
    assert "```sh\n./scripts/test.sh\n```" in README
    assert "exec ./scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_screenshots_the_readme_shows_exist() -> None:
    shown = re.findall(r"\]\((screenshots/[^)]+)\)", README)
    assert shown
    for path in shown:
        assert (ROOT / path).is_file(), path
