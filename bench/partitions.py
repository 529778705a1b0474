"""Partitioned history, measured (`python -m bench partitions`): retention by DELETE beside
retention by partition, and the conversion migration, each on a scratch clone of the scale
database (`CREATE DATABASE ... TEMPLATE`, same server), with an application writer logging
activity every 2 ms on its own connection throughout (`bench.writer`).

- Retention. In a migrated database every scale row sits in the `_before` partition, so the
  clone is re-partitioned first: `user_activity_logs_before` is detached, the months of its
  range get their own partitions and its rows are routed into them; the detached table (the
  pre-partitioning table, its indexes as they were) stays as the plain table. Then, from one
  cutoff, the spec's `DELETE FROM ... WHERE created_at < now() - 90 days` on the plain table
  (now() being the scale data's "today": the scale load's fixed anchor date, which every scale
  row precedes), followed by the plain VACUUM that must follow it, and the product's retention
  (`netplus_db.ops.maintenance.apply_retention`: detach, archive, verify, drop each month whose
  whole range is older than the cutoff) on the partitioned one. Each: elapsed time, WAL bytes,
  the writer's inserts, failures and longest wait, and the sizes before and after.
- Conversion. `migrate down` to the version before the partitioning migration, VACUUM
  (ANALYZE) of the plain tables, then `migrate up` to it: the time, the WAL, and what the
  writer saw (its longest wait is the swap window); rows and checksums of both history tables
  compared after each direction.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench.sql import bench_sql, partitions_sql
from bench.writer import WRITER_ACTIVITY, Writer, WriterWindow
from netplus_db.config import Target
from netplus_db.connection import connect, scratch_database, server_version
from netplus_db.errors import NetplusError
from netplus_db.migrate.migrator import Migrator, default_migrations_dir
from netplus_db.ops import maintenance
from netplus_db.ops.scale import anchor_date
from netplus_db.types import Progress

ACTIVITY = "user_activity_logs"
BEFORE_PARTITION = f"{ACTIVITY}_before"
PLAIN_TABLE = f"{ACTIVITY}_plain"
RETENTION_DAYS = 90
SETTLE_S = 0.5  # the writer runs this long before and after each measured step


class PartitionsBenchError(NetplusError):
    """The partitioning benchmark cannot run on this database (the message says why)."""


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    """A table with its partitions: leaf tables, heap and index bytes."""

    tables: int
    heap_bytes: int
    index_bytes: int

    @property
    def total_bytes(self) -> int:
        """Heap and indexes."""
        return self.heap_bytes + self.index_bytes

    def cell(self) -> str:
        """`N MiB (heap H + indexes I)` as a report cell."""
        return (
            f"{_mib(self.total_bytes)} (heap {_mib(self.heap_bytes)}"
            f" + indexes {_mib(self.index_bytes)})"
        )


@dataclass(frozen=True)
class DeleteRun:
    """The spec's DELETE on the plain table, then the plain VACUUM that reclaims its space."""

    rows_before: int
    rows_removed: int
    rows_after: int
    writer_rows: int
    seconds: float
    wal_bytes: int
    writer: WriterWindow
    size_before: Sizes
    size_after_delete: Sizes
    vacuum_seconds: float
    vacuum_wal_bytes: int
    vacuum_writer: WriterWindow
    size_after_vacuum: Sizes

    @property
    def conserved(self) -> bool:
        """Rows before, less those deleted, plus the writer's, are the rows after."""
        return self.rows_before - self.rows_removed + self.writer_rows == self.rows_after


@dataclass(frozen=True)
class RetentionRun:
    """The product's retention: whole months detached, archived, verified and dropped."""

    rows_before: int
    rows_removed: int
    rows_after: int
    writer_rows: int
    newer_before: int  # rows at or after the cutoff, before and after
    newer_after: int
    partitions_before: int
    partitions_dropped: int
    detach: str
    seconds: float
    wal_bytes: int
    writer: WriterWindow
    size_before: Sizes
    size_after: Sizes
    archive_bytes: int
    failed_steps: tuple[str, ...] = ()

    @property
    def conserved(self) -> bool:
        """Rows before, less those archived and dropped, plus the writer's, are the rows after,
        and no row at or after the cutoff went."""
        return (
            self.rows_before - self.rows_removed + self.writer_rows == self.rows_after
            and self.newer_before + self.writer_rows == self.newer_after
        )


