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
    items = list(ways.items())
    for _, fn in items:
        for _ in range(max(20, calls // 10)):
            fn()
    samples: dict[str, list[int]] = {name: [] for name in ways}
    clock = time.perf_counter_ns
    for index in range(calls):
        for name, fn in items if index % 2 == 0 else reversed(items):
            started = clock()
            fn()
            samples[name].append(clock() - started)
    return {name: statistics.median(values) / 1000 for name, values in samples.items()}
