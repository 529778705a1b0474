"""The migrated schema against the spec's own text, and the generated docs against the schema."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest

from netplus_db.config import Target
from netplus_db.ops.schema_docs import dump_schema, erd_markdown, erd_type, privileges_markdown
from tests.support.server import REPO, Server
from tests.support.spec import (
    SHARED_SPEC,
    VENDORED_SPEC,
    cascade_rules,
    erd_columns,
    erd_relationships,
)

# Fields that only DATABASE.md names (the product has the union of both documents).
DATABASE_MD_ONLY = {
    "user_settings": [
        "email_notifications",
        "study_reminders",
        "accessibility_mode",
        "high_contrast",
    ],
    "learning_components": [
        "view_count",
        "completion_count",
        "average_rating",
        "rating_count",
        "deleted_at",
    ],
    "user_progress": ["mastery_date"],
    "question_bank": ["correct_count", "incorrect_count", "average_time_seconds", "deleted_at"],
    "assessments": [
        "randomize_answers",
        "show_answers_after",
        "allow_review",
        "max_attempts",
        "deleted_at",
    ],
    "assessment_attempts": ["correct_answers", "incorrect_answers", "skipped_questions"],
    "assessment_answers": ["flagged_for_review"],
    "learning_streaks": ["streak_frozen_days"],
    "component_analytics": ["engagement_rate", "bounce_rate"],
    "users": ["deleted_at"],
}


def live_columns(conn: psycopg.Connection[Any]) -> dict[str, dict[str, str]]:
    rows = conn.execute(
        """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE c.relkind = 'r'
        """
    ).fetchall()
    found: dict[str, dict[str, str]] = {}
    for table, column, type_name in rows:
        found.setdefault(table, {})[column] = erd_type(type_name)
    return found


def test_the_vendored_spec_copy_matches_the_shared_spec() -> None:
    if not (SHARED_SPEC / "ERD.md").exists():
        pytest.skip("shared/spec is not beside this checkout; the vendored copy is used")
    for name in ("ERD.md", "DATABASE.md"):
        assert (VENDORED_SPEC / name).read_text() == (SHARED_SPEC / name).read_text(), name


def test_every_erd_table_and_column_exists_with_its_type(conn: psycopg.Connection[Any]) -> None:
    spec = erd_columns()
    live = live_columns(conn)
    assert len(spec) == 18
    missing_tables = sorted(set(spec) - set(live))
    assert not missing_tables
    wrong = [
        f"{table}.{column}: spec {word}, database {live[table].get(column, 'MISSING')}"
        for table, columns in spec.items()
        for column, word in columns.items()
        if live[table].get(column) != word
    ]
    assert not wrong, "\n".join(wrong)


def test_the_fields_only_database_md_names_exist(conn: psycopg.Connection[Any]) -> None:
    live = live_columns(conn)
    missing = [f"{t}.{c}" for t, cols in DATABASE_MD_ONLY.items() for c in cols if c not in live[t]]
    assert not missing


def test_every_erd_relationship_is_a_foreign_key_with_the_erd_rule(
    conn: psycopg.Connection[Any],
) -> None:
    rows = conn.execute(
        """
        SELECT parent.relname, child.relname, k.confdeltype
          FROM pg_constraint k
          JOIN pg_class child ON child.oid = k.conrelid
          JOIN pg_class parent ON parent.oid = k.confrelid
         WHERE k.contype = 'f'
        """
    ).fetchall()
    rules = {"c": "CASCADE", "n": "SET NULL", "a": "NO ACTION", "r": "RESTRICT", "d": "SET DEFAULT"}
    live: dict[tuple[str, str], set[str]] = {}
    for parent, child, rule in rows:
        live.setdefault((parent, child), set()).add(rules[rule])
    for rel in erd_relationships():
        assert (rel.parent, rel.child) in live, f"no foreign key {rel.child} -> {rel.parent}"
    for pair, rule in cascade_rules().items():
        assert live[pair] == {rule}, f"{pair}: spec {rule}, database {live[pair]}"
    # authorship outlives the author
    for content in ("learning_components", "assessments", "question_bank"):
        assert live[("users", content)] == {"SET NULL"}


def test_every_foreign_key_column_leads_an_index(conn: psycopg.Connection[Any]) -> None:
    unindexed = conn.execute(
        """
        SELECT k.conrelid::regclass::text, k.conname
          FROM pg_constraint k
         WHERE k.contype = 'f'
           AND NOT EXISTS (
                 SELECT 1 FROM pg_index i
                  WHERE i.indrelid = k.conrelid
                    AND (i.indkey::int2[])[0:cardinality(k.conkey) - 1] = k.conkey)
        """
    ).fetchall()
    assert unindexed == []


def test_schema_sql_is_the_dump_of_the_migrations(server: Server, db: Target) -> None:
    committed = (REPO / "schema" / "schema.sql").read_text()
    made_on = re.search(r"Dumped from PostgreSQL (\d+)", committed)
    assert made_on, "schema/schema.sql lacks its header"
    if int(made_on.group(1)) != server.major:
        pytest.skip(
            f"schema/schema.sql comes from PostgreSQL {made_on.group(1)}; pg_dump output differs "
            f"between majors, and this server is {server.major} (the ERD check still runs)"
        )
    assert dump_schema(db) == committed, "schema/schema.sql is stale: run `make schema`"


def test_erd_md_is_generated_from_the_migrations(db: Target) -> None:
    committed = (REPO / "schema" / "erd.md").read_text()
    assert erd_markdown(db) == committed, "schema/erd.md is stale: run `make schema`"


def test_privileges_md_is_generated_from_the_migrations(db: Target) -> None:
    committed = (REPO / "schema" / "privileges.md").read_text()
    assert privileges_markdown(db) == committed, "schema/privileges.md is stale: run `make schema`"
