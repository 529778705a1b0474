"""The migration runner on a real server: transactions, ledger, validation, locking, crashes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from netplus_db.config import Target
from netplus_db.connection import connect, database_exists
from netplus_db.errors import (
    ChecksumMismatch,
    MigrationFailed,
    MigrationLockTimeout,
    MigrationSetError,
    MissingMigrationFile,
    OutOfOrderMigration,
    UnknownVersion,
)
from netplus_db.migrate import migrator as migrator_module
from netplus_db.migrate.migrator import LOCK_KEY, Migrator, State
from netplus_db.sql import sql_files
from tests.support.server import Server, fresh_name

ONE = "-- migrate:up\nCREATE TABLE one (id int PRIMARY KEY);\n-- migrate:down\nDROP TABLE one;\n"
TWO = (
    "-- migrate:up\n"
    "CREATE TABLE two (id int PRIMARY KEY, one_id int REFERENCES one);\n"
    "INSERT INTO two VALUES (1, NULL);\n"
    "-- migrate:down\n"
    "DROP TABLE two;\n"
)
THREE = (
    "-- migrate:up\nALTER TABLE one ADD COLUMN note text;\n"
    "-- migrate:down\nALTER TABLE one DROP COLUMN note;\n"
)


def write_set(directory: Path, **files: str) -> Path:
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / f"{name}.sql").write_text(text)
    return directory


def tables(target: Target) -> list[str]:
    with connect(target) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
    return [r[0] for r in rows]


def ledger(target: Target) -> list[tuple[Any, ...]]:
    with connect(target) as conn:
        return conn.execute(
            "SELECT version, name, checksum, applied_by, duration_ms, down_sql"
            " FROM netplus.schema_migrations ORDER BY version"
        ).fetchall()


@pytest.fixture
def three(tmp_path: Path) -> Path:
    return write_set(tmp_path / "m", **{"0001_one": ONE, "0002_two": TWO, "0003_three": THREE})


def test_up_applies_in_order_and_records_each_migration(empty_db: Target, three: Path) -> None:
    messages: list[str] = []
    steps = Migrator(empty_db, three, report=messages.append).up()
    assert [s.version for s in steps] == [1, 2, 3]
    assert tables(empty_db) == ["one", "two"]
    rows = ledger(empty_db)
    assert [(r[0], r[1]) for r in rows] == [(1, "one"), (2, "two"), (3, "three")]
    assert all(len(r[2]) == 64 and r[3].startswith("postgres") and r[4] >= 0 for r in rows)
    assert rows[1][5] == "DROP TABLE two;\n"
    assert messages[0] == "[1/3] applying 0001_one…"
    assert messages[1].startswith("applied 0001_one (")
    assert Migrator(empty_db, three).up() == []


def test_up_creates_a_missing_database(server: Server, three: Path) -> None:
    target = server.database(fresh_name("created"))
    assert not database_exists(target)
    Migrator(target, three).up()
    assert tables(target) == ["one", "two"]


def test_up_to_stops_at_the_version_and_rejects_unknown_ones(empty_db: Target, three: Path) -> None:
    Migrator(empty_db, three).up(to=1)
    assert tables(empty_db) == ["one"]
    with pytest.raises(UnknownVersion, match="--to 9"):
        Migrator(empty_db, three).up(to=9)


def test_dry_run_changes_nothing(server: Server, three: Path) -> None:
    target = server.database(fresh_name("dry"))
    reported: list[str] = []
    steps = Migrator(target, three, report=reported.append).up(dry_run=True)
    assert [s.version for s in steps] == [1, 2, 3]
    assert reported == ["would apply 0001_one", "would apply 0002_two", "would apply 0003_three"]
    assert not database_exists(target)


def test_down_rolls_back_one_step_by_default_then_to_a_version_then_all(
    empty_db: Target, three: Path
) -> None:
    migrator = Migrator(empty_db, three)
    migrator.up()
    assert [s.version for s in migrator.down()] == [3]
    assert [r[0] for r in ledger(empty_db)] == [1, 2]
    migrator.up()
    assert [s.version for s in migrator.down(to=1)] == [3, 2]
    assert tables(empty_db) == ["one"]
    assert [s.version for s in migrator.down(to=0)] == [1]
    assert tables(empty_db) == [] and ledger(empty_db) == []
    assert migrator.down() == []


def test_down_steps_and_dry_run(empty_db: Target, three: Path) -> None:
    migrator = Migrator(empty_db, three)
    migrator.up()
    assert [s.version for s in migrator.down(steps=2, dry_run=True)] == [3, 2]
    assert len(ledger(empty_db)) == 3
    assert [s.version for s in migrator.down(steps=2)] == [3, 2]
    with pytest.raises(UnknownVersion):
        migrator.down(to=3)


def test_down_uses_the_sql_recorded_when_applied(empty_db: Target, three: Path) -> None:
    """The ledger keeps the down SQL; an applied file cannot change without failing validation."""
    Migrator(empty_db, three).up()
    with connect(empty_db, autocommit=True) as conn:
        conn.execute(
            "UPDATE netplus.schema_migrations SET down_sql = %s WHERE version = 3",
            ["ALTER TABLE one DROP COLUMN note; CREATE TABLE marker (x int);"],
        )
    Migrator(empty_db, three).down()
    assert "marker" in tables(empty_db)


def test_a_failing_migration_leaves_no_trace_and_names_file_and_line(
    empty_db: Target, tmp_path: Path
) -> None:
    bad = (
        "-- migrate:up\nCREATE TABLE half (id int);\n\nSELECT missing_column FROM half;\n"
        "-- migrate:down\nDROP TABLE half;\n"
    )
    migrations = write_set(
        tmp_path / "m", **{"0001_one": ONE, "0002_bad": bad, "0003_three": THREE}
    )
    with pytest.raises(MigrationFailed) as caught:
        Migrator(empty_db, migrations).up()
    assert str(caught.value).startswith(f"{migrations / '0002_bad.sql'}:4: ")
    assert "missing_column" in str(caught.value) and caught.value.sqlstate == "42703"
    assert tables(empty_db) == ["one"]
    assert [r[0] for r in ledger(empty_db)] == [1]


def test_a_runtime_error_names_the_statement_line(empty_db: Target, tmp_path: Path) -> None:
    bad = "-- migrate:up\nSELECT 1;\n\n\nSELECT 1 / 0;\n-- migrate:down\n"
    migrations = write_set(tmp_path / "m", **{"0001_zero": bad})
    with pytest.raises(MigrationFailed, match=r"0001_zero.sql:5: division by zero"):
        Migrator(empty_db, migrations).up()


def test_an_edited_applied_migration_stops_validate_and_up(empty_db: Target, three: Path) -> None:
    Migrator(empty_db, three).up(to=2)
    path = three / "0002_two.sql"
    path.write_text(TWO.replace("(1, NULL)", "(2, NULL)"))
    problems = Migrator(empty_db, three).problems()
    assert len(problems) == 1 and isinstance(problems[0], ChecksumMismatch)
    assert f"{path}:3: edited after it was applied" in str(problems[0])
    with pytest.raises(ChecksumMismatch):
        Migrator(empty_db, three).up()
    assert [r[0] for r in ledger(empty_db)] == [1, 2]
    statuses = {s.version: s.state for s in Migrator(empty_db, three).status()}
    assert statuses == {1: State.APPLIED, 2: State.EDITED, 3: State.PENDING}


def test_a_deleted_applied_migration_stops_up(empty_db: Target, three: Path) -> None:
    Migrator(empty_db, three).up(to=2)
    (three / "0002_two.sql").unlink()
    gone = re.escape(
        f"the migrations on disk disagree with the database:\n  {three / '0002_two.sql'}:1: "
        "migration 2 (two) is applied but its file is gone; restore it from version control"
    )
    with pytest.raises(MissingMigrationFile, match=f"^{gone}$"):
        Migrator(empty_db, three).up()
    assert Migrator(empty_db, three).status()[1].state is State.MISSING_FILE


def test_an_out_of_order_migration_is_refused_unless_allowed(
    empty_db: Target, tmp_path: Path
) -> None:
    migrations = write_set(tmp_path / "m", **{"0001_one": ONE, "0003_three": THREE})
    Migrator(empty_db, migrations).up()
    write_set(migrations, **{"0002_two": TWO})
    late = re.escape(
        f"{migrations / '0002_two.sql'}:1: version 2 is not applied but 3 is; renumber it "
        "after the newest, or pass --allow-out-of-order"
    )
    with pytest.raises(OutOfOrderMigration, match=f"{late}$"):
        Migrator(empty_db, migrations).up()
    assert "two" not in tables(empty_db)
    Migrator(empty_db, migrations, allow_out_of_order=True).up()
    assert "two" in tables(empty_db)


def test_one_malformed_file_means_nothing_is_applied(empty_db: Target, tmp_path: Path) -> None:
    migrations = write_set(
        tmp_path / "m", **{"0001_one": ONE, "0002_broken": "-- migrate:up\nSELECT 1;\n"}
    )
    with pytest.raises(MigrationSetError, match=r"0002_broken\.sql:2: no `-- migrate:down`"):
        Migrator(empty_db, migrations).up()
    assert tables(empty_db) == []


def test_transaction_false_runs_create_index_concurrently(empty_db: Target, tmp_path: Path) -> None:
    concurrent = (
        "-- migrate:up transaction:false\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_one_id ON one (id);\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_one_id2 ON one ((id + 1));\n"
        "-- migrate:down transaction:false\n"
        "DROP INDEX CONCURRENTLY IF EXISTS idx_one_id2;\n"
        "DROP INDEX CONCURRENTLY IF EXISTS idx_one_id;\n"
    )
    migrations = write_set(tmp_path / "m", **{"0001_one": ONE, "0002_concurrent": concurrent})
    Migrator(empty_db, migrations).up()
    with connect(empty_db) as conn:
        names = {
            r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'one'")
        }
    assert {"idx_one_id", "idx_one_id2"} <= names
    Migrator(empty_db, migrations).down()
    assert [r[0] for r in ledger(empty_db)] == [1]


def test_a_second_runner_waits_for_the_lock_then_gives_up(empty_db: Target, three: Path) -> None:
    with connect(empty_db, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        said: list[str] = []
        started = time.monotonic()
        with pytest.raises(MigrationLockTimeout, match="nothing was applied"):
            Migrator(empty_db, three, lock_wait_seconds=0.3, report=said.append).up()
        assert time.monotonic() - started >= 0.3
        # said once (not at every retry), naming who holds the lock
        [waiting] = said
        pid = holder.info.backend_pid
        holding = rf"pid {pid} from no application name at (local|[0-9a-f.:/]+)"
        assert re.fullmatch(rf"waiting for another migration runner \({holding}\)", waiting)
    assert tables(empty_db) == []


class FakeClock:
    """The migrator's `time` on a clock that moves only when the migrator sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(("wait", "sleeps"), [(0, []), (0.25, [0.1, 0.1, 0.1])])