@dataclass(frozen=True)
class RetentionComparison:
    """Both ways of removing the activity logs older than the cutoff, on the same rows."""

    today: datetime  # what stands for now(): the scale load's anchor date
    cutoff: datetime
    oldest: datetime
    newest: datetime
    months: int
    setup_seconds: float
    delete: DeleteRun
    retention: RetentionRun


@dataclass(frozen=True)
class Fingerprint:
    """Rows and an order-free checksum of both history tables (the writer's rows left out)."""

    sessions: int
    sessions_sum: str
    activity: int
    activity_sum: str


@dataclass(frozen=True)
class ConversionRun:
    """`migrate down` to plain tables, then the timed `migrate up` to partitioned ones."""

    version: int
    before_version: int
    down_seconds: float
    down_writer: WriterWindow
    vacuum_seconds: float
    up_seconds: float
    up_wal_bytes: int
    up_writer: WriterWindow
    fingerprints: dict[str, Fingerprint]
    writer_rows: int
    writer_committed: int

    @property
    def conserved(self) -> bool:
        """Same rows and checksums before, after down and after up; every committed insert of
        the writer is there."""
        prints = list(self.fingerprints.values())
        return all(p == prints[0] for p in prints) and self.writer_rows == self.writer_committed


@dataclass
class PartitionsResult:
    """Everything `python -m bench partitions` reports."""

    source: str
    users: int
    server_version: str
    started_at: datetime
    machine: dict[str, str] = field(default_factory=dict)
    retention: RetentionComparison | None = None
    conversion: ConversionRun | None = None
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """The whole result as one JSON document (datetimes as ISO text)."""
        doc: dict[str, Any] = _jsonable(asdict(self))
        if self.retention is not None:
            doc["retention"]["delete"]["conserved"] = self.retention.delete.conserved
            doc["retention"]["retention"]["conserved"] = self.retention.retention.conserved
        if self.conversion is not None:
            doc["conversion"]["conserved"] = self.conversion.conserved
        return doc


# --- the run ------------------------------------------------------------------------------------


def run_partitions(
    source: Target,
    *,
    users: int,
    random_seed: int,
    parts: tuple[str, ...] = ("retention", "conversion"),
    report: Progress = print,
    clone_wait_s: float = 600.0,
) -> PartitionsResult:
    """Both benchmarks on clones of `source` (a built scale database at the partitioning
    version, only read: cloned, never changed); each clone is dropped when its part ends."""
    from bench.suite import machine

    began = time.perf_counter()
    with connect(source, autocommit=True) as conn:
        version = server_version(conn)[1]
        kind = partitions_sql().relation_kind(conn, name=ACTIVITY)
    if kind != "p":
        raise PartitionsBenchError(
            f"{source.dbname}: {ACTIVITY} is not partitioned (relkind {kind!r}): migrate it up"
            " first (the benchmark clones a partitioned scale database)"
        )
    result = PartitionsResult(source.dbname, users, version, datetime.now(UTC), machine())
    if "retention" in parts:
        today = datetime.combine(anchor_date(random_seed), dt_time(), UTC)
        with clone(source, "retention", report, clone_wait_s) as scratch:
            result.retention = retention_comparison(scratch, today, report)
    if "conversion" in parts:
        with clone(source, "conversion", report, clone_wait_s) as scratch:
            result.conversion = conversion(scratch, report)
    result.seconds = time.perf_counter() - began
    return result


@contextmanager
def clone(source: Target, suffix: str, report: Progress, wait_s: float) -> Iterator[Target]:
    """`<source>__<suffix>`, a copy of `source` made with CREATE DATABASE ... TEMPLATE and
    dropped when the block ends. PostgreSQL copies a database only while nobody is connected
    to it: a busy source is tried again every 5 s for up to `wait_s`."""
    name = f"{source.dbname}__{suffix}"
    deadline = time.monotonic() + wait_s
    entered = False
    while True:
        started = time.perf_counter()
        try:
            with scratch_database(source, name, template=source.dbname) as scratch:
                entered = True
                report(f"cloned {source.dbname} as {name} in {time.perf_counter() - started:.1f} s")
                yield scratch
            report(f"dropped {name}")
            return
        except psycopg.errors.ObjectInUse as exc:
            if entered or time.monotonic() > deadline:
                raise PartitionsBenchError(
                    f"cannot clone {source.dbname}: {str(exc).strip()} (tried for {wait_s:g} s)"
                ) from None
            report(f"{source.dbname} is in use (a clone needs it idle): trying again in 5 s")
            time.sleep(5)


