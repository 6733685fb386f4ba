"""dcgm-exporter series made into Gpu records (one per GPU, or per MIG instance)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from operator import attrgetter

from clustertop.model import MIB, Container, Gpu
from clustertop.model.fast import maker
from clustertop.model.mig import MigRef
from clustertop.model.owners import OwnerRule, owner_of
from clustertop.sources.prometheus.memo import Labels
from clustertop.sources.prometheus.mig import engine_percent, fold_host, instance_id

GPU_FIELDS = {
    "gpu_util": "DCGM_FI_DEV_GPU_UTIL",
    "gpu_fb_used": "DCGM_FI_DEV_FB_USED",
    "gpu_fb_free": "DCGM_FI_DEV_FB_FREE",
    "gpu_temp": "DCGM_FI_DEV_GPU_TEMP",
    "gpu_power": "DCGM_FI_DEV_POWER_USAGE",
    "gpu_mem_util": "DCGM_FI_DEV_MEM_COPY_UTIL",
    "gpu_xid": "DCGM_FI_DEV_XID_ERRORS",
    # The one utilisation dcgm-exporter reports per MIG instance (a 0-1 ratio).
    "gpu_gr_active": "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
    # Only a sign of the GPU for exporters configured without the fields above.
    "gpu_sm_clock": "DCGM_FI_DEV_SM_CLOCK",
}
"""dcgm-exporter's default fields that the model holds (FB_* are MiB), by query name."""
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
GPU_INFO = "gpu_info"
"""The query that carries each GPU's labels (UUID, model, MIG profile, pod...) once."""
GPU_LABELS = "gpu_labels"
"""GPU labels kept from an earlier reading: given only to GPUs this reading's fields found."""
GPU_FB_TOTAL = "gpu_fb_total"
"""FB_USED + FB_FREE (MiB) of an earlier reading: a GPU's memory size, which does not change."""
GPU_METRICS = "|".join(GPU_FIELDS.values())


def gpu_keep(host_label: str) -> str:
    """The labels that place a GPU field: host, GPU, MIG instance."""
    names = ("gpu", "GPU_I_ID", "Hostname", "hostname", "instance", host_label)
    # A host label no label could have is left out (the fields then place GPUs as usual).
    return ", ".join(dict.fromkeys(n for n in names if _LABEL_NAME.fullmatch(n)))


def gpu_queries(host_label: str) -> dict[str, str]:
    """Each field by GPU with only the labels that place it (host, GPU, MIG instance), and the
    full label set once per GPU: an answer about half the size to encode and decode."""
    keep, metrics = gpu_keep(host_label), GPU_METRICS
    return {
        GPU_INFO: f'group without () ({{__name__=~"{metrics}"}})',
        **{name: f"max by ({keep}) ({metric})" for name, metric in GPU_FIELDS.items()},
    }


GPU_QUERIES = gpu_queries("instance")
"""The GPU queries of one reading, by name (for the default host label)."""


WorkloadKey = tuple[str, str, str]
"""(namespace, pod, container) of a Kubernetes workload, or ("", "", hpc_job)."""


def workload_key(labels: Mapping[str, str]) -> WorkloadKey | None:
    """Who uses a GPU, as dcgm-exporter's pod mapping (or HPC job mapping) labels its series."""
    if labels.get("pod"):
        return labels.get("namespace", ""), labels["pod"], labels.get("container", "")
    if labels.get("hpc_job"):
        return "", "", labels["hpc_job"]
    return None


Static = tuple[Labels, int, str, str, "str | None", "int | None", "WorkloadKey | None"]
"""What a GPU's label set says (the set itself, index, UUID, model, bus id, GPU_I_ID, workload)."""
_STATIC: dict[int, Static] = {}
"""Each label set's Static by the set's id (the set is kept in it, so its id is not reused):
the same sets come back each reading (memo_vector keeps them), and reading 40,000 of them
again was about a third of a reading's GPU records."""
STATIC_MAX = 200_000
"""Label sets remembered at most (then forgotten all at once, and read again)."""


def gpu_static(labels: Labels) -> Static | None:
    """A GPU label set's Static (None without a numeric `gpu` label)."""
    found = _STATIC.get(id(labels))
    if found is not None and found[0] is labels:
        return found
    try:
        index = int(labels.get("gpu", ""))
    except ValueError:
        return None
    gi = labels.get("GPU_I_ID", "")
    found = (
        labels, index, labels.get("UUID", ""), labels.get("modelName", ""),
        labels.get("pci_bus_id") or None, int(gi) if gi.isdigit() else None,
        workload_key(labels),
    )  # fmt: skip
    if len(_STATIC) >= STATIC_MAX:
        _STATIC.clear()
    _STATIC[id(labels)] = found
    return found


def _gpu(got: Mapping[str, object]) -> Gpu | None:
    labels = got.get("labels")
    static = gpu_static(labels) if isinstance(labels, dict) else None
    return None if static is None else _made(got, static)


_GPU = maker(Gpu)
"""Gpu(...), made cheaper: 40,000 a reading at 5,000 x 8."""


