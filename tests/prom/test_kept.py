"""A large fleet's kept GPU sizes: FB_USED + FB_FREE of the same GPU."""

from __future__ import annotations

from clustertop.sources.prometheus.client import Labels, Series
from clustertop.sources.prometheus.fleet import sizes


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
