"""The spec's maintenance routine ("Maintenance": daily, weekly, monthly) on partitioned history.

- Partitions: `learning_sessions` and `user_activity_logs` are partitioned by UTC month of
  `created_at` (migration 0017). `ensure_partitions` creates this month's and the next months'
  partitions (0017's `create_history_partitions`); `watch_default_partitions` reports rows in
  the default partitions (a month without its partition, or a timestamp far off).
- Retention: whole months leave, never rows: a partition whose range ends at or before the
  cutoff (now - 30 days for sessions, now - 90 days for activity logs, configurable) is
  detached (`DETACH ... CONCURRENTLY` when the table has no default partition; PostgreSQL
  refuses it when there is one, and then a plain DETACH takes ACCESS EXCLUSIVE on the parent
  for a moment, bounded by lock_timeout), written to a gzip-compressed CSV with a manifest
  (rows, sha256 of the CSV, md5 of the rows), the archive read back and checked against the
  manifest and the table, and only then dropped. A partition holding a row at or after the
  cutoff is never dropped (the default partition never is).
- The routine: daily (partitions ahead, refresh the views, rebuild the item statistics of
  migration 0019, slow queries, default partitions, idle transactions), weekly (ANALYZE,
  sessions retention), monthly (VACUUM (ANALYZE), activity
  retention, unused indexes), report (read only: what the DBA reads on Monday).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.errors import NetplusError
from netplus_db.sql import sql_files

HISTORY_TABLES = ("learning_sessions", "user_activity_logs")
# The table whose old months each routine's retention drops.
WEEKLY_RETENTION = ("learning_sessions",)
MONTHLY_RETENTION = ("user_activity_logs",)
ARCHIVE_FORMAT = "netplus-db partition archive 1"
MANIFEST_SUFFIX = ".manifest.json"
DATA_SUFFIX = ".csv.gz"


class MaintenanceError(NetplusError):
    """A maintenance step could not be done; the message says what was left in which state."""


class ArchiveError(MaintenanceError):
    """An archive does not match its manifest (or the manifest is unreadable)."""


# --- settings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retention:
    """How many days of each history table are kept (the spec: 30 and 90)."""

    sessions_days: int = 30
    activity_days: int = 90

    def days(self, table: str) -> int:
        """The retention of one history table, in days."""
        return self.sessions_days if table == "learning_sessions" else self.activity_days


@dataclass(frozen=True)
class Options:
    """What a routine run may do and how far it looks."""

    dry_run: bool = False
    retention: Retention = Retention()
    months_ahead: int = 3
    archive_dir: Path = Path("archives")
    idle_seconds: int = 300
    slow_queries: int = 10
    top: int = 10
    lock_timeout: str = "5s"
    now: datetime | None = None  # the database's clock unless given (tests)


# --- what a run reports -------------------------------------------------------------------------


@dataclass
class Step:
    """One step of a routine: what it did (or would do), in one line and as data."""

    step: str
    status: str  # done, would, skipped, ok, warning, failed, info
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The step as one `items` entry of the --json document."""
        return {"step": self.step, "status": self.status, "message": self.message, **self.details}


# --- partitions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Partition:
    """One partition of a history table; a None bound is MINVALUE / MAXVALUE."""

    table: str
    name: str
    is_default: bool
    range_from: datetime | None
    range_to: datetime | None
    detach_pending: bool
    estimated_rows: int
    bytes: int

    def as_json(self) -> dict[str, Any]:
        """The partition as JSON (ISO timestamps, null for an open bound)."""
        return {
            "table": self.table,
            "partition": self.name,
            "default": self.is_default,
            "from": _iso(self.range_from),
            "to": _iso(self.range_to),
            "detach_pending": self.detach_pending,
            "estimated_rows": self.estimated_rows,
            "bytes": self.bytes,
        }

    def describe(self) -> str:
        """`name [from, to)` as a human reads it."""
        if self.is_default:
            return f"{self.name} (default)"
        start = "-inf" if self.range_from is None else _iso(self.range_from)
        end = "+inf" if self.range_to is None else _iso(self.range_to)
        return f"{self.name} [{start}, {end})"


