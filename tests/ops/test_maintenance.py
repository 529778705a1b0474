"""`netplus-db maintain`: partitions ahead, the default partitions watched, retention by whole
partitions (detach, archive, verify, drop; never a row newer than the cutoff), archives loaded
back, and the daily/weekly/monthly/report routine on an empty and a populated database."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.ops import maintenance as m
from netplus_db.ops.scale import load_scale
from tests.ops.test_cli import run
from tests.support import factories as f

Conn = psycopg.Connection[Any]
LOGS = "user_activity_logs"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def monthly(db: Target) -> Iterator[Conn]:
    """The test's database with user_activity_logs split into the months of 2026 (January to
    June) instead of the "before" partition, and one user."""
    with connect(db, autocommit=True) as conn:
        conn.execute(f"ALTER TABLE {LOGS} DETACH PARTITION {LOGS}_before")
        conn.execute(f"DROP TABLE {LOGS}_before")
        for month in range(1, 7):
            start, end = utc(2026, month, 1), utc(2026, month + 1, 1)
            conn.execute(
                f"CREATE TABLE {LOGS}_p2026_{month:02d} PARTITION OF {LOGS}"
                " FOR VALUES FROM (%s) TO (%s)".replace("%s", "'{}'").format(start, end)
            )
        yield conn


def log_at(conn: Conn, moment: datetime | str, activity: str = "login") -> None:
    conn.execute(
        f"INSERT INTO {LOGS} (activity_type, created_at) VALUES (%s, %s)", [activity, moment]
    )


def partition_of(conn: Conn, moment: datetime) -> str:
    row = conn.execute(
        f"SELECT tableoid::regclass::text FROM {LOGS} WHERE created_at = %s", [moment]
    ).fetchone()
    assert row is not None
    return str(row[0])


def decisions(conn: Conn, now: datetime, days: int = 90) -> dict[str, bool]:
    plan = m.retention_plan(conn, m.Retention(activity_days=days), (LOGS,), now)
    return {d.partition.name: d.drop for d in plan}


# --- partitions ahead and the default partition -----------------------------------------------


def test_the_migration_leaves_this_month_and_three_ahead(conn: Conn) -> None:
    now = m.database_now(conn)
    names = {p.name for p in m.history_partitions(conn)}
    for table in m.HISTORY_TABLES:
        assert {f"{table}_before", f"{table}_default"} <= names
        for i in range(1, 4):
            start = m.month_start(now, i)
            covered = any(
                m._covers(p, start, m.month_start(now, i + 1))
                for p in m.history_partitions(conn)
                if p.table == table
            )
            assert covered, f"{table}: no partition for {start:%Y-%m}"


def test_partitions_ahead_dry_run_then_for_real(conn: Conn) -> None:
    before = {p.name for p in m.history_partitions(conn)}
    dry = m.ensure_partitions(conn, 6, dry_run=True)
    assert dry.status == "would" and len(dry.details["missing"]) == 6  # 3 more months, 2 tables
    assert {p.name for p in m.history_partitions(conn)} == before
    done = m.ensure_partitions(conn, 6, dry_run=False)
    assert sorted(done.details["created"]) == sorted(dry.details["missing"])
    again = m.ensure_partitions(conn, 6, dry_run=False)
    assert again.status == "ok" and again.details["created"] == []


def test_a_default_partition_with_rows_is_reported_and_blocks_its_month(conn: Conn) -> None:
    assert m.watch_default_partitions(conn).status == "ok"
    far = m.month_start(m.database_now(conn), 5) + timedelta(days=3)
    log_at(conn, far)
    assert partition_of(conn, far) == f"{LOGS}_default"
    watch = m.watch_default_partitions(conn)
    assert watch.status == "warning" and f"{LOGS}_default" in watch.details["default_partitions"]
    assert watch.details["default_partitions"][f"{LOGS}_default"]["rows"] == 1
    step = m.ensure_partitions(conn, 5, dry_run=False)
    assert step.status == "warning" and step.details["blocked"] == [f"{LOGS}_p{far:%Y_%m}"]
    assert f"learning_sessions_p{far:%Y_%m}" in step.details["created"]
    with pytest.raises(psycopg.errors.UndefinedFunction):
        conn.execute("SELECT create_history_partitions(NULL::bigint)")
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        conn.execute("SELECT * FROM create_history_partitions(-1)")


# --- retention: what goes and what stays --------------------------------------------------------


def test_a_month_goes_only_when_its_whole_range_is_older_than_the_cutoff(monthly: Conn) -> None:
    # February's partition ends at 2026-03-01 00:00 UTC: 90 days later it may go, not a
    # microsecond earlier.
    edge = utc(2026, 3, 1) + timedelta(days=90)
    assert decisions(monthly, edge)[f"{LOGS}_p2026_02"] is True
    assert decisions(monthly, edge - timedelta(microseconds=1))[f"{LOGS}_p2026_02"] is False
    assert decisions(monthly, edge)[f"{LOGS}_p2026_03"] is False
    assert decisions(monthly, edge)[f"{LOGS}_default"] is False


def test_month_edges_are_utc_whatever_the_session_time_zone(monthly: Conn) -> None:
    monthly.execute("SET TimeZone = 'America/New_York'")
    log_at(monthly, "2026-02-28 23:30:00")  # New York: 2026-03-01 04:30 UTC
    log_at(monthly, "2026-03-01 00:30:00+14")  # Kiritimati: 2026-02-28 10:30 UTC
    assert partition_of(monthly, utc(2026, 3, 1, 4, 30)) == f"{LOGS}_p2026_03"
    assert partition_of(monthly, utc(2026, 2, 28, 10, 30)) == f"{LOGS}_p2026_02"
    now = utc(2026, 3, 1) + timedelta(days=90)
    plan = m.retention_plan(monthly, m.Retention(activity_days=90), (LOGS,), now)
    by_name = {d.partition.name: d for d in plan}
    assert by_name[f"{LOGS}_p2026_02"].drop and by_name[f"{LOGS}_p2026_02"].rows == 1
    assert not by_name[f"{LOGS}_p2026_03"].drop
    assert by_name[f"{LOGS}_p2026_02"].cutoff == utc(2026, 3, 1)


def test_the_before_partition_stays_while_it_holds_recent_rows(conn: Conn) -> None:
    now = m.database_now(conn)
    log_at(conn, now - timedelta(days=400))
    log_at(conn, now - timedelta(days=1))
    kept = decisions(conn, now)
    assert kept[f"{LOGS}_before"] is False  # its range reaches past the cutoff


def test_retention_detaches_archives_verifies_and_drops(
    monthly: Conn, db: Target, tmp_path: Path
) -> None:
    for day in (1, 15, 28):
        log_at(monthly, utc(2026, 1, day, 12), "old")
    log_at(monthly, utc(2026, 2, 27, 23, 59, 59), "kept")
    log_at(monthly, utc(2026, 4, 2), "recent")
    now = utc(2026, 5, 2)  # cutoff 2026-02-01: January goes, February stays
    dry = m.apply_retention(db, m.Retention(), (LOGS,), tmp_path, dry_run=True, now=now)
    assert [s.status for s in dry if s.status == "would"] == ["would"]
    assert list(tmp_path.iterdir()) == []
    steps = m.apply_retention(db, m.Retention(), (LOGS,), tmp_path, dry_run=False, now=now)
    done = [s for s in steps if s.status == "done"]
    assert len(done) == 1 and done[0].details["detach"] == "DETACH"  # a default partition exists
    assert f.scalar(monthly, "SELECT to_regclass('user_activity_logs_p2026_01')") is None
    remaining = f.scalar(
        monthly, f"SELECT array_agg(activity_type ORDER BY created_at) FROM {LOGS}"
    )
    assert remaining == ["kept", "recent"]
    manifest = tmp_path / f"{LOGS}_p2026_01{m.MANIFEST_SUFFIX}"
    doc = json.loads(manifest.read_text())
    assert doc["rows"] == 3 and doc["range_to"] == "2026-02-01T00:00:00+00:00"
    assert m.verify_archive(manifest).rows == 3
    # Loaded back: the month's partition comes back and holds the same rows.
    loaded = m.load_archive(db, manifest)
    assert loaded == {
        "table": LOGS,
        "rows": 3,
        "created_partition": f"{LOGS}_p2026_01",
        "checksum_matches": True,
    }
    assert f.scalar(monthly, f"SELECT count(*) FROM {LOGS} WHERE activity_type = 'old'") == 3


@pytest.mark.slow  # runs netplus-db as a subprocess
def test_the_cli_names_what_retention_drops_and_refuses_without_a_terminal(
    monthly: Conn, db: Target, tmp_path: Path
) -> None:
    log_at(monthly, utc(2026, 1, 5))
    args = ("maintain", "monthly", "--dsn", db.conninfo, "--archive-dir", str(tmp_path / "a"))
    refused = run(*args)  # stdin is a pipe, as under cron
    assert refused.returncode == 2, refused.stderr
    assert f"{LOGS}_p2026_01 (1 rows)" in refused.stderr and "--yes" in refused.stderr
    assert f.scalar(monthly, f"SELECT to_regclass('{LOGS}_p2026_01')::text") == f"{LOGS}_p2026_01"
    assert not (tmp_path / "a").exists()  # nothing archived, nothing detached
    dry = run(*args, "--dry-run")
    assert dry.returncode == 0 and f"{LOGS}_p2026_01" in dry.stdout
    done = run(*args, "--yes")
    assert done.returncode == 0, done.stderr
    assert f.scalar(monthly, f"SELECT to_regclass('{LOGS}_p2026_01')") is None
    assert (tmp_path / "a" / f"{LOGS}_p2026_01{m.MANIFEST_SUFFIX}").exists()


def test_without_a_default_partition_the_detach_is_concurrent(
    monthly: Conn, db: Target, tmp_path: Path
) -> None:
    monthly.execute(f"ALTER TABLE {LOGS} DETACH PARTITION {LOGS}_default")
    monthly.execute(f"DROP TABLE {LOGS}_default")
    log_at(monthly, utc(2026, 1, 5))
    steps = m.apply_retention(
        db, m.Retention(), (LOGS,), tmp_path, dry_run=False, now=utc(2026, 5, 2)
    )
    assert [s.details.get("detach") for s in steps if s.status == "done"] == ["DETACH CONCURRENTLY"]


def test_an_archive_that_exists_already_stops_the_drop(
    monthly: Conn, db: Target, tmp_path: Path
) -> None:
    log_at(monthly, utc(2026, 1, 5))
    (tmp_path / f"{LOGS}_p2026_01{m.DATA_SUFFIX}").write_bytes(b"someone else's")
    steps = m.apply_retention(
        db, m.Retention(), (LOGS,), tmp_path, dry_run=False, now=utc(2026, 5, 2)
    )
    failed = [s for s in steps if s.status == "failed"]
    assert len(failed) == 1 and "exists already" in failed[0].message
    # Attached again, every row still there.
    assert partition_of(monthly, utc(2026, 1, 5)) == f"{LOGS}_p2026_01"


def test_a_damaged_archive_is_refused(monthly: Conn, db: Target, tmp_path: Path) -> None:
    log_at(monthly, utc(2026, 1, 5))
    log_at(monthly, utc(2026, 1, 6))
    m.apply_retention(db, m.Retention(), (LOGS,), tmp_path, dry_run=False, now=utc(2026, 5, 2))
    manifest = tmp_path / f"{LOGS}_p2026_01{m.MANIFEST_SUFFIX}"
    data = tmp_path / f"{LOGS}_p2026_01{m.DATA_SUFFIX}"
    text = gzip.decompress(data.read_bytes())
    data.write_bytes(gzip.compress(text[: len(text) // 2]))
    with pytest.raises(m.ArchiveError, match="sha256"):
        m.verify_archive(manifest)
    with pytest.raises(m.ArchiveError, match="sha256"):
        m.load_archive(db, manifest)
    data.write_bytes(gzip.compress(text))
    doc = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**doc, "rows": 3}))
    with pytest.raises(m.ArchiveError, match="2 row"):
        m.verify_archive(manifest)
    manifest.write_text("{not json")
    with pytest.raises(m.ArchiveError, match="not a readable manifest"):
        m.verify_archive(manifest)


# --- pruning on the hot paths -------------------------------------------------------------------


def plan_text(conn: Conn, query: str, params: list[Any]) -> str:
    rows = conn.execute("EXPLAIN (COSTS OFF) " + query, params).fetchall()
    return "\n".join(r[0] for r in rows)


def test_time_bounded_queries_read_only_their_months(monthly: Conn) -> None:
    text = plan_text(
        monthly,
        f"SELECT count(*) FROM {LOGS} WHERE created_at >= %s AND created_at < %s",
        [utc(2026, 3, 2), utc(2026, 3, 9)],
    )
    assert f"{LOGS}_p2026_03" in text
    assert f"{LOGS}_p2026_02" not in text and f"{LOGS}_default" not in text
    # Bounds known only at execution (now(), a generic plan) are pruned when the plan starts.
    monthly.execute("SET plan_cache_mode = force_generic_plan")
    monthly.execute(
        f"PREPARE recent(timestamptz) AS SELECT count(*) FROM {LOGS} WHERE created_at >= $1"
    )
    rows = monthly.execute(
        "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE recent('2026-06-02')"
    ).fetchall()
    assert "Subplans Removed" in "\n".join(r[0] for r in rows)


# --- the routine --------------------------------------------------------------------------------


def options(tmp_path: Path, **kw: Any) -> m.Options:
    return m.Options(archive_dir=tmp_path / "archives", **kw)


@pytest.mark.parametrize("routine", [m.daily, m.weekly, m.monthly, m.report])
def test_every_routine_on_an_empty_database(db: Target, tmp_path: Path, routine: Any) -> None:
    with connect(db) as conn:
        partitions = len(m.history_partitions(conn))
    dry = routine(db, options(tmp_path, dry_run=True))
    assert dry and not [s for s in dry if s.status in ("failed", "done")]
    with connect(db) as conn:
        assert len(m.history_partitions(conn)) == partitions
    real = routine(db, options(tmp_path))
    assert not [s for s in real if s.status == "failed"], real
    assert not (tmp_path / "archives").exists()  # nothing old enough to archive
    assert {s.step for s in real} <= {
        "partitions", "refresh-views", "item-statistics", "default-partitions", "slow-queries",
        "idle-in-transaction", "analyze", "vacuum", "retention", "unused-indexes",
        "retention-plan", "sizes", "vacuum-analyze-ages", "pg-cron",
    }  # fmt: skip


@pytest.mark.slow
def test_the_routine_on_a_populated_database(server: Any, template: str, tmp_path: Path) -> None:
    from netplus_db.connection import create_database, drop_database
    from netplus_db.ops.seed import seed_database
    from tests.support.server import fresh_name

    target = server.database(fresh_name("maintain"))
    create_database(target, template=template)
    try:
        seed_database(target, report=lambda _: None)
        with open(os.devnull, "w") as quiet:
            load_scale(target, thousands=0, users=200, report=lambda _: None, progress=quiet)
        report = m.report(target, options(tmp_path))
        sizes = next(s for s in report if s.step == "sizes")
        names = [t["name"] for t in sizes.details["tables"]]
        assert "learning_sessions" in names and "user_activity_logs" in names
        sessions = next(t for t in sizes.details["tables"] if t["name"] == "learning_sessions")
        assert sessions["kind"] == "partitioned table" and sessions["estimated_rows"] > 0
        for routine in (m.daily, m.weekly, m.monthly):
            steps = routine(target, options(tmp_path))
            assert not [s for s in steps if s.status == "failed"], steps
            if routine is m.daily:  # the item statistics of the scale's answers (0019)
                items = next(s for s in steps if s.step == "item-statistics")
                assert items.details["answers"] > 0 and items.details["questions"] > 0
        # The scale history (800 days up to its anchor) is all in the "before" partitions,
        # whose range reaches this month: nothing may go yet, and nothing went.
        with connect(target) as conn:
            assert f.scalar(conn, "SELECT count(*) FROM learning_sessions") > 0
    finally:
        drop_database(target)
