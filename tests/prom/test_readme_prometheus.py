"""README's Prometheus section stays true: its config loads, its commands parse, Prometheus
accepts its scrape config, and it names every exported metric."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from clustertop.analysis.metrics import build_metrics
from clustertop.cli import options
from clustertop.cli.export import build_export_parser
from clustertop.config.settings import load_config
from tests.prom.servers import PROMTOOL

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
SECTION = README.split("## Prometheus: ", 1)[1].split("\n## ", 1)[0]


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", SECTION, re.S)


def test_config_example_loads(tmp_path: Path) -> None:
    [example] = _blocks("toml")
    path = tmp_path / "config.toml"
    path.write_text(example)
    config = load_config({}, {"HOME": str(tmp_path)}, path)
    assert config.prometheus_url == "https://prometheus.example.org:9090"
    assert config.prometheus_host_label == "instance" and config.prometheus_verify_tls
    assert config.interval == 15.0
    assert config.prometheus_compress == "auto"


def test_commands_parse() -> None:
    commands = [
        shlex.split(line.split("#", 1)[0])
        for block in _blocks("sh")
        for line in block.splitlines()
        if line.strip()
    ]
    assert len(commands) == 6
    for argv in commands:
        assert argv[0] == "clustertop"
        if argv[1] == "export":
            _, rest = build_export_parser().parse_known_args(argv[2:])
            assert options.build_parser().parse_args(rest).hosts
        else:
            assert options.build_parser().parse_args(argv[1:]).prometheus


def test_scrape_config_accepted_by_promtool(tmp_path: Path) -> None:
    if not Path(PROMTOOL).is_file():
        pytest.skip("promtool missing (Debian prometheus)")
    [yaml] = _blocks("yaml")
    token = tmp_path / "token"
    token.write_text("t\n")
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.replace("/etc/prometheus/clustertop-token", str(token)))
    done = subprocess.run(
        [PROMTOOL, "check", "config", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_exported_metric_is_named() -> None:
    for family in build_metrics([], {}):
        assert f"`{family.name}`" in SECTION, family.name
