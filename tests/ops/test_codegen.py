"""Typed code generated from queries/*.sql: fresh, right about types and NULLs, strict on SQL."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.generated.enums import ENUMERATIONS
from netplus_db.ops.check_enums import CheckShapeError, ValueList, read_value_lists
from netplus_db.ops.codegen import GENERATED_DIR, describe_all, generate, render, stale
from netplus_db.querylayer import load_area
from tests.support.server import MIGRATIONS, REPO

Conn = psycopg.Connection[Any]


def test_the_committed_generated_code_is_what_the_queries_produce(db: Target) -> None:
    """`netplus-db queries check`, against this test's migrated database."""
    described, report = describe_all(db)
    assert report.problems == []
    with connect(db) as conn:
        value_lists = read_value_lists(conn)
    files = render(described, value_lists)
    stale = [str(p) for p, text in files.items() if not p.exists() or p.read_text() != text]
    assert stale == [], "run `netplus-db queries gen`"
    assert sorted(GENERATED_DIR.glob("*.py")) == sorted(files)


def write_queries(tmp_path: Path, text: str) -> Path:
    directory = tmp_path / "queries"
    directory.mkdir()
    (directory / "probe.sql").write_text(text)
    load_area.cache_clear()
    return directory


def test_types_and_nullability_come_from_the_catalog_and_outer_joins(
    db: Target, tmp_path: Path
) -> None:
    directory = write_queries(
        tmp_path,
        "-- name: probe(user_id)\n"
        "-- Users with their profile, if any.\n"
        "-- optional: user_id\n"
        "SELECT u.id, u.email, u.deleted_at, p.timezone, count(*) OVER () AS total\n"
        "  FROM users u LEFT JOIN user_profiles p ON p.user_id = u.id\n"
        " WHERE :user_id::uuid IS NULL OR u.id = :user_id::uuid;\n",
    )
    described, report = describe_all(db, directory)
    assert report.problems == []
    [probe] = described
    columns = {c.name: (c.annotation) for c in probe.columns}
    assert columns == {
        "id": "uuid.UUID",  # NOT NULL column of the preserved side
        "email": "str",
        "deleted_at": "datetime.datetime | None",  # nullable column
        "timezone": "str | None",  # NOT NULL, but on the nullable side of the LEFT JOIN
        "total": "int | None",  # an expression: NULL unless a not-null hint says otherwise
    }
    assert [p.annotation for p in probe.params] == ["uuid.UUID | None"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "-- name: bad()\n-- Selects a missing column.\nSELECT nope FROM users;\n",
            'probe.sql:1: probe.bad: does not prepare: column "nope" does not exist',
        ),
        (
            "-- name: bad()^\n-- Returns nothing.\nUPDATE users SET role = role WHERE false;\n",
            "its marker says it returns rows",
        ),
        (
            "-- name: bad()$\n-- Two columns.\nSELECT 1, 2;\n",
            "`$` returns one value but the statement returns 2 columns",
        ),
        (
            "-- name: bad()!\n-- Throws rows away.\nUPDATE users SET role = role RETURNING id;\n",
            "`!` discards the rows",
        ),
        ("-- name: bad()\nSELECT 1 AS one;\n", "has no comment saying what it is for"),
        (
            "-- name: bad()\n-- Hint names nothing.\n-- not-null: two\nSELECT 1 AS one;\n",
            "hint names 'two'",
        ),
    ],
)
def test_a_query_that_does_not_fit_is_reported_with_file_and_line(
    db: Target, tmp_path: Path, text: str, problem: str
) -> None:
    directory = write_queries(tmp_path, text)
    _, report = describe_all(db, directory)
    assert len(report.problems) == 1
    assert problem in report.problems[0]
    assert report.problems[0].startswith(f"{directory / 'probe.sql'}:1: ")


# --- the enumerations of the CHECK value lists ------------------------------------------------


def test_the_generated_enumerations_are_the_catalogs_check_lists(tx: Conn) -> None:
    """Read here with a loose pattern of our own, not with the generator's parser."""
    found = tx.execute(
        """
        SELECT con.conname, rel.relname, a.attname, NOT a.attnotnull,
               pg_get_constraintdef(con.oid)
          FROM pg_constraint con
          JOIN pg_class rel ON rel.oid = con.conrelid
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
         WHERE con.contype = 'c' AND con.connamespace = 'public'::regnamespace
           AND NOT rel.relispartition  -- a partition's copies of its table's checks
           AND pg_get_constraintdef(con.oid) LIKE '%= ANY (%'
        """
    ).fetchall()
    catalog = {
        name: (table, column, nullable, re.findall(r"'((?:[^']|'')*)'::", definition))
        for name, table, column, nullable, definition in found
    }
    generated = {
        name: (c.table, c.column, c.nullable, [member.value for member in c.values])
        for name, c in ENUMERATIONS.items()
    }
    assert generated == catalog
    assert len(catalog) >= 18  # role, statuses, types, levels... of migrations 0002-0005


