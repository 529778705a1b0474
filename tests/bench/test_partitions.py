"""`python -m bench partitions` at a tiny scale: both parts run on clones of the scale database,
every figure is reported, rows are conserved, the writer never fails, the source database is
left as it was and the clones are gone. No timing is asserted (speed is reported, never
checked in tests); `suite --keep-version` measures a database at the version it is at."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from bench import scale_database
from bench.partitions import partitioning_versions
from bench.sql import partitions_sql
from netplus_db.connection import connect, drop_database, scratch_database
from netplus_db.migrate.migrator import Migrator
from tests.support.server import MIGRATIONS, REPO, Server, fresh_name

pytestmark = pytest.mark.slow  # builds a scale database, clones it twice, migrates down and up

USERS = 300


def _partitions(server: Server, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-m", "bench", "--dsn", server.admin.conninfo, "partitions"),
            *("--users", str(USERS), "--dbname", name, *args),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=900,
        check=False,
    )


def _state(server: Server, name: str) -> list[tuple[Any, ...]]:
    """The partitions of the source's history tables, and its databases' clones."""
    with connect(server.database(name), autocommit=True) as conn:
        parts = conn.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid ORDER BY 1"
        ).fetchall()
    with connect(server.admin, autocommit=True) as conn:
        clones = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{name}\\_\\_%"]
        ).fetchall()
    return [*parts, *clones]


def test_bench_partitions_reports_both_ways_and_the_conversion(server: Server) -> None:
    name = fresh_name("partitions")
    try:
        scale_database.ensure(server.admin, users=USERS, dbname=name, report=lambda _: None)
        before = _state(server, name)
        run = _partitions(server, name, "--json")
        assert run.returncode == 0, run.stderr
        doc = json.loads(run.stdout)
        after = _state(server, name)
        markdown = _partitions(server, name, "--only", "retention")
        assert markdown.returncode == 0, markdown.stderr
        keep_version = _keeps_version(server, name)
    finally:
        drop_database(server.database(name))

    assert after == before  # the source only read; no clone left behind
    assert "cloned" in run.stderr and "dropped" in run.stderr  # progress on standard error
    assert doc["users"] == USERS and doc["source"] == name

    r = doc["retention"]
    delete, kept = r["delete"], r["retention"]
    assert r["months"] >= 12  # the scale data spans years of months
    # the DELETE removes exactly the rows older than the cutoff; every other row is there
    assert delete["conserved"] and 0 < delete["rows_removed"] < delete["rows_before"]
    assert delete["writer_rows"] > 0 and delete["writer"]["failures"] == 0
    assert delete["vacuum_writer"]["failures"] == 0
    assert delete["wal_bytes"] > 0 and delete["seconds"] > 0
    assert delete["size_after_vacuum"]["tables"] == 1
    # retention: whole months only (never a row at or after the cutoff), each archived first
    assert kept["conserved"] and kept["failed_steps"] == []
    assert 0 < kept["rows_removed"] <= delete["rows_removed"]
    assert kept["partitions_dropped"] > 0 and kept["detach"] == "DETACH"
    assert kept["size_after"]["tables"] == kept["partitions_before"] - kept["partitions_dropped"]
    assert kept["archive_bytes"] > 0 and kept["writer"]["failures"] == 0
    assert kept["rows_before"] == delete["rows_before"]  # the same rows both ways

    c = doc["conversion"]
    assert (c["version"], c["before_version"]) == partitioning_versions(MIGRATIONS)
    assert c["conserved"]  # rows and checksums after down and after up, the writer's rows too
    assert list(c["fingerprints"]) == ["before", "after down", "after up"]
    assert c["fingerprints"]["before"]["activity"] > 0
    assert c["up_writer"]["failures"] == 0 and c["up_writer"]["inserts"] > 0
    assert c["up_seconds"] > 0 and c["down_seconds"] > 0 and c["up_wal_bytes"] > 0
    assert c["writer_rows"] == c["writer_committed"] > 0

    text = markdown.stdout
    assert "| rows conserved | yes | yes" in text and "| WAL written |" in text
    assert "### The conversion migration" not in text  # --only retention

    assert keep_version == ("r", "p")


def _keeps_version(server: Server, name: str) -> tuple[str, str]:
    """A clone migrated down before partitioning: `ensure(keep_version=True)` reuses it as it
    is, a plain ensure migrates it up. The activity table's kind after each."""
    _, before_version = partitioning_versions(MIGRATIONS)
    kinds = []
    with scratch_database(server.admin, fresh_name("kept"), template=name) as clone:
        Migrator(clone, MIGRATIONS, report=lambda _: None).down(to=before_version)
        for keep in (True, False):
            scale_database.ensure(
                server.admin,
                users=USERS,
                dbname=clone.dbname,
                keep_version=keep,
                report=lambda _: None,
            )
            with connect(clone, autocommit=True) as conn:
                kinds.append(partitions_sql().relation_kind(conn, name="user_activity_logs"))
    return kinds[0], kinds[1]
