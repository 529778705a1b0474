"""Migration 0017 on a populated database: every row kept (counts and checksums) when the
history tables become partitioned, while a writer keeps logging activity, and again when
`migrate down` makes them plain tables; the privileges of before are the privileges after."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from bench.writer import WRITER_ACTIVITY, Writer
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
            " FROM user_activity_logs t WHERE activity_type <> %s",
            [WRITER_ACTIVITY],
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

    with Writer(empty_db) as writer:  # an application logging activity every 2 ms throughout
        time.sleep(0.2)
        migrator.up(to=VERSION)
        time.sleep(0.2)
    failures = [error for _, _, error in writer.samples if error is not None]
    assert failures == [] and writer.committed > 0  # the writer never failed
    after = checksums(empty_db)
    with connect(empty_db) as conn:
        writes = conn.execute(
            "SELECT count(*) FROM user_activity_logs WHERE activity_type = %s", [WRITER_ACTIVITY]
        ).fetchone()
        kinds = conn.execute(
            "SELECT relname, relkind FROM pg_class WHERE relname IN"
            " ('learning_sessions', 'user_activity_logs', 'learning_sessions_before')"
            " ORDER BY 1"
        ).fetchall()
    assert writes == (writer.committed,)  # every committed insert is there
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
