"""A large fleet's kept GPU sizes and the check that every GPU found has its labels."""

from __future__ import annotations

from clustertop.sources.prometheus.client import Labels, Series
from clustertop.sources.prometheus.kept import sizes, unlabelled


def _gpu(host: str, gpu: int, **more: str) -> Labels:
    """A series' labels in name order, as Prometheus writes them."""
    return dict(
        sorted({"Hostname": host, "gpu": str(gpu), "instance": f"{host}:9400", **more}.items())
    )


def test_each_size_is_used_plus_free_of_the_same_gpu() -> None:
    used: list[Series] = [(_gpu("a", 0), 100.0), (_gpu("a", 1), 5.0),
                          (_gpu("b", 0), 7.0)]  # fmt: skip
    free: list[Series] = [(_gpu("b", 0), 3.0), (_gpu("a", 0), 900.0), (_gpu("c", 0), 1.0)]
    assert sizes(used, free) == [(used[0][0], 1000.0), (used[2][0], 10.0)]


def test_a_gpu_found_by_a_field_and_not_named_by_the_labels_is_unlabelled() -> None:
    labels: list[Series] = [(_gpu("a", 0, UUID="GPU-1"), 1.0), (_gpu("a", 1, UUID="GPU-2"), 1.0)]
    named = {"gpu_util": [(_gpu("a", 0), 5.0)], "gpu_temp": [(_gpu("a", 1), 50.0)]}
    assert not unlabelled(named, labels, "instance")
    clock_only = {**named, "gpu_sm_clock": [(_gpu("b", 0), 1380.0)]}
    assert unlabelled(clock_only, labels, "instance")
    mig = {"gpu_fb_used": [(_gpu("a", 0, GPU_I_ID="1"), 10.0)]}  # an instance of GPU 0
    assert unlabelled(mig, labels, "instance")
    named = [*labels, (_gpu("a", 0, GPU_I_ID="1", UUID="GPU-1"), 1.0)]
    assert not unlabelled(mig, named, "instance")
    assert not unlabelled({"gpu_power": [(_gpu("z", 9), 1.0)]}, labels, "instance")  # detail
