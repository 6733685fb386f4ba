"""`scontrol show job -d` records (Slurm 17-24): user, name, account, partition, GPU indices."""

from __future__ import annotations

import re

from clustertop.model.slurm import SlurmJob

_USER = re.compile(r"^(?P<name>[^()\s]*)\((?P<uid>[0-9]+)\)$")
# One GPU entry of a per-node GRES value: gpu(IDX:5), gpu:2(IDX:1-2), gpu:rtx2080:1(IDX:0,2-3).
_GPU_IDX = re.compile(r"(?:^|,)gpu(?::[^,(]*)*\(IDX:(?P<idx>[0-9,\-]+)\)")
_MAX_INDEX = 4096


def index_list(text: str) -> tuple[int, ...] | None:
    """'0,2-3' -> (0, 2, 3); None when malformed or absurd."""
    found: list[int] = []
    for part in text.split(","):
        low, dash, high = part.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            return None
        first, last = int(low), int(high) if dash else int(low)
        if last < first or last > _MAX_INDEX:
            return None
        found.extend(range(first, last + 1))
    return tuple(found)


def _pairs(line: str) -> list[tuple[str, str]]:
    # Key=Value words; words without '=' (NtasksPerTRES:0) are skipped.
    return [(k, v) for word in line.split() for k, sep, v in [word.partition("=")] if sep]


def _nulled(value: str | None) -> str | None:
    return None if value in (None, "", "(null)", "N/A") else value


def _job(lines: list[str]) -> SlurmJob | None:
    values: dict[str, str] = {}
    gpus: dict[str, tuple[int, ...]] = {}
    for line in lines:
        pairs = _pairs(line)
        if line.startswith("     Nodes=") or (pairs and pairs[0][0] == "Nodes"):
            node = pairs[0][1]
            gres = dict(pairs).get("GRES", "")
            indices = [index_list(m.group("idx")) for m in _GPU_IDX.finditer(gres)]
            if indices and all(i is not None for i in indices):
                gpus[node] = tuple(sorted({x for i in indices if i for x in i}))
            continue
        for key, value in pairs:
            values.setdefault(key, value)
    job_id = values.get("JobId", "")
    if not job_id.isdigit():
        return None
    user = _USER.match(values.get("UserId", ""))
    return SlurmJob(
        id=job_id,
        user=(user.group("name") or None) if user else None,
        uid=int(user.group("uid")) if user else None,
        name=_nulled(values.get("JobName")),
        account=_nulled(values.get("Account")),
        partition=_nulled(values.get("Partition")),
        state=_nulled(values.get("JobState")),
        start_time=_nulled(values.get("StartTime")),
        gpus=gpus,
    )


def parse_scontrol_jobs(text: str) -> dict[str, SlurmJob]:
    """Jobs by id from `scontrol show job [-d|-dd]`; records start with `JobId=`."""
    records: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("JobId="):
            records.append([line])
        elif records and line.strip():
            records[-1].append(line)
    jobs = (_job(lines) for lines in records)
    return {job.id: job for job in jobs if job is not None}
