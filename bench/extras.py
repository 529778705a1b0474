"""The "also reported" lines: migrate up on an empty database, seed rows/s, materialized-view
refresh, and backup/restore beside plain pg_dump/pg_restore (bench.baselines' functions)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from bench.baselines import Timing, backup_restore, migrate_up
from bench.scale_database import Build
from netplus_db.config import Target
from netplus_db.connection import connect, scratch_database
from netplus_db.migrate.migrator import Migrator
from netplus_db.ops.seed import seed_database


@dataclass(frozen=True)
class Extra:
    """One reported line: what, the median in milliseconds (when timed), and a comment."""

    label: str
    median_ms: float | None
    text: str

    @classmethod
    def of(cls, timing: Timing, text: str = "") -> Extra:
        """A line from a benchmarks.Timing: median, with min and max in the text."""
        s = timing.seconds
        spread = f"min {min(s) * 1000:,.1f} / max {max(s) * 1000:,.1f} ms over {len(s)} run(s)"
        return cls(
            timing.label, statistics.median(s) * 1000, f"{spread}{'; ' + text if text else ''}"
        )


def migrate_lines(server: Target, migrations_dir: Path, runs: int) -> list[Extra]:
    """`migrate up` on an empty database beside psql applying the same up sections."""
    return [Extra.of(t) for t in migrate_up(server, migrations_dir, runs)]


def seed_lines(bench: Target, build: Build, runs: int, allow_demo_accounts: bool) -> list[Extra]:
    """Catalog seed rows/s on a fresh migrated scratch database, and the scale load's rows/s
    as recorded when the benchmark database was built."""
    seconds: list[float] = []
    rows = 0
    for _ in range(runs):
        with scratch_database(bench, f"{bench.dbname}__seed") as scratch:
            Migrator(scratch).up()
            started = time.perf_counter()
            seeded = seed_database(
                scratch, allow_demo_accounts=allow_demo_accounts, report=lambda _: None
            )
            seconds.append(time.perf_counter() - started)
            rows = seeded.inserted + seeded.updated
    median = statistics.median(seconds)
    scale_rows = int(build.info.get("scale_rows") or 0)
    scale_seconds = float(build.info.get("scale_seconds") or 0)
    when = "this run" if not build.reused else f"the build of {build.built_at:%Y-%m-%d %H:%M}"
    return [
        Extra(
            "netplus-db seed (catalog, empty database)",
            median * 1000,
            f"{rows:,} rows, {rows / median:,.0f} rows/s (median of {len(seconds)})",
        ),
        Extra(
            f"seed --scale: {build.users:,} users (load_scale, COPY)",
            scale_seconds * 1000,
            f"{scale_rows:,} rows, {build.scale_rows_per_second:,.0f} rows/s ({when})",
        ),
    ]


def refresh_lines(bench: Target, runs: int) -> list[Extra]:
    """refresh_analytics_views() (both materialized views, CONCURRENTLY) on the benchmark
    database."""
    seconds: list[float] = []
    with connect(bench, autocommit=True) as conn:
        for _ in range(runs):
            started = time.perf_counter()
            conn.execute("SELECT refresh_analytics_views()")
            seconds.append(time.perf_counter() - started)
    return [
        Extra.of(
            Timing("refresh_analytics_views() (2 views, CONCURRENTLY)", seconds),
            "mv_daily_user_activity and mv_weekly_domain_progress",
        )
    ]


def backup_lines(bench: Target, runs: int) -> list[Extra]:
    """`backup full` and `restore` of the benchmark database beside plain pg_dump/pg_restore."""
    return [Extra.of(t) for t in backup_restore(bench, runs)]
