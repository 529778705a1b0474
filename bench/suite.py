"""The whole benchmark run: build or reuse the database, time every query class three ways,
bcrypt apart, check the plans, run the mixed workload, the extra lines, and write the report."""

from __future__ import annotations

import contextlib
import os
import platform
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from random import Random
from typing import Any

import bcrypt
import psycopg

from bench import library_reads, mixed, operations, overhead, pgbench, plans, scaling
from bench import query_classes as qc
from bench import scale_database as database
from bench.sql import bench_sql
from bench.stats import (
    Overhead,
    Summary,
    Timings,
    compare_interleaved,
    paired_overhead,
    summarize,
    timed_call,
)
from netplus_db.config import Target
from netplus_db.connection import connect, server_version
from netplus_db.database import Database
from netplus_db.flows import call
from netplus_db.flows.accounts import BCRYPT_ROUNDS
from netplus_db.generated.analytics import AnalyticsQueries
from netplus_db.migrate.migrator import default_migrations_dir
from netplus_db.types import Progress

PARTS = ("pgbench", "plans", "reads", "mixed", "scaling", "extras", "backup")
OVERHEAD_BUDGET_US = 30.0


@dataclass(frozen=True)
class SuiteConfig:
    """What to run. `users` overrides `scale` (thousands of users) with an exact count."""

    scale: int = 1
    users: int | None = None
    iterations: int = 500
    submit_iterations: int = 50
    warmup: int = 50
    rounds: int = 10  # api and raw alternate in this many rounds (fair on a noisy machine)
    overhead_calls: int = 300  # the warm overhead measure: calls per round on one argument
    overhead_rounds: int = 7
    mixed_seconds: float = 60.0
    scaling_seconds: float = 20.0  # each of the scaling part's three mixed-workload runs
    scaling_calls: int = 300  # the scaling part's cache comparison: calls per read and way
    processes: int = 4
    random_seed: int = 42
    classes: tuple[str, ...] | None = None
    skip: frozenset[str] = frozenset()
    rebuild: bool = False
    dbname: str | None = None
    keep_version: bool = False  # reuse the database at its version: no pending migration applied
    operation_runs: int = 3  # migrate, seed, refresh, backup (the "extras" part)
    bcrypt_runs: int = 10
    allow_demo_accounts: bool = False
    command: str = ""

    @property
    def user_count(self) -> int:
        """Scale users in the benchmark database."""
        return self.users if self.users is not None else self.scale * 1000

    def runs(self, part: str) -> bool:
        """Whether a part (pgbench, plans, mixed, extras, backup) runs."""
        return part not in self.skip


@dataclass
class ClassResult:
    """One query class measured three ways."""

    query_class: qc.QueryClass
    api: Summary
    raw: Summary
    pgbench: pgbench.PgbenchResult | None = None
    # The library's cost per call over raw psycopg: one argument repeated, the ways taking
    # turns (data cached, so neither waits for the disk); for a class whose calls cannot be
    # repeated (the submit), pairs of calls on the same item.
    overhead: Overhead | None = None

    @property
    def overhead_us(self) -> float:
        """The library's cost per call over raw psycopg, elapsed time, in microseconds."""
        if self.overhead is not None:
            return self.overhead.wall.value_us
        return self.p50_difference_us

    @property
    def p50_difference_us(self) -> float:
        """netplus_db p50 minus raw psycopg p50 of the random calls, in microseconds."""
        return (self.api.p50_ms - self.raw.p50_ms) * 1000

    @property
    def ratio(self) -> float:
        """How many times better than the spec's target the library's p95 is."""
        return self.query_class.spec_ms / self.api.p95_ms if self.api.p95_ms else 0.0

    @property
    def meets_target(self) -> bool:
        """p95 within our target."""
        return self.api.p95_ms <= self.query_class.target_ms

    @property
    def meets_overhead(self) -> bool | None:
        """Library overhead within the budget (`stats.Overhead.verdict`; None: the measure
        cannot tell)."""
        if self.overhead is None:
            return self.overhead_us <= OVERHEAD_BUDGET_US
        return self.overhead.verdict(OVERHEAD_BUDGET_US)[0]


@dataclass
class SuiteResult:
    """Everything the report shows."""

    config: SuiteConfig
    build: database.Build
    started_at: datetime
    machine: dict[str, str] = field(default_factory=dict)
    server: dict[str, str] = field(default_factory=dict)
    table_rows: dict[str, int] = field(default_factory=dict)
    classes: list[ClassResult] = field(default_factory=list)
    bcrypt: list[tuple[str, Summary]] = field(default_factory=list)
    plans: list[plans.PlanCheck] = field(default_factory=list)
    mixed: mixed.MixedResult | None = None
    scaling: scaling.ScalingResult | None = None
    operations: list[operations.OperationLine] = field(default_factory=list)
    overhead_parts: list[overhead.Part] = field(default_factory=list)
    reads: list[library_reads.ReadResult] = field(default_factory=list)
    top_statements: list[tuple[Any, ...]] = field(default_factory=list)
    seconds: float = 0.0


