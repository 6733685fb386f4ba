"""The collector's pace for large fleets: changed once, for large fleets, never over a choice."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from clustertop.util.gcpolicy import FLEET_GEN0, FLEET_HOSTS, pace_for_hosts


@pytest.fixture(autouse=True)
def kept_threshold() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, before[1], before[2])
    yield
    gc.set_threshold(*before)


def test_a_large_fleet_collects_the_youngest_generation_less_often() -> None:
    _, gen1, gen2 = gc.get_threshold()
    assert pace_for_hosts(FLEET_HOSTS)
    assert gc.get_threshold() == (FLEET_GEN0, gen1, gen2)


def test_a_small_fleet_keeps_the_default() -> None:
    assert not pace_for_hosts(FLEET_HOSTS - 1)
    assert gc.get_threshold()[0] == 700


def test_a_threshold_someone_chose_is_kept() -> None:
    gc.set_threshold(1234)
    assert not pace_for_hosts(5000)
    assert gc.get_threshold()[0] == 1234
