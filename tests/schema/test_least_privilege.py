"""Attacks from inside a learner's transaction, as `as_user` opens it: role app_user, app.user_id
set to alice. The identity is fixed; every statement is the attacker's. Every table, column and
function is read from the catalog, so a new one is attacked without touching this file: it is
refused unless the rules below say a learner may do it.

Refused means an error, or no row and no change: after each attack every table of the database
is compared with its state before (`digest`), as the superuser, inside the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, LiteralString
from uuid import UUID

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.database import Database
from netplus_db.errors import Forbidden
from tests.schema.test_rls_and_roles import ROLES, as_app_user, set_role, set_user, two_learners
from tests.support import factories as f
from tests.support.apis import Catalog, build_catalog
from tests.support.factories import Conn
from tests.support.server import Server, fresh_name

# --- the rules ---------------------------------------------------------------------------------
# What a learner may write directly, column by column; everything else only through the
# SECURITY DEFINER functions below.
LEARNER_INSERT = {
    "learning_sessions": {"user_id", "component_id", "device_type", "session_data"},
    "bookmarks": {"user_id", "component_id", "position", "note"},
    "study_goals": {
        "user_id",
        "goal_type",
        "title",
        "target_value",
        "metric",
        "start_date",
        "target_date",
    },
    "user_activity_logs": {
        "user_id",
        "activity_type",
        "activity_description",
        "resource_type",
        "resource_id",
        "metadata",
        "ip_address",
        "user_agent",
    },
}
LEARNER_UPDATE = {
    "user_profiles": {
        "first_name",
        "last_name",
        "display_name",
        "bio",
        "avatar_url",
        "timezone",
        "locale",
        "certifications",
    },
    "user_settings": {
        "theme",
        "notifications_enabled",
        "email_notifications",
        "study_reminders",
        "reminder_time",
        "reminder_days",
        "accessibility_mode",
        "high_contrast",
        "font_size",
        "daily_goal_minutes",
        "privacy_settings",
    },
    "bookmarks": {"position", "note"},
}
LEARNER_DELETE = {"bookmarks"}
# Never readable by a learner: hashes, answer keys, grades (review_attempt shows them), the
# audit trail and the platform's own metrics.
SECRET_COLUMNS = {
    ("users", "password_hash"),
    ("question_bank", "correct_answer"),
    ("question_bank", "explanation"),
    ("assessment_answers", "is_correct"),
    ("assessment_answers", "points_earned"),
}
SECRET_RELATIONS = {
    "audit_log",
    "performance_metrics",
    "mv_leaderboard",
    "question_item_statistics",  # instructors read them through item_flags (0019)
    "question_option_statistics",
}
# The functions app_user may execute, each attacked below (a new one fails
# test_every_function_a_learner_can_run_is_attacked_here until it is).
LEARNER_FUNCTIONS = {
    "abandon_attempt",
    "answer_review",
    "attempt_objective_report",
    "cohort_readiness",
    "exam_current_objectives",
    "item_flags",
    "learner_objective_mastery",
    "learner_readiness",
    "learner_weakest_objectives",
    "mastery_decay",
    "mastery_decayed",
    "mastery_digamma",
    "mastery_estimate",
    "mastery_trigamma",
    "platform_weakest_objectives",
    "review_due_counts",
    "app_current_user_id",
    "calculate_overall_progress",
    "end_learning_session",
    "get_user_dashboard_summary",
    "leaderboard",
    "login_candidate",
    "question_data_in_order",
    "record_progress",
    "register_account",
    "review_attempt",
    "save_answer",
    "set_goal_status",
    "start_attempt",
    "submit_attempt",
}
TRIGGER_ONLY = "trigger"  # return type of functions only a trigger can call


# --- the world attacked ------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """Two learners with a row in every user-owned table, a course, and work in progress."""

    alice: UUID
    bob: UUID
    course: Catalog
    hidden: Catalog  # an assessment that never shows its keys, one attempt only
    alice_open: UUID
    alice_hidden_done: UUID
    bob_open: UUID
    bob_done: UUID
    bob_session: UUID
    bob_goal: UUID
    alice_goal: UUID
    bob_email: str
    teacher: UUID  # an instructor's account (0019's cohort reads)


def act(conn: Conn, user: UUID, query: LiteralString, params: list[Any]) -> Any:
    """Run one statement as `user` in app_user (the functions' own path) and return its row."""
    as_app_user(conn, user)
    row = conn.execute(query, params).fetchone()
    conn.execute("RESET ROLE")
    return row[0] if row else None


def build_world(conn: Conn) -> World:
    course = build_catalog(conn)
    hidden = build_catalog(conn, show_answers_after=False, max_attempts=1)
    alice_learner, bob_learner = two_learners(conn)
    alice, bob = alice_learner.id, bob_learner.id
    start = "SELECT id FROM start_attempt(%s)"
    bob_open = act(conn, bob, start, [course.assessment])
    act(
        conn,
        bob,
        "SELECT id FROM save_answer(%s, %s, %s, 5, false)",
        [bob_open, course.questions["true_false"], Jsonb({"value": False})],
    )
    bob_done = act(conn, bob, start, [course.assessment])
    act(conn, bob, "SELECT id FROM submit_attempt(%s)", [bob_done])
    alice_open = act(conn, alice, start, [course.assessment])
    alice_hidden_done = act(conn, alice, start, [hidden.assessment])
    act(conn, alice, "SELECT id FROM submit_attempt(%s)", [alice_hidden_done])
    return World(
        alice=alice,
        bob=bob,
        course=course,
        hidden=hidden,
        alice_open=alice_open,
        alice_hidden_done=alice_hidden_done,
        bob_open=bob_open,
        bob_done=bob_done,
        bob_session=f.session(conn, user_id=bob, component_id=course.lesson),
        bob_goal=f.goal(conn, user_id=bob),
        alice_goal=f.goal(conn, user_id=alice),
        bob_email=f.scalar(conn, "SELECT email FROM users WHERE id = %s", [bob]),
        teacher=f.user(conn, role="instructor"),
    )


@pytest.fixture
def world(tx: Conn) -> World:
    return build_world(tx)


def relations(conn: Conn, kinds: tuple[str, ...] = ("r", "p", "v", "m")) -> list[str]:
    """The relations of schema public of these kinds, from the catalog: tables ('r', the
    partitions included, which only their owner may touch), partitioned tables ('p'), views."""
    return [
        name
        for (name,) in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            " AND relkind = ANY (%s) ORDER BY relname",
            [list(kinds)],
        ).fetchall()
    ]