def history_partitions(conn: psycopg.Connection[Any]) -> list[Partition]:
    """Every partition of the history tables, oldest range first, the default one last."""
    return [Partition(*row) for row in sql_files().maintenance.history_partitions(conn)]


def database_now(conn: psycopg.Connection[Any]) -> datetime:
    """The database server's clock."""
    value: datetime = sql_files().maintenance.clock(conn)
    return value


def month_start(moment: datetime, months: int = 0) -> datetime:
    """The first instant (UTC) of the month of `moment`, moved by `months`."""
    utc = moment.astimezone(UTC)
    index = utc.year * 12 + utc.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def ensure_partitions(conn: psycopg.Connection[Any], months_ahead: int, dry_run: bool) -> Step:
    """This month's partitions and `months_ahead` more, for both history tables."""
    if dry_run:
        now = database_now(conn)
        existing = history_partitions(conn)
        missing = []
        for table in HISTORY_TABLES:
            for i in range(months_ahead + 1):
                start, end = month_start(now, i), month_start(now, i + 1)
                if not any(_covers(p, start, end) for p in existing if p.table == table):
                    missing.append(f"{table}_p{start:%Y_%m}")
        message = (
            f"would create {len(missing)} partition(s): {', '.join(missing)}"
            if missing
            else f"every partition up to {months_ahead} month(s) ahead exists"
        )
        return Step("partitions", "would" if missing else "ok", message, {"missing": missing})
    rows = sql_files().maintenance.create_partitions(conn, months_ahead=months_ahead)
    created = [str(r[1]) for r in rows if r[4] == "created"]
    blocked = [str(r[1]) for r in rows if r[4] == "blocked"]
    details = {"created": created, "blocked": blocked, "months_ahead": months_ahead}
    if blocked:
        return Step(
            "partitions",
            "warning",
            f"the default partition holds rows of {', '.join(blocked)}: those months have no "
            "partition of their own until the rows are moved (see the default-partition step)",
            details,
        )
    message = (
        f"created {len(created)} partition(s): {', '.join(created)}"
        if created
        else f"every partition up to {months_ahead} month(s) ahead exists"
    )
    return Step("partitions", "done" if created else "ok", message, details)


def _covers(p: Partition, start: datetime, end: datetime) -> bool:
    if p.is_default:
        return False
    lower_ok = p.range_from is None or p.range_from <= start
    upper_ok = p.range_to is None or p.range_to >= end
    return lower_ok and upper_ok


def watch_default_partitions(conn: psycopg.Connection[Any]) -> Step:
    """Rows in the default partitions: each is a month without a partition (create it) or a
    timestamp far off; retention never drops them."""
    found: dict[str, Any] = {}
    for p in history_partitions(conn):
        if not p.is_default:
            continue
        rows, newest, oldest = _newest(conn, p.name)
        if rows:
            found[p.name] = {"rows": rows, "oldest": _iso(oldest), "newest": _iso(newest)}
    if not found:
        return Step("default-partitions", "ok", "the default partitions are empty", {})
    parts = [
        f"{name}: {v['rows']} row(s) from {v['oldest']} to {v['newest']}"
        for name, v in found.items()
    ]
    return Step(
        "default-partitions",
        "warning",
        "rows outside every monthly partition (retention never drops them; a month cannot get "
        "its partition while they are there): " + "; ".join(parts),
        {"default_partitions": found},
    )


def _newest(
    conn: psycopg.Connection[Any], relation: str
) -> tuple[int, datetime | None, datetime | None]:
    row = conn.execute(
        _compose(sql_files().maintenance.newest_row_template.sql, table=relation)
    ).fetchone()
    assert row is not None
    return int(row[0]), row[1], row[2]


