"""Parsers for `du -x -k -d N` lines and the lines of a `docker system df -v` template."""

from __future__ import annotations

import re

from clustertop.model.diskusage import DirSize, DockerItem, DockerUsage

_KIB = 1024
_DOCKER_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kKMGTP]?i?B)\s*$")
_DOCKER_UNITS = {"B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4, "PB": 1000**5}


def parse_du_line(line: str, mount: str) -> DirSize | None:
    """'1234<TAB>/data/x' (KiB) -> DirSize; None for anything else (a path with a newline in
    it splits into lines that are not du's)."""
    size, tab, path = line.partition("\t")
    if not tab or not size.isdigit():
        return None
    base = mount.rstrip("/")
    if path != mount and not path.startswith(base + "/"):
        return None  # not under the mount (/data2 is not under /data)
    rest = path[len(base) :].strip("/")
    depth = rest.count("/") + 1 if rest else 0
    return DirSize(path, int(size) * _KIB, depth)


def docker_size(text: object) -> int | None:
    """Docker's human size ('1.984MB', '0B', '12.3kB', '2GiB') in bytes; None if unreadable."""
    match = _DOCKER_SIZE.match(str(text))
    if match is None:
        return None
    unit = match.group(2).upper().replace("I", "")
    binary = "i" in match.group(2)
    scale = 1024 ** "BKMGTP".index(unit[0]) if binary and unit != "B" else _DOCKER_UNITS[unit]
    return int(float(match.group(1)) * scale)


def parse_docker_df_lines(lines: list[str]) -> DockerUsage:
    """'KIND<TAB>NAME<TAB>SIZE' lines (the template DOCKER_DF_SCRIPT asks for); a line that is
    not one is kept as the error when no item was read at all."""
    items: list[DockerItem] = []
    other: list[str] = []
    for line in lines:
        parts = line.split("\t")
        if len(parts) == 3 and parts[0] in {"images", "containers", "volumes", "build cache"}:
            items.append(DockerItem(parts[0], parts[1], docker_size(parts[2])))
        elif line.strip():
            other.append(line.strip())
    error = "; ".join(other)[:300] if other and not items else None
    return DockerUsage(tuple(sorted(items, key=lambda i: i.size or 0, reverse=True)), error)