def partitions(conn: Conn) -> set[str]:
    """The partitions of schema public's partitioned tables (only their owner may touch them)."""
    return {
        name
        for (name,) in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            " AND relispartition AND relkind IN ('r', 'p')"  # not the partitions' indexes
        ).fetchall()
    }


def columns(conn: Conn, relation: str) -> list[str]:
    """The columns of a relation, from the catalog."""
    return [
        name
        for (name,) in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
            " AND NOT attisdropped ORDER BY attnum",
            [f"public.{relation}"],
        ).fetchall()
    ]


def digest(conn: Conn) -> dict[str, str]:
    """A checksum of every row of every table (as the superuser: all rows)."""
    out: dict[str, str] = {}
    for table in relations(conn, ("r",)):  # partitions hold the rows of partitioned tables
        query = sql.SQL(
            "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {} t"
        ).format(sql.Identifier(table))
        out[table] = value(conn, query)
    return out


def value(conn: Conn, query: sql.Composed, params: Any = ()) -> Any:
    """The first column of the one row a composed query returns."""
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def refused(
    conn: Conn, statement: sql.Composed | LiteralString, params: Any = (), *, view: bool = False
) -> bool:
    """Whether the privilege check refused the statement (run in a savepoint). A view that is
    not updatable refuses a write before any privilege check: for views any error counts."""
    try:
        with conn.transaction():
            conn.execute(statement, params)
    except psycopg.errors.InsufficientPrivilege as exc:
        return "permission denied" in str(exc) or "must be owner" in str(exc)
    except psycopg.Error:
        return view  # a table passed the privilege check and failed later
    return False


def is_view(conn: Conn, relation: str) -> bool:
    """A view or materialized view (not a table)."""
    return bool(
        f.scalar(
            conn,
            "SELECT relkind IN ('v', 'm') FROM pg_class WHERE oid = %s::regclass",
            [f"public.{relation}"],
        )
    )


def unchanged(conn: Conn, before: dict[str, str]) -> list[str]:
    """The tables whose rows differ from `before` (as the superuser)."""
    conn.execute("RESET ROLE")
    after = digest(conn)
    return [t for t in before if before[t] != after.get(t)]


# --- tables and columns ------------------------------------------------------------------------


def test_a_learner_reads_no_secret_and_no_other_learners_row(tx: Conn, world: World) -> None:
    leaks: list[str] = []
    # The partitions of the history tables are read through their table only (its policies).
    hidden = SECRET_RELATIONS | partitions(tx)
    for relation in relations(tx):
        as_app_user(tx, world.alice)
        names = columns(tx, relation)
        for column in names:
            query = sql.SQL("SELECT {} FROM {}").format(
                sql.Identifier(column), sql.Identifier(relation)
            )
            secret = relation in hidden or (relation, column) in SECRET_COLUMNS
            if secret != refused(tx, query):
                leaks.append(f"{relation}.{column}: {'readable' if secret else 'refused'}")
        owner = "id" if relation == "users" else "user_id" if "user_id" in names else None
        if owner and relation not in hidden:
            query = sql.SQL("SELECT count(*) FROM {} WHERE {} IS DISTINCT FROM %s").format(
                sql.Identifier(relation), sql.Identifier(owner)
            )
            if value(tx, query, [world.alice]):
                leaks.append(f"{relation}: rows of other users")
        tx.execute("RESET ROLE")
    assert leaks == []


# What a role would do to a month of history if it could reach the partition by name.
PARTITION_STATEMENTS: dict[str, LiteralString] = {
    "SELECT": "SELECT 1 FROM {} LIMIT 1",
    "INSERT": "INSERT INTO {} DEFAULT VALUES",
    "UPDATE": "UPDATE {} SET created_at = created_at",
    "DELETE": "DELETE FROM {}",
    "TRUNCATE": "TRUNCATE {}",
}


@pytest.mark.parametrize("role", ROLES)
def test_no_role_reaches_a_partition_by_name(tx: Conn, role: str) -> None:
    """The partitions carry no grants: every role goes through the partitioned table, its
    grants and its policies, never round them by naming a month (or the default partition)."""
    found = sorted(partitions(tx))
    assert found, "the history tables have partitions"
    reachable: list[str] = []
    for partition in found:
        for verb, template in PARTITION_STATEMENTS.items():
            set_role(tx, role)
            if not refused(tx, sql.SQL(template).format(sql.Identifier(partition))):
                reachable.append(f"{verb} {partition}")
            tx.execute("RESET ROLE")
    assert reachable == []


def test_a_learner_reads_only_its_own_answers(tx: Conn, world: World) -> None:
    as_app_user(tx, world.alice)
    attempts = f.rows(
        tx,
        "SELECT DISTINCT t.user_id FROM assessment_answers a"
        " JOIN assessment_attempts t ON t.id = a.attempt_id",
    )
    assert attempts in ([], [{"user_id": world.alice}])
    assert (
        f.scalar(
            tx, "SELECT count(*) FROM assessment_answers WHERE attempt_id = %s", [world.bob_open]
        )
        == 0
    )


