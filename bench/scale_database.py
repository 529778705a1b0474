"""The scale-N benchmark database: built once on the target's server, reused while it fits.

`netplus_bench_s{N}` (N thousand scale users; `netplus_bench_u{n}` for an exact user count) is
created, migrated, seeded with the catalog (`seed_database`), loaded with the synthetic learners
(`load_scale`), its materialized views refreshed and its tables vacuumed and analysed (COPY
leaves no visibility map: without VACUUM no index-only scan would be possible, which a database
that has been running for a while does not suffer from). The samples the runners draw from are
made last, then the build is recorded in `netplus_bench.build`: a database without that row is
an interrupted build and is rebuilt.

A later run reuses the database when it records the same user count and seed; pending
migrations are applied to it first (so a tuning migration reaches the benchmark; not with
`keep_version`, which measures a database at the version it is at), and the samples are
remade.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from psycopg import sql
from psycopg.types.json import Jsonb

from bench.sql import bench_sql
from netplus_db.config import Target
from netplus_db.connection import connect, create_database, database_exists, drop_database
from netplus_db.migrate.migrator import Migrator
from netplus_db.ops.scale import load_scale
from netplus_db.ops.seed import seed_database
from netplus_db.types import Progress

# The tables VACUUM (ANALYZE) visits after a build: every table the scale load writes.
VACUUMED = (
    "users",
    "user_profiles",
    "user_settings",
    "learning_streaks",
    "user_progress",
    "learning_sessions",
    "bookmarks",
    "assessment_attempts",
    "assessment_answers",
    "study_goals",
    "user_achievements",
    "user_activity_logs",
    "question_bank",
    "learning_components",
    "assessments",
    "achievements",
    "mv_daily_user_activity",
    "mv_weekly_domain_progress",
)


@dataclass(frozen=True)
class Build:
    """The benchmark database and what its build took (recorded, so a reuse can report it)."""

    target: Target
    users: int
    random_seed: int
    reused: bool
    built_at: datetime
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def scale_rows_per_second(self) -> float:
        """Rows per second of the scale load (COPY of every table, in one transaction)."""
        seconds = float(self.info.get("scale_seconds") or 0)
        return float(self.info.get("scale_rows") or 0) / seconds if seconds else 0.0

    @property
    def seed_rows_per_second(self) -> float:
        """Rows per second of the catalog seed (`seed_database`)."""
        seconds = float(self.info.get("seed_seconds") or 0)
        return float(self.info.get("seed_rows") or 0) / seconds if seconds else 0.0


def database_name(users: int) -> str:
    """`netplus_bench_s{N}` for N thousand users, else `netplus_bench_u{users}`."""
    if users and users % 1000 == 0:
        return f"netplus_bench_s{users // 1000}"
    return f"netplus_bench_u{users}"


def ensure(
    target: Target,
    *,
    users: int,
    random_seed: int = 42,
    dbname: str | None = None,
    rebuild: bool = False,
    allow_demo_accounts: bool = False,
    keep_version: bool = False,
    report: Progress = print,
    progress: TextIO | None = None,
) -> Build:
    """The benchmark database with `users` scale users on the target's server, built if needed.

    Reused when it records the same users and seed (after applying pending migrations, unless
    `keep_version`: then it is measured at the version it is at, e.g. a clone migrated down);
    otherwise dropped and built again. `progress` receives the scale load's progress display
    (default: nothing).
    """
    bench = target.with_dbname(dbname or database_name(users))
    if not rebuild and database_exists(bench):
        recorded = _recorded(bench)
        if recorded is not None and recorded[0] == users and recorded[1] == random_seed:
            steps = [] if keep_version else Migrator(bench).up()
            if steps:
                report(f"applied {len(steps)} pending migration(s) to {bench.dbname}")
                _vacuum(bench)
            with connect(bench, autocommit=True) as conn:
                bench_sql().make_samples(conn)
            report(f"reusing {bench.dbname}: {users:,} scale users (built {recorded[3]:%Y-%m-%d})")
            return Build(bench, users, random_seed, True, recorded[3], dict(recorded[2]))
        report(f"{bench.dbname} exists but does not record a finished {users:,}-user build")
    return _build(bench, users, random_seed, allow_demo_accounts, report, progress)


def _recorded(bench: Target) -> tuple[int, int, dict[str, Any], datetime] | None:
    with connect(bench, autocommit=True) as conn:
        if not bench_sql().meta_exists(conn) or not bench_sql().samples_exist(conn):
            return None
        row = bench_sql().meta_get(conn)
    if row is None:
        return None
    return int(row[0]), int(row[1]), dict(row[2]), row[3]


def _build(
    bench: Target,
    users: int,
    random_seed: int,
    allow_demo_accounts: bool,
    report: Progress,
    progress: TextIO | None,
) -> Build:
    report(f"building {bench.dbname}: migrate, seed, {users:,} scale users (seed {random_seed})")
    info: dict[str, Any] = {}
    drop_database(bench)
    create_database(bench)
    started = time.perf_counter()
    Migrator(bench).up()
    info["migrate_seconds"] = time.perf_counter() - started

    seeded = seed_database(bench, allow_demo_accounts=allow_demo_accounts, report=lambda _: None)
    info["seed_rows"] = seeded.inserted + seeded.updated
    info["seed_seconds"] = seeded.seconds

    loaded = load_scale(
        bench,
        thousands=0,
        users=users,
        random_seed=random_seed,
        report=lambda _: None,
        progress=progress if progress is not None else io.StringIO(),
    )
    info["scale_rows"] = loaded.total_rows
    info["scale_seconds"] = loaded.seconds
    info["scale_tables"] = {t.table: t.rows for t in loaded.tables}

    with connect(bench, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("SELECT refresh_analytics_views()")
        info["refresh_seconds"] = time.perf_counter() - started
        started = time.perf_counter()
        bench_sql().learning_backfill(conn)
        info["learning_backfill_seconds"] = time.perf_counter() - started
        started = time.perf_counter()
        refreshed = bench_sql().refresh_item_statistics(conn)
        info["item_statistics_seconds"] = time.perf_counter() - started
        info["item_statistics_answers"] = int(refreshed[1]) if refreshed else 0
    info["vacuum_seconds"] = _vacuum(bench)
    with connect(bench, autocommit=True) as conn:
        bench_sql().meta_create(conn)
        bench_sql().make_samples(conn)
        info["database_bytes"] = int(bench_sql().database_size(conn))
        bench_sql().meta_put(conn, users=users, random_seed=random_seed, info=Jsonb(info))
        row = bench_sql().meta_get(conn)
    report(
        f"built {bench.dbname}: {info['scale_rows']:,} scale rows in {info['scale_seconds']:.1f} s,"
        f" {info['database_bytes'] / 2**20:,.0f} MiB"
    )
    return Build(bench, users, random_seed, False, row[3], info)


def _vacuum(bench: Target) -> float:
    """VACUUM (ANALYZE) the application tables; returns the seconds it took."""
    started = time.perf_counter()
    with connect(bench, autocommit=True) as conn:
        for name in VACUUMED:
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(name)))
    return time.perf_counter() - started
