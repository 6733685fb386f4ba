"""cpu_between against the name-by-name reckoning it replaced, on random counter pairs."""

from __future__ import annotations

import random

from clustertop.model import Cpu
from clustertop.parsers.procfs import CpuSample, cpu_between

COLUMNS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def _by_name(prev: CpuSample, cur: CpuSample) -> Cpu:
    """The reckoning cpu_between replaced, kept as the reference."""
    delta = {name: int(getattr(cur, name)) - int(getattr(prev, name)) for name in COLUMNS}
    total = sum(max(value, 0) for value in delta.values())
    if total <= 0:
        return Cpu(None, None, None, None, count=cur.count)

    def share(*names: str) -> float | None:
        if any(delta[name] < 0 for name in names):
            return None
        return 100.0 * sum(delta[name] for name in names) / total

    idle, iowait = share("idle"), share("iowait")
    busy = None if idle is None else max(0.0, 100.0 - idle - (iowait or 0.0))
    return Cpu(busy, share("user", "nice"), share("system", "irq", "softirq"), iowait, cur.count)


def test_random_counter_pairs_give_the_same_shares_to_the_bit() -> None:
    rng = random.Random(7)
    for _ in range(20000):
        base = [rng.randrange(0, 10**12) for _ in COLUMNS]
        # Mostly forward, some counters backwards (iowait on some kernels, a reboot), some equal.
        step = [
            rng.choice([0, 1, rng.randrange(1, 10**6), -rng.randrange(1, 10**3)]) for _ in COLUMNS
        ]
        prev = CpuSample(*base, count=rng.choice([None, 2, 64]))
        cur = CpuSample(*(max(b + s, 0) for b, s in zip(base, step, strict=True)), count=prev.count)
        mine, theirs = cpu_between(prev, cur), _by_name(prev, cur)
        assert mine == theirs and repr(mine) == repr(theirs) and type(mine) is Cpu