def retention_comparison(scratch: Target, today: datetime, report: Progress) -> RetentionComparison:
    """Re-partition the clone's activity logs by month, then remove what is older than the
    cutoff (90 days before `today`) both ways, DELETE first."""
    started = time.perf_counter()
    with connect(scratch, autocommit=True) as conn:
        oldest, newest, months = _monthly_partitions(conn, report)
    # The scale data ends at its load's fixed "today" (netplus_db.ops.scale.anchor_date), which
    # stands for now(): by the wall clock every row of it may be older than the cutoff. (Rows
    # logged since the build, by logins for instance, are newer: kept both ways.)
    cutoff = today - timedelta(days=RETENTION_DAYS)
    setup = time.perf_counter() - started
    report(f"re-partitioned {ACTIVITY} into {months} months in {setup:.1f} s; cutoff {cutoff}")
    delete = _delete_run(scratch, cutoff, report)
    kept = _retention_run(scratch, cutoff, report)
    return RetentionComparison(today, cutoff, oldest, newest, months, setup, delete, kept)


def _monthly_partitions(
    conn: psycopg.Connection[Any], report: Progress
) -> tuple[datetime, datetime, int]:
    """Detach `_before`, give each month of its range a partition, route its rows there; the
    detached table becomes the plain table. Both are vacuumed and analysed afterwards."""
    q = partitions_sql()
    before = [p for p in maintenance.history_partitions(conn) if p.name == BEFORE_PARTITION]
    if not before or before[0].range_to is None:
        raise PartitionsBenchError(f"{BEFORE_PARTITION} is not a partition of {ACTIVITY}")
    bound = before[0].range_to
    _run(conn, q.detach_template, parent=ACTIVITY, partition=BEFORE_PARTITION)
    _run(conn, q.rename_template, table=BEFORE_PARTITION, name=sql.Identifier(PLAIN_TABLE))
    row = conn.execute(_compose(q.range_template, table=PLAIN_TABLE)).fetchone()
    if row is None or row[0] is None:
        raise PartitionsBenchError(f"{BEFORE_PARTITION} holds no rows: nothing to compare")
    oldest, newest = row[0], row[1]
    month = maintenance.month_start(oldest)
    months = 0
    while month < bound:
        following = min(maintenance.month_start(month, 1), bound)
        _run(
            conn,
            q.create_partition_template,
            parent=ACTIVITY,
            partition=f"{ACTIVITY}_p{month:%Y_%m}",
            range_from=sql.Literal(month),
            range_to=sql.Literal(following),
        )
        month, months = following, months + 1
    report(f"routing the rows of {PLAIN_TABLE} into {months} monthly partitions")
    _run(conn, q.route_rows_template, parent=ACTIVITY, source=PLAIN_TABLE)
    _run(conn, q.autovacuum_off_template, table=PLAIN_TABLE)
    for table in (ACTIVITY, PLAIN_TABLE):
        _run(conn, q.vacuum_analyze_template, table=table)
    return oldest, newest, months