def test_the_lock_is_polled_every_tenth_of_a_second_until_the_wait_is_over(
    empty_db: Target, three: Path, monkeypatch: pytest.MonkeyPatch, wait: float, sleeps: list[float]
) -> None:
    """A runner told to wait 0 s gives up at once, without sleeping; a longer wait polls
    every 0.1 s and gives up at the first poll past it."""
    clock = FakeClock()
    monkeypatch.setattr(migrator_module, "time", clock)
    with connect(empty_db, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        with pytest.raises(MigrationLockTimeout, match=rf"for more than {wait:g}s; nothing"):
            Migrator(empty_db, three, lock_wait_seconds=wait).up()
    assert clock.sleeps == sleeps


def test_the_wait_names_every_holder_of_the_lock(empty_db: Target, three: Path) -> None:
    """Two sessions holding the lock shared (by hand) are both named, in one line."""
    said: list[str] = []
    with connect(empty_db, autocommit=True) as a, connect(empty_db, autocommit=True) as b:
        for holder in (a, b):
            holder.execute("SELECT pg_advisory_lock_shared(%s)", [LOCK_KEY])
        with pytest.raises(MigrationLockTimeout):
            Migrator(empty_db, three, lock_wait_seconds=0, report=said.append).up()
        pids = sorted([a.info.backend_pid, b.info.backend_pid])
    [waiting] = said
    named = re.fullmatch(
        r"waiting for another migration runner \(pid (\d+) from [^,]+, pid (\d+) from [^,]+\)",
        waiting,
    )
    assert named, waiting
    assert sorted(int(pid) for pid in named.groups()) == pids


def test_a_holder_gone_before_it_is_named_is_unknown_and_the_runner_goes_on(
    empty_db: Target, three: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The holder may release the lock between the runner's try and its look-up of who holds
    it: the wait is then said with an unknown holder, and the next poll takes the lock."""
    said: list[str] = []
    ledger_queries = sql_files().ledger
    lock_holders = ledger_queries.lock_holders
    with connect(empty_db, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])

        def released_then_asked(conn: psycopg.Connection[Any], **params: Any) -> Any:
            holder.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
            return lock_holders(conn, **params)

        monkeypatch.setattr(ledger_queries, "lock_holders", released_then_asked)
        steps = Migrator(empty_db, three, report=said.append).up()
    assert said[0] == "waiting for another migration runner (unknown)"
    assert [s.version for s in steps] == [1, 2, 3]


def test_ddl_does_not_queue_forever_behind_a_long_transaction(
    empty_db: Target, three: Path
) -> None:
    Migrator(empty_db, three).up(to=2)
    with connect(empty_db) as blocker:
        blocker.execute("SELECT * FROM one")  # holds ACCESS SHARE until the transaction ends
        with pytest.raises(MigrationFailed) as caught:
            Migrator(empty_db, three, ddl_lock_timeout="200ms").up()
        blocker.rollback()
    assert caught.value.sqlstate == "55P03"
    assert "0003_three.sql:2" in str(caught.value) and "waited 200ms" in str(caught.value)
    assert [r[0] for r in ledger(empty_db)] == [1, 2]


def _cli(
    target: Target, migrations: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "netplus_db",
            "--dsn",
            target.conninfo,
            "--migrations-dir",
            str(migrations),
            "migrate",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.slow
def test_four_runners_at_once_apply_each_migration_exactly_once(empty_db: Target) -> None:
    from tests.support.server import MIGRATIONS

    runners = [_cli(empty_db, MIGRATIONS, "up") for _ in range(4)]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in runners]
    assert [code for code, _ in results] == [0, 0, 0, 0], results
    rows = ledger(empty_db)
    versions = [r[0] for r in rows]
    assert versions == sorted(set(versions)) and len(versions) == len(
        list(MIGRATIONS.glob("*.sql"))
    )
    applied_lines = sum(len(re.findall(r"^applied \d{4}_", err, re.M)) for _, err in results)
    assert applied_lines == len(versions)


@pytest.mark.slow
def test_a_backend_killed_mid_migration_leaves_nothing_and_the_next_run_succeeds(
    empty_db: Target, tmp_path: Path
) -> None:
    slow = (
        "-- migrate:up\n"
        "CREATE TABLE two (id int);\n"
        "SELECT pg_sleep(coalesce(nullif(current_setting('netplus.test_sleep', true), ''),"
        " '0')::float);\n"
        "-- migrate:down\n"
        "DROP TABLE two;\n"
    )
    migrations = write_set(tmp_path / "m", **{"0001_one": ONE, "0002_slow": slow})
    runner = _cli(empty_db, migrations, "up", env={"PGOPTIONS": "-c netplus.test_sleep=60"})
    with connect(empty_db, autocommit=True) as watcher:
        pid = None
        deadline = time.monotonic() + 30
        while pid is None and time.monotonic() < deadline:
            row = watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%%'"
                " AND datname = current_database()"
            ).fetchone()
            pid = row[0] if row else None
            time.sleep(0.05)
        assert pid is not None, "the migration never reached its sleep"
        watcher.execute("SELECT pg_terminate_backend(%s)", [pid])
    code = runner.wait(timeout=30)
    err = runner.stderr.read() if runner.stderr else ""
    assert code == 1
    assert "0002_slow.sql:3" in err and "connection" in err.lower()
    assert tables(empty_db) == ["one"]
    assert [r[0] for r in ledger(empty_db)] == [1]
    Migrator(empty_db, migrations).up()
    assert tables(empty_db) == ["one", "two"]


def test_the_ledger_is_invisible_to_the_application_roles(db: Target) -> None:
    with connect(db) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SET ROLE app_user")
        conn.execute("SELECT count(*) FROM netplus.schema_migrations")


def test_a_marker_lock_timeout_beats_the_runners(empty_db: Target, tmp_path: Path) -> None:
    migrations = write_set(
        tmp_path / "m",
        **{
            "0001_one": ONE,
            "0002_note": "-- migrate:up lock_timeout:300ms\nALTER TABLE one ADD COLUMN note text;\n"
            "-- migrate:down\nALTER TABLE one DROP COLUMN note;\n",
        },
    )
    Migrator(empty_db, migrations).up(to=1)
    with connect(empty_db) as blocker:
        blocker.execute("SELECT * FROM one")
        started = time.monotonic()
        with pytest.raises(MigrationFailed) as caught:
            Migrator(empty_db, migrations, ddl_lock_timeout="1h").up()
        blocker.rollback()
    assert time.monotonic() - started < 30  # not the runner's hour
    assert caught.value.sqlstate == "55P03" and "waited 300ms" in str(caught.value)
    assert "lock_timeout: marker option" in str(caught.value)


def test_a_marker_statement_timeout_stops_a_long_statement(
    empty_db: Target, tmp_path: Path
) -> None:
    migrations = write_set(
        tmp_path / "m",
        **{
            "0001_slow": "-- migrate:up statement_timeout:200ms\n"
            "CREATE TABLE slow (id int);\nSELECT pg_sleep(5);\n-- migrate:down\nDROP TABLE slow;\n",
        },
    )
    with pytest.raises(MigrationFailed) as caught:
        Migrator(empty_db, migrations).up()
    assert caught.value.sqlstate == "57014"
    assert "0001_slow.sql:3" in str(caught.value) and "statement_timeout:200ms" in str(caught.value)
    assert tables(empty_db) == []


def test_history_records_every_apply_and_rollback(empty_db: Target, three: Path) -> None:
    migrator = Migrator(empty_db, three)
    migrator.up()
    migrator.down(steps=2)
    migrator.up()
    events = migrator.history()
    assert [(e.version, e.action) for e in events] == [
        (1, "up"),
        (2, "up"),
        (3, "up"),
        (3, "down"),
        (2, "down"),
        (2, "up"),
        (3, "up"),
    ]
    first = events[0]
    assert first.db_user == first.session_user == empty_db.user
    assert first.os_user and first.client_hostname and first.tool == "netplus-db"
    assert first.application_name == "netplus-db migrate"
    assert first.client_addr and len(first.checksum) == 64 and first.duration_ms is not None
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert [e.version for e in migrator.history(limit=2)] == [2, 3]


def test_a_ledger_from_before_the_history_is_upgraded_in_place(
    empty_db: Target, three: Path
) -> None:
    migrator = Migrator(empty_db, three)
    migrator.up(to=2)
    with connect(empty_db, autocommit=True) as conn:
        conn.execute("DROP TABLE netplus.schema_migration_events")
    before = migrator.history()
    assert [(e.version, e.action) for e in before] == [(1, "imported"), (2, "imported")]
    migrator.up()
    after = migrator.history()
    assert [(e.version, e.action) for e in after] == [(1, "imported"), (2, "imported"), (3, "up")]
    assert after[0].db_user.startswith(empty_db.user)  # the old applied_by


@pytest.mark.slow
def test_history_json_after_up_down_up(empty_db: Target, three: Path) -> None:
    for args in (["up"], ["down"], ["up"]):
        proc = _cli(empty_db, three, *args)
        assert proc.wait(timeout=120) == 0
    proc = _cli(empty_db, three, "history", "--json")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    doc = json.loads(out)
    assert set(doc) == {"target", "result", "summary", "items", "errors"}
    assert doc["result"] == "ok" and doc["target"]["database"] == empty_db.dbname
    assert [(e["version"], e["action"]) for e in doc["items"]] == [
        (1, "up"),
        (2, "up"),
        (3, "up"),
        (3, "down"),
        (3, "up"),
    ]
    text = _cli(empty_db, three, "history").communicate(timeout=120)[0]
    assert "down" in text and "netplus-db migrate" in text
