"""Past one server, measured: the mixed workload (a) direct, (b) through PgBouncer in transaction
pooling and (c) with its reads on a streaming replica; the time a failover takes; and the
cached reads (component list, dashboard page) with the library's cache on and off.

Everything runs on this machine: the client processes, the primary, the replica (a
`pg_basebackup -R` standby of the benchmark server, built with the server's own major) and
PgBouncer (Debian's program, our own instance). A part whose program or permission is missing
is reported as skipped, with the reason. Stale reads: after each progress update, the mixed
workload reads the learner's row back in a read-only session (a replica when there is one)
and counts it stale when it does not show the update (bench/mixed.py).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from random import Random
from typing import Any

from bench import mixed
from bench import query_classes as qc
from bench.stats import Summary, summarize
from netplus_db.config import Target
from netplus_db.connection import connect, server_version
from netplus_db.database import Database
from netplus_db.errors import NetplusError
from netplus_db.migrate import Migrator
from netplus_db.ops import pgbouncer, standby
from netplus_db.ops.local_processes import LocalProcessError
from netplus_db.sql import sql_files
from netplus_db.types import Progress

# Commits acknowledged once their WAL is flushed (the test and benchmark servers may run with
# synchronous_commit off, which delays a commit's record reaching a replica).
SYNC_COMMIT = {"kwargs": {"options": "-c synchronous_commit=on"}}
POOL_SIZE = 2  # PgBouncer server connections per database: fewer than the client processes
CATCH_UP = 300.0  # seconds a new replica may take to replay what the primary has
FAILOVER_BOUND = 120.0  # seconds the failover loop waits for a write at most


@dataclass(frozen=True)
class Mode:
    """The mixed workload in one set-up (None and the reason when it could not run)."""

    name: str
    how: str
    result: mixed.MixedResult | None
    skipped: str = ""


@dataclass(frozen=True)
class Failover:
    """Primary killed, standby promoted: when writes came back."""

    seconds: float  # from the kill to the first committed write on the promoted standby
    promote_seconds: float  # of which `pg_ctl promote -w`
    failed_writes: int  # writes tried (and refused) before the first that committed
    errors: dict[str, int]


@dataclass(frozen=True)
class CacheLine:
    """One read with the cache on and off."""

    what: str
    on: Summary
    off: Summary
    hit_rate: float  # of the cached look-ups with the cache on


@dataclass
class ScalingResult:
    """Everything the report's scaling section shows."""

    processes: int
    seconds: float
    database: str = ""
    users: int = 0
    modes: list[Mode] = field(default_factory=list)
    failover: Failover | None = None
    failover_skipped: str = ""
    cache: list[CacheLine] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No error and no stale read in any mode that ran."""
        return all(m.result.ok for m in self.modes if m.result is not None)


def run_scaling(
    bench: Target,
    *,
    processes: int = 4,
    seconds: float = 20.0,
    calls: int = 300,
    random_seed: int = 42,
    report: Progress = print,
) -> ScalingResult:
    """Run the three modes, the failover and the cache comparison on the benchmark database
    `bench` (a superuser target: the standby is built from its server)."""
    with connect(bench, autocommit=True) as conn:
        major = server_version(conn)[0] // 10000
        samples = qc.load_samples(conn)
    result = ScalingResult(processes, seconds, bench.dbname, len(samples.users))

    def workload(target: Target, options: dict[str, Any]) -> mixed.MixedResult:
        return mixed.run_mixed(
            target,
            processes=processes,
            seconds=seconds,
            random_seed=random_seed,
            options={"cache": False, **options},
            check_target=bench,
        )

    report(f"scaling (a): mixed workload direct, {processes} processes, {seconds:g} s")
    direct = workload(bench, SYNC_COMMIT)
    result.modes.append(Mode("direct", "each process's pool connects to the server", direct))
    report("scaling (b): through PgBouncer, transaction pooling")
    result.modes.append(_through_pgbouncer(bench, workload))
    report("scaling (c): reads on a streaming replica")
    result.modes.append(_with_replica(bench, major, workload))
    report("scaling: failover of a scratch primary to its promoted standby")
    try:
        result.failover = measure_failover(standby.server_bin_dir(major))
    except NetplusError as exc:
        result.failover_skipped = str(exc)
    report(f"scaling: component list and dashboard, cache on and off, {calls} calls each")
    result.cache = measure_cache(bench, samples, calls, random_seed)
    return result


def _through_pgbouncer(
    bench: Target, workload: Callable[[Target, dict[str, Any]], mixed.MixedResult]
) -> Mode:
    name = "PgBouncer"
    try:
        with pgbouncer.running(bench, pool_mode="transaction", pool_size=POOL_SIZE) as bouncer:
            major, minor = bouncer.version
            how = (
                f"PgBouncer {major}.{minor}, transaction pooling, {POOL_SIZE} server connections"
                " for all the processes; `pgbouncer=True` (nothing prepared)"
            )
            return Mode(name, how, workload(bouncer.target(bench.dbname), {"pgbouncer": True}))
    except NetplusError as exc:
        return Mode(name, "", None, str(exc))


def _with_replica(
    bench: Target, major: int, workload: Callable[[Target, dict[str, Any]], mixed.MixedResult]
) -> Mode:
    name = "replica"
    try:
        with standby.streaming(bench, standby.server_bin_dir(major)) as replica:
            _caught_up(replica, bench)
            how = (
                "a hot standby of the server (`pg_basebackup -R`, streaming); browse, dashboard"
                " and read-backs in read-only sessions on it, writes on the primary"
            )
            options = {**SYNC_COMMIT, "replicas": [replica.target(bench.dbname)]}
            return Mode(name, how, workload(bench, options))
    except NetplusError as exc:
        return Mode(name, "", None, str(exc))


def _caught_up(replica: standby.LocalServer, primary: Target) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    with connect(primary, autocommit=True) as conn:
        wanted = int(sql_files().replica.commit_position(conn))
    deadline = time.monotonic() + CATCH_UP
    with connect(replica.target(), autocommit=True) as conn:
        while int(sql_files().replica.status(conn)[1]) < wanted:
            if time.monotonic() > deadline:
                raise LocalProcessError(f"the replica did not catch up in {CATCH_UP} s")
            time.sleep(0.05)


def measure_failover(bin_dir: Any) -> Failover:
    """A scratch primary (initdb, migrated) and its standby; a Database on both hosts
    (`target_session_attrs=read-write`); the primary SIGKILLed, the standby promoted at once
    (as a failover manager would), writes tried until one commits."""
    with standby.primary_of_our_own(bin_dir) as primary:
        Migrator(primary.target("netplus")).up()
        with standby.streaming(primary.target(), bin_dir) as replica:
            _caught_up(replica, primary.target("netplus"))
            dsn = (
                f"host=127.0.0.1,127.0.0.1 port={primary.port},{replica.port} user=postgres"
                " dbname=netplus target_session_attrs=read-write connect_timeout=2"
            )
            with Database(dsn, min_size=1, max_size=2, cache=False, timeout=2.0) as db:
                _write(db)
                started = time.monotonic()
                primary.kill()
                replica.promote()
                promoted = time.monotonic() - started
                errors: dict[str, int] = {}
                deadline = started + FAILOVER_BOUND
                while True:
                    try:
                        _write(db)
                        break
                    except Exception as exc:  # whatever the dead primary raises
                        kind = type(exc).__name__
                        errors[kind] = errors.get(kind, 0) + 1
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.01)
                took = time.monotonic() - started
    return Failover(took, promoted, sum(errors.values()), errors)


def _write(db: Database) -> None:
    with db.transaction() as q:
        q.analytics.record_metric(
            metric_type="bench", metric_name="failover", metric_value=Decimal(1), unit=None, tags={}
        )


def measure_cache(bench: Target, samples: qc.Samples, calls: int, seed: int) -> list[CacheLine]:
    """The component list (`browse_components`) and a dashboard page (the learner's summary,
    settings and the achievement definitions), `calls` each on random pages and learners,
    through a Database with the cache on, then off; warm-up calls first, untimed."""
    learners = samples.learners[:200]
    timings: dict[bool, dict[str, list[int]]] = {}
    rates: dict[str, float] = {}
    for cache in (True, False):
        with Database(bench, min_size=1, max_size=1, cache=cache) as db:
            runs = _runs(db, samples, learners, Random(f"{seed}:cache"))
            timings[cache] = {}
            for what, run in runs.items():
                for _ in range(min(50, calls)):
                    run()
                with _counted(db, rates, what, cache):
                    timings[cache][what] = [_timed(run) for _ in range(calls)]
    return [
        CacheLine(
            what, summarize(timings[True][what]), summarize(timings[False][what]), rates[what]
        )
        for what in timings[True]
    ]


def _runs(
    db: Database, samples: qc.Samples, learners: list[uuid.UUID], rng: Random
) -> dict[str, Callable[[], object]]:
    """The reads compared, each drawing its page or learner from `rng`."""
    return {
        "component list (browse_components, one page)": lambda: _browse(db, samples, rng),
        "dashboard page (summary, settings, achievement definitions)": lambda: _page(
            db, rng.choice(learners)
        ),
        "dashboard summary alone (db.dashboard: per learner, not cached)": lambda: db.dashboard(
            user_id=rng.choice(learners)
        ),
    }


@contextlib.contextmanager
def _counted(db: Database, rates: dict[str, float], what: str, cache: bool) -> Iterator[None]:
    before = db.cache_stats
    yield
    if not cache:
        return
    after = db.cache_stats
    hits = sum(after.hits.values()) - sum(before.hits.values())
    misses = sum(after.misses.values()) - sum(before.misses.values())
    rates[what] = hits / (hits + misses) if hits + misses else 0.0


def _timed(run: Callable[[], object]) -> int:
    started = time.perf_counter_ns()
    run()
    return time.perf_counter_ns() - started


def _browse(db: Database, samples: qc.Samples, rng: Random) -> object:
    page = qc.draw_page(samples, rng)
    return db.browse_components(
        domain=page.domain,
        after_title=page.after_title,
        after_id=page.after_id,
        page_size=qc.PAGE_SIZE,
    )


def _page(db: Database, learner: uuid.UUID) -> object:
    return (db.dashboard(user_id=learner), db.settings(user_id=learner), db.achievements())


# --- the report --------------------------------------------------------------------------------


def render(result: ScalingResult) -> str:
    """The report's "Past one server" section (markdown)."""
    out = ["## Past one server: PgBouncer, a replica, failover, the cache", ""]
    out.append(
        "Client processes, primary, replica and PgBouncer all share this one machine (2 cores,"
        " also busy with other work while these ran): every extra component takes CPU from the"
        " others, so these figures compare set-ups on equal terms here, not what separate"
        " machines would give."
    )
    out.append("")
    out.append(
        f"Database `{result.database}` ({result.users:,} scale users; it may be smaller than"
        " the rest of this report's). The mixed workload"
        f" ({result.processes} processes, {result.seconds:g} s each; reads in"
        " read-only sessions, each progress update read back at once) in three set-ups. A stale"
        " read is a read-back that does not show the update just made (read-your-writes); errors"
        " and stale reads must be 0. Cache off in all three (the workload's own queries)."
    )
    out.append("")
    out.append(
        "| set-up | transactions/s | errors | stale reads | read-only sessions by server |"
        " invariants |"
    )
    out.append("|---|---:|---:|---:|---|---|")
    for m in result.modes:
        r = m.result
        if r is None:
            out.append(f"| {m.name} | skipped: {m.skipped} | | | | |")
            continue
        reads = ", ".join(f"{_short(k)} {v:,}" for k, v in sorted(r.reads.items())) or "primary"
        holds = "hold" if all(i.ok for i in r.invariants) else "**BROKEN**"
        out.append(
            f"| {m.name} | {r.throughput:,.0f} | {sum(r.errors.values())} | {r.stale_reads} |"
            f" {reads} | {holds} |"
        )
    out.append("")
    for m in result.modes:
        if m.result is not None:
            out.append(f"- {m.name}: {m.how}.")
    out.append("")
    kinds = sorted({k for m in result.modes if m.result for k in m.result.transactions})
    ran = [m for m in result.modes if m.result is not None]
    out.append("p95 per transaction type, ms:")
    out.append("")
    out.append("| transaction | " + " | ".join(m.name for m in ran) + " |")
    out.append("|---|" + "---:|" * len(ran))
    for kind in kinds:
        cells = []
        for m in ran:
            s = m.result.transactions.get(kind) if m.result else None
            cells.append(f"{s.p95_ms:.2f}" if s else "")
        out.append(f"| {kind} | " + " | ".join(cells) + " |")
    out.append("")
    errors = [f"{m.name}: {m.result.errors}" for m in ran if m.result and m.result.errors]
    if errors:
        out.append("Errors: " + "; ".join(errors))
        out.append("")
    out.append("### Failover")
    out.append("")
    if result.failover is None:
        out.append(f"Skipped: {result.failover_skipped}")
    else:
        f = result.failover
        refused = ", ".join(f"{k} {v}" for k, v in f.errors.items()) or "none"
        out.append(
            f"A scratch primary and its streaming standby; a Database on both hosts"
            f" (`target_session_attrs=read-write`). The primary SIGKILLed, the standby promoted"
            f" at once: **{f.seconds:.2f} s** from the kill to the first committed write on the"
            f" promoted standby, of which {f.promote_seconds:.2f} s `pg_ctl promote -w`;"
            f" {f.failed_writes} writes refused meanwhile ({refused}), none written twice. A"
            " failover manager's detection delay (seconds to tens of seconds) comes on top."
        )
    out.append("")
    out.append("### The cache")
    out.append("")
    out.append(
        "One process, one pooled connection; the same random pages and learners (200 of them)"
        " with the cache on and off. A hit costs a dictionary look-up instead of a round trip"
        " and a query. The per-learner summary is not cached: the difference in its line is"
        " the machine's noise between the two runs."
    )
    out.append("")
    out.append("| read | cache on p50 / p95 ms | cache off p50 / p95 ms | hit rate (on) |")
    out.append("|---|---:|---:|---:|")
    for c in result.cache:
        out.append(
            f"| {c.what} | {c.on.p50_ms:.3f} / {c.on.p95_ms:.3f} |"
            f" {c.off.p50_ms:.3f} / {c.off.p95_ms:.3f} | {c.hit_rate:.0%} |"
        )
    out.append("")
    return "\n".join(out)


def _short(server: str) -> str:
    """A server's description cut to host and port."""
    return server.split(" database ")[0] if " database " in server else server