def _delete_run(scratch: Target, cutoff: datetime, report: Progress) -> DeleteRun:
    q = partitions_sql()
    with connect(scratch, autocommit=True) as conn:
        rows_before, _, _ = _rows(conn, PLAIN_TABLE, cutoff)  # before the writer's first row
        size_before = _size(conn, PLAIN_TABLE)
        with Writer(scratch, PLAIN_TABLE) as writer:
            time.sleep(SETTLE_S)
            q.checkpoint(conn)
            report(f"the spec's DELETE on {PLAIN_TABLE}: rows older than the cutoff")
            wal = q.wal_position(conn)
            t0 = time.perf_counter()
            cur = conn.execute(
                _compose(q.delete_older_template, table=PLAIN_TABLE), {"cutoff": cutoff}
            )
            removed = cur.rowcount
            t1 = time.perf_counter()
            wal_bytes = int(q.wal_bytes_since(conn, start=wal))
            size_after_delete = _size(conn, PLAIN_TABLE)
            report(f"  {removed:,} rows deleted in {t1 - t0:.1f} s, {_mib(wal_bytes)} of WAL")
            wal = q.wal_position(conn)
            t2 = time.perf_counter()
            _run(conn, q.vacuum_template, table=PLAIN_TABLE)
            t3 = time.perf_counter()
            vacuum_wal = int(q.wal_bytes_since(conn, start=wal))
            size_after_vacuum = _size(conn, PLAIN_TABLE)
            time.sleep(SETTLE_S)
        rows_after, writer_rows, _ = _rows(conn, PLAIN_TABLE, cutoff)
    report(f"  VACUUM in {t3 - t2:.1f} s, {_mib(vacuum_wal)} of WAL")
    return DeleteRun(
        rows_before=rows_before,
        rows_removed=removed,
        rows_after=rows_after,
        writer_rows=writer_rows,
        seconds=t1 - t0,
        wal_bytes=wal_bytes,
        writer=writer.window(t0, t1),
        size_before=size_before,
        size_after_delete=size_after_delete,
        vacuum_seconds=t3 - t2,
        vacuum_wal_bytes=vacuum_wal,
        vacuum_writer=writer.window(t2, t3),
        size_after_vacuum=size_after_vacuum,
    )


def _retention_run(scratch: Target, cutoff: datetime, report: Progress) -> RetentionRun:
    q = partitions_sql()
    now = cutoff + timedelta(days=RETENTION_DAYS)
    with (
        connect(scratch, autocommit=True) as conn,
        tempfile.TemporaryDirectory(prefix="netplus-bench-archives-") as archives,
    ):
        rows_before, _, older = _rows(conn, ACTIVITY, cutoff)  # before the writer's first row
        size_before = _size(conn, ACTIVITY)
        with Writer(scratch, ACTIVITY) as writer:
            time.sleep(SETTLE_S)
            q.checkpoint(conn)
            report(f"retention on {ACTIVITY}: detach, archive, verify, drop ({rows_before:,} rows)")
            wal = q.wal_position(conn)
            t0 = time.perf_counter()
            steps = maintenance.apply_retention(
                scratch,
                maintenance.Retention(activity_days=RETENTION_DAYS),
                (ACTIVITY,),
                Path(archives),
                dry_run=False,
                now=now,
            )
            t1 = time.perf_counter()
            wal_bytes = int(q.wal_bytes_since(conn, start=wal))
            time.sleep(SETTLE_S)
        archive_bytes = sum(p.stat().st_size for p in Path(archives).iterdir())
        rows_after, writer_rows, older_after = _rows(conn, ACTIVITY, cutoff)
        size_after = _size(conn, ACTIVITY)
    dropped = [s for s in steps if s.step == "retention" and s.status == "done"]
    failed = tuple(s.message for s in steps if s.status == "failed")
    removed = sum(int(s.details.get("rows") or 0) for s in dropped)
    report(f"  {len(dropped)} partitions ({removed:,} rows) gone in {t1 - t0:.1f} s")
    return RetentionRun(
        rows_before=rows_before,
        rows_removed=removed,
        rows_after=rows_after,
        writer_rows=writer_rows,
        newer_before=rows_before - older,
        newer_after=rows_after - older_after,
        partitions_before=size_before.tables,
        partitions_dropped=len(dropped),
        detach=", ".join(sorted({str(s.details.get("detach")) for s in dropped})) or "-",
        seconds=t1 - t0,
        wal_bytes=wal_bytes,
        writer=writer.window(t0, t1),
        size_before=size_before,
        size_after=size_after,
        archive_bytes=archive_bytes,
        failed_steps=failed,
    )