@pytest.mark.parametrize("write", ["INSERT", "UPDATE"])
def test_a_learner_writes_no_column_it_is_not_meant_to(tx: Conn, world: World, write: str) -> None:
    allowed = LEARNER_INSERT if write == "INSERT" else LEARNER_UPDATE
    wrong: list[str] = []
    before = digest(tx)
    for relation in relations(tx):
        as_app_user(tx, world.alice)
        for column in columns(tx, relation):
            target = (sql.Identifier(relation), sql.Identifier(column))
            if write == "INSERT":  # the privilege check comes first, before any row
                statement = sql.SQL("INSERT INTO {} ({}) VALUES (DEFAULT)").format(*target)
            else:
                statement = sql.SQL("UPDATE {} SET {} = DEFAULT WHERE false").format(*target)
            may = column in allowed.get(relation, set())
            if refused(tx, statement, view=is_view(tx, relation)) == may:
                wrong.append(f"{write} {relation}.{column}: {'refused' if may else 'allowed'}")
        tx.execute("RESET ROLE")
    assert wrong == []
    assert unchanged(tx, before) == []


@pytest.mark.parametrize("write", ["DELETE", "TRUNCATE"])
def test_a_learner_deletes_nothing_but_its_bookmarks(tx: Conn, world: World, write: str) -> None:
    wrong: list[str] = []
    before = digest(tx)
    as_app_user(tx, world.alice)
    for relation in relations(tx):
        name = sql.Identifier(relation)
        if write == "DELETE":
            statement = sql.SQL("DELETE FROM {} WHERE false").format(name)
            may = relation in LEARNER_DELETE
        else:
            statement = sql.SQL("TRUNCATE {} CASCADE").format(name)
            may = False
        if refused(tx, statement, view=is_view(tx, relation)) == may:
            wrong.append(f"{write} {relation}: {'refused' if may else 'allowed'}")
    assert wrong == []
    # Where it may delete, it deletes its own rows only.
    assert tx.execute("DELETE FROM bookmarks WHERE user_id <> %s", [world.alice]).rowcount == 0
    assert unchanged(tx, before) == []


def test_the_rules_name_only_real_columns(tx: Conn) -> None:
    for rules in (LEARNER_INSERT, LEARNER_UPDATE):
        for relation, names in rules.items():
            assert names <= set(columns(tx, relation)), relation
    for relation, column_name in SECRET_COLUMNS:
        assert column_name in columns(tx, relation)
    assert set(relations(tx)) >= SECRET_RELATIONS | LEARNER_DELETE


@pytest.mark.parametrize(
    ("table", "column"), [(t, c) for t, cs in LEARNER_UPDATE.items() for c in sorted(cs)]
)
def test_a_learner_edits_its_own_rows_only(tx: Conn, world: World, table: str, column: str) -> None:
    before = digest(tx)
    as_app_user(tx, world.alice)
    statement = sql.SQL("UPDATE {} SET {} = {} WHERE user_id <> %s").format(
        sql.Identifier(table), sql.Identifier(column), sql.Identifier(column)
    )
    assert tx.execute(statement, [world.alice]).rowcount == 0
    assert unchanged(tx, before) == []


def test_a_learner_holds_no_other_privilege(tx: Conn) -> None:
    found = f.rows(
        tx,
        """
        SELECT c.relname, p.name
          FROM pg_class c
         CROSS JOIN unnest(ARRAY['REFERENCES', 'TRIGGER', 'TRUNCATE']) AS p(name)
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
           AND has_table_privilege('app_user', c.oid, p.name)
        UNION ALL
        SELECT 'schema public', 'CREATE' WHERE has_schema_privilege('app_user', 'public', 'CREATE')
        UNION ALL
        SELECT 'role ' || r.rolname, 'MEMBER' FROM pg_roles r
         WHERE r.rolname <> 'app_user' AND pg_has_role('app_user', r.oid, 'MEMBER')
        """,
    )
    assert found == []


@pytest.mark.parametrize(
    "view", ["mv_daily_user_activity", "mv_weekly_domain_progress", "mv_leaderboard"]
)
def test_a_learner_cannot_refresh_a_materialized_view(tx: Conn, world: World, view: str) -> None:
    as_app_user(tx, world.alice)
    assert refused(tx, sql.SQL("REFRESH MATERIALIZED VIEW {}").format(sql.Identifier(view)))
    assert refused(tx, "SELECT refresh_analytics_views()")


# --- the attacks of the issue, verbatim ---------------------------------------------------------