# --- retention ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """What retention does with one partition, and why."""

    partition: Partition
    cutoff: datetime
    drop: bool
    reason: str
    rows: int | None = None
    newest: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        """The decision as JSON."""
        return {
            **self.partition.as_json(),
            "cutoff": _iso(self.cutoff),
            "drop": self.drop,
            "reason": self.reason,
            "rows": self.rows,
            "newest": _iso(self.newest),
        }


def retention_plan(
    conn: psycopg.Connection[Any],
    retention: Retention,
    tables: Iterable[str] = HISTORY_TABLES,
    now: datetime | None = None,
) -> list[Decision]:
    """For every partition of `tables`: dropped or kept, and why. A partition goes only when its
    whole range lies before the cutoff and its newest row does too (checked, not assumed)."""
    clock = now or database_now(conn)
    wanted = set(tables)
    decisions = []
    for p in history_partitions(conn):
        if p.table not in wanted:
            continue
        cutoff = clock - timedelta(days=retention.days(p.table))
        if p.is_default:
            decisions.append(Decision(p, cutoff, False, "the default partition is never dropped"))
        elif p.range_to is None or p.range_to > cutoff:
            decisions.append(Decision(p, cutoff, False, "its range reaches past the cutoff"))
        else:
            rows, newest, _ = _newest(conn, p.name)
            if newest is not None and newest >= cutoff:
                reason = "it holds rows newer than the cutoff"
                decisions.append(Decision(p, cutoff, False, reason, rows, newest))
            else:
                reason = "its whole range is older than the cutoff"
                decisions.append(Decision(p, cutoff, True, reason, rows, newest))
    return decisions


def partitions_to_drop(
    target: Target, retention: Retention, tables: Iterable[str], now: datetime | None = None
) -> list[Decision]:
    """The partitions retention would drop now: what a confirmation names before it runs."""
    with connect(target, autocommit=True) as conn:
        return [d for d in retention_plan(conn, retention, tables, now) if d.drop]


def apply_retention(
    target: Target,
    retention: Retention,
    tables: Iterable[str],
    archive_dir: Path,
    *,
    dry_run: bool,
    now: datetime | None = None,
    lock_timeout: str = "5s",
) -> list[Step]:
    """Detach, archive, verify and drop every partition the plan lets go (nothing under
    `dry_run`: the steps say what would go). A failure stops at that partition, leaving it
    attached (or re-attached) and archived files in place."""
    steps: list[Step] = []
    with connect(target, autocommit=True) as conn:
        plan = retention_plan(conn, retention, tables, now)
        for decision in plan:
            p = decision.partition
            if not decision.drop:
                if not p.is_default and decision.rows is not None:
                    steps.append(
                        Step(
                            "retention",
                            "skipped",
                            f"{p.name} kept: {decision.reason}",
                            decision.as_json(),
                        )
                    )
                continue
            if dry_run:
                steps.append(
                    Step(
                        "retention",
                        "would",
                        f"would detach, archive and drop {p.describe()}: {decision.rows} row(s), "
                        f"newest {_iso(decision.newest)}, cutoff {_iso(decision.cutoff)}",
                        decision.as_json(),
                    )
                )
                continue
            steps.append(_retire(conn, decision, archive_dir, lock_timeout))
        if not any(d.drop for d in plan):
            cutoffs = sorted({f"{d.partition.table} before {_iso(d.cutoff)}" for d in plan})
            steps.append(
                Step("retention", "ok", "nothing to drop (" + "; ".join(cutoffs) + ")", {})
            )
    return steps


