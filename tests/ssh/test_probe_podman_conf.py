"""podman's storage.conf read by the probe: a root it names is watched; one it cannot follow runs podman."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ssh.test_probe_local import AWKS
from tests.ssh.test_probe_podman_same import PodmanWatch, _only_podman_storage_here


def _storage_conf(tmp_path: Path, text: str) -> None:
    conf = tmp_path / "home/.config/containers/storage.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(text)


@pytest.mark.parametrize("awk", AWKS)
def test_a_graphroot_named_in_storage_conf_is_watched(awk: str, tmp_path: Path) -> None:
    _only_podman_storage_here()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # Comments, other keys and a quoted plain path, as podman's own files have them.
    _storage_conf(
        tmp_path,
        '[storage]\ndriver = "overlay"\n# graphroot = "/nowhere"\n'
        f'  graphroot = "{elsewhere}"  \nrunroot = "/run/x"\n',
    )
    watch = PodmanWatch(awk, tmp_path)
    try:
        watch.tick_until(lambda: len(watch.listings) >= 4, "four docker sections")
        assert watch.runs() <= 2, "no change: podman is not run again"
        runs = watch.runs()
        (elsewhere / "db.sql").write_text("changed")
        watch.tick_until(lambda: watch.runs() > runs, "a podman run after a change there")
    finally:
        watch.probe.close()


@pytest.mark.parametrize("awk", AWKS)
def test_a_graphroot_the_probe_cannot_follow_runs_podman_each_time(
    awk: str, tmp_path: Path
) -> None:
    _only_podman_storage_here()
    _storage_conf(tmp_path, '[storage]\ngraphroot = "$HOME/storage"\n')
    watch = PodmanWatch(awk, tmp_path)
    try:
        watch.tick_until(lambda: len(watch.listings) >= 4, "four docker sections")
        assert watch.runs() >= len(watch.listings)
    finally:
        watch.probe.close()
