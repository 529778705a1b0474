"""The migration runner's details on a real server: what it reports while it works, what dry
runs return, what a rollback uses, records and says when it fails, the messages of failed
statements, baselines, and the history and status as JSON."""

from __future__ import annotations

import getpass
import re
import time
from pathlib import Path
from typing import Any

import pytest

from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.errors import MigrationFailed, MigrationStateError, UnknownVersion
from netplus_db.migrate.migrator import Event, MigrationRun, Migrator, State, _elapsed_ms, pace
from tests.migrate.test_migrator import ONE, THREE, TWO, ledger, tables, write_set
from tests.support.server import Server, fresh_name

NAMES = {1: "one", 2: "two", 3: "three"}


@pytest.fixture
def three(tmp_path: Path) -> Path:
    return write_set(tmp_path / "m", **{"0001_one": ONE, "0002_two": TWO, "0003_three": THREE})


def step_lines(doing: str, done: str, labels: list[str]) -> list[str]:
    """What a run of several steps reports: each step counted, its result, and after each
    but the last the pace (only when there are more than two steps)."""
    total = len(labels)
    lines: list[str] = []
    for number, label in enumerate(labels, start=1):
        lines += [rf"\[{number}/{total}\] {doing} {label}…", rf"{done} {label} \(\d+ ms\)"]
        if total > 2 and number < total:
            lines.append(rf"{total - number} left; about \d+\.\d s more at the pace so far")
    return lines


def failed_up(db: Target, directory: Path, name: str, source: str) -> tuple[Path, str]:
    """Apply the one migration `name` with `source`, which must fail; its file and message."""
    migrations = write_set(directory / "m", **{name: source})
    with pytest.raises(MigrationFailed) as caught:
        Migrator(db, migrations).up()
    return migrations / f"{name}.sql", str(caught.value)


def failed_down(db: Target, directory: Path, name: str, source: str) -> tuple[Path, str]:
    """Apply the one migration `name` with `source`, roll it back, and return its file and
    the message of the MigrationFailed that the rollback must raise."""
    migrations = write_set(directory / "m", **{name: source})
    migrator = Migrator(db, migrations)
    migrator.up()
    with pytest.raises(MigrationFailed) as caught:
        migrator.down()
    return migrations / f"{name}.sql", str(caught.value)


def fullmatch_all(patterns: list[str], lines: list[str]) -> None:
    """`lines` are exactly what `patterns` describe, in order."""
    assert len(lines) == len(patterns), lines
    for pattern, line in zip(patterns, lines, strict=True):
        assert re.fullmatch(pattern, line), (pattern, line)


def test_the_runner_reports_each_step_with_its_count_and_its_pace(
    server: Server, three: Path
) -> None:
    target = server.database(fresh_name("created"))
    seen: list[str] = []
    migrator = Migrator(target, three, report=seen.append)

    assert migrator.up(dry_run=True) == [MigrationRun(v, NAMES[v], "up", 0) for v in (1, 2, 3)]
    assert seen == ["would apply 0001_one", "would apply 0002_two", "would apply 0003_three"]
    seen.clear()

    runs = migrator.up()
    assert [(r.version, r.name, r.direction) for r in runs] == [
        (v, NAMES[v], "up") for v in (1, 2, 3)
    ]
    assert all(isinstance(r.duration_ms, int) and r.duration_ms >= 0 for r in runs)
    labels = ["0001_one", "0002_two", "0003_three"]
    fullmatch_all(
        [
            rf"created database {target.dbname}: it did not exist on host {re.escape(target.host)}"
            rf" port {target.port} \(check the name if that is a surprise\)",
            *step_lines("applying", "applied", labels),
        ],
        seen,
    )
    seen.clear()
    assert migrator.up() == []
    assert seen == ["nothing to apply: the database is up to date"]
    seen.clear()

    planned = migrator.down(to=0, dry_run=True)
    assert planned == [MigrationRun(v, NAMES[v], "down", 0) for v in (3, 2, 1)]
    assert seen == [f"would roll back {v:04d}_{NAMES[v]}" for v in (3, 2, 1)]
    assert len(ledger(target)) == 3
    seen.clear()

    undone = migrator.down(to=0)
    assert [(r.version, r.name, r.direction) for r in undone] == [
        (v, NAMES[v], "down") for v in (3, 2, 1)
    ]
    fullmatch_all(step_lines("rolling back", "rolled back", labels[::-1]), seen)
    seen.clear()
    assert migrator.down() == []
    assert seen == ["nothing to roll back"]
    seen.clear()

    migrator.up(to=1)  # one step: no count, no pace
    fullmatch_all([r"applied 0001_one \(\d+ ms\)"], seen)


