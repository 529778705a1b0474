"""The operations timed beside the queries: `migrate up` on an empty database, catalog seeding,
the materialized-view refresh, and `backup full` / `restore` (custom format, and directory
format with parallel jobs), each beside the plain tool doing the same work where there is one
(psql, pg_dump, pg_restore).

`migrate_up` and `backup_restore` back the `migrate` and `backup` commands too; the `*_lines`
functions make the suite's "Also reported" lines.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from psycopg.conninfo import make_conninfo

from bench.scale_database import Build
from netplus_db.config import Target
from netplus_db.connection import (
    connect,
    drop_database,
    ensure_server_started,
    scratch_database,
    server_version,
)
from netplus_db.migrate.files import load_directory
from netplus_db.migrate.migrator import Migrator
from netplus_db.ops.backup import DumpOptions, backup, timed_plain_dump_restore
from netplus_db.ops.client_tools import find_tool
from netplus_db.ops.restore import restore
from netplus_db.ops.seed import seed_database


@dataclass(frozen=True)
class TimedRuns:
    """Wall-clock seconds of repeated runs of one operation."""

    label: str
    seconds: list[float]

    def row(self) -> str:
        """`label  min  median  max` in milliseconds."""
        s = self.seconds
        return (
            f"{self.label:<48} {min(s) * 1000:>8.1f} {statistics.median(s) * 1000:>8.1f}"
            f" {max(s) * 1000:>8.1f}"
        )


@dataclass(frozen=True)
class OperationLine:
    """One line of the report's "Also reported" table: what, the median in milliseconds (when
    timed), and a comment."""

    label: str
    median_ms: float | None
    text: str

    @classmethod
    def of(cls, runs: TimedRuns, text: str = "") -> OperationLine:
        """A line from timed runs: median, with min and max in the text."""
        s = runs.seconds
        spread = f"min {min(s) * 1000:,.1f} / max {max(s) * 1000:,.1f} ms over {len(s)} run(s)"
        return cls(
            runs.label, statistics.median(s) * 1000, f"{spread}{'; ' + text if text else ''}"
        )


# --- migrate up ---------------------------------------------------------------------------------


def migrate_up(target: Target, migrations_dir: Path, runs: int = 5) -> list[TimedRuns]:
    """Time `migrate up` on an empty database beside psql applying the same up sections.

    The baseline is psql running the up sections in one transaction (`psql -1 -f`; a
    `transaction:false` file outside it, as the runner does): the
    server's own cost of the DDL, with no runner, no ledger, no lock and no validation.
    Each run uses a scratch database (bench_migrate, bench_psql), dropped afterwards.
    """
    target = ensure_server_started(target)
    with connect(target.with_dbname("postgres"), autocommit=True) as conn:
        major = server_version(conn)[0] // 10000
    psql = find_tool("psql", major)
    files = load_directory(migrations_dir)
    with tempfile.TemporaryDirectory(prefix="netplus-bench-") as work:
        # Consecutive files of the same kind in one script: `-1` for those that run in a
        # transaction; a `transaction:false` file (CREATE INDEX CONCURRENTLY) runs without it.
        scripts: list[tuple[Path, bool]] = []
        for number, (in_transaction, group) in enumerate(
            groupby(files, key=lambda m: m.up.transaction)
        ):
            script = Path(work) / f"up{number}.sql"
            script.write_text("\n".join(m.up.sql for m in group), "utf-8")
            scripts.append((script, in_transaction))

        def baseline(t: Target) -> None:
            for script, in_transaction in scripts:
                single = ["-1"] if in_transaction else []
                subprocess.run(
                    [
                        str(psql.path),
                        "-X",
                        "-q",
                        "-v",
                        "ON_ERROR_STOP=1",
                        *single,
                        "-f",
                        str(script),
                    ],
                    env=t.libpq_env(),
                    check=True,
                    capture_output=True,
                )

        ours = _repeat(runs, target, "bench_migrate", lambda t: Migrator(t, migrations_dir).up())
        raw = _repeat(runs, target, "bench_psql", baseline)
    return [
        TimedRuns(f"netplus-db migrate up ({len(files)} migrations)", ours),
        TimedRuns("psql -1 -f <the up sections> (baseline)", raw),
    ]


def _repeat(
    runs: int, target: Target, name: str, action: Callable[[Target], object]
) -> list[float]:
    seconds: list[float] = []
    for _ in range(runs):
        with scratch_database(target, name) as scratch:
            started = time.perf_counter()
            action(scratch)
            seconds.append(time.perf_counter() - started)
    return seconds


def migrate_lines(server: Target, migrations_dir: Path, runs: int) -> list[OperationLine]:
    """`migrate up` on an empty database beside psql applying the same up sections."""
    return [OperationLine.of(t) for t in migrate_up(server, migrations_dir, runs)]


# --- seed and refresh ---------------------------------------------------------------------------


def seed_lines(
    bench: Target, build: Build, runs: int, allow_demo_accounts: bool
) -> list[OperationLine]:
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
        OperationLine(
            "netplus-db seed (catalog, empty database)",
            median * 1000,
            f"{rows:,} rows, {rows / median:,.0f} rows/s (median of {len(seconds)})",
        ),
        OperationLine(
            f"seed --scale: {build.users:,} users (load_scale, COPY)",
            scale_seconds * 1000,
            f"{scale_rows:,} rows, {build.scale_rows_per_second:,.0f} rows/s ({when})",
        ),
    ]


def refresh_lines(bench: Target, runs: int) -> list[OperationLine]:
    """refresh_analytics_views() (both materialized views, CONCURRENTLY) on the benchmark
    database."""
    seconds: list[float] = []
    with connect(bench, autocommit=True) as conn:
        for _ in range(runs):
            started = time.perf_counter()
            conn.execute("SELECT refresh_analytics_views()")
            seconds.append(time.perf_counter() - started)
    return [
        OperationLine.of(
            TimedRuns("refresh_analytics_views() (2 views, CONCURRENTLY)", seconds),
            "mv_daily_user_activity and mv_weekly_domain_progress",
        )
    ]


# --- backup and restore -------------------------------------------------------------------------

JOBS = 2  # parallel jobs of the directory-format runs (the machines here have 2 cores)


def backup_restore(target: Target, runs: int = 3, jobs: int = JOBS) -> list[TimedRuns]:
    """`backup full` and `restore` (into a new database) beside plain pg_dump -Fc and
    pg_restore on the same database: our overhead is the checksum, manifest, row counts,
    validation and rename. Then the same in directory format with `jobs` parallel jobs,
    beside `pg_dump -Fd -j` and `pg_restore -j`. Scratch databases are dropped afterwards;
    the target is only read.
    """
    target = ensure_server_started(target)
    with connect(target.with_dbname("postgres"), autocommit=True) as conn:
        major = server_version(conn)[0] // 10000
    tools = {name: find_tool(name, major).path for name in ("pg_dump", "pg_restore")}
    timed: dict[str, list[float]] = {}

    def clock(label: str, started: float) -> None:
        timed.setdefault(label, []).append(time.perf_counter() - started)

    copy = target.with_dbname(f"{target.dbname}__bench_restore")
    ways = (("custom", DumpOptions(), 1), ("directory", DumpOptions("directory", jobs), jobs))
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="netplus-bench-") as work:
            plain = timed_plain_dump_restore(target, Path(work))
            timed.setdefault("pg_dump", []).append(plain["pg_dump_seconds"])
            timed.setdefault("pg_restore", []).append(plain["pg_restore_seconds"])
            for fmt, options, restore_jobs in ways:
                started = time.perf_counter()
                archive = backup(target, "full", Path(work), options=options).path
                clock(f"backup {fmt}", started)
                drop_database(copy)
                started = time.perf_counter()
                restore(copy, archive, jobs=restore_jobs)
                clock(f"restore {fmt}", started)
                drop_database(copy)
            _plain_parallel(target, Path(work), tools, jobs, timed)
    return [
        TimedRuns("netplus-db backup full", timed["backup custom"]),
        TimedRuns("pg_dump -Fc (baseline)", timed["pg_dump"]),
        TimedRuns("netplus-db restore (scratch, validate, rename)", timed["restore custom"]),
        TimedRuns("pg_restore --single-transaction (baseline)", timed["pg_restore"]),
        TimedRuns(
            f"netplus-db backup full --format directory -j {jobs}", timed["backup directory"]
        ),
        TimedRuns(f"pg_dump -Fd -j {jobs} (baseline)", timed["pg_dump -j"]),
        TimedRuns(f"netplus-db restore -j {jobs} (directory archive)", timed["restore directory"]),
        TimedRuns(f"pg_restore -j {jobs} (baseline)", timed["pg_restore -j"]),
    ]


def _plain_parallel(
    target: Target, work: Path, tools: dict[str, Path], jobs: int, timed: dict[str, list[float]]
) -> None:
    """Time `pg_dump -Fd -j` of the target and `pg_restore -j` of it into a fresh database
    (`-j` excludes --single-transaction: --exit-on-error, as a DBA would run it)."""
    archive = work / "baseline.dir"
    started = time.perf_counter()
    _run([str(tools["pg_dump"]), "--no-password", "-Fd", f"-j{jobs}", f"--file={archive}"], target)
    timed.setdefault("pg_dump -j", []).append(time.perf_counter() - started)
    with scratch_database(
        target, f"{target.dbname}__bench_pjobs", template="template0", keep_existing=True
    ) as scratch:
        started = time.perf_counter()
        _run(
            [
                str(tools["pg_restore"]),
                "--no-password",
                "--exit-on-error",
                f"-j{jobs}",
                f"--dbname={make_conninfo('', dbname=scratch.dbname)}",
                str(archive),
            ],
            scratch,
        )
        timed.setdefault("pg_restore -j", []).append(time.perf_counter() - started)


def _run(args: list[str], target: Target) -> None:
    done = subprocess.run(args, env=target.libpq_env(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(args[0]).name} failed: {done.stderr.strip()}")


def backup_lines(bench: Target, runs: int) -> list[OperationLine]:
    """`backup full` and `restore` of the benchmark database beside plain pg_dump/pg_restore,
    in custom format and in directory format with parallel jobs."""
    return [OperationLine.of(t) for t in backup_restore(bench, runs)]
