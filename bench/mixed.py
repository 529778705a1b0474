"""The mixed workload: concurrent client processes doing what learners do, then invariants.

Each process (spawned, so nothing is shared but the database) has its own `Database` pool and
loops until the deadline over operations drawn in realistic proportion (`WEIGHTS`): browsing
the catalog, recording progress (a quarter of them completing the component, which sets off
streaks, goals and achievements), learning sessions (open, then close), quiz attempts (start,
answer every question, submit) and dashboards. Every transaction is timed; every error is
counted by operation and kind (deadlocks apart: there must be none).

Reads are read-only sessions (browse, dashboard), so with replicas they go to one; after each
progress update the learner's row is read back the same way (`progress.read_back`) and a
stale read is counted when it does not show the update (its accumulated minutes below what the
update returned: later updates only add). `options` go to each process's `Database`
(`pgbouncer=True`, `replicas=[...]`, `cache=False`...).

Afterwards the invariants are checked on every user the workload touched: finished attempts'
totals equal the sum of their answers, no (user, component) has two progress rows, and
streaks agree with the activity (in range, and ending today for whoever completed something).
"""

from __future__ import annotations

import functools
import multiprocessing
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from random import Random
from typing import Any

from bench.query_classes import Samples, answer_for, browse, draw_page, load_samples
from bench.sql import bench_sql
from bench.stats import Summary, summarize
from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.database import Database

# Share of operations, in percent.
WEIGHTS: dict[str, int] = {
    "browse": 30,
    "progress": 25,
    "dashboard": 20,
    "session": 15,
    "attempt": 10,
}
DEADLOCK = "40P01"


