"""`migrate baseline`: adopt a database built from this schema without the runner, only when
its schema really matches."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.errors import MigrationStateError
from netplus_db.migrate.migrator import Migrator, State
from netplus_db.ops.baseline import SchemaMismatch, baseline
from tests.support.server import MIGRATIONS

pytestmark = pytest.mark.slow  # pg_dump and a scratch database per test


def without_ledger(target: Target) -> None:
    """What a database built by psql -f from the schema looks like: no netplus schema."""
    with connect(target, autocommit=True) as conn:
        conn.execute("DROP SCHEMA netplus CASCADE")


def test_a_matching_database_is_baselined(db: Target) -> None:
    without_ledger(db)
    messages: list[str] = []
    runs = baseline(db, MIGRATIONS, report=messages.append)
    files = sorted(MIGRATIONS.glob("*.sql"))
    assert [r.version for r in runs] == [int(p.name[:4]) for p in files]
    assert any("matches migrations up to" in m for m in messages)
    migrator = Migrator(db, MIGRATIONS)
    assert {s.state for s in migrator.status()} == {State.APPLIED}
    assert {e.action for e in migrator.history()} == {"baseline"}
    assert migrator.up() == []
    with connect(db, autocommit=True) as conn:  # the scratch database is gone
        left = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname LIKE %s", [f"{db.dbname[:30]}__base%"]
        ).fetchone()
    assert left == (0,)


def test_a_database_that_differs_is_refused_with_a_diff_summary(db: Target) -> None:
    without_ledger(db)
    with connect(db, autocommit=True) as conn:
        conn.execute("ALTER TABLE users ADD COLUMN legacy_flag boolean")
        conn.execute("DROP INDEX idx_users_role")
    with pytest.raises(SchemaMismatch) as caught:
        baseline(db, MIGRATIONS, report=lambda _m: None)
    text = str(caught.value)
    assert "does not match the schema of migrations up to" in text
    assert "legacy_flag" in text and "idx_users_role" in text
    assert "nothing was recorded" in text
    with connect(db, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('netplus.schema_migrations')").fetchone() == (None,)


def test_baseline_to_an_older_version(db: Target) -> None:
    without_ledger(db)
    with pytest.raises(SchemaMismatch):  # the database is at 11, not 5
        baseline(db, MIGRATIONS, to=5, report=lambda _m: None)


def test_a_database_with_applied_migrations_is_refused(db: Target) -> None:
    with pytest.raises(MigrationStateError, match="already has a migration ledger"):
        baseline(db, MIGRATIONS, report=lambda _m: None)


def test_baseline_json_on_success_and_failure(db: Target) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "netplus_db", "--dsn", db.conninfo, "migrate", *args],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    refused = cli("baseline", "--json")
    assert refused.returncode == 1
    doc = json.loads(refused.stdout)
    assert doc["result"] == "error" and doc["errors"][0]["kind"] == "MigrationStateError"
    without_ledger(db)
    done = cli("baseline", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["result"] == "ok" and doc["summary"]["baselined"] == len(doc["items"]) > 0