ATTACKS: dict[str, tuple[LiteralString, str]] = {
    # name: (statement with %(alice)s / %(bob)s, what it tries)
    "wipe_components": ("DELETE FROM learning_components", "cascade into every learner's rows"),
    "wipe_questions": ("DELETE FROM question_bank", "cascade into every learner's answers"),
    "wipe_assessments": ("DELETE FROM assessments", "cascade into every learner's attempts"),
    "wipe_achievements": ("DELETE FROM achievements", "cascade into every learner's awards"),
    "wipe_analytics": ("DELETE FROM component_analytics", "erase analytics"),
    "wipe_metrics": ("DELETE FROM performance_metrics", "erase metrics"),
    "rewrite_keys": ("UPDATE question_bank SET correct_answer = '{}'", "rewrite answer keys"),
    "lower_passing_score": ("UPDATE assessments SET passing_score = 0", "pass with nothing"),
    "promote_self": (
        "UPDATE users SET role = 'admin', account_status = 'active', email_verified = true,"
        " password_hash = 'x', deleted_at = NULL WHERE id = %(alice)s",
        "become an admin",
    ),
    "register_as_admin": (
        "INSERT INTO users (email, username, password_hash, role)"
        " VALUES ('m@x.test', 'mallory', 'x', 'admin')",
        "create an admin",
    ),
    "take_every_achievement": (
        "INSERT INTO user_achievements (user_id, achievement_id)"
        " SELECT %(alice)s, id FROM achievements",
        "award itself everything",
    ),
    "streak_999": (
        "INSERT INTO learning_streaks (user_id, current_streak, longest_streak)"
        " VALUES (%(alice)s, 999, 999) ON CONFLICT (user_id) DO UPDATE"
        " SET current_streak = 999, longest_streak = 999",
        "a streak of 999",
    ),
    "future_streak": (
        "SELECT update_learning_streak(%(alice)s, current_date + 30)",
        "count days not yet lived",
    ),
    "completed_attempt": (
        "INSERT INTO assessment_attempts (user_id, assessment_id, attempt_number, status,"
        " passed, score, percentage, completed_at)"
        " SELECT %(alice)s, id, 99, 'completed', true, 100, 100, now() FROM assessments",
        "a passed attempt without answering",
    ),
    "change_score": (
        "UPDATE assessment_attempts SET score = 100, percentage = 100, passed = true",
        "a better score",
    ),
    "grade_own_answers": (
        "UPDATE assessment_answers SET is_correct = true, points_earned = 100",
        "full marks",
    ),
    "forge_question_stats": (
        "SELECT update_question_stats(ARRAY(SELECT id FROM question_bank),"
        " ARRAY(SELECT false FROM question_bank), ARRAY(SELECT true FROM question_bank),"
        " ARRAY(SELECT 1 FROM question_bank))",
        "made-up question statistics",
    ),
    "refresh_views": ("SELECT refresh_analytics_views()", "refresh the views"),
    "overwrite_daily_analytics": (
        "INSERT INTO component_analytics (component_id, date, views)"
        " SELECT id, current_date, 1000000 FROM learning_components"
        " ON CONFLICT (component_id, date) DO UPDATE SET views = 1000000",
        "overwrite the platform's daily row",
    ),
    "read_answer_keys": ("SELECT correct_answer FROM question_bank", "read the keys"),
    "read_hashes": ("SELECT password_hash FROM users", "read its own hash"),
    "award_manual": (
        "SELECT check_and_award_achievement(%(alice)s, code) FROM achievements",
        "award itself the manual achievements",
    ),
    "set_progress_score": (
        "UPDATE user_progress SET best_score = 100, latest_score = 100, status = 'mastered',"
        " mastery_date = now(), completion_date = now()",
        "a score without an attempt",
    ),
    "own_goal_completed": (
        "UPDATE study_goals SET status = 'completed', current_value = target_value",
        "complete a goal without progress",
    ),
    "forge_session_duration": (
        "UPDATE learning_sessions SET duration_minutes = 100000, session_end = now() + '1 year'",
        "a year of study",
    ),
    "audit_erase": ("DELETE FROM audit_log", "erase the audit trail"),
    "audit_forge": (
        "INSERT INTO audit_log (table_name, action) VALUES ('users', 'update')",
        "forge the audit trail",
    ),
    "move_profile": (
        "UPDATE user_profiles SET user_id = %(bob)s WHERE user_id = %(alice)s",
        "take over bob's profile slot",
    ),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_the_attacks_of_the_issue_are_refused(tx: Conn, world: World, attack: str) -> None:
    statement, _why = ATTACKS[attack]
    before = digest(tx)
    as_app_user(tx, world.alice)
    with pytest.raises(psycopg.errors.InsufficientPrivilege), tx.transaction():
        tx.execute(statement, {"alice": world.alice, "bob": world.bob})
    assert unchanged(tx, before) == []


def test_the_same_attacks_through_the_library_are_refused(db: Target, conn: Conn) -> None:
    alice, _ = two_learners(conn)
    with Database(db, min_size=1, max_size=1) as database:
        for attack in ("promote_self", "wipe_components", "take_every_achievement"):
            statement, _ = ATTACKS[attack]
            with (
                pytest.raises(psycopg.errors.InsufficientPrivilege),
                database.as_user(alice.id) as q,
            ):
                q.conn.execute(statement, {"alice": alice.id, "bob": alice.id})
        with pytest.raises(Forbidden):
            database.register(
                email="mallory@network.test",
                username="mallory",
                password="correct horse battery",
                role="admin",
                rounds=4,
            )
    assert f.scalar(conn, "SELECT role FROM users WHERE id = %s", [alice.id]) == "student"
    assert f.scalar(conn, "SELECT count(*) FROM users WHERE username = 'mallory'") == 0


# --- functions ---------------------------------------------------------------------------------


def learner_functions(conn: Conn) -> list[dict[str, Any]]:
    """Every function of schema public app_user may execute (triggers aside)."""
    return f.rows(
        conn,
        "SELECT p.proname AS name, p.prosecdef AS definer, p.proconfig AS config,"
        " pg_get_function_identity_arguments(p.oid) AS args"
        "  FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace"
        "   AND has_function_privilege('app_user', p.oid, 'EXECUTE')"
        "   AND p.prorettype <> 'trigger'::regtype ORDER BY 1",
    )


def test_every_function_a_learner_can_run_is_attacked_here(tx: Conn) -> None:
    assert {r["name"] for r in learner_functions(tx)} == LEARNER_FUNCTIONS
    # The look-up that handed any hash to app_user is gone.
    assert f.scalar(tx, "SELECT to_regprocedure('find_login_candidate(text)')") is None


def test_every_other_function_is_refused_to_a_learner(tx: Conn, world: World) -> None:
    others = f.rows(
        tx,
        "SELECT p.oid::regprocedure::text AS signature, p.proname AS name,"
        " ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) AS t) AS types"
        "  FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace"
        "   AND NOT has_function_privilege('app_user', p.oid, 'EXECUTE')",
    )
    assert len(others) > 40  # the grading helpers, the reward logic, the admin's functions
    before = digest(tx)
    as_app_user(tx, world.alice)
    wrong = []
    for fn in others:
        call = sql.SQL("SELECT {}({})").format(
            sql.Identifier(fn["name"]),
            sql.SQL(", ").join(sql.SQL("NULL::" + t) for t in fn["types"]),
        )
        if not refused(tx, call):
            wrong.append(fn["signature"])
    assert wrong == []
    assert unchanged(tx, before) == []


def test_the_definer_functions_pin_search_path_and_take_no_user_argument(tx: Conn) -> None:
    for fn in f.rows(
        tx,
        "SELECT p.proname AS name, p.proconfig AS config,"
        " pg_get_function_identity_arguments(p.oid) AS args"
        "  FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef",
    ):
        assert any(c.startswith("search_path=") for c in fn["config"] or []), fn["name"]
        assert "user_id" not in fn["args"], fn["name"]  # the acting user is app.user_id


def call_as(conn: Conn, user: UUID, query: LiteralString, params: list[Any]) -> list[Any]:
    as_app_user(conn, user)
    return conn.execute(query, params).fetchall()


def test_read_functions_reveal_nothing_of_another_learner(tx: Conn, world: World) -> None:
    nobody = f.user(tx)
    as_app_user(tx, world.alice)
    for query in (
        "SELECT * FROM get_user_dashboard_summary(%s)",
        "SELECT calculate_overall_progress(%s)",
        "SELECT * FROM learner_objective_mastery(%s)",
        "SELECT * FROM learner_readiness(%s)",
        "SELECT * FROM learner_weakest_objectives(%s, 25)",
        "SELECT * FROM review_due_counts(%s)",
    ):
        assert tx.execute(query, [world.bob]).fetchall() == tx.execute(query, [nobody]).fetchall()
    assert f.scalar(tx, "SELECT app_current_user_id()") == world.alice
    tx.execute("RESET ROLE")
    assert (
        f.scalar(tx, "SELECT components_started FROM get_user_dashboard_summary(%s)", [world.bob])
        > 0
    )


FUNCTION_ATTACKS: dict[str, tuple[LiteralString, type[psycopg.Error] | None]] = {
    # name: (call with %(...)s, the error; None: no row)
    "login_candidate_while_acting": (
        "SELECT * FROM login_candidate(%(bob_email)s)",
        psycopg.errors.InsufficientPrivilege,
    ),
    "register_again": (
        "SELECT * FROM register_account('m@x.test', 'mallory',"
        " '$2b$04$' || repeat('a', 53), NULL, NULL, NULL)",
        psycopg.errors.InsufficientPrivilege,
    ),
    "record_progress_on_quiz_completed": (
        "SELECT * FROM record_progress(%(quiz_component)s, 'completed', 100, 0, NULL)",
        psycopg.errors.InvalidParameterValue,
    ),
    "record_progress_a_year": (
        "SELECT * FROM record_progress(%(lesson)s, 'in_progress', 10, 525600, NULL)",
        psycopg.errors.InvalidParameterValue,
    ),
    "record_progress_unpublished": (
        "SELECT * FROM record_progress(%(random)s, 'completed', 100, 0, NULL)",
        psycopg.errors.NoDataFound,
    ),
    "end_bobs_session": (
        "SELECT * FROM end_learning_session(%(bob_session)s, 5, true, '{}')",
        None,
    ),
    "abandon_bobs_goal": ("SELECT * FROM set_goal_status(%(bob_goal)s, 'abandoned')", None),
    "complete_own_goal": (
        "SELECT * FROM set_goal_status(%(alice_goal)s, 'completed')",
        psycopg.errors.InvalidParameterValue,
    ),
    "start_beyond_max_attempts": ("SELECT * FROM start_attempt(%(hidden)s)", None),
    "answer_in_bobs_attempt": (
        "SELECT * FROM save_answer(%(bob_open)s, %(tf)s, '{\"value\": true}', 1, false)",
        psycopg.errors.NoDataFound,
    ),
    "answer_after_submit": (
        "SELECT * FROM save_answer(%(alice_hidden_done)s, %(hidden_tf)s,"
        " '{\"value\": true}', 1, false)",
        None,
    ),
    "answer_a_foreign_question": (
        "SELECT * FROM save_answer(%(alice_open)s, %(hidden_tf)s, '{\"value\": true}', 1, false)",
        psycopg.errors.InvalidParameterValue,
    ),
    "negative_time": (
        "SELECT * FROM save_answer(%(alice_open)s, %(tf)s, '{\"value\": true}', -5, false)",
        psycopg.errors.InvalidParameterValue,
    ),
    "submit_bobs_attempt": (
        "SELECT * FROM submit_attempt(%(bob_open)s)",
        psycopg.errors.NoDataFound,
    ),
    "submit_twice": (
        "SELECT * FROM submit_attempt(%(alice_hidden_done)s)",
        psycopg.errors.ObjectNotInPrerequisiteState,
    ),
    "abandon_bobs_attempt": ("SELECT * FROM abandon_attempt(%(bob_open)s)", None),
    "review_bobs_attempt": ("SELECT * FROM review_attempt(%(bob_done)s)", None),
    "review_before_submit": ("SELECT * FROM review_attempt(%(alice_open)s)", None),
    "leaderboard_everyone": (
        "SELECT * FROM leaderboard('all_time', 1000000)",
        psycopg.errors.InvalidParameterValue,
    ),
    "review_a_card_never_made": (
        "SELECT * FROM answer_review(%(tf)s, '{\"value\": true}', 1)",
        psycopg.errors.NoDataFound,
    ),
    "report_bobs_attempt": ("SELECT * FROM attempt_objective_report(%(bob_done)s)", None),
    "report_before_submit": ("SELECT * FROM attempt_objective_report(%(alice_open)s)", None),
    "cohort_as_a_learner": (
        "SELECT * FROM cohort_readiness()",
        psycopg.errors.InsufficientPrivilege,
    ),
    "item_flags_as_a_learner": (
        "SELECT * FROM item_flags(10)",
        psycopg.errors.InsufficientPrivilege,
    ),
    "weakest_everywhere_as_a_learner": (
        "SELECT * FROM platform_weakest_objectives(5)",
        psycopg.errors.InsufficientPrivilege,
    ),
    "leaderboard_other_period": (
        "SELECT * FROM leaderboard('forever', 10)",
        psycopg.errors.InvalidParameterValue,
    ),
}


@pytest.mark.parametrize("attack", sorted(FUNCTION_ATTACKS))
def test_the_functions_refuse_forged_arguments(tx: Conn, world: World, attack: str) -> None:
    statement, error = FUNCTION_ATTACKS[attack]
    params = {
        "bob_email": world.bob_email,
        "quiz_component": world.course.quiz_component,
        "lesson": world.course.lesson,
        "random": uuid.uuid4(),
        "bob_session": world.bob_session,
        "bob_goal": world.bob_goal,
        "alice_goal": world.alice_goal,
        "hidden": world.hidden.assessment,
        "bob_open": world.bob_open,
        "bob_done": world.bob_done,
        "alice_open": world.alice_open,
        "alice_hidden_done": world.alice_hidden_done,
        "tf": world.course.questions["true_false"],
        "hidden_tf": world.hidden.questions["true_false"],
    }
    before = digest(tx)
    as_app_user(tx, world.alice)
    if error is None:
        assert tx.execute(statement, params).fetchall() == []
    else:
        with pytest.raises(error), tx.transaction():
            tx.execute(statement, params)
    assert unchanged(tx, before) == []


def test_question_data_in_order_gives_back_only_what_it_is_given(tx: Conn, world: World) -> None:
    as_app_user(tx, world.alice)
    data = {"options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]}
    shown = f.scalar(
        tx,
        "SELECT question_data_in_order(%s, %s)",
        [Jsonb(data), Jsonb({"options": ["b", "a", "c"], "choices": ["x"]})],
    )
    assert shown == {"options": [data["options"][1], data["options"][0]]}
    tx.execute("RESET ROLE")
    # Pure: not a definer, reads no table (immutable), so it can hand out nothing else.
    assert f.rows(
        tx,
        "SELECT prosecdef, provolatile FROM pg_proc"
        " WHERE oid = 'question_data_in_order(jsonb, jsonb)'::regprocedure",
    ) == [{"prosecdef": False, "provolatile": "i"}]


def test_review_shows_keys_only_where_the_assessment_allows(tx: Conn, world: World) -> None:
    as_app_user(tx, world.alice)
    hidden = f.rows(tx, "SELECT * FROM review_attempt(%s)", [world.alice_hidden_done])
    assert len(hidden) == 6
    assert all(r["correct_answer"] is None and r["explanation"] is None for r in hidden)
    set_user(tx, world.bob)
    shown = f.rows(tx, "SELECT * FROM review_attempt(%s)", [world.bob_done])
    assert len(shown) == 6 and all(r["correct_answer"] is not None for r in shown)


def test_an_attempt_cannot_be_started_for_an_inactive_or_missing_account(
    tx: Conn, world: World
) -> None:
    tx.execute("UPDATE users SET account_status = 'suspended' WHERE id = %s", [world.alice])
    as_app_user(tx, world.alice)
    with pytest.raises(psycopg.errors.InsufficientPrivilege), tx.transaction():
        tx.execute("SELECT * FROM start_attempt(%s)", [world.course.assessment])
    set_user(tx, uuid.uuid4())  # no such account
    with pytest.raises(psycopg.errors.InsufficientPrivilege), tx.transaction():
        tx.execute("SELECT * FROM submit_attempt(%s)", [world.alice_open])
    set_user(tx, "")  # anonymous
    with pytest.raises(psycopg.errors.InsufficientPrivilege), tx.transaction():
        tx.execute(
            "SELECT * FROM record_progress(%s, 'in_progress', 1, 1, NULL)", [world.course.lesson]
        )


# --- readonly ---------------------------------------------------------------------------------


def test_readonly_reads_no_password_hash(tx: Conn, world: World) -> None:
    set_role(tx, "readonly")
    assert f.scalar(tx, "SELECT count(*) FROM users") >= 2
    with pytest.raises(psycopg.errors.InsufficientPrivilege), tx.transaction():
        tx.execute("SELECT password_hash FROM users")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), tx.transaction():
        tx.execute("SELECT * FROM login_candidate(%s)", [world.bob_email])


@pytest.mark.parametrize("role", ["app_user", "readonly", "content_editor"])
def test_no_role_but_admin_attaches_a_trigger_to_anything(tx: Conn, role: str) -> None:
    """CREATE TRIGGER needs only the TRIGGER privilege on the relation, not ownership: a role
    that held it (a `GRANT ALL` on a view, say) could hang a function it may execute on every
    write of others. Each role tries on every table, partitioned table and view."""
    probe = sql.SQL(
        "CREATE TRIGGER privilege_probe AFTER INSERT ON {} FOR EACH STATEMENT"
        " EXECUTE FUNCTION update_updated_at_column()"
    )
    set_role(tx, role)
    attached = [
        rel
        for rel in relations(tx, ("r", "p", "v"))
        if not refused(tx, probe.format(sql.Identifier(rel)))
    ]
    tx.execute("RESET ROLE")
    assert attached == []


# --- the backend's login role -------------------------------------------------------------------


LOGIN_PASSWORD = "a long test password"


@pytest.fixture
def login_role(server: Server, conn: Conn) -> Iterator[str]:
    """A login role that is a member of app_user and nothing else, as README advises."""
    name = fresh_name("backend")
    # A password as well: a server with password authentication (the Docker image) needs one.
    conn.execute(
        sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE app_user").format(
            sql.Identifier(name), sql.Literal(LOGIN_PASSWORD)
        )
    )
    try:
        yield name
    finally:
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def test_reset_role_or_another_role_gives_the_login_role_nothing_more(
    db: Target, conn: Conn, login_role: str
) -> None:
    with conn.transaction():
        world = build_world(conn)
    target = replace(db, params={**db.params, "user": login_role, "password": LOGIN_PASSWORD})
    with connect(target) as backend:
        as_app_user(backend, world.alice)
        backend.execute("RESET ROLE")  # back to the login role: its own privileges only
        assert f.scalar(backend, "SELECT current_user") == login_role
        for statement in (
            "UPDATE users SET role = 'admin'",
            "SELECT correct_answer FROM question_bank",
            "DELETE FROM learning_components",
            "SET LOCAL ROLE admin",
            "SET LOCAL ROLE content_editor",
            "SET LOCAL session_replication_role = replica",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), backend.transaction():
                backend.execute(statement)
        # Turning row-level security off is an error, not a way around the policies.
        backend.execute("SET LOCAL row_security = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege), backend.transaction():
            backend.execute("SELECT count(*) FROM user_progress")
        backend.rollback()
    assert f.scalar(conn, "SELECT count(*) FROM users WHERE role = 'admin'") == 0


# --- login -------------------------------------------------------------------------------------


def test_a_failed_login_keeps_nothing_typed(db: Target, conn: Conn) -> None:
    secret = "hunter2-typed-in-the-wrong-field"
    with Database(db, min_size=1, max_size=1) as database:
        result = database.login(login=secret, password=secret)
    assert result.user is None
    logs = f.rows(
        conn,
        "SELECT metadata::text AS m, activity_description AS d FROM"
        " user_activity_logs WHERE activity_type = 'login_failed'",
    )
    assert len(logs) == 1 and secret not in logs[0]["m"] + (logs[0]["d"] or "")


# --- SECURITY DEFINER functions and the caller's search_path ----------------------------------

# Each SECURITY DEFINER function, called the way it succeeds: (role, acting user or None for
# anonymous, statement with %(...)s). The caller controls its search_path and may create temporary
# tables, which come first in any search_path that does not place pg_temp itself.
DEFINER_CALLS: dict[str, tuple[str, str | None, LiteralString]] = {
    "abandon_attempt": ("app_user", "alice", "SELECT * FROM abandon_attempt(%(alice_open)s)"),
    "answer_review": (
        "app_user",
        "alice",
        "SELECT is_correct, rating, state, correct_answer"
        " FROM answer_review(%(tf)s, '{\"value\": false}', 3)",
    ),
    "attempt_objective_report": (
        "app_user",
        "alice",
        "SELECT * FROM attempt_objective_report(%(alice_hidden_done)s)",
    ),
    "cohort_readiness": ("app_user", "teacher", "SELECT * FROM cohort_readiness()"),
    "item_flags": ("app_user", "teacher", "SELECT question_text, flags FROM item_flags(10)"),
    "platform_weakest_objectives": (
        "app_user",
        "teacher",
        "SELECT * FROM platform_weakest_objectives(5)",
    ),
    "end_learning_session": (
        "app_user",
        "alice",
        "SELECT * FROM end_learning_session(%(alice_session)s, 3, true, '{}')",
    ),
    "leaderboard": ("app_user", "alice", "SELECT * FROM leaderboard('all_time', 10)"),
    "login_candidate": ("app_user", None, "SELECT * FROM login_candidate(%(bob_email)s)"),
    "record_progress": (
        "app_user",
        "alice",
        "SELECT * FROM record_progress(%(lesson)s, 'in_progress', 10, 5, NULL)",
    ),
    "refresh_analytics_views": ("admin", None, "SELECT refresh_analytics_views()"),
    "register_account": (
        "app_user",
        "newcomer",
        "SELECT email FROM register_account('shadow@example.test', 'shadow',"
        " '$2b$04$' || repeat('a', 53), NULL, NULL, NULL)",
    ),
    "register_privileged_account": (
        "admin",
        "newcomer",
        "SELECT email FROM register_privileged_account('editor@example.test', 'editor',"
        " '$2b$04$' || repeat('a', 53), 'instructor', NULL, NULL, NULL)",
    ),
    "review_attempt": ("app_user", "alice", "SELECT * FROM review_attempt(%(alice_hidden_done)s)"),
    "save_answer": (
        "app_user",
        "alice",
        "SELECT attempt_id FROM save_answer(%(alice_open)s, %(tf)s, '{\"value\": true}', 1, false)",
    ),
    "set_goal_status": (
        "app_user",
        "alice",
        "SELECT status FROM set_goal_status(%(alice_goal)s, 'abandoned')",
    ),
    "start_attempt": ("app_user", "alice", "SELECT status FROM start_attempt(%(assessment)s)"),
    "submit_attempt": ("app_user", "alice", "SELECT status FROM submit_attempt(%(alice_open)s)"),
}


def public_digest(conn: Conn) -> dict[str, str]:
    """`digest`, naming schema public (a temporary table of the same name comes first)."""
    out: dict[str, str] = {}
    for table in relations(conn, ("r",)):
        query = sql.SQL(
            "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {} t"
        ).format(sql.Identifier("public", table))
        out[table] = value(conn, query)
    return out


def shadow_every_table(conn: Conn) -> None:
    """A temporary, empty table of the same name and columns beside every table of public,
    open to every role (what a learner may build for itself with TEMP)."""
    for table in relations(conn, ("r", "v", "m")):
        conn.execute(
            sql.SQL("CREATE TEMP TABLE {} (LIKE {})").format(
                sql.Identifier(table), sql.Identifier("public", table)
            )
        )
        conn.execute(sql.SQL("GRANT ALL ON {} TO PUBLIC").format(sql.Identifier(table)))


def definer_outcome(
    conn: Conn, function: str, params: dict[str, Any], users: dict[str, UUID]
) -> Any:
    """What a definer call returns (volatile values aside) and which public tables it changes."""
    role, who, statement = DEFINER_CALLS[function]
    before = public_digest(conn)
    set_role(conn, role)
    set_user(conn, "" if who is None else users[who])
    with conn.cursor() as cur:
        cur.execute(statement, params)
        found = cur.fetchall() if cur.description else []
        names = [d.name for d in cur.description or []]
    conn.execute("RESET ROLE")
    keep = [i for i, n in enumerate(names) if n not in VOLATILE_COLUMNS]
    shown = sorted(repr([row[i] for i in keep]) for row in found)
    after = public_digest(conn)
    return shown, sorted(t for t in before if before[t] != after[t])


VOLATILE_COLUMNS = {"id", "started_at", "created_at", "updated_at", "completed_at", "goal_ids"}


def test_every_definer_function_is_called_here(tx: Conn) -> None:
    found = f.rows(
        tx,
        "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND prosecdef",
    )
    assert {r["proname"] for r in found} == set(DEFINER_CALLS)


@pytest.mark.parametrize("function", sorted(DEFINER_CALLS))
def test_a_definer_function_ignores_tables_its_caller_shadows(
    tx: Conn, world: World, function: str
) -> None:
    """Called with a temporary copy of every table in place, a definer function does what it
    does without them: its pinned search_path names public before pg_temp."""
    params = {
        "alice_open": world.alice_open,
        "alice_hidden_done": world.alice_hidden_done,
        "alice_goal": world.alice_goal,
        "alice_session": f.session(tx, user_id=world.alice, component_id=world.course.lesson),
        "bob_email": world.bob_email,
        "lesson": world.course.lesson,
        "assessment": world.course.assessment,
        "tf": world.course.questions["true_false"],
    }
    # registration acts as the new id; the instructor reads the cohort
    users = {"alice": world.alice, "newcomer": uuid.uuid4(), "teacher": world.teacher}

    def fill() -> None:
        """The leaderboard reads its materialized view: give alice points and refresh it.
        A review needs a due card of alice's; the item flags need statistics."""
        if function == "answer_review":
            tx.execute(
                "INSERT INTO review_cards (user_id, question_id, due) VALUES (%s, %s, now())",
                [world.alice, world.course.questions["true_false"]],
            )
        if function == "item_flags":
            tx.execute("SELECT refresh_item_statistics(1)")
        if function == "leaderboard":
            tx.execute(
                "INSERT INTO user_settings (user_id) VALUES (%s) ON CONFLICT DO NOTHING",
                [world.alice],
            )
            f.user_achievement(tx, user_id=world.alice, achievement_id=f.achievement(tx, points=10))
            tx.execute("REFRESH MATERIALIZED VIEW mv_leaderboard")

    with tx.transaction(force_rollback=True):
        fill()
        expected = definer_outcome(tx, function, params, users)
    assert expected[1] or expected[0]  # the call did something to compare
    with tx.transaction(force_rollback=True):
        fill()
        shadow_every_table(tx)
        try:
            shadowed = definer_outcome(tx, function, params, users)
        except psycopg.Error as exc:
            pytest.fail(f"{function} with shadowing temporary tables: {exc}")
    assert shadowed == expected


# --- content_editor: the catalog and nothing else ----------------------------------------------

CATALOG = {"achievements", "assessments", "learning_components", "question_bank"}
# Kept by the database, never by an editor: ids after insert, timestamps, usage statistics.
EDITOR_NEVER_SETS = {
    "created_at",
    "updated_at",
    "view_count",
    "completion_count",
    "average_rating",
    "rating_count",
    "usage_count",
    "correct_count",
    "incorrect_count",
    "average_time_seconds",
}


def editor_may(write: str, relation: str, column: str) -> bool:
    """What content_editor may do to one column: read and write the catalog's editable
    columns (an id only when inserting), and append to the audit trail (its policy lets only
    the audit trigger do so)."""
    if relation == "audit_log":
        return write == "INSERT"
    if relation not in CATALOG:
        return False
    if write == "SELECT":
        return True
    return column not in EDITOR_NEVER_SETS and (column != "id" or write == "INSERT")


@pytest.mark.parametrize("write", ["SELECT", "INSERT", "UPDATE"])
def test_content_editor_reads_and_writes_the_catalog_columns_only(tx: Conn, write: str) -> None:
    wrong: list[str] = []
    before = digest(tx)
    set_role(tx, "content_editor")
    for relation in relations(tx):
        for column in columns(tx, relation):
            target = (sql.Identifier(relation), sql.Identifier(column))
            if write == "SELECT":
                statement = sql.SQL("SELECT {1} FROM {0} WHERE false").format(*target)
            elif write == "INSERT":
                statement = sql.SQL("INSERT INTO {} ({}) SELECT NULL WHERE false").format(*target)
            else:
                statement = sql.SQL("UPDATE {} SET {} = DEFAULT WHERE false").format(*target)
            may = editor_may(write, relation, column)
            if refused(tx, statement, view=is_view(tx, relation)) == may:
                wrong.append(f"{write} {relation}.{column}: {'refused' if may else 'allowed'}")
    assert wrong == []
    assert unchanged(tx, before) == []


def test_content_editor_deletes_from_the_catalog_only_and_truncates_nothing(tx: Conn) -> None:
    wrong: list[str] = []
    set_role(tx, "content_editor")
    for relation in relations(tx):
        view = is_view(tx, relation)
        name = sql.Identifier(relation)
        if refused(tx, sql.SQL("DELETE FROM {} WHERE false").format(name), view=view) == (
            relation in CATALOG
        ):
            wrong.append(f"DELETE {relation}")
        if not refused(tx, sql.SQL("TRUNCATE {} CASCADE").format(name), view=view):
            wrong.append(f"TRUNCATE {relation}")
    tx.execute("RESET ROLE")
    found = f.rows(
        tx,
        "SELECT c.relname, p.name FROM pg_class c"
        " CROSS JOIN unnest(ARRAY['REFERENCES', 'TRIGGER']) AS p(name)"
        " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'm')"
        "   AND has_table_privilege('content_editor', c.oid, p.name)",
    )
    assert wrong == [] and found == []
