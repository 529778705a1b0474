"""Benchmarks that report numbers beside a baseline (never timed assertions in tests)."""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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
from netplus_db.ops.client_tools import find_tool


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of repeated runs of one thing."""

    label: str
    seconds: list[float]

    def row(self) -> str:
        """`label  min  median  max` in milliseconds."""
        s = self.seconds
        return (
            f"{self.label:<48} {min(s) * 1000:>8.1f} {statistics.median(s) * 1000:>8.1f}"
            f" {max(s) * 1000:>8.1f}"
        )


def migrate_up(target: Target, migrations_dir: Path, runs: int = 5) -> list[Timing]:
    """Time `migrate up` on an empty database beside psql applying the same up sections.

    The baseline is psql running every up section in one transaction (`psql -1 -f`): the
    server's own cost of the DDL, with no runner, no ledger, no lock and no validation.
    """
    target = ensure_server_started(target)
    with connect(target.with_dbname("postgres"), autocommit=True) as conn:
        major = server_version(conn)[0] // 10000
    psql = find_tool("psql", major)
    script = "\n".join(m.up.sql for m in load_directory(migrations_dir))
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    ours = _repeat(runs, target, "bench_migrate", lambda t: Migrator(t, migrations_dir).up())

    def baseline(t: Target) -> None:
        subprocess.run(
            [str(psql.path), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f", f.name],
            env=t.libpq_env(),
            check=True,
            capture_output=True,
        )

    raw = _repeat(runs, target, "bench_psql", baseline)
    Path(f.name).unlink()
    files = len(load_directory(migrations_dir))
    return [
        Timing(f"netplus-db migrate up ({files} migrations)", ours),
        Timing("psql -1 -f <every up section> (baseline)", raw),
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


@dataclass(frozen=True)
class Overhead:
    """Per-call cost of one query through the library and through raw psycopg."""

    label: str
    raw_us: float
    library_us: float

    def row(self) -> str:
        """`label  raw  library  overhead` in microseconds."""
        return (
            f"{self.label:<40} {self.raw_us:>10.1f} {self.library_us:>10.1f}"
            f" {self.library_us - self.raw_us:>+10.1f}"
        )


def query_overhead(target: Target, calls: int = 2000, rounds: int = 7) -> list[Overhead]:
    """Per-call time of typed library calls beside raw psycopg running the same SQL and
    parameters on the same connection, taking turns call by call (`calls * rounds` each; the
    medians are compared: `benchsuite.stats.interleaved_medians_us`).

    Uses a scratch database `<db>__bench_queries` on the target's server, dropped afterwards.
    """
    from bench.stats import interleaved_medians_us
    from netplus_db.flows import accounts, drive
    from netplus_db.generated import Queries
    from netplus_db.ops.codegen import migrated_scratch_database
    from netplus_db.querylayer import query

    results: list[Overhead] = []
    with migrated_scratch_database(target.with_dbname(f"{target.dbname}__bench")) as scratch:
        with connect(scratch) as conn:
            user = drive(
                accounts.register(
                    email="bench@network.test", username="bench", password="password123", rounds=4
                ),
                Queries(conn),
                None,
            )
            conn.commit()
        with connect(scratch, autocommit=True) as conn:
            q = Queries(conn)
            cases: list[tuple[str, Callable[[], object], str, dict[str, object]]] = [
                (
                    "users.get_user (one row)",
                    lambda: q.users.get_user(user_id=user.id),
                    query("users", "get_user").sql,
                    {"user_id": user.id},
                ),
                (
                    "activity.list_activity (rows)",
                    lambda: q.activity.list_activity(user_id=user.id, page_size=10),
                    query("activity", "list_activity").sql,
                    {"user_id": user.id, "page_size": 10},
                ),
                (
                    "analytics.dashboard_summary (function)",
                    lambda: q.analytics.dashboard_summary(user_id=user.id),
                    query("analytics", "dashboard_summary").sql,
                    {"user_id": user.id},
                ),
            ]
            for label, library_call, sql_text, params in cases:

                def raw(sql_text: str = sql_text, params: dict[str, object] = params) -> object:
                    with conn.cursor() as cur:
                        cur.execute(sql_text, params)
                        return cur.fetchall()

                medians = interleaved_medians_us({"raw": raw, "lib": library_call}, calls * rounds)
                results.append(Overhead(label, medians["raw"], medians["lib"]))
    return results


def backup_restore(target: Target, runs: int = 3) -> list[Timing]:
    """`backup full` and `restore` (into a new database) beside plain pg_dump -Fc and
    pg_restore on the same database: our overhead is the checksum, manifest, row counts,
    validation and rename. Scratch databases are dropped afterwards; the target is only read.
    """
    import tempfile

    from netplus_db.ops.backup import backup, timed_plain_dump_restore
    from netplus_db.ops.restore import restore

    target = ensure_server_started(target)
    ours_dump: list[float] = []
    ours_restore: list[float] = []
    plain_dump: list[float] = []
    plain_restore: list[float] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="netplus-bench-") as work:
            plain = timed_plain_dump_restore(target, Path(work))
            plain_dump.append(plain["pg_dump_seconds"])
            plain_restore.append(plain["pg_restore_seconds"])
            started = time.perf_counter()
            archive = backup(target, "full", Path(work)).path
            ours_dump.append(time.perf_counter() - started)
            copy = target.with_dbname(f"{target.dbname}__bench_restore")
            drop_database(copy)
            started = time.perf_counter()
            restore(copy, archive)
            ours_restore.append(time.perf_counter() - started)
            drop_database(copy)
    return [
        Timing("netplus-db backup full", ours_dump),
        Timing("pg_dump -Fc (baseline)", plain_dump),
        Timing("netplus-db restore (scratch, validate, rename)", ours_restore),
        Timing("pg_restore --single-transaction (baseline)", plain_restore),
    ]
