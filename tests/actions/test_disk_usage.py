"""What fills a disk: real du on a real tree of known sizes, its deadline, real docker df."""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path
from typing import Any

import pytest

from clustertop.actions.disk_usage import (
    DEADLINE_STATUS,
    Progress,
    docker_usage,
    du_script,
    scan,
)
from clustertop.actions.local_runner import LocalActionRunner
from clustertop.parsers.diskusage import docker_size, parse_docker_df_lines, parse_du_line


def _allocated(path: Path) -> int:
    """What du -k counts for a tree: every file's and directory's allocated blocks."""
    total = 0
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total + os.lstat(path).st_blocks * 512


def _tree(root: Path) -> dict[str, int]:
    """A tree of known files: sizes in 64 KiB steps (whole blocks on every filesystem)."""
    sizes = {"big/a.bin": 40, "big/deep/b.bin": 24, "small/c.bin": 2, "logs/d.log": 8}
    for name, blocks in sizes.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(blocks * 65536))
    return sizes


async def test_du_lists_each_directory_with_exactly_what_it_holds(tmp_path: Path) -> None:
    root = tmp_path / "vol"
    _tree(root)
    progress = Progress()
    usage = await scan(LocalActionRunner(), "localhost", str(root), depth=1, deadline_s=60,
                       progress=progress)  # fmt: skip
    assert (usage.partial, usage.status, usage.problems) == (False, 0, ())
    sizes = {d.path: d.size for d in usage.dirs}
    for name in ("big", "small", "logs"):
        assert sizes[str(root / name)] == _allocated(root / name), name
    assert sizes[str(root)] == _allocated(root)
    assert [d.path for d in usage.dirs][:2] == [str(root), str(root / "big")]  # largest first
    assert str(root / "big" / "deep") not in sizes  # depth 1
    assert progress.dirs == 4


async def test_an_unreadable_directory_is_stated_and_the_rest_still_counted(
    tmp_path: Path,
) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every directory")
    root = tmp_path / "vol"
    _tree(root)
    (root / "small").chmod(0)
    try:
        usage = await scan(LocalActionRunner(), "h", str(root), depth=1, deadline_s=60)
    finally:
        (root / "small").chmod(stat.S_IRWXU)
    assert usage.status == 1 and not usage.partial
    assert any("small" in said for said in usage.problems)


async def test_a_du_past_its_deadline_keeps_what_it_finished_marked_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real du, then a hang (as on a dead NFS server): `timeout` ends it at the deadline."""
    root = tmp_path / "vol"
    _tree(root)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    real_du = next(p for d in os.environ["PATH"].split(":") if (p := Path(d) / "du").is_file())
    hang = bin_dir / "du"
    hang.write_text(f'#!/bin/sh\n{real_du} "$@"\nexec sleep 600\n')
    hang.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    usage = await scan(LocalActionRunner(), "h", str(root), depth=2, deadline_s=2)
    assert usage.partial and usage.status == DEADLINE_STATUS
    sizes = {d.path: d.size for d in usage.dirs}
    assert sizes[str(root / "big" / "deep")] == _allocated(root / "big" / "deep")
    assert sizes[str(root)] == _allocated(root)


def test_scripts_refuse_what_is_not_a_mount_and_quote_the_path() -> None:
    with pytest.raises(ValueError, match="not a mount point"):
        du_script("data", 1, 10)
    with pytest.raises(ValueError, match="not a mount point"):
        du_script("/a\nrm -rf /", 1, 10)
    assert "-- '/my disk; rm x'" in du_script("/my disk; rm x", 2, 10)


def test_du_lines_and_docker_sizes_parse_exactly() -> None:
    line = parse_du_line("12\t/data/x/y", "/data")
    assert line is not None and (line.size, line.depth) == (12 * 1024, 2)
    assert parse_du_line("12\t/data2/x", "/data") is None
    assert parse_du_line("oops", "/data") is None
    root = parse_du_line("5\t/", "/")
    assert root is not None and root.depth == 0
    assert docker_size("1.984MB") == 1_984_000
    assert docker_size("0B") == 0
    assert docker_size("2GiB") == 2 * 1024**3
    assert docker_size("lots") is None
    refused = parse_docker_df_lines(["Cannot connect to the Docker daemon at unix:///x.sock"])
    assert refused.items == () and refused.error is not None and "x.sock" in refused.error


@pytest.mark.docker
async def test_docker_system_df_names_images_and_containers(docker_engine: Any) -> None:
    name = f"df-{uuid.uuid4().hex[:8]}"
    try:
        docker_engine.run_container(name, "sh", "-c", "head -c 300000 /dev/zero > /blob; sleep 600")
        runner = LocalActionRunner(docker_engine.host)
        usage = await docker_usage(runner, "localhost")
        assert usage.error is None
        image_size = int(docker_engine.cli("image", "inspect", "-f", "{{.Size}}", "ctbox").stdout)
        [image] = [i for i in usage.items if i.kind == "images" and i.name == "ctbox:latest"]
        assert image.size is not None and abs(image.size - image_size) <= image_size / 1000
        [layer] = [i for i in usage.items if i.kind == "containers" and i.name == name]
        assert layer.size is not None and 300_000 <= layer.size <= 400_000
    finally:
        docker_engine.cli("rm", "--force", name, check=False)


async def test_docker_df_without_a_daemon_says_why(tmp_path: Path) -> None:
    runner = LocalActionRunner(f"unix://{tmp_path}/none.sock")
    usage = await docker_usage(runner, "localhost")
    assert usage.items == () and usage.error is not None
    assert "none.sock" in usage.error or "not found" in usage.error


def test_parsing_the_template_lines() -> None:
    doc = parse_docker_df_lines(
        [
            "images\tpytorch:24.05\t21.5GB",
            "containers\talice-train\t1.2GB",
            "volumes\tdata\t500MB",
            "build cache\tx1\t3kB",
        ]
    )
    assert [(i.kind, i.name, i.size) for i in doc.items] == [
        ("images", "pytorch:24.05", 21_500_000_000),
        ("containers", "alice-train", 1_200_000_000),
        ("volumes", "data", 500_000_000),
        ("build cache", "x1", 3000),
    ]
    assert doc.total("images") == 21_500_000_000 and doc.error is None