def conversion(scratch: Target, report: Progress) -> ConversionRun:
    """`migrate down` to the version before partitioning, VACUUM (ANALYZE), then the timed
    `migrate up` to it, a writer logging activity throughout."""
    q = partitions_sql()
    version, before_version = partitioning_versions()
    migrator = Migrator(scratch, report=lambda _: None)
    prints: dict[str, Fingerprint] = {}
    with connect(scratch, autocommit=True) as conn:
        prints["before"] = _fingerprint(conn)
        report(f"migrate down to {before_version:04d} (writer running)")
        with Writer(scratch, ACTIVITY) as down_writer:
            time.sleep(SETTLE_S)
            t0 = time.perf_counter()
            migrator.down(to=before_version)
            t1 = time.perf_counter()
            time.sleep(SETTLE_S)
        report(f"  down in {t1 - t0:.1f} s; VACUUM (ANALYZE) of the plain tables")
        t2 = time.perf_counter()
        for table in maintenance.HISTORY_TABLES:
            _run(conn, q.vacuum_analyze_template, table=table)
        vacuum_seconds = time.perf_counter() - t2
        prints["after down"] = _fingerprint(conn)
        q.checkpoint(conn)
        report(f"migrate up to {version:04d} (writer running)")
        with Writer(scratch, ACTIVITY) as up_writer:
            time.sleep(SETTLE_S)
            wal = q.wal_position(conn)
            t3 = time.perf_counter()
            migrator.up(to=version)
            t4 = time.perf_counter()
            up_wal = int(q.wal_bytes_since(conn, start=wal))
            time.sleep(SETTLE_S)
        prints["after up"] = _fingerprint(conn)
        writer_rows = int(q.writer_rows(conn, writer=WRITER_ACTIVITY))
    up = up_writer.window(t3, t4)
    report(f"  up in {t4 - t3:.1f} s: {up.cell()}")
    return ConversionRun(
        version=version,
        before_version=before_version,
        down_seconds=t1 - t0,
        down_writer=down_writer.window(t0, t1),
        vacuum_seconds=vacuum_seconds,
        up_seconds=t4 - t3,
        up_wal_bytes=up_wal,
        up_writer=up,
        fingerprints=prints,
        writer_rows=writer_rows,
        writer_committed=down_writer.committed + up_writer.committed,
    )


def partitioning_versions(directory: Path | None = None) -> tuple[int, int]:
    """The partitioning migration's version and the version before it."""
    files = sorted(p for p in (directory or default_migrations_dir()).glob("*.sql"))
    versions = [int(p.name[:4]) for p in files]
    found = [int(p.name[:4]) for p in files if "partitioned_history" in p.name]
    if not found:
        raise PartitionsBenchError("no partitioned_history migration among the migrations")
    return found[0], max(v for v in versions if v < found[0])


def recorded_build(source: Target) -> tuple[int, int] | None:
    """The scale users and random seed a finished benchmark build records in `source`, None
    without one (read only: the source is never changed)."""
    with connect(source, autocommit=True) as conn:
        if not bench_sql().meta_exists(conn):
            return None
        row = bench_sql().meta_get(conn)
    return None if row is None else (int(row[0]), int(row[1]))


# --- helpers ------------------------------------------------------------------------------------


def _compose(query: Any, **parts: str | sql.Composable) -> sql.Composed:
    """A template query with {placeholders}: strings are tables in public, others as given."""
    values = {
        key: sql.Identifier("public", value) if isinstance(value, str) else value
        for key, value in parts.items()
    }
    return sql.SQL(query.sql).format(**values)


def _run(conn: psycopg.Connection[Any], query: Any, **parts: str | sql.Composable) -> None:
    conn.execute(_compose(query, **parts))


def _rows(conn: psycopg.Connection[Any], table: str, cutoff: datetime) -> tuple[int, int, int]:
    """Rows of the table, the writer's, and those older than the cutoff."""
    q = partitions_sql()
    row = conn.execute(
        _compose(q.rows_template, table=table), {"writer": WRITER_ACTIVITY, "cutoff": cutoff}
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def _size(conn: psycopg.Connection[Any], table: str) -> Sizes:
    row = partitions_sql().relation_size(conn, name=table)
    return Sizes(int(row[0]), int(row[1]), int(row[2]))


def _fingerprint(conn: psycopg.Connection[Any]) -> Fingerprint:
    row = partitions_sql().history_fingerprint(conn, writer=WRITER_ACTIVITY)
    return Fingerprint(int(row[0]), str(row[1]), int(row[2]), str(row[3]))


def _mib(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value