def test_down_takes_steps_or_a_version_and_at_least_one_step(empty_db: Target, three: Path) -> None:
    migrator = Migrator(empty_db, three)
    migrator.up()
    with pytest.raises(ValueError, match=r"^give either steps or to, not both$"):
        migrator.down(steps=1, to=0)
    for bad in (0, -1):
        with pytest.raises(ValueError, match=r"^steps must be at least 1$"):
            migrator.down(steps=bad)
    assert len(ledger(empty_db)) == 3  # nothing was rolled back by the refusals
    assert [r.version for r in migrator.down(steps=1)] == [3]
    assert migrator.plan_down(steps=2)[0].version == 2  # what a prompt would show, newest first


def test_a_failing_down_section_names_its_file_and_line_and_keeps_the_migration(
    empty_db: Target, tmp_path: Path
) -> None:
    source = (
        "-- migrate:up\n"
        "CREATE TABLE d (id int);\n"
        "-- migrate:down\n"
        "DROP TABLE d;\n"
        "\n"
        "SELECT nothing_here FROM d;\n"
    )
    path, message = failed_down(empty_db, tmp_path, "0001_d", source)
    assert message.startswith(f"{path}:6: relation ")
    assert message.endswith("; the migration's transaction was rolled back [SQLSTATE 42P01]")
    assert tables(empty_db) == ["d"] and [r[0] for r in ledger(empty_db)] == [1]
    events = Migrator(empty_db, path.parent).history()
    assert [e.action for e in events] == ["up"]  # no down event was recorded


def test_an_empty_down_section_cannot_be_rolled_back(empty_db: Target, tmp_path: Path) -> None:
    source = "-- migrate:up\nCREATE TABLE e (id int);\n-- migrate:down\n"
    path, message = failed_down(empty_db, tmp_path, "0001_e", source)
    assert message == f"{path}:4: the down section is empty: this migration cannot be rolled back"
    assert tables(empty_db) == ["e"] and len(ledger(empty_db)) == 1


def test_a_down_section_keeps_its_markers_options_as_applied(
    empty_db: Target, tmp_path: Path
) -> None:
    """The down marker's `transaction:false` and `statement_timeout:` are read from the source
    the ledger kept: the section runs outside a transaction (DROP INDEX CONCURRENTLY works),
    its statement timeout stops a slow statement, and the message says what stayed applied."""
    source = (
        "-- migrate:up\n"
        "CREATE TABLE c (id int);\n"
        "CREATE INDEX c_id ON c (id);\n"
        "-- migrate:down transaction:false statement_timeout:300ms\n"
        "DROP INDEX CONCURRENTLY c_id;\n"
        "SELECT pg_sleep(3);\n"
        "DROP TABLE c;\n"
    )
    path, message = failed_down(empty_db, tmp_path, "0001_c", source)
    assert message == (
        f"{path}:6: canceling statement due to statement timeout; the "
        "statement ran longer than the migration's statement_timeout:300ms and its transaction "
        "was rolled back — this section runs outside a transaction: statements 1 to 1 of 3 "
        "stay applied and the ledger was not updated; make the statements idempotent (IF NOT "
        "EXISTS) and re-run [SQLSTATE 57014]"
    )
    with connect(empty_db) as conn:
        assert conn.execute("SELECT to_regclass('c_id')").fetchone() == (None,)
    assert tables(empty_db) == ["c"] and len(ledger(empty_db)) == 1


