"""The `[prometheus]` table: the prometheus_* settings by their short names, checked as they are."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    ],
)
def test_table_mistakes_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert message in str(caught.value)
