"""Latency samples and their summary: percentiles from the sorted samples, and throughput."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
P = TypeVar("P")


@dataclass(frozen=True)
class Summary:
    """What n timed calls took: percentiles and mean in milliseconds, calls per second."""

    n: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    throughput: float  # calls per second of busy time on one connection

    def cell(self) -> str:
        """`p50 / p95 / p99` in milliseconds, as the report's tables show them."""
        return f"{fmt_ms(self.p50_ms)} / {fmt_ms(self.p95_ms)} / {fmt_ms(self.p99_ms)}"

    def as_dict(self) -> dict[str, float]:
        """The figures, for JSON."""
        return {
            "n": self.n,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "mean_ms": self.mean_ms,
            "max_ms": self.max_ms,
            "throughput": self.throughput,
        }


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of sorted samples, nearest rank (a sample, never a blend)."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summarize(samples_ns: Iterable[int]) -> Summary:
    """Summary of latencies given in nanoseconds; throughput is n over the summed latencies."""
    ordered = sorted(samples_ns)
    n = len(ordered)
    if n == 0:
        nan = math.nan
        return Summary(0, nan, nan, nan, nan, nan, 0.0)
    total = sum(ordered)
    ms = [s / 1e6 for s in ordered]
    return Summary(
        n=n,
        p50_ms=percentile(ms, 50),
        p95_ms=percentile(ms, 95),
        p99_ms=percentile(ms, 99),
        mean_ms=total / n / 1e6,
        max_ms=ms[-1],
        throughput=n / (total / 1e9) if total else math.inf,
    )


def measure(
    items: Sequence[T],
    call: Callable[[P], object],
    prepare: Callable[[T], P],
    warmup: int,
) -> Summary:
    """Run `call(prepare(item))` for every item, timing only `call` with perf_counter_ns.

    The first `warmup` items are run untimed first (connections warm, statements prepared:
    psycopg prepares a statement on its sixth execution). `prepare` is never timed.
    """
    for item in items[:warmup]:
        call(prepare(item))
    samples: list[int] = []
    clock = time.perf_counter_ns
    for item in items[warmup:]:
        prepared = prepare(item)
        started = clock()
        call(prepared)
        samples.append(clock() - started)
    return summarize(samples)


def fmt_ms(value: float) -> str:
    """Milliseconds with precision that suits their size (0.123, 1.23, 12.3, 123)."""
    if math.isnan(value):
        return "n/a"
    if value < 1:
        return f"{value:.3f}"
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:.0f}"


def interleaved_medians_us(
    ways: Mapping[str, Callable[[], object]], calls: int
) -> dict[str, float]:
    """Median time per call of each way, in microseconds, the ways taking turns call by call.

    Turn by turn, in an order reversed every turn, so that each way meets the machine in the
    same states (a noisy VM drifts over seconds; rounds of hundreds of calls each would see
    different moments of it). Medians, not means: one stall of a few milliseconds does not
    move them. Each way runs `calls // 10` (at least 20) times first, untimed.
    """
    samples = _take_turns(ways, calls)
    return {name: statistics.median(wall) / 1000 for name, (wall, _) in samples.items()}


@dataclass(frozen=True)
class Estimate:
    """A median difference in microseconds with its 95% confidence interval."""

    value_us: float
    low_us: float
    high_us: float

    @property
    def half_width_us(self) -> float:
        """Half the interval's width: the '±' of the estimate."""
        return (self.high_us - self.low_us) / 2

    def cell(self) -> str:
        """`+12 µs (±4)`."""
        return f"{self.value_us:+.0f} µs (±{self.half_width_us:.0f})"


