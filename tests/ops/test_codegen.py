"""Typed code generated from queries/*.sql: fresh, right about types and NULLs, strict on SQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from netplus_db.config import Target
from netplus_db.ops.codegen import GENERATED_DIR, describe_all, render
from netplus_db.querylayer import load_area
from tests.support.server import REPO


def test_the_committed_generated_code_is_what_the_queries_produce(db: Target) -> None:
    """`netplus-db queries check`, against this test's migrated database."""
    described, report = describe_all(db)
    assert report.problems == []
    files = render(described)
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