def run_suite(target: Target, config: SuiteConfig, report: Progress = print) -> SuiteResult:
    """Run the suite against the target's server (the target's database is not touched: the
    benchmark database `netplus_bench_s{N}` is built beside it)."""
    began = time.perf_counter()
    build = database.ensure(
        target,
        users=config.user_count,
        random_seed=config.random_seed,
        dbname=config.dbname,
        rebuild=config.rebuild,
        allow_demo_accounts=config.allow_demo_accounts,
        keep_version=config.keep_version,
        report=report,
    )
    bench = build.target
    result = SuiteResult(config, build, datetime.now(UTC))
    with connect(bench, autocommit=True) as conn:
        major = server_version(conn)[0] // 10000
        result.server = {str(k): str(v) for k, v in bench_sql().server_settings(conn)}
        result.table_rows = {str(k): int(v) for k, v in bench_sql().table_rows(conn)}
        samples = qc.load_samples(conn)
        statements = _statements_available(conn)
        if statements:
            bench_sql().pgss_reset(conn)
    result.machine = machine()
    chosen = qc.by_key(config.classes)
    with (
        Database(bench, min_size=1, max_size=1) as db,
        Database(bench, min_size=1, max_size=1, app_role=qc.ADMIN_ROLE) as admin_db,
    ):
        ctx = qc.Context(bench, samples, db, admin_db, Random(config.random_seed))
        with tempfile.TemporaryDirectory(prefix="netplus-bench-") as work:
            for query_class in chosen:
                result.classes.append(
                    _measure_class(ctx, query_class, config, Path(work), major, report)
                )
            if config.runs("reads"):
                report("library reads: catalog, assessments, leaderboard")
                result.reads = library_reads.measure_reads(ctx, config.iterations, config.warmup)
            if config.overhead_calls:
                result.overhead_parts = overhead.breakdown(
                    _overhead_subject(ctx), config.overhead_calls, config.overhead_rounds
                )
        if statements:
            with connect(bench, autocommit=True) as conn:
                result.top_statements = list(bench_sql().pgss_top(conn, count=15))
        result.bcrypt = _bcrypt_lines(ctx, config.bcrypt_runs)
        if config.runs("plans"):
            if plans.auto_explain_available(bench):
                report("plan checks (auto_explain, every statement of every class)")
                result.plans = plans.check_plans(ctx)
            else:
                report("plan checks skipped: this server is built without auto_explain")
    if config.runs("mixed"):
        report(f"mixed workload: {config.processes} processes, {config.mixed_seconds:g} s")
        result.mixed = mixed.run_mixed(
            bench,
            processes=config.processes,
            seconds=config.mixed_seconds,
            random_seed=config.random_seed,
        )
    if config.runs("scaling"):
        result.scaling = scaling.run_scaling(
            bench,
            processes=config.processes,
            seconds=config.scaling_seconds,
            calls=config.scaling_calls,
            random_seed=config.random_seed,
            report=report,
        )
    if config.runs("extras"):
        report("migrate up, seed, materialized-view refresh")
        server = target.with_dbname("postgres")
        runs = config.operation_runs
        result.operations += operations.migrate_lines(server, default_migrations_dir(), runs)
        result.operations += operations.seed_lines(bench, build, runs, config.allow_demo_accounts)
        result.operations += operations.refresh_lines(bench, runs)
        if config.runs("backup"):
            report("backup and restore beside pg_dump / pg_restore")
            runs = 1 if config.user_count >= 10_000 else runs
            result.operations += operations.backup_lines(bench, runs)
    result.seconds = time.perf_counter() - began
    return result


def _overhead_subject(ctx: qc.Context) -> overhead.Subject:
    """The overhead breakdown on the scale database: a learner of the samples, and the analytics
    class's weekly rows for the typed-rows part."""
    window = qc.Analytics().window(ctx.samples)
    weeks = call(AnalyticsQueries.weekly_domain_progress, from_week=window["from_week"])
    return overhead.Subject(ctx.db, ctx.samples.learners[0], weeks)