@pytest.mark.parametrize(
    ("body", "line", "expected"),
    [
        (  # the server's detail is added in parentheses
            "CREATE TABLE u (id int PRIMARY KEY);\nINSERT INTO u VALUES (1);\n"
            "INSERT INTO u\n  VALUES (1);\n",
            4,
            r'duplicate key value violates unique constraint "u_pkey" \(Key \(id\)=\(1\) '
            r"already exists\.\); the migration's transaction was rolled back \[SQLSTATE 23505\]",
        ),
        (  # the line of the error inside a statement that follows comments and blank lines
            "SELECT 1;\n-- a comment\n\nSELECT 1,\n  missing_col\nFROM (SELECT 1) s;\n",
            6,
            r'column "missing_col" does not exist; the migration\'s transaction was rolled back'
            r" \[SQLSTATE 42703\]",
        ),
        (  # the server ends the session: said so, not called a rollback of ours
            "SELECT pg_terminate_backend(pg_backend_pid());\n",
            2,
            r"terminating connection due to administrator command; the connection was lost and"
            r" the server rolled the transaction back \[SQLSTATE 57P01\]",
        ),
    ],
    ids=["detail", "line-after-comments", "connection-lost"],
)
def test_a_failed_statement_is_named_by_line_with_the_servers_words(
    empty_db: Target, tmp_path: Path, body: str, line: int, expected: str
) -> None:
    source = f"-- migrate:up\n{body}-- migrate:down\n"
    path, message = failed_up(empty_db, tmp_path, "0001_x", source)
    assert re.fullmatch(re.escape(f"{path}:{line}: ") + expected, message), message
    assert ledger(empty_db) == []


def test_a_statement_timeout_marker_does_not_explain_other_errors(
    empty_db: Target, tmp_path: Path
) -> None:
    source = "-- migrate:up statement_timeout:5s\nSELECT 1 / 0;\n-- migrate:down\n"
    path, message = failed_up(empty_db, tmp_path, "0001_z", source)
    assert message == (
        f"{path}:2: division by zero; the migration's transaction was rolled back [SQLSTATE 22012]"
    )


def test_a_baseline_records_each_file_once_with_an_event_and_a_line(
    empty_db: Target, three: Path
) -> None:
    seen: list[str] = []
    migrator = Migrator(empty_db, three, report=seen.append)
    files = migrator.migrations()[:2]
    runs = migrator.mark_applied(files)
    assert runs == [MigrationRun(1, "one", "baseline", 0), MigrationRun(2, "two", "baseline", 0)]
    assert seen == [f"marked {f.label} as applied (baseline)" for f in files]
    assert tables(empty_db) == []  # recorded, not run
    rows = ledger(empty_db)
    assert [(r[0], r[1], r[4]) for r in rows] == [(1, "one", 0), (2, "two", 0)]
    assert rows[0][2] == files[0].checksum and rows[0][5] == files[0].down.sql
    events = migrator.history()
    assert [(e.version, e.action, e.duration_ms, e.checksum) for e in events] == [
        (1, "baseline", 0, files[0].checksum),
        (2, "baseline", 0, files[1].checksum),
    ]
    with pytest.raises(MigrationStateError, match=r"already has applied migrations in its ledger"):
        migrator.mark_applied(files)
    assert [s.state for s in migrator.status()] == [State.APPLIED, State.APPLIED, State.PENDING]


def test_history_and_status_of_a_database_without_a_ledger_or_without_a_database(
    server: Server, empty_db: Target, three: Path
) -> None:
    missing = Migrator(server.database(fresh_name("missing")), three)
    assert missing.history() == [] and not missing.database_exists() and not missing.has_ledger()
    assert [s.state for s in missing.status()] == [State.PENDING] * 3
    bare = Migrator(empty_db, three)
    assert bare.history() == [] and bare.database_exists() and not bare.has_ledger()
    bare.up(to=1)
    assert bare.has_ledger()


