"""Small helpers for the database tests: valid rows inserted by plain parameterised SQL.

Each builder takes column overrides as keyword arguments and returns the new row's id. A
foreign key that is not given is filled by building a parent row first, so `progress(conn)`
creates a user, a component and their progress row. Table and column names are composed with
`psycopg.sql.Identifier`; values always travel as parameters.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any, LiteralString
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from netplus_db.generated.enums import (
    AchievementType,
    AssessmentType,
    ComponentType,
    GoalType,
    QuestionType,
    StudyGoalMetric,
)

Conn = psycopg.Connection[Any]
Builder = Callable[..., UUID]

_serial = itertools.count(1)

# A syntactically plausible bcrypt hash; the database only checks that it is not blank.
PASSWORD_HASH = "$2b$12$" + "N" * 53
DOMAIN = "Networking Fundamentals"


def _n() -> int:
    return next(_serial)


def _adapt(value: Any) -> Any:
    """Dicts go to jsonb columns; everything else is adapted by psycopg as it is."""
    return Jsonb(value) if isinstance(value, dict) else value


def insert(conn: Conn, table: str, values: Mapping[str, Any]) -> UUID:
    """INSERT one row with these column values and return its id."""
    if values:
        query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING id").format(
            sql.Identifier(table),
            sql.SQL(", ").join(sql.Identifier(column) for column in values),
            sql.SQL(", ").join(sql.Placeholder() for _ in values),
        )
    else:
        query = sql.SQL("INSERT INTO {} DEFAULT VALUES RETURNING id").format(sql.Identifier(table))
    row = conn.execute(query, [_adapt(value) for value in values.values()]).fetchone()
    assert row is not None
    new_id = row[0]
    assert isinstance(new_id, UUID)
    return new_id


def update(conn: Conn, table: str, row_id: UUID, values: Mapping[str, Any]) -> None:
    """UPDATE the row with this id, setting these column values."""
    query = sql.SQL("UPDATE {} SET {} WHERE id = %s").format(
        sql.Identifier(table),
        sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(column)) for column in values),
    )
    conn.execute(query, [*(_adapt(value) for value in values.values()), row_id])


def fetch(conn: Conn, table: str, row_id: UUID) -> dict[str, Any] | None:
    """The row with this id as a dict, or None when it is gone."""
    query = sql.SQL("SELECT * FROM {} WHERE id = %s").format(sql.Identifier(table))
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, [row_id]).fetchone()


def scalar(conn: Conn, query: LiteralString, params: Sequence[Any] = ()) -> Any:
    """The first column of the single row a query returns."""
    row = conn.execute(query, params).fetchone()
    assert row is not None, query
    return row[0]


def rows(
    conn: Conn, query: LiteralString, params: Sequence[Any] | Mapping[str, Any] = ()
) -> list[dict[str, Any]]:
    """Every row of a query, as dicts."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def count(conn: Conn, table: str) -> int:
    """The number of rows of a table or view that the current role can see."""
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
    row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def _need(conn: Conn, values: dict[str, Any], column: str, make: Builder) -> None:
    """Build a parent row for a foreign key the caller did not give."""
    if column not in values:
        values[column] = make(conn)


# ---------------------------------------------------------------------------
# One builder per table
# ---------------------------------------------------------------------------


def user(conn: Conn, **kw: Any) -> UUID:
    n = _n()
    values = {"email": f"user{n}@example.test", "username": f"user{n}"}
    return insert(conn, "users", {**values, "password_hash": PASSWORD_HASH, **kw})


def profile(conn: Conn, **kw: Any) -> UUID:
    _need(conn, kw, "user_id", user)
    return insert(conn, "user_profiles", kw)


def settings(conn: Conn, **kw: Any) -> UUID:
    _need(conn, kw, "user_id", user)
    return insert(conn, "user_settings", kw)


def component(conn: Conn, **kw: Any) -> UUID:
    n = _n()
    values = {
        "component_type": ComponentType.LESSON,
        "domain": DOMAIN,
        "title": f"Component {n}",
        "slug": f"component-{n}",
        "is_published": True,
    }
    return insert(conn, "learning_components", {**values, **kw})


def progress(conn: Conn, **kw: Any) -> UUID:
    _need(conn, kw, "user_id", user)
    _need(conn, kw, "component_id", component)
    return insert(conn, "user_progress", kw)


def session(conn: Conn, **kw: Any) -> UUID:
    _need(conn, kw, "user_id", user)
    _need(conn, kw, "component_id", component)
    return insert(conn, "learning_sessions", kw)


def bookmark(conn: Conn, **kw: Any) -> UUID:
    _need(conn, kw, "user_id", user)
    _need(conn, kw, "component_id", component)
    return insert(conn, "bookmarks", kw)


def question(conn: Conn, **kw: Any) -> UUID:
    n = _n()
    values = {
        "question_type": QuestionType.MULTIPLE_CHOICE,
        "domain": DOMAIN,
        "question_text": f"Which layer does question {n} ask about?",
        "correct_answer": {"choice": "A"},
        "is_published": True,
    }
    return insert(conn, "question_bank", {**values, **kw})


def assessment(conn: Conn, **kw: Any) -> UUID:
    n = _n()
    values = {
        "assessment_type": AssessmentType.QUIZ,
        "title": f"Assessment {n}",
        "slug": f"assessment-{n}",
        "is_published": True,
    }
    return insert(conn, "assessments", {**values, **kw})


