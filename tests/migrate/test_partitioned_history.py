"""Migration 0017 on a populated database: every row kept (counts and checksums) when the
history tables become partitioned, while a writer keeps logging activity, and again when
`migrate down` makes them plain tables; the privileges of before are the privileges after."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import psycopg
import pytest

from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.migrate.migrator import Migrator
from netplus_db.ops.scale import load_scale
from netplus_db.ops.schema_docs import privileges_markdown
from netplus_db.ops.seed import seed_database
from tests.migrate.test_least_privilege_upgrade import checksums
from tests.support.server import MIGRATIONS

pytestmark = pytest.mark.slow  # converts a populated database while a writer runs

VERSION = 17
# The newest migration before 0017.
BEFORE = max(int(p.name[:4]) for p in MIGRATIONS.glob("*.sql") if int(p.name[:4]) < VERSION)


class Writer(threading.Thread):
    """Logs activity entries, one transaction each, as an application would, until stopped;
    counts them and keeps the longest wait of one insert."""

    def __init__(self, target: Target) -> None:
        super().__init__(daemon=True)
        self.target = target
        self.stop = threading.Event()
        self.done = 0
        self.errors: list[str] = []
        self.longest = 0.0

    def run(self) -> None:
        with connect(self.target, autocommit=True) as conn:
            while not self.stop.is_set():
                started = time.perf_counter()
                try:
                    conn.execute("INSERT INTO user_activity_logs (activity_type) VALUES ('writer')")
                    self.done += 1
                except psycopg.Error as exc:
                    self.errors.append(str(exc))
                self.longest = max(self.longest, time.perf_counter() - started)
                time.sleep(0.002)


def _populate(target: Target) -> None:
    Migrator(target, MIGRATIONS, report=lambda _: None).up(to=BEFORE)
    seed_database(target, report=lambda _: None)
    with open(os.devnull, "w") as quiet:
        load_scale(target, thousands=0, users=500, report=lambda _: None, progress=quiet)


def _without_writer(sums: dict[str, tuple[int, str]], target: Target) -> dict[str, Any]:
    """The checksums with the writer's rows taken out of user_activity_logs."""
    with connect(target) as conn:
        row = conn.execute(
            "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
            " FROM user_activity_logs t WHERE activity_type <> 'writer'"
        ).fetchone()
    assert row is not None
    return {**sums, "user_activity_logs": (int(row[0]), str(row[1]))}


@pytest.mark.slow
def test_a_populated_database_converts_and_comes_back_with_every_row(empty_db: Target) -> None:
    _populate(empty_db)
    migrator = Migrator(empty_db, MIGRATIONS, report=lambda _: None)
    before = checksums(empty_db)
    grants = privileges_markdown(empty_db)
    assert before["learning_sessions"][0] > 1000 and before["user_activity_logs"][0] > 1000

    writer = Writer(empty_db)
    writer.start()
    try:
        time.sleep(0.2)
        migrator.up(to=VERSION)
        time.sleep(0.2)
    finally:
        writer.stop.set()
        writer.join()
    assert writer.errors == [] and writer.done > 0  # the writer never failed
    after = checksums(empty_db)
    with connect(empty_db) as conn:
        writes = conn.execute(
            "SELECT count(*) FROM user_activity_logs WHERE activity_type = 'writer'"
        ).fetchone()
        kinds = conn.execute(
            "SELECT relname, relkind FROM pg_class WHERE relname IN"
            " ('learning_sessions', 'user_activity_logs', 'learning_sessions_before')"
            " ORDER BY 1"
        ).fetchall()
    assert writes == (writer.done,)  # every committed insert is there
    assert kinds == [
        ("learning_sessions", "p"),
        ("learning_sessions_before", "r"),
        ("user_activity_logs", "p"),
    ]
    expected = {k: v for k, v in before.items() if k != "mv_daily_user_activity"}
    assert {k: v for k, v in _without_writer(after, empty_db).items() if k in expected} == expected
    assert (
        privileges_markdown(empty_db).replace(
            "| create_history_partitions(p_months_ahead integer) | invoker |"
            " search_path=pg_catalog, public, pg_temp |  |  |  |  |  |\n",
            "",
        )
        == grants
    )

    migrator.down()
    assert checksums(empty_db) == after  # the writer's rows too
    assert privileges_markdown(empty_db) == grants