def test_an_imported_ledger_rows_history_says_what_it_cannot_know(
    empty_db: Target, three: Path
) -> None:
    migrator = Migrator(empty_db, three)
    migrator.up()
    with connect(empty_db, autocommit=True) as conn:
        conn.execute("DROP TABLE netplus.schema_migration_events")
    rows = ledger(empty_db)
    with connect(empty_db) as conn:
        applied_at = [
            r[0]
            for r in conn.execute(
                "SELECT applied_at FROM netplus.schema_migrations ORDER BY version"
            ).fetchall()
        ]
    assert migrator.history(limit=2) == [
        Event(
            0,
            version,
            name,
            "imported",
            checksum,
            when,
            duration,
            applied_by,
            "",
            "",
            "",
            None,
            None,
            "ledger row from before the event history",
        )
        for (version, name, checksum, applied_by, duration, _down), when in list(
            zip(rows, applied_at, strict=True)
        )[-2:]
    ]


def test_status_runs_and_events_as_json(empty_db: Target, three: Path) -> None:
    migrator = Migrator(empty_db, three)
    run = migrator.up(to=1)[0]
    assert run.as_json() == {
        "version": 1,
        "name": "one",
        "direction": "up",
        "duration_ms": run.duration_ms,
    }
    applied, pending, _ = migrator.status()
    assert applied.applied is not None
    assert applied.as_json() == {
        "version": 1,
        "name": "one",
        "state": "applied",
        "file": str(three / "0001_one.sql"),
        "applied_at": applied.applied.applied_at.isoformat(),
        "applied_by": applied.applied.applied_by,
        "duration_ms": applied.applied.duration_ms,
    }
    assert pending.as_json() == {
        "version": 2,
        "name": "two",
        "state": "pending",
        "file": str(three / "0002_two.sql"),
        "applied_at": None,
        "applied_by": None,
        "duration_ms": None,
    }
    [event] = migrator.history()
    assert event.as_json() == {
        "id": event.id,
        "version": 1,
        "name": "one",
        "action": "up",
        "checksum": applied.applied.checksum,
        "happened_at": event.happened_at.isoformat(),
        "duration_ms": event.duration_ms,
        "db_user": empty_db.user,
        "session_user": empty_db.user,
        "client_addr": event.client_addr,
        "application_name": "netplus-db migrate",
        "os_user": event.os_user,
        "client_hostname": event.client_hostname,
        "tool": "netplus-db",
    }
    assert event.os_user and event.client_hostname


def test_the_pace_line_says_what_is_left_at_the_average_so_far() -> None:
    assert pace([200, 400], 5) == "3 left; about 0.9 s more at the pace so far"
    assert pace([1500], 3) == "2 left; about 3.0 s more at the pace so far"
    assert pace([100_000, 100_000], 4) == "2 left; about 200.0 s more at the pace so far"
    assert pace([100], 2) is None  # two steps: the count says enough
    assert pace([], 5) is None and pace([100, 100, 100], 3) is None


def test_a_two_step_run_counts_its_steps_and_a_one_step_run_does_not(
    empty_db: Target, three: Path
) -> None:
    seen: list[str] = []
    migrator = Migrator(empty_db, three, report=seen.append)
    migrator.up(to=2)
    fullmatch_all(step_lines("applying", "applied", ["0001_one", "0002_two"]), seen)
    seen.clear()
    migrator.down(to=0)
    fullmatch_all(step_lines("rolling back", "rolled back", ["0002_two", "0001_one"]), seen)
    seen.clear()
    migrator.up(to=1)
    migrator.down(steps=1)
    fullmatch_all([r"applied 0001_one \(\d+ ms\)", r"rolled back 0001_one \(\d+ ms\)"], seen)


def test_durations_are_milliseconds(empty_db: Target, tmp_path: Path) -> None:
    slow = (
        "-- migrate:up\nSELECT pg_sleep(0.2);\n"
        "-- migrate:down transaction:false\nSELECT pg_sleep(0.2);\n"
    )
    migrator = Migrator(empty_db, write_set(tmp_path / "m", **{"0001_slow": slow}))
    [up] = migrator.up()
    [down] = migrator.down()
    assert 200 <= up.duration_ms < 60_000 and 200 <= down.duration_ms < 60_000
    events = migrator.history()
    assert [(e.action, e.duration_ms) for e in events] == [
        ("up", up.duration_ms),
        ("down", down.duration_ms),
    ]