def attempt(conn: Conn, **kw: Any) -> UUID:
    _need(conn, kw, "user_id", user)
    _need(conn, kw, "assessment_id", assessment)
    return insert(conn, "assessment_attempts", kw)


def answer(conn: Conn, **kw: Any) -> UUID:
    _need(conn, kw, "attempt_id", attempt)
    _need(conn, kw, "question_id", question)
    return insert(conn, "assessment_answers", kw)


def achievement(conn: Conn, **kw: Any) -> UUID:
    n = _n()
    values = {
        "achievement_type": AchievementType.BADGE,
        "code": f"achievement-{n}",
        "name": f"Badge {n}",
    }
    return insert(conn, "achievements", {**values, **kw})


def user_achievement(conn: Conn, **kw: Any) -> UUID:
    _need(conn, kw, "user_id", user)
    _need(conn, kw, "achievement_id", achievement)
    return insert(conn, "user_achievements", kw)


def streak(conn: Conn, **kw: Any) -> UUID:
    _need(conn, kw, "user_id", user)
    return insert(conn, "learning_streaks", kw)


def goal(conn: Conn, **kw: Any) -> UUID:
    _need(conn, kw, "user_id", user)
    values = {"goal_type": GoalType.DAILY, "title": "Study every day", "target_value": 30}
    return insert(conn, "study_goals", {**values, "metric": StudyGoalMetric.MINUTES, **kw})


def activity_log(conn: Conn, **kw: Any) -> UUID:
    _need(conn, kw, "user_id", user)
    return insert(conn, "user_activity_logs", {"activity_type": "login", **kw})


def component_day(conn: Conn, **kw: Any) -> UUID:
    _need(conn, kw, "component_id", component)
    return insert(conn, "component_analytics", {"date": date(2024, 1, 15), **kw})


def metric(conn: Conn, **kw: Any) -> UUID:
    values = {"metric_type": "database", "metric_name": "query_ms", "metric_value": 12.5}
    return insert(conn, "performance_metrics", {**values, **kw})


def audit_entry(conn: Conn, **kw: Any) -> UUID:
    """An audit_log row written directly (a superuser bypasses its append-by-trigger policy)."""
    return insert(conn, "audit_log", {"table_name": "users", "action": "update", **kw})


def exam_blueprint(conn: Conn, **kw: Any) -> UUID:
    values = {
        "code": f"TEST-{_n()}",
        "name": "A test exam",
        "question_count": 90,
        "minutes": 90,
        "passing_score": 720,
        "scale_min": 100,
        "scale_max": 900,
    }
    return insert(conn, "exam_blueprints", {**values, **kw})


def exam_domain(conn: Conn, **kw: Any) -> UUID:
    _need(conn, kw, "blueprint_id", exam_blueprint)
    values = {"code": f"D{_n()}", "name": "A domain", "weight": 20, "exam_items": 18}
    return insert(conn, "exam_domains", {**values, **kw})


def exam_objective(conn: Conn, **kw: Any) -> UUID:
    _need(conn, kw, "domain_id", exam_domain)
    return insert(conn, "exam_objectives", {"code": f"O{_n()}", "name": "An objective", **kw})


def mastery(conn: Conn, **kw: Any) -> UUID:
    _need(conn, kw, "user_id", user)
    _need(conn, kw, "objective_id", exam_objective)
    return insert(conn, "objective_mastery", kw)


def review_card(conn: Conn, **kw: Any) -> UUID:
    _need(conn, kw, "user_id", user)
    _need(conn, kw, "question_id", question)
    return insert(conn, "review_cards", kw)


def review_entry(conn: Conn, **kw: Any) -> UUID:
    _need(conn, kw, "user_id", user)
    _need(conn, kw, "question_id", question)
    return insert(conn, "review_log", {"source": "review", "rating": 3, **kw})


def item_statistics(conn: Conn, **kw: Any) -> UUID:
    _need(conn, kw, "question_id", question)
    return insert(conn, "question_item_statistics", kw)


def option_statistics(conn: Conn, **kw: Any) -> UUID:
    _need(conn, kw, "question_id", question)
    return insert(conn, "question_option_statistics", {"option_id": "a", **kw})


BUILDERS: dict[str, Builder] = {
    "users": user,
    "user_profiles": profile,
    "user_settings": settings,
    "learning_components": component,
    "user_progress": progress,
    "learning_sessions": session,
    "bookmarks": bookmark,
    "question_bank": question,
    "assessments": assessment,
    "assessment_attempts": attempt,
    "assessment_answers": answer,
    "achievements": achievement,
    "user_achievements": user_achievement,
    "learning_streaks": streak,
    "study_goals": goal,
    "user_activity_logs": activity_log,
    "component_analytics": component_day,
    "performance_metrics": metric,
    "audit_log": audit_entry,
    "exam_blueprints": exam_blueprint,
    "exam_domains": exam_domain,
    "exam_objectives": exam_objective,
    "objective_mastery": mastery,
    "review_cards": review_card,
    "review_log": review_entry,
    "question_item_statistics": item_statistics,
    "question_option_statistics": option_statistics,
}


def public_tables(conn: Conn) -> set[str]:
    """The ordinary and partitioned tables of the public schema (not the partitions)."""
    return {
        name
        for (name,) in conn.execute(
            "SELECT c.relname FROM pg_class c"
            " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')"
            " AND NOT c.relispartition"
        ).fetchall()
    }