def add_migration(tmp_path: Path, sql: str) -> Path:
    """A copy of the migrations with one more, 9999_probe.sql, applying `sql`."""
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, directory)
    (directory / "9999_probe.sql").write_text(f"-- migrate:up\n{sql}\n\n-- migrate:down\n")
    return directory


def test_a_migration_that_changes_a_value_list_makes_the_check_fail(
    db: Target, tmp_path: Path
) -> None:
    """What `netplus-db queries check` runs, on migrations where users.role gained a value."""
    migrations = add_migration(
        tmp_path,
        "ALTER TABLE users DROP CONSTRAINT users_role_check,\n"
        "    ADD CONSTRAINT users_role_check\n"
        "        CHECK (role IN ('student', 'instructor', 'admin', 'auditor'));",
    )
    files = generate(db, migrations_dir=migrations)
    enums = GENERATED_DIR / "enums.py"
    assert stale(files) == [enums]
    assert '    ADMIN = "admin"\n    AUDITOR = "auditor"\n' in files[enums]


@pytest.mark.parametrize(
    ("check", "column", "values", "nullable"),
    [
        ("probe IN ('a', 'it''s', 'x-y')", "probe", ("a", "it's", "x-y"), True),
        ("probe IS NULL OR probe IN ('b', 'a')", "probe", ("b", "a"), True),
        ("probe = ANY (ARRAY['one', 'two'])", "probe", ("one", "two"), True),
    ],
)
def test_a_value_list_is_read_from_each_shape_postgresql_prints(
    tx: Conn, check: str, column: str, values: tuple[str, ...], nullable: bool
) -> None:
    tx.execute(f"ALTER TABLE users ADD COLUMN probe text CONSTRAINT probe_check CHECK ({check})")
    tx.execute("ALTER TABLE users ADD COLUMN \"Mixed Case\" varchar(20) NOT NULL DEFAULT 'p'")
    tx.execute("ALTER TABLE users ADD CONSTRAINT mixed_check CHECK (\"Mixed Case\" IN ('p', 'q'))")
    found = {v.constraint: v for v in read_value_lists(tx)}
    assert found["probe_check"] == ValueList("probe_check", "users", column, values, nullable)
    assert found["mixed_check"] == ValueList(
        "mixed_check", "users", "Mixed Case", ("p", "q"), False
    )


@pytest.mark.parametrize(
    ("check", "why"),
    [
        ("role IN ('student', 'admin') AND btrim(role) <> ''", "AND or NOT"),
        ("lower(role) IN ('student', 'admin')", "not tested against a plain column"),
        ("points IN (1, 2, 3)", "not a string literal"),
        ("role IN ('admin', 'admin')", "lists 'admin' twice"),
        ("deleted_at IS NULL OR role IN ('student', 'admin')", "IS NULL tests another column"),
        ("role IN ('student') OR username IN ('a', 'b')", "not one `column = ANY"),
        ("'admin' = ANY (ARRAY[role, username])", "not tested against a plain column"),
    ],
)
def test_a_value_list_in_a_shape_the_parser_does_not_know_fails_naming_the_check(
    tx: Conn, check: str, why: str
) -> None:
    tx.execute("ALTER TABLE users ADD COLUMN points int")
    tx.execute(f"ALTER TABLE users ADD CONSTRAINT users_probe_check CHECK ({check})")
    with pytest.raises(CheckShapeError) as raised:
        read_value_lists(tx)
    message = str(raised.value)
    assert "CHECK users_probe_check on users is not in a shape it reads" in message
    assert why in message
    assert "users_role_check" not in message  # the readable ones are not blamed


@pytest.mark.slow
def test_the_example_backend_runs_every_flow(db: Target) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "backend.py"), "--dsn", db.conninfo],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "quiz: 100.00% passed=True" in result.stdout
    assert "a second submit is refused" in result.stdout and result.stdout.endswith("ok\n")