def test_plans_of_a_missing_database_are_empty_and_plans_follow_their_arguments(
    server: Server, empty_db: Target, three: Path
) -> None:
    missing = Migrator(server.database(fresh_name("missing")), three)
    assert missing.plan_down() == [] and missing.down(dry_run=True) == []
    migrator = Migrator(empty_db, three)
    migrator.up()
    assert [a.version for a in migrator.plan_down(steps=2)] == [3, 2]
    assert [a.version for a in migrator.plan_down(to=1)] == [3, 2]
    assert [a.version for a in migrator.plan_down()] == [3]
    with pytest.raises(
        UnknownVersion, match=r"^--to 7: version 7 is not applied \(0 rolls back all\)$"
    ):
        migrator.plan_down(to=7)


@pytest.mark.parametrize(
    ("edit", "line"),
    [
        (lambda text: text + "-- one more line\n", 5),  # appended: the first new line
        (lambda text: text.replace("DROP TABLE one;\n", ""), 4),  # cut: the line after the end
        (lambda text: text.replace("PRIMARY KEY", "UNIQUE"), 2),
    ],
    ids=["appended", "cut", "changed"],
)
def test_an_edited_file_is_named_with_its_first_changed_line(
    empty_db: Target, three: Path, edit: Any, line: int
) -> None:
    migrator = Migrator(empty_db, three)
    migrator.up(to=1)
    path = three / "0001_one.sql"
    path.write_text(edit(path.read_text()))
    [problem] = migrator.problems()
    assert str(problem).startswith(f"{path}:{line}: edited after it was applied on ")
    assert str(problem).endswith(
        f"(first changed line {line}); restore the file and put the change in a new migration"
    )


def test_a_missing_files_status_has_no_file(empty_db: Target, three: Path) -> None:
    migrator = Migrator(empty_db, three)
    migrator.up(to=1)
    (three / "0001_one.sql").unlink()
    gone = migrator.status()[0]
    assert gone.state is State.MISSING_FILE and gone.applied is not None
    assert gone.as_json()["file"] is None
    assert gone.as_json()["applied_at"] == gone.applied.applied_at.isoformat()


def test_a_section_outside_a_transaction_has_its_timeouts_and_leaves_none_behind(
    empty_db: Target, tmp_path: Path
) -> None:
    """Its lock_timeout is the marker's, else --lock-timeout; its statement_timeout the
    marker's; both are reset after it, so the next migration is not cut short by them."""
    record = (
        "CREATE TABLE IF NOT EXISTS seen (n int, lock_timeout text, statement_timeout text);\n"
        "INSERT INTO seen SELECT {n}, current_setting('lock_timeout'),"
        " current_setting('statement_timeout');\n"
    )
    migrations = write_set(
        tmp_path / "m",
        **{
            "0001_own": "-- migrate:up transaction:false lock_timeout:2s statement_timeout:9s\n"
            + record.format(n=1)
            + "-- migrate:down\n",
            "0002_default": "-- migrate:up transaction:false\n"
            + record.format(n=2)
            + "-- migrate:down\n",
            "0003_after": "-- migrate:up\nSELECT pg_sleep(0.3);\n"
            + record.format(n=3)
            + "-- migrate:down\n",
        },
    )
    Migrator(empty_db, migrations, ddl_lock_timeout="7s").up()
    with connect(empty_db) as conn:
        rows = conn.execute("SELECT * FROM seen ORDER BY n").fetchall()
    assert rows == [(1, "2s", "9s"), (2, "7s", "0"), (3, "7s", "0")]