def _retire(
    conn: psycopg.Connection[Any], decision: Decision, archive_dir: Path, lock_timeout: str
) -> Step:
    p = decision.partition
    q = sql_files().maintenance
    conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(lock_timeout)))
    has_default = any(o.is_default for o in history_partitions(conn) if o.table == p.table)
    how = "DETACH" if has_default else "DETACH CONCURRENTLY"
    template = q.detach_template if has_default else q.detach_concurrently_template
    if p.detach_pending:
        template, how = q.finalize_detach_template, "DETACH FINALIZE"
    conn.execute(_compose(template.sql, parent=p.table, partition=p.name))
    try:
        rows, newest, _ = _newest(conn, p.name)
        if newest is not None and newest >= decision.cutoff:
            raise MaintenanceError(
                f"{p.name} holds a row of {_iso(newest)}, not older than the cutoff "
                f"{_iso(decision.cutoff)}: not dropped"
            )
        manifest = write_archive(conn, p, archive_dir, decision.cutoff)
        checked = verify_archive(manifest)
        if checked.rows != rows:
            raise ArchiveError(
                f"{manifest}: {checked.rows} row(s) in the archive, {rows} in {p.name}"
            )
    except Exception as exc:
        _reattach(conn, p)
        return Step(
            "retention",
            "failed",
            f"{p.name} not dropped, attached again: {exc}",
            {**decision.as_json(), "error": str(exc)},
        )
    conn.execute(_compose(q.drop_template.sql, partition=p.name))
    return Step(
        "retention",
        "done",
        f"{p.describe()}: {rows} row(s) archived to {checked.data_file} and verified, then "
        f"dropped ({how})",
        {**decision.as_json(), "rows": rows, "archive": str(manifest), "detach": how},
    )


def _reattach(conn: psycopg.Connection[Any], p: Partition) -> None:
    bound_from = sql.SQL("MINVALUE") if p.range_from is None else sql.Literal(p.range_from)
    bound_to = sql.SQL("MAXVALUE") if p.range_to is None else sql.Literal(p.range_to)
    conn.execute(
        _compose(
            sql_files().maintenance.attach_template.sql,
            parent=p.table,
            partition=p.name,
            range_from=bound_from,
            range_to=bound_to,
        )
    )


# --- archives -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveCheck:
    """What reading an archive back found: rows and the CSV's sha256, both as the manifest says."""

    manifest: Path
    data_file: Path
    rows: int
    sha256: str
    content_md5: str
    table: str
    range_from: datetime | None
    range_to: datetime | None
    partition: str
    columns: list[str]


def write_archive(
    conn: psycopg.Connection[Any], p: Partition, archive_dir: Path, cutoff: datetime | None = None
) -> Path:
    """The partition's rows as `<dir>/<partition>.csv.gz` and its manifest (rows, sha256 of the
    CSV, md5 of the rows as the database sees them). Returns the manifest's path; an existing
    archive of the same name is refused, never overwritten."""
    archive_dir.mkdir(parents=True, exist_ok=True)
    data = archive_dir / f"{p.name}{DATA_SUFFIX}"
    manifest = archive_dir / f"{p.name}{MANIFEST_SUFFIX}"
    for path in (data, manifest):
        if path.exists():
            raise ArchiveError(
                f"{path} exists already: move it away (an archive is never overwritten)"
            )
    q = sql_files().maintenance
    columns = [str(name) for (name,) in q.columns(conn, name=p.name)]
    digest = hashlib.sha256()
    partial = data.with_name(data.name + ".partial")
    with (
        gzip.open(partial, "wb") as out,
        conn.cursor() as cur,
        cur.copy(_compose(q.copy_out_template.sql, table=p.name)) as copy,
    ):
        for chunk in copy:
            digest.update(chunk)
            out.write(chunk)
    partial.replace(data)
    rows, _, _ = _newest(conn, p.name)
    doc = {
        "format": ARCHIVE_FORMAT,
        "table": p.table,
        "partition": p.name,
        "range_from": _iso(p.range_from),
        "range_to": _iso(p.range_to),
        "columns": columns,
        "rows": rows,
        "sha256": digest.hexdigest(),
        "content_md5": _content_md5(conn, p.name, p.range_from, p.range_to),
        "file": data.name,
        "archived_at": _iso(database_now(conn)),
        "cutoff": _iso(cutoff),
    }
    manifest.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return manifest


