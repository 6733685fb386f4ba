"""The probe runs `podman ps` again only when podman's state changed or it listed containers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from clustertop.parsers.podman import parse_podman_ps
from clustertop.sources.ssh.probe import parse_frame, split_parts
from tests.ssh.test_probe_local import AWKS, MARKER, LocalProbe
from tests.waiting import wait_for

FAKE_DOCKER = """#!/bin/sh
# No Docker container; `docker events` waits (the probe ends it with its process group).
case "$1" in events) exec sleep 600 ;; esac
exit 0
"""
FAKE_PODMAN = """#!/bin/sh
# Counts its runs; prints the containers in $CT_PODMAN_OUT, else none ("[]", as podman does).
echo run >>"$CT_PODMAN_LOG"
if [ -s "$CT_PODMAN_OUT" ]; then cat "$CT_PODMAN_OUT"; else echo '[]'; fi
"""
CONTAINER = {
    "Id": "a" * 64,
    "Names": ["web"],
    "Image": "localhost/web:latest",
    "State": "running",
    "Status": "Up 5 seconds",
    "Pid": 1,
}


class PodmanWatch:
    """A probe whose docker section runs every tick, with a fake podman and a storage folder."""

    def __init__(self, awk: str, tmp_path: Path) -> None:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        for name, text in (("podman", FAKE_PODMAN), ("docker", FAKE_DOCKER)):
            (bin_dir / name).write_text(text)
            (bin_dir / name).chmod(0o755)
        self.log, self.out = tmp_path / "podman.log", tmp_path / "podman.out"
        self.storage = tmp_path / "home/.local/share/containers/storage"
        self.storage.mkdir(parents=True)
        env = {"HOME": str(tmp_path / "home"), "CT_PODMAN_LOG": str(self.log)}
        env |= {"CT_PODMAN_OUT": str(self.out), "XDG_DATA_HOME": "", "XDG_CONFIG_HOME": ""}
        env |= {"CONTAINERS_CONF": "", "CONTAINERS_STORAGE_CONF": "", "CONTAINER_HOST": ""}
        self.probe = LocalProbe(
            awk, tmpdir=tmp_path, path=str(bin_dir), extra_env=env, options={"docker_every": 1}
        )
        self.listings: list[str] = []

    def runs(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0

    def tick(self) -> None:
        """One frame; a finished docker section's podman part goes into listings."""
        frame = parse_frame(self.probe.tick(0), MARKER)
        if "docker" in frame.sections:
            parts = split_parts(frame.sections["docker"].body, MARKER)
            self.listings.append(parts["podman"])

    def tick_until(self, done: object, what: str) -> None:
        def check() -> bool:
            self.tick()
            return bool(done())  # type: ignore[operator]

        wait_for(check, 30, what=what)


def _only_podman_storage_here() -> None:
    for conf in ("/etc/containers/storage.conf", "/usr/share/containers/storage.conf"):
        if os.path.exists(conf):
            pytest.skip(f"{conf} may name podman's storage elsewhere")


@pytest.mark.parametrize("awk", AWKS)
def test_no_podman_container_and_no_change_means_no_podman_run(awk: str, tmp_path: Path) -> None:
    _only_podman_storage_here()
    watch = PodmanWatch(awk, tmp_path)
    try:
        watch.tick_until(lambda: len(watch.listings) >= 6, "six docker sections")
        # The first listing ran podman; the next ones said the same without running it (a
        # change to the system's podman storage by someone else may cost one more run).
        assert watch.runs() <= 2
        assert all(parse_podman_ps(p.split("@rc")[0]) == [] for p in watch.listings)
        assert all(p.rstrip().endswith("@rc 0") for p in watch.listings)

        # A new container is written to podman's storage: podman runs and it is listed.
        watch.out.write_text(json.dumps([CONTAINER]) + "\n")
        (watch.storage / "db.sql").write_text("changed")
        runs = watch.runs()
        watch.tick_until(lambda: watch.runs() > runs, "a podman run after the change")
        watch.tick_until(lambda: "web" in watch.listings[-1], "the new container listed")
        [found] = parse_podman_ps(watch.listings[-1].split("@rc")[0])
        assert found.name == "web"

        # While it lists containers, podman runs each time (their status changes over time).
        runs = watch.runs()
        watch.tick_until(lambda: watch.runs() >= runs + 3, "podman runs while it lists one")
    finally:
        watch.probe.close()
