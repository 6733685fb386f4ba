"""The `[history]` table: the store's path, retention and off switch, and the chart window."""

from __future__ import annotations

from pathlib import Path

import pytest

from clustertop.config.settings import Config, ConfigError, load_config


def _load(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "c.toml"
    path.write_text(text)
    return load_config({}, {"HOME": str(tmp_path)}, path)


def test_table_sets_the_store_settings(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        '[history]\nstore = false\npath = "/srv/ct/h.sqlite"\nretention = "30d"\nwindow = "2h"\n',
    )
    assert config.history_store is False
    assert config.history_path == Path("/srv/ct/h.sqlite")
    assert config.history_retention == 30 * 86400
    assert config.history == 2 * 3600
    assert config.sources["history_path"].startswith("file ")


def test_the_flat_settings_still_work(tmp_path: Path) -> None:
    config = _load(tmp_path, 'history = "30m"\nhistory_store = false\n')
    assert config.history == 1800 and config.history_store is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[history]\nretension = "30d"\n', "history.retension: unknown setting (did you mean"),
        ('[history]\nretention = "1h"\n', "history.retention: "),
        ('[history]\nhistory = "1h"\n', "history.history: unknown setting"),
    ],
)
def test_bad_keys_are_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        _load(tmp_path, text)
