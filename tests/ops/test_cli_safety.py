"""Destructive commands take a second look: `down` past one migration and `reset` ask, refuse
without a terminal, refuse foreign databases, say whose sessions they end, back up first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netplus_db.config import Target
from netplus_db.connection import connect, database_exists
from tests.ops.test_cli import clean_env, run

pytestmark = pytest.mark.slow  # every test runs `netplus-db` as a subprocess


def applied(target: Target) -> int:
    with connect(target) as conn:
        row = conn.execute("SELECT count(*) FROM netplus.schema_migrations").fetchone()
    return int(row[0]) if row else 0


def test_down_to_0_without_a_terminal_drops_nothing(db: Target) -> None:
    before = applied(db)
    refused = run("--dsn", db.conninfo, "migrate", "down", "--to", "0", stdin="")
    assert refused.returncode == 2
    assert f"down would roll back {before} migrations" in refused.stderr
    assert "nothing was done" in refused.stderr and "--yes" in refused.stderr
    assert applied(db) == before
    several = run("--dsn", db.conninfo, "migrate", "down", "--steps", "2", stdin="")
    assert several.returncode == 2 and applied(db) == before
    dry = run("--dsn", db.conninfo, "migrate", "down", "--to", "0", "--dry-run", stdin="")
    assert dry.returncode == 0 and applied(db) == before


def test_down_one_step_needs_no_confirmation_and_yes_allows_more(db: Target) -> None:
    before = applied(db)
    one = run("--dsn", db.conninfo, "migrate", "down", stdin="")
    assert one.returncode == 0, one.stderr
    assert applied(db) == before - 1
    answered_no = run("--dsn", db.conninfo, "migrate", "down", "--steps", "2", stdin="n\n")
    assert answered_no.returncode == 2 and applied(db) == before - 1  # no terminal: refused
    yes = run("--dsn", db.conninfo, "migrate", "down", "--to", "0", "--yes", "--json")
    assert yes.returncode == 0, yes.stderr
    doc = json.loads(yes.stdout)
    assert doc["summary"]["rolled_back"] == before - 1 and applied(db) == 0


def test_reset_refuses_a_database_without_a_ledger(empty_db: Target) -> None:
    with connect(empty_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE precious (id int)")
        conn.execute("INSERT INTO precious VALUES (1)")
    refused = run("--dsn", empty_db.conninfo, "migrate", "reset", "--yes")
    assert refused.returncode == 2
    assert "has no migration ledger" in refused.stderr and "1 table(s)" in refused.stderr
    assert "--force" in refused.stderr
    with connect(empty_db) as conn:
        assert conn.execute("SELECT count(*) FROM precious").fetchone() == (1,)
    forced = run("--dsn", empty_db.conninfo, "migrate", "reset", "--yes", "--force")
    assert forced.returncode == 0, forced.stderr
    with connect(empty_db) as conn:
        assert conn.execute("SELECT to_regclass('precious')").fetchone() == (None,)


def test_reset_without_a_terminal_refuses_and_names_the_sessions_it_ends(db: Target) -> None:
    refused = run("--dsn", db.conninfo, "migrate", "reset", stdin="")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    victim = connect(db, autocommit=True, application_name="someones-psql")
    try:
        done = run("--dsn", db.conninfo, "migrate", "reset", "--yes")
        assert done.returncode == 0, done.stderr
        assert f"dropped database {db.dbname}" in done.stderr
        assert "ended 1 session(s) of" in done.stderr and "(someones-psql)" in done.stderr
        assert victim.closed or victim.broken or _is_dead(victim)
    finally:
        victim.close()


def _is_dead(conn: object) -> bool:
    import psycopg

    assert isinstance(conn, psycopg.Connection)
    try:
        conn.execute("SELECT 1")
    except psycopg.OperationalError:
        return True
    return False


def test_reset_backup_takes_a_verified_backup_first(db: Target, tmp_path: Path) -> None:
    with connect(db, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO achievements (achievement_type, code, name, rarity)"
            " VALUES ('badge', 'kept-in-the-backup', 'Kept', 'common')"
        )
    done = run(
        "--dsn",
        db.conninfo,
        "migrate",
        "reset",
        "--yes",
        "--backup",
        "--backup-dir",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert "backup verified: " in done.stderr
    [archive] = [p for p in tmp_path.iterdir() if p.name.endswith(".dump")]
    assert archive.stat().st_size > 0
    assert done.stderr.index("backup verified") < done.stderr.index("dropped database")
    with connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM achievements").fetchone() == (0,)


def test_reset_of_a_missing_database_creates_it(server: object, empty_db: Target) -> None:
    fresh = empty_db.with_dbname(empty_db.dbname + "_new")
    try:
        done = run("--dsn", fresh.conninfo, "migrate", "reset", "--yes", env=clean_env())
        assert done.returncode == 0, done.stderr
        assert database_exists(fresh) and applied(fresh) > 0
    finally:
        from netplus_db.connection import drop_database

        drop_database(fresh)