def _made(got: Mapping[str, object], static: Static) -> Gpu:
    """The Gpu of an entry (its fields) with its labels' Static; this runs 40,000 times a
    reading at 5,000 x 8, so its lookups are inlined."""
    get = got.get
    used, temp, power = get("gpu_fb_used"), get("gpu_temp"), get("gpu_power")
    mem_util, xid, util = get("gpu_mem_util"), get("gpu_xid"), get("gpu_util")
    total: float | None = None
    if type(used) is float:
        free = get("gpu_fb_free")
        if type(free) is float:
            total = used + free
        else:  # a large fleet's reading: the size read before
            size = get(GPU_FB_TOTAL)
            total = size if type(size) is float else None
        used_bytes: int | None = int(used * MIB)
    else:
        used_bytes = None
    if type(util) is not float:
        # An exporter configured with the profiling fields only.
        util = engine_percent(got) if static[5] is None else None
    # `type() is`: filed values are floats exactly (parse_vector). Positional (as the fields
    # are declared): keywords cost more, 40,000 times.
    return _GPU(
        static[1], static[2], static[3], util, used_bytes,
        int(total * MIB) if total is not None else None,
        temp if type(temp) is float else None,
        power if type(power) is float else None,
        None, None,  # power limit, fan
        mem_util if type(mem_util) is float else None,
        static[4],  # bus id
        None, None,  # ECC, MIG mode
        # DCGM_FI_DEV_XID_ERRORS holds the last XID the driver reported (0: none).
        f"XID error {int(xid)} (dcgm-exporter)" if type(xid) is float and xid else None,
        "nvidia",  # dcgm-exporter reads NVIDIA GPUs only
    )  # fmt: skip


BuiltGpus = tuple[tuple[Gpu, ...], list[Mapping[str, object]]]
"""A host's GPU records and the entries naming a workload (build_gpus), made beforehand."""


def build_gpus(
    found: Mapping[str, Mapping[str, object]], working: list[Mapping[str, object]] | None = None
) -> tuple[Gpu, ...]:
    """The GPUs of one host by index, a MIG GPU's instances under it (GI order); the entries
    that name a workload (pod, HPC job) are added to `working`."""
    keys: list[str] = []
    gots: list[Mapping[str, object]] = []
    made: list[Gpu] = []
    mig = False
    known = _STATIC.get  # gpu_static's lookup inlined: this runs 40,000 times a reading
    for key, got in found.items():
        labels = got.get("labels")
        static = known(id(labels))
        if static is None or static[0] is not labels:
            static = gpu_static(labels) if isinstance(labels, dict) else None
            if static is None:
                continue
        # Parallel lists, not a (got, Gpu) pair each: 40,000 pairs fewer for the collector.
        keys.append(key)
        gots.append(got)
        made.append(_made(got, static))
        if static[5] is not None:
            mig = True
        if static[6] is not None and working is not None:
            working.append(got)
    if mig:
        return tuple(fold_host(dict(zip(keys, zip(gots, made, strict=True), strict=True))))
    # No MIG instance (most hosts): each index's last GPU, by index, as fold_host gives them.
    whole = dict(zip(map(_INDEX, made), made, strict=True))
    return tuple(map(whole.__getitem__, sorted(whole)))


_INDEX = attrgetter("index")


def _held(before: Container | None, index: int, gi: int | None) -> tuple[tuple[int, MigRef], ...]:
    """The instances a workload holds, with the one this series names (GI only: no CI, no
    MIG UUID in dcgm-exporter's labels)."""
    held = before.mig if before else ()
    return held if gi is None else (*held, (index, MigRef(gi, None)))


def gpu_workloads(
    found: Iterable[Mapping[str, object]], rule: OwnerRule
) -> dict[WorkloadKey, Container]:
    """One running Container per pod (or HPC job) that dcgm-exporter attributes GPUs to, from
    a host's GPU entries (those build_gpus found working suffice)."""
    workloads: dict[WorkloadKey, Container] = {}
    for got in found:
        labels = got.get("labels")
        static = gpu_static(labels) if isinstance(labels, dict) else None
        key = static[6] if static is not None else None
        if key is None or static is None:  # most GPUs name no workload: skip early
            continue
        labels, gpu = static[0], _made(got, static)
        namespace, pod, container = key
        name = pod or f"job {container}"
        before = workloads.get(key)
        held = (before.gpu_memory_used or 0) if before else 0
        workloads[key] = Container(
            id=f"k8s:{namespace}/{pod}/{container}" if pod else f"hpc_job:{container}",
            name=name,
            image="",
            state="running",
            status="holds a GPU (dcgm-exporter)",
            gpus=tuple(sorted({*(before.gpus if before else ()), gpu.index})),
            mig=_held(before, gpu.index, instance_id(got)),
            # A job number names no person: only an owner label does.
            owner=owner_of(labels=labels, container_name=pod or None, rule=rule),
            labels={
                k: labels[k] for k in ("namespace", "pod", "container", "hpc_job") if labels.get(k)
            },
            gpu_memory_used=held + (gpu.memory_used or 0),
        )
    return workloads