def _measure_class(
    ctx: qc.Context,
    query_class: qc.QueryClass,
    config: SuiteConfig,
    work: Path,
    major: int,
    report: Progress,
) -> ClassResult:
    heavy = query_class.heavy
    n = config.submit_iterations if heavy else config.iterations
    warmup = max(2, config.warmup // 10) if heavy else config.warmup
    # Independent draws of the same distribution: on the same users, whichever way ran second
    # would find their pages cached by the first.
    api_items = query_class.draw(
        ctx.samples, Random(f"{config.random_seed}:{query_class.key}:api"), warmup + n
    )
    raw_items = query_class.draw(
        ctx.samples, Random(f"{config.random_seed}:{query_class.key}:raw"), warmup + n
    )
    api, raw = query_class.api(ctx), query_class.raw(ctx)
    report(f"{query_class.key}: {n} calls each way (+{warmup} warm-up)")
    for a, r in zip(api_items[:warmup], raw_items[:warmup], strict=True):
        api.call(api.prepare(a))  # warm both: connections, caches, prepared statements
        raw.call(raw.prepare(r))
    api_ns: Timings = ([], [])
    raw_ns: Timings = ([], [])
    rounds = max(1, min(config.rounds, n))
    size = -(-n // rounds)
    for index, start in enumerate(range(warmup, warmup + n, size)):
        stop = min(start + size, warmup + n)
        ways = [(api, api_items, api_ns), (raw, raw_items, raw_ns)]
        for runner, items, out in ways if index % 2 == 0 else reversed(ways):
            _timed(items[start:stop], runner, out)
    result = ClassResult(query_class, summarize(api_ns[0]), summarize(raw_ns[0]))
    if heavy:
        # Same learner, same exam, each way one submit, taking turns: submits of different
        # learners differ by milliseconds (first passes set off achievements), which would
        # drown the comparison.
        learners = query_class.draw(
            ctx.samples, Random(f"{config.random_seed}:{query_class.key}:pairs"), min(n, 100)
        )
        result.overhead = _same_item_pairs(api, raw, learners)
    elif config.overhead_calls:
        budget_ms = 500 * config.overhead_rounds  # about this long per class, at most
        calls = config.overhead_calls * config.overhead_rounds
        calls = max(50, min(calls, int(budget_ms / max(result.api.p50_ms, 1e-3))))
        item = api_items[0]
        result.overhead = compare_interleaved(lambda: api.call(item), lambda: raw.call(item), calls)
    if config.runs("pgbench"):
        plan = query_class.pgbench(ctx)
        if plan.setup is not None:
            plan.setup(warmup + n)
        result.pgbench = pgbench.run(
            ctx.target,
            plan.scripts,
            transactions=n,
            warmup=warmup,
            defines=plan.defines,
            workdir=work / query_class.key,
            server_major=major,
        )
    bench = result.pgbench.summary.cell() if result.pgbench else "skipped"
    report(
        f"  netplus_db {result.api.cell()} | raw {result.raw.cell()} | pgbench {bench} ms"
        f" | overhead {result.overhead_us:+.0f} us"
        + (f" (cpu {result.overhead.cpu.value_us:+.0f})" if result.overhead else "")
    )
    return result


def _same_item_pairs(api: qc.Runner, raw: qc.Runner, items: Sequence[Any]) -> Overhead:
    """Each way prepares and runs a call on the same item, in turns (the order reversed every
    pair); the paired differences (`stats.paired_overhead`)."""
    api_ns: Timings = ([], [])
    raw_ns: Timings = ([], [])
    for index, item in enumerate(items):
        ways = [(api, api_ns), (raw, raw_ns)]
        for runner, out in ways if index % 2 == 0 else reversed(ways):
            _timed([item], runner, out)
    return paired_overhead(api_ns, raw_ns)


def _timed(items: Sequence[Any], runner: qc.Runner, out: Timings) -> None:
    """Prepare (untimed) and call the runner on each item, appending its timings to `out`."""
    for item in items:
        prepared = runner.prepare(item)
        timed_call(partial(runner.call, prepared), out)


def _bcrypt_lines(ctx: qc.Context, runs: int) -> list[tuple[str, Summary]]:
    """bcrypt's deliberate cost at the library's cost factor, and the whole login flow (the
    scale users' hashes have cost 4, so the flow line shows everything but bcrypt's cost)."""
    hashed = bcrypt.hashpw(b"correct horse battery", bcrypt.gensalt(BCRYPT_ROUNDS))
    checks: list[int] = []
    for _ in range(runs):
        started = time.perf_counter_ns()
        bcrypt.checkpw(b"correct horse battery", hashed)
        checks.append(time.perf_counter_ns() - started)
    flows: list[int] = []
    rng = Random(5)
    for _ in range(max(runs, 20)):
        _, email = rng.choice(ctx.samples.users)
        started = time.perf_counter_ns()
        ctx.db.login(login=email, password="password123")
        flows.append(time.perf_counter_ns() - started)
    return [
        (f"bcrypt.checkpw, cost {BCRYPT_ROUNDS} (the library's)", summarize(checks)),
        ("db.login end to end (scale users' hashes: cost 4; logs the login)", summarize(flows)),
    ]


def _statements_available(conn: psycopg.Connection[Any]) -> bool:
    """Install pg_stat_statements when the server preloads it; whether it can be read."""
    preload = str(conn.execute("SHOW shared_preload_libraries").fetchone() or [""])
    if "pg_stat_statements" not in preload:
        return False
    bench_sql().pgss_install(conn)
    return bool(bench_sql().pgss_available(conn))


def machine() -> dict[str, str]:
    """The machine the numbers were taken on."""
    info = {
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count() or "?"),
        "memory": _memory(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "psycopg": psycopg.__version__,
    }
    with contextlib.suppress(Exception):  # informative only
        info["libpq"] = str(psycopg.pq.version())
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"