def test_a_down_sections_lock_timeout_is_its_markers_and_says_so(
    empty_db: Target, tmp_path: Path
) -> None:
    source = (
        "-- migrate:up\nCREATE TABLE l (i int);\n"
        "-- migrate:down lock_timeout:200ms\nDROP TABLE l;\n"
    )
    migrations = write_set(tmp_path / "m", **{"0001_l": source})
    migrator = Migrator(empty_db, migrations, ddl_lock_timeout="1h")
    migrator.up()
    with connect(empty_db) as holder:
        holder.execute("LOCK TABLE l IN ACCESS SHARE MODE")  # held until the block ends
        with pytest.raises(MigrationFailed) as caught:
            migrator.down()
    assert str(caught.value) == (
        f"{migrations / '0001_l.sql'}:4: canceling statement due to lock timeout; waited 200ms "
        "for a lock held by another transaction. Nothing of this migration was applied; retry "
        "when that transaction ends, or raise --lock-timeout (or the file's lock_timeout: "
        "marker option) [SQLSTATE 55P03]"
    )
    assert tables(empty_db) == ["l"]


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("SELECT 1,\nx\nFROM (SELECT 1) s;\n", 3),  # the token starts its line
        ("SELECT 1, x\nFROM (SELECT 1) s;\n", 2),  # the token ends its line
    ],
)
def test_the_line_of_a_one_character_token(
    empty_db: Target, tmp_path: Path, body: str, line: int
) -> None:
    source = f"-- migrate:up\n{body}-- migrate:down\n"
    path, message = failed_up(empty_db, tmp_path, "0001_x", source)
    assert message.startswith(f'{path}:{line}: column "x"')


def test_the_default_migrations_are_the_projects(empty_db: Target) -> None:
    migrator = Migrator(empty_db)
    shipped = sorted(p.stem for p in migrator.migrations_dir.glob("*.sql"))
    assert migrator.migrations_dir.name == "migrations"
    assert [m.label for m in migrator.migrations()] == shipped and len(shipped) >= 23


def test_problems_of_several_kinds_are_raised_together_under_their_common_class(
    empty_db: Target, three: Path
) -> None:
    migrator = Migrator(empty_db, three)
    migrator.up(to=2)
    (three / "0002_two.sql").unlink()
    one = three / "0001_one.sql"
    one.write_text(one.read_text() + "-- edited\n")
    with pytest.raises(MigrationStateError) as caught:
        migrator.up()
    assert type(caught.value) is MigrationStateError  # an edit and a deletion: neither class
    head, edited, gone = str(caught.value).split("\n")
    assert head == "the migrations on disk disagree with the database:"
    assert edited.startswith(f"  {one}:5: edited after it was applied")
    assert gone.startswith(f"  {three / '0002_two.sql'}:1: migration 2 (two) is applied")


def test_a_dry_run_up_plans_only_what_is_pending_up_to_its_version(
    empty_db: Target, three: Path
) -> None:
    migrator = Migrator(empty_db, three)
    migrator.up(to=1)
    assert [r.version for r in migrator.up(dry_run=True)] == [2, 3]
    assert [r.version for r in migrator.up(to=2, dry_run=True)] == [2]


def test_a_failing_up_section_outside_a_transaction_says_what_stayed(
    empty_db: Target, tmp_path: Path
) -> None:
    source = (
        "-- migrate:up transaction:false\n"
        "CREATE TABLE kept (i int);\n"
        "SELECT 1 / 0;\n"
        "-- migrate:down\n"
    )
    path, message = failed_up(empty_db, tmp_path, "0001_half", source)
    assert message == (
        f"{path}:3: division by zero; the migration's transaction was "
        "rolled back — this section runs outside a transaction: statements 1 to 1 of 2 stay "
        "applied and the ledger was not updated; make the statements idempotent (IF NOT "
        "EXISTS) and re-run [SQLSTATE 22012]"
    )
    assert tables(empty_db) == ["kept"] and ledger(empty_db) == []


def test_a_client_side_refusal_is_said_in_psycopgs_words(empty_db: Target, tmp_path: Path) -> None:
    """COPY FROM STDIN is refused by psycopg, not the server: no primary message, no SQLSTATE;
    the message is psycopg's own."""
    source = "-- migrate:up\nCREATE TABLE c (i int);\nCOPY c FROM STDIN;\n-- migrate:down\n"
    path, message = failed_up(empty_db, tmp_path, "0001_copy", source)
    assert message.startswith(f"{path}:3: COPY cannot be used")
    assert message.endswith("; the migration's transaction was rolled back")
    assert ledger(empty_db) == []