@dataclass
class WorkerResult:
    """What one process did: latencies per transaction kind, errors, users touched."""

    samples: dict[str, list[int]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    deadlocks: int = 0
    users: set[str] = field(default_factory=set)
    operations: int = 0
    started: float = 0.0
    finished: float = 0.0
    stale_reads: int = 0
    reads: dict[str, int] = field(default_factory=dict)  # read-only sessions by server


@dataclass(frozen=True)
class Invariant:
    """One invariant: how many things it looked at and what broke it."""

    name: str
    checked: str  # what was looked at
    violations: list[str]

    @property
    def ok(self) -> bool:
        """No violation."""
        return not self.violations


@dataclass(frozen=True)
class MixedResult:
    """The workload's figures and the invariants checked afterwards."""

    processes: int
    seconds: float
    weights: dict[str, int]
    transactions: dict[str, Summary]
    operations: int
    errors: dict[str, int]
    deadlocks: int  # seen by the clients
    server_deadlocks: int  # pg_stat_database.deadlocks during the run
    invariants: list[Invariant]
    users: int
    stale_reads: int = 0
    reads: dict[str, int] = field(default_factory=dict)  # read-only sessions by server

    @property
    def total_transactions(self) -> int:
        """Transactions of every kind."""
        return sum(s.n for s in self.transactions.values())

    @property
    def throughput(self) -> float:
        """Transactions per second, all processes together."""
        return self.total_transactions / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> bool:
        """No error, no deadlock, every invariant holds."""
        return (
            not self.errors
            and not self.stale_reads
            and not self.deadlocks
            and not self.server_deadlocks
            and all(i.ok for i in self.invariants)
        )


def run_mixed(
    target: Target,
    *,
    processes: int = 4,
    seconds: float = 60.0,
    random_seed: int = 42,
    options: dict[str, Any] | None = None,
    check_target: Target | None = None,
) -> MixedResult:
    """Run the workload on `processes` spawned processes for `seconds`, then check.
    `options` go to each process's Database; `check_target` (default `target`) is where the
    invariants and statistics are read (the server itself when `target` is a pooler)."""
    options = options or {}
    direct = check_target or target
    with connect(direct, autocommit=True) as conn:
        since = conn.execute("SELECT now()").fetchone()
        deadlocks_before = int(bench_sql().deadlocks(conn) or 0)
    assert since is not None
    start_at = time.time() + 2.0 + 0.5 * processes
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        futures = [
            pool.submit(_worker, target, i, start_at, seconds, random_seed, options)
            for i in range(processes)
        ]
        results = [f.result() for f in futures]
    time.sleep(0.5)  # let the exited backends' statistics reach pg_stat_database
    with connect(direct, autocommit=True) as conn:
        deadlocks_after = int(bench_sql().deadlocks(conn) or 0)
    merged: dict[str, list[int]] = {}
    errors: Counter[str] = Counter()
    users: set[str] = set()
    reads: Counter[str] = Counter()
    for r in results:
        for kind, values in r.samples.items():
            merged.setdefault(kind, []).extend(values)
        errors.update(r.errors)
        users |= r.users
        reads.update(r.reads)
    duration = max(r.finished for r in results) - min(r.started for r in results)
    invariants = check_invariants(direct, sorted(users), since[0])
    return MixedResult(
        processes=processes,
        seconds=duration,
        weights=dict(WEIGHTS),
        transactions={k: summarize(v) for k, v in sorted(merged.items())},
        operations=sum(r.operations for r in results),
        errors=dict(errors),
        deadlocks=sum(r.deadlocks for r in results),
        server_deadlocks=deadlocks_after - deadlocks_before,
        invariants=invariants,
        users=len(users),
        stale_reads=sum(r.stale_reads for r in results),
        reads=dict(reads),
    )


def check_invariants(target: Target, users: list[str], since: datetime) -> list[Invariant]:
    """The invariants, on the given users, for what happened since `since`."""
    ids = [uuid.UUID(u) for u in users]
    with connect(target, autocommit=True) as conn:
        attempts = bench_sql().invariant_attempt_totals(conn, user_ids=ids, since=since)
        attempts_checked = int(
            bench_sql().invariant_attempts_checked(conn, user_ids=ids, since=since)
        )
        duplicates = bench_sql().invariant_duplicate_progress(conn, user_ids=ids)
        streaks = bench_sql().invariant_streaks(conn, user_ids=ids, since=since)
        completed = int(bench_sql().invariant_streaks_checked(conn, user_ids=ids, since=since))
    return [
        Invariant(
            "attempt totals equal the sum of their answers",
            f"{attempts_checked:,} attempts finished during the run",
            [f"attempt {r[0]}: {r[1:]}" for r in attempts],
        ),
        Invariant(
            "no duplicate progress rows",
            f"{len(ids):,} users",
            [f"user {r[0]} component {r[1]}: {r[2]} rows" for r in duplicates],
        ),
        Invariant(
            "streaks consistent with activity",
            f"{len(ids):,} users, {completed:,} of whom completed a component"
            " (the streak reaches that day in their time zone)",
            [f"user {r[0]}: {r[1:]}" for r in streaks],
        ),
    ]


def _worker(
    target: Target,
    index: int,
    start_at: float,
    seconds: float,
    random_seed: int,
    options: dict[str, Any],
) -> WorkerResult:
    """One client process: its own pool, its own random stream, until the deadline."""
    rng = Random(f"netplus-bench-mixed:{random_seed}:{index}")
    with connect(target, autocommit=True) as conn:
        samples = load_samples(conn)
    result = WorkerResult()
    names = list(WEIGHTS)
    weights = [WEIGHTS[n] for n in names]
    with Database(target, **{"min_size": 1, "max_size": 1, **options}) as db:
        ops: dict[str, Callable[[], None]] = {
            "browse": lambda: _browse(db, samples, rng, result),
            "progress": lambda: _progress(db, samples, rng, result),
            "dashboard": lambda: _dashboard(db, samples, rng, result),
            "session": lambda: _session(db, samples, rng, result),
            "attempt": lambda: _attempt(db, samples, rng, result),
        }
        while time.time() < start_at:
            time.sleep(0.01)
        deadline = start_at + seconds
        result.started = time.time()
        while time.time() < deadline:
            name = rng.choices(names, weights)[0]
            try:
                ops[name]()
            except Exception as exc:
                state = getattr(exc, "sqlstate", None)
                if state == DEADLOCK:
                    result.deadlocks += 1
                result.errors[f"{name}: {type(exc).__name__} {state or ''}".strip()] += 1
            result.operations += 1
        result.finished = time.time()
        result.reads = dict(db.read_stats.snapshot()["reads"])
    return result


def _timed(result: WorkerResult, kind: str, fn: Callable[[], Any]) -> Any:
    started = time.perf_counter_ns()
    value = fn()
    result.samples.setdefault(kind, []).append(time.perf_counter_ns() - started)
    return value


def _learner(samples: Samples, rng: Random, result: WorkerResult) -> uuid.UUID:
    user_id = rng.choice(samples.learners)
    result.users.add(str(user_id))
    return user_id


def _browse(db: Database, s: Samples, rng: Random, result: WorkerResult) -> None:
    user_id = _learner(s, rng, result)
    page = draw_page(s, rng)

    def call() -> object:
        with db.as_user(user_id, read_only=True) as q:
            return browse(q, page)

    _timed(result, "browse", call)


def _progress(db: Database, s: Samples, rng: Random, result: WorkerResult) -> None:
    user_id = _learner(s, rng, result)
    completing = rng.random() < 0.25
    component_id = rng.choice(s.completable if completing else s.components)
    written = _timed(
        result,
        "progress.complete" if completing else "progress.update",
        lambda: db.record_progress(
            user_id=user_id,
            component_id=component_id,
            status="completed" if completing else "in_progress",
            progress_percentage=100 if completing else rng.randint(5, 95),
            time_spent_minutes=rng.randint(1, 5),
        ),
    )
    # Read-your-writes: the learner's next read shows this update (or a later one).
    row = _timed(
        result,
        "progress.read_back",
        lambda: db.read(
            user_id, lambda q: q.progress.get_progress(user_id=user_id, component_id=component_id)
        ),
    )
    if row is None or row.time_spent_minutes < written.progress.time_spent_minutes:
        result.stale_reads += 1


def _dashboard(db: Database, s: Samples, rng: Random, result: WorkerResult) -> None:
    user_id = _learner(s, rng, result)

    def call() -> object:
        with db.as_user(user_id, read_only=True) as q:
            return q.analytics.dashboard_summary(user_id=user_id)

    _timed(result, "dashboard", call)


def _session(db: Database, s: Samples, rng: Random, result: WorkerResult) -> None:
    user_id = _learner(s, rng, result)
    component_id = rng.choice(s.components)

    def start() -> Any:
        with db.as_user(user_id) as q:
            return q.progress.start_session(
                user_id=user_id,
                component_id=component_id,
                device_type=rng.choice(("desktop", "mobile", "tablet")),
                session_data={},
            )

    started = _timed(result, "session.start", start)

    def end() -> object:
        with db.as_user(user_id) as q:
            return q.progress.end_session(
                session_id=started.id,
                interaction_count=rng.randint(0, 30),
                completion_achieved=rng.random() < 0.3,
                session_data={"source": "bench"},
            )

    _timed(result, "session.end", end)


def _attempt(db: Database, s: Samples, rng: Random, result: WorkerResult) -> None:
    user_id = _learner(s, rng, result)
    quiz = rng.choice(s.quizzes)
    started = _timed(
        result, "attempt.start", lambda: db.start_attempt(user_id=user_id, assessment_id=quiz)
    )
    for question in started.questions:
        save = functools.partial(
            db.save_answer,
            user_id=user_id,
            attempt_id=started.attempt.id,
            question_id=question.id,
            user_answer=answer_for(s.questions[question.id], rng),
            time_spent_seconds=rng.randint(10, 90),
        )
        _timed(result, "attempt.answer", save)
    _timed(
        result,
        "attempt.submit",
        lambda: db.submit_attempt(user_id=user_id, attempt_id=started.attempt.id),
    )
