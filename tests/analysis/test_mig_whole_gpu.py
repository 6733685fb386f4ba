"""The whole-GPU rule, written once in analysis.mig: unit_state, host_unit_states and the grid
summary's count (free_whole_gpus) give the states worked out by hand, limits and NaN included."""

from __future__ import annotations

import math

from clustertop.analysis.mig import (
    GpuUnit,
    UnitState,
    free_whole_gpus,
    host_unit_states,
    unit_state,
)
from clustertop.model import Gpu
from tests.analysis.builders import gpu, proc, snap
from tests.analysis.test_mig import mig_gpu

BUSY, FREE, UNKNOWN = UnitState.BUSY, UnitState.FREE, UnitState.UNKNOWN
LIMITS = {"memory_mib": 500, "util_percent": 5.0}

CASES: list[tuple[Gpu, UnitState]] = [
    (gpu(0, 0.0, 0), FREE),  # idle, every figure known
    (gpu(1, 5.0, 500), FREE),  # at both limits: not over
    (gpu(2, 5.5, 0), BUSY),  # over the utilisation limit
    (gpu(3, 0.0, 501), BUSY),  # over the memory limit
    (gpu(4, None, 0), UNKNOWN),  # utilisation unknown
    (gpu(5, 0.0, None), UNKNOWN),  # memory unknown
    (gpu(6, None, 900), BUSY),  # over the memory limit, utilisation unknown
    (gpu(7, 0.0, 0, error="XID 79"), UNKNOWN),  # an error: cannot tell
    (gpu(8, math.nan, 0), FREE),  # NaN is not over, and it is a reading
    (gpu(9, 0.0, 0), BUSY),  # the process below runs on it
]
PROCESS = proc(4242, 9, 100)


def test_each_way_of_asking_gives_the_states_worked_out_by_hand() -> None:
    gpus = tuple(found for found, _ in CASES)
    expected = [state for _, state in CASES]
    for one, state in CASES:
        on_gpu = (PROCESS,) if one.index == PROCESS.gpu_index else ()
        assert unit_state(GpuUnit(one), on_gpu, **LIMITS) is state, one
    host = snap(gpus=gpus, gpu_processes=(PROCESS,))
    assert [state for _, state in host_unit_states(host, **LIMITS)] == expected
    assert free_whole_gpus(host, **LIMITS) == expected.count(FREE) == 3


def test_no_free_count_without_units_when_a_gpu_has_mig_instances() -> None:
    host = snap(gpus=(gpu(0, 0.0, 0), mig_gpu(1)))
    assert free_whole_gpus(host, **LIMITS) is None
    states = host_unit_states(host, **LIMITS)
    assert [unit.instance is None for unit, _ in states] == [True, False, False, False, False]
    assert states[0][1] is FREE