def verify_archive(manifest: Path) -> ArchiveCheck:
    """Read the archive back: the CSV's sha256 and its number of records must be the manifest's."""
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArchiveError(f"{manifest}: not a readable manifest: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != ARCHIVE_FORMAT:
        raise ArchiveError(f"{manifest}: format is not {ARCHIVE_FORMAT!r}")
    for key in ("table", "partition", "columns", "rows", "sha256", "content_md5", "file"):
        if key not in doc:
            raise ArchiveError(f"{manifest}: field {key!r} is missing")
    if doc["table"] not in HISTORY_TABLES:
        raise ArchiveError(f"{manifest}: table {doc['table']!r} is not a history table")
    data = manifest.parent / str(doc["file"])
    digest = hashlib.sha256()
    try:
        with gzip.open(data, "rb") as raw:
            for chunk in iter(lambda: raw.read(1 << 20), b""):
                digest.update(chunk)
        with gzip.open(data, "rt", encoding="utf-8", newline="") as text:
            records = sum(1 for _ in csv.reader(text)) - 1  # the header
    except (OSError, EOFError, csv.Error, UnicodeDecodeError) as exc:
        raise ArchiveError(f"{data}: unreadable: {exc}") from None
    if digest.hexdigest() != doc["sha256"]:
        raise ArchiveError(
            f"{data}: sha256 {digest.hexdigest()} differs from the manifest's {doc['sha256']}"
        )
    if records != doc["rows"]:
        raise ArchiveError(f"{data}: {records} row(s), the manifest says {doc['rows']}")
    return ArchiveCheck(
        manifest=manifest,
        data_file=data,
        rows=records,
        sha256=digest.hexdigest(),
        content_md5=str(doc["content_md5"]),
        table=str(doc["table"]),
        range_from=_parse(doc.get("range_from")),
        range_to=_parse(doc.get("range_to")),
        partition=str(doc["partition"]),
        columns=[str(c) for c in doc["columns"]],
    )


def load_archive(target: Target, manifest: Path) -> dict[str, Any]:
    """Load an archive back into its table (verified first), in one transaction: the partition
    of its range is created again when no partition covers it, and the rows are routed there.
    Returns rows loaded and whether the range's rows now have the archived checksum."""
    check = verify_archive(manifest)
    q = sql_files().maintenance
    with connect(target) as conn, conn.transaction():
        conn.execute("SET LOCAL row_security = off")
        start = check.range_from or datetime(1, 1, 1, tzinfo=UTC)
        end = check.range_to or datetime(9999, 1, 1, tzinfo=UTC)
        covering = [
            p for p in history_partitions(conn) if p.table == check.table and _covers(p, start, end)
        ]
        created = None
        if not covering and not q.relation_exists(conn, name=check.partition):
            conn.execute(
                _compose(
                    q.create_partition_template.sql,
                    parent=check.table,
                    partition=check.partition,
                    range_from=sql.SQL("MINVALUE")
                    if check.range_from is None
                    else sql.Literal(check.range_from),
                    range_to=sql.SQL("MAXVALUE")
                    if check.range_to is None
                    else sql.Literal(check.range_to),
                )
            )
            created = check.partition
        columns = sql.SQL(", ").join(sql.Identifier(c) for c in check.columns)
        with conn.cursor() as cur, gzip.open(check.data_file, "rb") as raw:
            with cur.copy(
                _compose(q.copy_in_template.sql, table=check.table, columns=columns)
            ) as copy:
                for chunk in iter(lambda: raw.read(1 << 20), b""):
                    copy.write(chunk)
            loaded = cur.rowcount
        if loaded != check.rows:
            raise ArchiveError(
                f"{manifest}: loaded {loaded} row(s), the manifest says {check.rows}"
            )
        same = (
            _content_md5(conn, check.table, check.range_from, check.range_to) == check.content_md5
        )
    return {
        "table": check.table,
        "rows": loaded,
        "created_partition": created,
        "checksum_matches": same,
    }


def _content_md5(
    conn: psycopg.Connection[Any], relation: str, start: datetime | None, end: datetime | None
) -> str:
    query = _compose(
        sql_files().maintenance.content_checksum_template.sql,
        table=relation,
        range_from=sql.Literal(start or datetime(1, 1, 1, tzinfo=UTC)),
        range_to=sql.Literal(end or datetime(9999, 1, 1, tzinfo=UTC)),
    )
    row = conn.execute(query).fetchone()
    return str(row[0]) if row else ""


# --- the routine --------------------------------------------------------------------------------


def daily(target: Target, options: Options) -> list[Step]:
    """Partitions ahead, refresh the materialized views, default partitions, slow queries,
    long idle transactions."""
    with connect(target, autocommit=True) as conn:
        steps = [ensure_partitions(conn, options.months_ahead, options.dry_run)]
        steps.append(_refresh(conn, options.dry_run))
        steps.append(refresh_item_statistics(conn, options.dry_run))
        steps.append(watch_default_partitions(conn))
        steps.append(slow_queries(conn, options.slow_queries))
        steps.append(idle_in_transaction(conn, options.idle_seconds))
    return steps


def weekly(target: Target, options: Options) -> list[Step]:
    """ANALYZE, sessions retention (whole months older than the cutoff), default partitions."""
    with connect(target, autocommit=True) as conn:
        steps = [_run_statement(conn, "analyze", "ANALYZE", options.dry_run)]
        steps.append(watch_default_partitions(conn))
    steps += apply_retention(
        target,
        options.retention,
        WEEKLY_RETENTION,
        options.archive_dir,
        dry_run=options.dry_run,
        now=options.now,
        lock_timeout=options.lock_timeout,
    )
    return steps


def monthly(target: Target, options: Options) -> list[Step]:
    """VACUUM (ANALYZE), activity logs retention, partitions ahead, unused indexes."""
    with connect(target, autocommit=True) as conn:
        steps = [_run_statement(conn, "vacuum", "VACUUM (ANALYZE)", options.dry_run)]
        steps.append(ensure_partitions(conn, options.months_ahead, options.dry_run))
        steps.append(unused_indexes(conn))
    steps += apply_retention(
        target,
        options.retention,
        MONTHLY_RETENTION,
        options.archive_dir,
        dry_run=options.dry_run,
        now=options.now,
        lock_timeout=options.lock_timeout,
    )
    return steps


def report(target: Target, options: Options) -> list[Step]:
    """Read only: partitions, default partitions, what retention would drop, sizes, unused
    indexes, slow queries, idle transactions, vacuum and analyze ages, pg_cron."""
    with connect(target, autocommit=True) as conn:
        steps = [partitions_step(conn), watch_default_partitions(conn)]
        plan = retention_plan(conn, options.retention, HISTORY_TABLES, options.now)
        going = [d for d in plan if d.drop]
        message = (
            "retention would drop "
            + ", ".join(f"{d.partition.name} ({d.rows} rows)" for d in going)
            if going
            else "retention has nothing to drop"
        )
        steps.append(
            Step("retention-plan", "info", message, {"partitions": [d.as_json() for d in plan]})
        )
        steps.append(sizes(conn, options.top))
        steps.append(unused_indexes(conn))
        steps.append(slow_queries(conn, options.slow_queries))
        steps.append(idle_in_transaction(conn, options.idle_seconds))
        steps.append(table_activity(conn, options.top))
        steps.append(pg_cron_step(conn))
    return steps


def partitions_step(conn: psycopg.Connection[Any]) -> Step:
    """The partitions of the history tables, with their ranges and sizes."""
    found = history_partitions(conn)
    lines = [f"{p.describe()} ~{p.estimated_rows} rows, {_mb(p.bytes)}" for p in found]
    return Step(
        "partitions",
        "info",
        f"{len(found)} partition(s): " + "; ".join(lines),
        {"partitions": [p.as_json() for p in found]},
    )


def _refresh(conn: psycopg.Connection[Any], dry_run: bool) -> Step:
    if dry_run:
        return Step(
            "refresh-views",
            "would",
            "would refresh the materialized views (refresh_analytics_views())",
        )
    sql_files().maintenance.refresh_views(conn)
    return Step(
        "refresh-views", "done", "refreshed the materialized views (refresh_analytics_views())"
    )


def refresh_item_statistics(conn: psycopg.Connection[Any], dry_run: bool) -> Step:
    """Rebuild the item statistics (facility, discrimination, option rates, flags) from every
    graded answer of submitted attempts, and say how long it took."""
    if dry_run:
        return Step(
            "item-statistics",
            "would",
            "would rebuild the item statistics (refresh_item_statistics())",
        )
    started = time.perf_counter()
    found = sql_files().maintenance.refresh_item_statistics(conn)
    seconds = time.perf_counter() - started
    questions, answers, flagged = found if found else (0, 0, 0)
    return Step(
        "item-statistics",
        "done",
        f"rebuilt the item statistics of {questions} question(s) from {answers} answer(s) in "
        f"{seconds:.2f} s; {flagged} flagged for instructors",
        {"questions": questions, "answers": answers, "flagged": flagged, "seconds": seconds},
    )


def _run_statement(conn: psycopg.Connection[Any], step: str, statement: str, dry_run: bool) -> Step:
    if dry_run:
        return Step(step, "would", f"would run {statement} on every table")
    query = (
        sql_files().maintenance.analyze
        if step == "analyze"
        else sql_files().maintenance.vacuum_analyze
    )
    query(conn)
    return Step(step, "done", f"ran {statement} on every table")


ENABLE_STATEMENTS = (
    "pg_stat_statements is not available here. To enable it: add pg_stat_statements to "
    "shared_preload_libraries in postgresql.conf (ALTER SYSTEM SET shared_preload_libraries = "
    "'pg_stat_statements'), restart the server, then CREATE EXTENSION pg_stat_statements; in "
    "this database (as a superuser)."
)


def slow_queries(conn: psycopg.Connection[Any], limit: int) -> Step:
    """The spec's slow-query check, or how to enable pg_stat_statements when it is not loaded."""
    q = sql_files().maintenance
    installed, preloaded = q.statements_extension(conn)
    if not (installed and preloaded):
        missing = "not loaded by the server" if not preloaded else "not installed in this database"
        return Step(
            "slow-queries",
            "skipped",
            f"pg_stat_statements is {missing}. {ENABLE_STATEMENTS}",
            {"installed": installed, "preloaded": preloaded},
        )
    rows = [
        {
            "query": r[0],
            "calls": r[1],
            "mean_ms": float(r[2]),
            "total_ms": float(r[3]),
            "rows": r[4],
        }
        for r in q.slow_queries(conn, limit=limit)
    ]
    top = "; ".join(f"{r['mean_ms']} ms x{r['calls']}: {r['query'][:60]}" for r in rows[:3])
    return Step(
        "slow-queries",
        "info",
        f"{len(rows)} slowest statement(s) by mean time: {top}",
        {"queries": rows},
    )


def unused_indexes(conn: psycopg.Connection[Any]) -> Step:
    """Indexes never scanned since the statistics were reset (not primary or unique)."""
    q = sql_files().maintenance
    since = q.stats_since(conn)
    rows = [
        {"index": r[0], "table": r[1], "pieces": r[2], "bytes": r[3]}
        for r in q.unused_indexes(conn)
    ]
    window = f"since {_iso(since)}" if since else "since the statistics began"
    names = ", ".join(f"{r['index']} ({_mb(r['bytes'])})" for r in rows[:10])
    message = f"{len(rows)} index(es) never scanned {window}" + (f": {names}" if rows else "")
    return Step("unused-indexes", "info", message, {"indexes": rows, "stats_since": _iso(since)})


def sizes(conn: psycopg.Connection[Any], limit: int) -> Step:
    """The largest tables (with their partitions) and indexes."""
    q = sql_files().maintenance
    tables = [
        {
            "name": r[0],
            "kind": r[1],
            "table_bytes": r[2],
            "index_bytes": r[3],
            "total_bytes": r[4],
            "estimated_rows": r[5],
        }
        for r in q.table_sizes(conn, limit=limit)
    ]
    indexes = [
        {"name": r[0], "table": r[1], "bytes": r[2]} for r in q.index_sizes(conn, limit=limit)
    ]
    top = ", ".join(f"{t['name']} {_mb(t['total_bytes'])}" for t in tables[:5])
    return Step("sizes", "info", f"largest tables: {top}", {"tables": tables, "indexes": indexes})


def idle_in_transaction(conn: psycopg.Connection[Any], seconds: int) -> Step:
    """Sessions idle in a transaction for longer than `seconds`."""
    rows = [
        {
            "pid": r[0],
            "role": r[1],
            "application": r[2],
            "state": r[3],
            "idle_seconds": r[4],
            "transaction_seconds": r[5],
            "last_query": r[6],
        }
        for r in sql_files().maintenance.idle_in_transaction(conn, seconds=seconds)
    ]
    if not rows:
        return Step(
            "idle-in-transaction",
            "ok",
            f"no session idle in a transaction for over {seconds} s",
            {"sessions": []},
        )
    who = ", ".join(
        f"pid {r['pid']} ({r['role']}, {r['application']}, {r['idle_seconds']} s)" for r in rows
    )
    return Step(
        "idle-in-transaction",
        "warning",
        f"{len(rows)} session(s) idle in a transaction for over {seconds} s (they hold locks and "
        f"hold back VACUUM): {who}",
        {"sessions": rows},
    )


def table_activity(conn: psycopg.Connection[Any], limit: int) -> Step:
    """Dead rows and the last vacuum and analyze of the tables with the most dead rows."""
    rows = [
        {
            "table": r[0],
            "live_rows": r[1],
            "dead_rows": r[2],
            "last_vacuum": _iso(r[3]),
            "last_analyze": _iso(r[4]),
        }
        for r in sql_files().maintenance.table_activity(conn)
    ][:limit]
    top = ", ".join(f"{r['table']} {r['dead_rows']} dead" for r in rows[:3])
    return Step(
        "vacuum-analyze-ages",
        "info",
        f"most dead rows: {top}" if rows else "no table statistics yet",
        {"tables": rows},
    )


def pg_cron_step(conn: psycopg.Connection[Any]) -> Step:
    """Whether pg_cron could schedule the partitions ahead on this server."""
    if sql_files().maintenance.pg_cron_installed(conn):
        return Step(
            "pg-cron",
            "info",
            "pg_cron is installed: the partitions ahead can be scheduled in the database, e.g. "
            "SELECT cron.schedule('netplus-partitions', '0 3 * * *', "
            "'SELECT create_history_partitions(3)'); retention writes archive files and runs "
            "from `netplus-db maintain weekly|monthly --yes` (cron, systemd timer)",
            {"installed": True},
        )
    return Step(
        "pg-cron",
        "info",
        "pg_cron is not installed on this server: schedule `netplus-db maintain daily`, "
        "`weekly --yes` and `monthly --yes` with cron or a systemd timer",
        {"installed": False},
    )


# --- helpers ------------------------------------------------------------------------------------


def _compose(template: str, **parts: str | sql.Composable) -> sql.Composed:
    values = {
        key: sql.Identifier("public", value)
        if isinstance(value, str) and key in ("table", "parent", "partition")
        else value
        for key, value in parts.items()
    }
    return sql.SQL(template).format(**values)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _parse(value: Any) -> datetime | None:
    return None if value in (None, "") else datetime.fromisoformat(str(value))


def _mb(size: int | None) -> str:
    return f"{(size or 0) / 1048576:.1f} MB"


def summary(steps: list[Step]) -> dict[str, Any]:
    """Counts of the steps by status, and the partitions dropped."""
    counts: dict[str, int] = {}
    for s in steps:
        counts[s.status] = counts.get(s.status, 0) + 1
    dropped = [
        s.details.get("partition") for s in steps if s.step == "retention" and s.status == "done"
    ]
    return {"steps": counts, "dropped": dropped}


def lines(steps: list[Step]) -> Iterator[str]:
    """The human summary: one line per step."""
    for s in steps:
        yield f"{s.status:>8}  {s.step}: {s.message}"