@dataclass(frozen=True)
class Overhead:
    """How much more one way costs per call than another: elapsed time, and the CPU time of
    this process (the client's own work: the server's execution and the wait for the network
    do not count, so the server's noise does not drown it)."""

    wall: Estimate
    cpu: Estimate
    pairs: int

    def verdict(self, budget_us: float) -> tuple[bool | None, str]:
        """Whether the overhead is within `budget_us` (None: the measure cannot tell), and on
        what evidence.

        Elapsed time decides when its interval lies wholly on one side of the budget. When it
        straddles the budget (a call whose own time varies by milliseconds cannot resolve tens
        of microseconds), the client's CPU time decides: the library sends the same statements
        as the baseline in no more round trips (one fewer: its BEGIN travels with the role
        switch), so what it adds is work in this process. When that interval straddles the
        budget too, the measure cannot tell.
        """
        if self.wall.high_us <= budget_us:
            return True, "elapsed"
        if self.wall.low_us > budget_us:
            return False, "elapsed"
        if self.cpu.high_us <= budget_us:
            return True, "client CPU (elapsed unresolved)"
        if self.cpu.low_us > budget_us:
            return False, "client CPU (elapsed unresolved)"
        return None, (
            f"elapsed ±{self.wall.half_width_us:.0f} µs and client CPU"
            f" ±{self.cpu.half_width_us:.0f} µs both straddle the budget"
        )


def median_interval(ordered: Sequence[float], z: float = 1.96) -> tuple[float, float]:
    """The distribution-free ~95% confidence interval of the median of sorted samples: the
    order statistics the sign test puts around it (n/2 -+ z*sqrt(n)/2); the whole range when
    there are too few samples for that."""
    n = len(ordered)
    if n == 0:
        return math.nan, math.nan
    k = math.floor(n / 2 - z * math.sqrt(n) / 2)
    if k < 1:
        return ordered[0], ordered[-1]
    return ordered[k - 1], ordered[n - k]


def _estimate(differences_ns: Iterable[float]) -> Estimate:
    ordered = sorted(differences_ns)
    if not ordered:
        return Estimate(math.nan, math.nan, math.nan)
    low, high = median_interval(ordered)
    return Estimate(statistics.median(ordered) / 1000, low / 1000, high / 1000)


def paired_overhead(first: Timings, second: Timings) -> Overhead:
    """`first` minus `second`, turn by turn: each is (elapsed ns, CPU ns) per call, call i of
    one taken beside call i of the other. The median of the paired differences, and its
    interval."""
    (wall_a, cpu_a), (wall_b, cpu_b) = first, second
    return Overhead(
        wall=_estimate(a - b for a, b in zip(wall_a, wall_b, strict=True)),
        cpu=_estimate(a - b for a, b in zip(cpu_a, cpu_b, strict=True)),
        pairs=len(wall_a),
    )


def compare_interleaved(
    first: Callable[[], object], second: Callable[[], object], calls: int
) -> Overhead:
    """What `first` costs per call over `second`, the two taking turns call by call (see
    `interleaved_medians_us`), in elapsed and CPU time, with intervals (`paired_overhead`)."""
    samples = _take_turns({"first": first, "second": second}, calls)
    return paired_overhead(samples["first"], samples["second"])


Timings = tuple[list[int], list[int]]  # elapsed ns, CPU ns of this process; one entry a call


def timed_call(fn: Callable[[], object], out: Timings) -> None:
    """Call `fn`, appending its elapsed and CPU nanoseconds to `out`."""
    started, cpu_started = time.perf_counter_ns(), time.process_time_ns()
    fn()
    cpu_took = time.process_time_ns() - cpu_started
    out[0].append(time.perf_counter_ns() - started)
    out[1].append(cpu_took)


def _take_turns(ways: Mapping[str, Callable[[], object]], calls: int) -> dict[str, Timings]:
    """Elapsed and CPU time per call of each way, taking turns."""
    items = list(ways.items())
    for _, fn in items:
        for _ in range(max(20, calls // 10)):
            fn()
    samples: dict[str, Timings] = {name: ([], []) for name in ways}
    for index in range(calls):
        for name, fn in items if index % 2 == 0 else reversed(items):
            timed_call(fn, samples[name])
    return samples
