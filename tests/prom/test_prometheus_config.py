"""The `[prometheus]` table: the prometheus_* settings by their short names, checked as they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from clustertop.cli.prometheus import prom_settings
from clustertop.config.settings import ConfigError, load_config


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "c.toml"
    path.write_text(text)
    return load_config({}, {"HOME": str(tmp_path)}, path)


def test_table_sets_the_prefixed_settings(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        '[prometheus]\nurl = "http://prom:9090/"\nbearer_token_file = "/etc/t"\n'
        'verify_tls = false\nhost_label = "node"\n',
    )
    assert config.prometheus_url == "http://prom:9090"  # type: ignore[attr-defined]
    assert str(config.prometheus_bearer_token_file) == "/etc/t"  # type: ignore[attr-defined]
    assert config.prometheus_verify_tls is False  # type: ignore[attr-defined]
    assert config.prometheus_host_label == "node"  # type: ignore[attr-defined]
    assert config.sources["prometheus_url"].startswith("file ")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[prometheus]\nurls = "http://p"\n',
            "prometheus.urls: unknown setting (did you mean 'url'",
        ),
        ('[prometheus]\nurl = "ftp://p"\n', "prometheus.url: expected an http:// or https:// URL"),
        (
            '[prometheus]\ncompress = "gzip"\n',
            "prometheus.compress: expected 'auto', 'always' or 'never', got 'gzip'",
        ),
        (
            "[prometheus]\ncompress = true\n",
            "prometheus.compress: expected a string, got true",
        ),
        (
            'prometheus_compress = ""\n',
            "prometheus_compress: expected 'auto', 'always' or 'never', got ''",
        ),
    ],
)
def test_table_mistakes_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert message in str(caught.value)


def test_compress_from_the_table_the_flat_key_and_the_environment(tmp_path: Path) -> None:
    home = {"HOME": str(tmp_path)}
    default = load_config({}, home)
    assert default.prometheus_compress == "auto"
    assert default.sources["prometheus_compress"] == "default"
    assert prom_settings(default).compress == "auto"
    path = tmp_path / "c.toml"
    for text, value in (('[prometheus]\ncompress = "never"\n', "never"),
                        ('prometheus_compress = " Always "\n', "always")):  # fmt: skip
        path.write_text(text)
        config = load_config({}, home, path)
        assert config.prometheus_compress == value
        assert config.sources["prometheus_compress"] == f"file {path}"
        assert prom_settings(config).compress == value
    from_env = load_config({}, home | {"CLUSTERTOP_PROMETHEUS_COMPRESS": "never"}, path)
    assert from_env.prometheus_compress == "never"  # the environment beats the file
    assert from_env.sources["prometheus_compress"] == "env CLUSTERTOP_PROMETHEUS_COMPRESS"


def test_a_bad_compress_variable_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({}, {"HOME": str(tmp_path), "CLUSTERTOP_PROMETHEUS_COMPRESS": "sometimes"})
    assert str(caught.value) == (
        "environment variable CLUSTERTOP_PROMETHEUS_COMPRESS: "
        "expected 'auto', 'always' or 'never', got 'sometimes'"
    )