def test_a_version_0_file_is_pending_on_an_empty_ledger(server: Server, tmp_path: Path) -> None:
    migrations = write_set(tmp_path / "m", **{"0000_zero": ONE, "0001_two": TWO})
    missing = Migrator(server.database(fresh_name("missing")), migrations)
    assert [(s.version, s.state) for s in missing.status()] == [
        (0, State.PENDING),
        (1, State.PENDING),
    ]
    assert missing.problems() == []


def test_history_gives_the_newest_thousand_events_by_default(empty_db: Target, three: Path) -> None:
    migrator = Migrator(empty_db, three)
    migrator.up(to=1)
    with connect(empty_db, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO netplus.schema_migration_events (version, name, action, checksum)"
            " SELECT 1, 'one', 'up', repeat('a', 64) FROM generate_series(1, 1000)"
        )
    events = migrator.history()
    assert len(events) == 1000
    assert {e.checksum for e in events} == {"a" * 64}  # the oldest, the real apply, is left out
    assert [e.id for e in events] == sorted(e.id for e in events)


def test_an_os_user_that_cannot_be_found_is_unknown(
    empty_db: Target, three: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a container running as a user id without a passwd entry and no USER or LOGNAME,
    getpass finds no name: the ledger and the history say `unknown`."""

    def no_user() -> str:
        raise OSError("No username set in the environment")

    monkeypatch.setattr(getpass, "getuser", no_user)
    migrator = Migrator(empty_db, three)
    migrator.up(to=1)
    [row] = ledger(empty_db)
    assert re.fullmatch(rf"{re.escape(empty_db.user)} \(unknown@.+\)", row[3]), row[3]
    [event] = migrator.history()
    assert event.os_user == "unknown"


def test_elapsed_time_is_in_whole_milliseconds() -> None:
    assert 10_000 <= _elapsed_ms(time.perf_counter() - 10.0) < 10_005


def test_a_ledger_source_without_a_down_marker_counts_the_down_sql_from_line_1(
    empty_db: Target, three: Path
) -> None:
    """A ledger row edited by hand may keep a source without its down marker: its down SQL is
    still run, with no marker options, and an error in it is named from line 1."""
    migrator = Migrator(empty_db, three)
    migrator.up(to=1)
    with connect(empty_db, autocommit=True) as conn:
        conn.execute(
            "UPDATE netplus.schema_migrations SET source = %s, down_sql = %s WHERE version = 1",
            ["-- migrate:up\nCREATE TABLE one (id int PRIMARY KEY);\n", "\nSELECT 1 / 0;\n"],
        )
    with pytest.raises(MigrationFailed) as caught:
        migrator.down()
    assert str(caught.value).startswith(f"{three / '0001_one.sql'}:2: division by zero;")


def test_a_section_without_its_own_statement_timeout_has_none_before_or_after_another(
    empty_db: Target, tmp_path: Path
) -> None:
    """The runner's session has no statement_timeout but a section's own (docs/migrations.md:
    none by default), even where the database sets one for its applications: before a
    transaction:false section with its own, and after it."""
    with connect(empty_db, autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE \"{empty_db.dbname}\" SET statement_timeout = '1h'")
    seen = "INSERT INTO seen VALUES ({}, current_setting('statement_timeout'));\n"
    migrations = write_set(
        tmp_path / "m",
        **{
            "0001_before": "-- migrate:up\nCREATE TABLE seen (version int, t text);\n"
            + seen.format(1)
            + "-- migrate:down\n",
            "0002_own": "-- migrate:up transaction:false statement_timeout:9s\n"
            + seen.format(2)
            + "-- migrate:down\n",
            "0003_after": "-- migrate:up\n" + seen.format(3) + "-- migrate:down\n",
        },
    )
    Migrator(empty_db, migrations).up()
    with connect(empty_db) as conn:
        found = conn.execute("SELECT version, t FROM seen ORDER BY version").fetchall()
    assert found == [(1, "0"), (2, "9s"), (3, "0")]
