"""Migrating a populated database to least privilege (0013, 0014) keeps every row, and rolling
back restores the privileges it had, object by object."""

from __future__ import annotations

import io
from typing import Any

import pytest
from psycopg import sql

from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.database import Database
from netplus_db.migrate.files import load_directory
from netplus_db.migrate.migrator import Migrator
from netplus_db.ops.scale import load_scale
from netplus_db.ops.seed import DEMO_PASSWORD, seed_database
from tests.support.server import MIGRATIONS

pytestmark = pytest.mark.slow  # builds a seeded, scale-loaded database to upgrade

FIRST = 13  # migrations/0013_least_privilege.sql


def columns(target: Target) -> dict[str, list[str]]:
    """The columns of every table of schema public, in order."""
    with connect(target, autocommit=True) as conn:
        found: dict[str, list[str]] = {}
        for table, column in conn.execute(
            "SELECT c.relname, a.attname FROM pg_class c"
            "  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
            " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')"
            "   AND NOT c.relispartition ORDER BY c.relname, a.attnum"
        ).fetchall():
            found.setdefault(table, []).append(column)
        return found


def checksums(
    target: Target, only: dict[str, list[str]] | None = None
) -> dict[str, tuple[int, str]]:
    """Row count and checksum of every table (of `only`, over its columns there: a later
    migration may add columns, and the rows as they were are what must not change)."""
    out: dict[str, tuple[int, str]] = {}
    only = columns(target) if only is None else only
    with connect(target, autocommit=True) as conn:
        for table, names in only.items():
            query = sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), ''))"
                " FROM (SELECT {} FROM {}) r"
            ).format(sql.SQL(", ").join(map(sql.Identifier, names)), sql.Identifier(table))
            row = conn.execute(query).fetchone()
            assert row is not None
            out[table] = (int(row[0]), str(row[1]))
    return out


def privileges(target: Target) -> list[Any]:
    """Every access-control list and policy of the database, as the catalog holds them."""
    with connect(target, autocommit=True) as conn:
        return conn.execute(
            """
            SELECT 'schema', nspname, NULL, nspacl::text FROM pg_namespace
             WHERE nspname = 'public'
            UNION ALL
            SELECT 'relation', relname, NULL, relacl::text FROM pg_class
             WHERE relnamespace = 'public'::regnamespace
            UNION ALL
            SELECT 'column', c.relname, a.attname, a.attacl::text
              FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
             WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0
               AND NOT a.attisdropped  -- PostgreSQL 15 keeps a dropped column's grants
               AND a.attacl IS NOT NULL AND cardinality(a.attacl) > 0
            UNION ALL
            SELECT 'function', p.oid::regprocedure::text, NULL, p.proacl::text FROM pg_proc p
             WHERE p.pronamespace = 'public'::regnamespace
            UNION ALL
            SELECT 'policy', c.relname, pol.polname,
                   pol.polcmd::text || ' ' || pol.polroles::text || ' '
                   || coalesce(pg_get_expr(pol.polqual, pol.polrelid), '') || ' '
                   || coalesce(pg_get_expr(pol.polwithcheck, pol.polrelid), '')
              FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid
            ORDER BY 1, 2, 3
            """
        ).fetchall()


@pytest.mark.slow
def test_a_populated_database_migrates_up_intact_and_down_to_its_old_grants(
    empty_db: Target,
) -> None:
    versions = [m.version for m in load_directory(MIGRATIONS)]
    before = max(v for v in versions if v < FIRST)
    migrator = Migrator(empty_db, MIGRATIONS)
    migrator.up(to=before)
    seed_database(empty_db, report=lambda _: None)
    load_scale(empty_db, thousands=0, users=200, report=lambda _: None, progress=io.StringIO())
    kept = columns(empty_db)
    rows = checksums(empty_db, kept)
    grants = privileges(empty_db)
    assert rows["users"][0] > 200 and rows["assessment_answers"][0] > 1000

    migrator.up()
    after = checksums(empty_db)
    assert checksums(empty_db, kept) == rows  # every row of every table, unchanged
    assert after["audit_log"] == (0, "d41d8cd98f00b204e9800998ecf8427e")
    # The migrated data is usable: a seeded learner logs in and sees its own rows only.
    with Database(empty_db, min_size=1, max_size=1) as db:
        login = db.login(login="student1@network.test", password=DEMO_PASSWORD)
        assert login.reason == "ok" and login.user is not None
        with db.as_user(login.user.id) as q:
            assert q.conn.execute("SELECT count(DISTINCT id) FROM users").fetchone() == (1,)

    migrator.down(to=before)
    assert privileges(empty_db) == grants
    restored = checksums(empty_db, kept)
    # Rolling back keeps the data; only the log entry of the login above was added.
    changed = [t for t in rows if restored[t] != rows[t]]
    assert changed == ["user_activity_logs"]
    assert restored["user_activity_logs"][0] == rows["user_activity_logs"][0] + 1
