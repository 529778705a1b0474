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
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
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


# pg_dump spells the same schema differently across server majors; these are the known
# spellings, each rewritten to the newest major's (schema.sql is dumped from 18).
_HEADER_MAJOR = re.compile(r"Dumped from PostgreSQL \d+")
_SESSION_SETTING = re.compile(r"^SET \w+ = .*;\n", re.MULTILINE)  # the dump's own session
# Before 17 there was no MAINTAIN privilege: ALL was these seven.
_ALL_BEFORE_17 = "GRANT SELECT,INSERT,REFERENCES,DELETE,TRIGGER,TRUNCATE,UPDATE ON"
_VIEW = re.compile(r"^CREATE (?:MATERIALIZED )?VIEW .*?;$", re.MULTILINE | re.DOTALL)
_ONE_RELATION = re.compile(r"^\s+FROM public\.\w+ (\w+);?$", re.MULTILINE)


def comparable(dump: str) -> str:
    """A schema dump with the spellings that differ between majors made the same."""
    dump = _HEADER_MAJOR.sub("Dumped from PostgreSQL N", dump)
    dump = _SESSION_SETTING.sub("", dump)
    dump = dump.replace(_ALL_BEFORE_17, "GRANT ALL ON")
    return _VIEW.sub(_unqualified_single_relation_view, dump)


def _unqualified_single_relation_view(view: re.Match[str]) -> str:
    """Before 16, a view over one relation qualified its columns with the alias."""
    text = view.group(0)
    relations = _ONE_RELATION.findall(text)
    if len(relations) != 1 or text.count("FROM ") != 1 or " JOIN " in text:
        return text
    return re.sub(rf"\b{relations[0]}\.(?=\w)", "", text)


JOINED = (
    "CREATE VIEW public.w AS\n SELECT x.a\n"
    "   FROM (public.t x\n     JOIN public.u y ON (x.a = y.a));\n"
)


def test_comparable_rewrites_only_the_known_spellings() -> None:
    on_15 = (
        "-- Dumped from PostgreSQL 15.\nSET lock_timeout = 0;\n"
        "CREATE VIEW public.v AS\n SELECT ls.a,\n    ls.b\n   FROM public.t ls;\n"
        + JOINED
        + _ALL_BEFORE_17
        + " TABLE public.t TO admin;\n"
    )
    on_18 = (
        "-- Dumped from PostgreSQL 18.\n"
        "CREATE VIEW public.v AS\n SELECT a,\n    b\n   FROM public.t ls;\n"
        + JOINED
        + "GRANT ALL ON TABLE public.t TO admin;\n"
    )
    assert comparable(on_15) == comparable(on_18)
    assert comparable(on_15.replace("ls.b", "ls.c")) != comparable(on_18)
    assert comparable(on_15.replace("TRUNCATE,", "")) != comparable(on_18)
    assert comparable(JOINED.replace("x.a = y.a", "a = y.a")) != comparable(JOINED)


def test_schema_sql_is_the_dump_of_the_migrations(server: Server, db: Target) -> None:
    committed = (REPO / "schema" / "schema.sql").read_text()
    made_on = re.search(r"Dumped from PostgreSQL (\d+)", committed)
    assert made_on, "schema/schema.sql lacks its header"
    dumped = dump_schema(db)
    if int(made_on.group(1)) == server.major:
        assert dumped == committed, "schema/schema.sql is stale: run `make schema`"
    else:  # another major: the same schema, in that major's spelling
        assert comparable(dumped) == comparable(committed), (
            f"the migrations on PostgreSQL {server.major} do not give schema/schema.sql"
            " (compared without the spellings pg_dump changes between majors)"
        )


def test_erd_md_is_generated_from_the_migrations(db: Target) -> None:
    committed = (REPO / "schema" / "erd.md").read_text()
    assert erd_markdown(db) == committed, "schema/erd.md is stale: run `make schema`"


def test_privileges_md_is_generated_from_the_migrations(db: Target) -> None:
    committed = (REPO / "schema" / "privileges.md").read_text()
    assert privileges_markdown(db) == committed, "schema/privileges.md is stale: run `make schema`"
