"""Each setting is declared once, with parser and help; the shortest interval; no import cycle."""

from __future__ import annotations

import ast
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

import clustertop.config
from clustertop.config import MIN_INTERVAL, Config, HostOverride, load_config
from clustertop.config.declare import Setting, declared_settings, setting
from clustertop.config.schema import HOST_SETTINGS, NOT_SETTINGS, SETTINGS
from clustertop.config.values import integer
from tests.test_config import env, load_error, write_config  # noqa: F401 - env is a fixture

CONFIG_PACKAGE = Path(clustertop.config.__file__).parent


def test_config_fields_are_the_settings_then_the_rest() -> None:
    names = [item.name for item in dataclasses.fields(Config)]
    assert names == [*SETTINGS, *NOT_SETTINGS]
    assert list(HOST_SETTINGS) == [item.name for item in dataclasses.fields(HostOverride)]


@pytest.mark.parametrize(
    ("name", "declared"),
    [*SETTINGS.items(), *(("hosts." + n, s) for n, s in HOST_SETTINGS.items())],
)
def test_every_setting_has_a_parser_and_one_line_of_help(name: str, declared: Setting) -> None:
    assert callable(declared.parse), name
    assert declared.help.strip() and "\n" not in declared.help, name


@pytest.mark.parametrize("name", list(SETTINGS))
def test_every_default_reads_back_from_what_config_show_writes(name: str) -> None:
    """Schema and dataclass agree: the parser takes the rendered default and gives it back."""
    default = getattr(Config(), name)
    literal = SETTINGS[name].render(default)
    assert SETTINGS[name].parse(tomllib.loads(f"x = {literal}")["x"]) == default


def test_a_field_declared_without_setting_is_refused() -> None:
    @dataclasses.dataclass(frozen=True)
    class Partial:
        declared: int = setting(1, integer(low=0), "A declared setting.")
        bare: int = 2

    with pytest.raises(TypeError, match=r"Partial\.bare is declared without setting\(\)"):
        declared_settings(Partial)
    assert list(declared_settings(Partial, plain=("bare",))) == ["declared"]


def test_a_setting_needs_help_and_an_immutable_default() -> None:
    with pytest.raises(ValueError, match="a setting needs a line of help"):
        setting(1, integer(low=0), " ")
    with pytest.raises(TypeError, match="must be immutable"):
        setting([1], lambda value: [value], "A list.")


def test_the_config_modules_import_no_cycle() -> None:
    """Every import counts, TYPE_CHECKING ones included (import-linter counts them too)."""
    graph: dict[str, set[str]] = {}
    for path in CONFIG_PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        found = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        graph[path.stem] = {
            module.rsplit(".", 1)[1]
            for module in found
            if module and module.startswith("clustertop.config.")
        }

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for step in graph.get(start, set()) - seen:
            seen.add(step)
            if step == goal or reaches(step, goal, seen):
                return True
        return False

    assert graph["render"] and "settings" not in graph["render"]
    assert [name for name in graph if reaches(name, name, set())] == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("interval = 0.0001\n", "interval: must be at least 0.1 seconds, got 0.0001"),
        ('interval = "50ms"\n', "interval: must be at least 0.1 seconds, got '50ms'"),
        (
            '[hosts."gpu01"]\ninterval = "10ms"\n',
            "hosts.\"gpu01\".interval: must be at least 0.1 seconds, got '10ms'",
        ),
    ],
)
def test_an_interval_under_the_minimum_in_the_file_names_file_and_key(
    env: dict[str, str], text: str, problem: str
) -> None:
    path = write_config(env, text)
    assert load_error(env) == f"{path}: {problem}"


def test_an_interval_under_the_minimum_from_env_or_option_names_it(env: dict[str, str]) -> None:
    assert load_error(env | {"CLUSTERTOP_INTERVAL": "0.0001"}) == (
        "environment variable CLUSTERTOP_INTERVAL: must be at least 0.1 seconds, got '0.0001'"
    )
    assert load_error(env, {"interval": "0.05"}) == (
        "option --interval: must be at least 0.1 seconds, got '0.05'"
    )


def test_the_minimum_interval_itself_is_accepted(env: dict[str, str]) -> None:
    write_config(env, 'interval = "100ms"\n[hosts."gpu01"]\ninterval = 0.1\n')
    config = load_config({}, env)
    assert config.interval == MIN_INTERVAL == 0.1
    assert config.host_override("gpu01").interval == MIN_INTERVAL
    assert load_config({"interval": "0.1"}, env).interval == MIN_INTERVAL


def test_the_command_line_refuses_a_too_short_interval(tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERTOP_")}
    done = subprocess.run(
        [sys.executable, "-m", "clustertop", "--once", "--interval", "0.0001"],
        capture_output=True,
        text=True,
        timeout=60,
        env=base | {"XDG_CONFIG_HOME": str(tmp_path)},
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert "option --interval: must be at least 0.1 seconds, got '0.0001'" in done.stderr
