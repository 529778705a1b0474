"""The benchmark suite's statistics (bench/stats.py): percentiles, the median's
confidence interval and the overhead verdict. Pure Python: no database, and no timing asserted
(the samples are made up here)."""

from __future__ import annotations

import statistics
from unittest.mock import ANY

from hypothesis import given
from hypothesis import strategies as st

from bench.stats import (
    Estimate,
    Overhead,
    compare_interleaved,
    median_interval,
    paired_overhead,
    percentile,
)

samples = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=400)


@given(samples)
def test_the_median_lies_in_its_interval(values: list[int]) -> None:
    ordered = sorted(values)
    low, high = median_interval(ordered)
    assert low <= statistics.median(ordered) <= high
    assert low in ordered and high in ordered


def test_the_interval_is_the_sign_tests_order_statistics() -> None:
    # n = 100: k = floor(50 - 1.96 * 10 / 2) = 40, so the 40th and the 61st smallest
    ordered = list(range(1, 101))
    assert median_interval(ordered) == (40, 61)
    # too few samples for the test: the whole range
    assert median_interval([5, 7, 9]) == (5, 9)


def test_percentiles_are_nearest_rank() -> None:
    ordered = list(range(1, 21))
    assert percentile(ordered, 50) == 10
    assert percentile(ordered, 95) == 19
    assert percentile(ordered, 100) == 20


@given(st.lists(st.integers(min_value=0, max_value=10**8), min_size=1, max_size=300))
def test_a_way_against_itself_costs_nothing(values: list[int]) -> None:
    same = (values, values)
    result = paired_overhead(same, same)
    assert result.wall == Estimate(0.0, 0.0, 0.0) and result.cpu == Estimate(0.0, 0.0, 0.0)
    assert result.pairs == len(values)


@given(
    st.lists(st.integers(min_value=0, max_value=10**8), min_size=1, max_size=300),
    st.integers(min_value=0, max_value=10**6),
)
def test_a_constant_cost_is_found_exactly_when_paired(values: list[int], extra: int) -> None:
    slower = [v + extra for v in values]
    result = paired_overhead((slower, slower), (values, values))
    assert result.wall.value_us == result.wall.low_us == result.wall.high_us == extra / 1000


def _overhead(wall: tuple[float, float, float], cpu: tuple[float, float, float]) -> Overhead:
    return Overhead(Estimate(*wall), Estimate(*cpu), pairs=100)


def test_elapsed_time_decides_when_its_interval_is_on_one_side() -> None:
    assert _overhead((12, 5, 20), (500, 400, 600)).verdict(30) == (True, "elapsed")
    assert _overhead((45, 35, 55), (1, 0, 2)).verdict(30) == (False, "elapsed")


def test_client_cpu_decides_when_elapsed_time_straddles_the_budget() -> None:
    unresolved = "client CPU (elapsed unresolved)"
    assert _overhead((342, -500, 1200), (12, 8, 16)).verdict(30) == (True, unresolved)
    assert _overhead((342, -500, 1200), (40, 31, 49)).verdict(30) == (False, unresolved)
    # the CPU interval must lie within the budget, not only its median
    assert _overhead((25, 10, 40), (25, 20, 35)).verdict(30) == (None, ANY)


def test_a_measure_that_cannot_tell_says_so() -> None:
    ok, why = _overhead((-999, -2176, 178), (-233, -1450, 984)).verdict(30)
    assert ok is None and why == (
        "elapsed ±1177 µs and client CPU ±1217 µs both straddle the budget"
    )


def test_compare_interleaved_takes_turns_for_every_call() -> None:
    calls: list[str] = []
    result = compare_interleaved(lambda: calls.append("a"), lambda: calls.append("b"), 30)
    assert result.pairs == 30
    timed = calls[-60:]  # after 20 untimed calls of each way
    assert calls[:40] == ["a"] * 20 + ["b"] * 20
    assert timed == ["a", "b", "b", "a"] * 15
    assert result.wall.low_us <= result.wall.value_us <= result.wall.high_us


@given(
    st.lists(st.integers(min_value=0, max_value=10**8), min_size=1, max_size=300),
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=10**6),
)
def test_elapsed_and_cpu_overheads_are_each_from_their_own_samples(
    values: list[int], wall_extra: int, cpu_extra: int
) -> None:
    """Elapsed and CPU samples differ (a call waits on the server far longer than it computes):
    each overhead must come from its own column, never from the other's."""
    cpu = [v // 7 for v in values]
    slower = ([v + wall_extra for v in values], [c + cpu_extra for c in cpu])
    result = paired_overhead(slower, (values, cpu))
    assert result.wall == Estimate(wall_extra / 1000, wall_extra / 1000, wall_extra / 1000)
    assert result.cpu == Estimate(cpu_extra / 1000, cpu_extra / 1000, cpu_extra / 1000)


def test_paired_overhead_keeps_elapsed_and_cpu_apart() -> None:
    first = ([1_000_000] * 50, [30_000] * 50)
    second = ([400_000] * 50, [10_000] * 50)
    result = paired_overhead(first, second)
    assert (result.wall.value_us, result.cpu.value_us) == (600.0, 20.0)
    assert result.pairs == 50
