"""Roles and row-level security: app_user sees only its user's rows and writes only the few it
edits directly, readonly reads everything but password hashes and writes nothing, and neither
can reach the migration ledger. (tests/schema/test_least_privilege.py attacks every table,
column and function from a learner's transaction.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg import sql

from netplus_db.config import Target
from netplus_db.connection import connect
from tests.support import factories as f
from tests.support.factories import Conn
from tests.support.server import Server

ROLES = ("app_user", "readonly", "admin", "content_editor")

RLS_TABLES = (
    "user_profiles",
    "user_settings",
    "user_progress",
    "learning_sessions",
    "bookmarks",
    "assessment_attempts",
    "assessment_answers",
    "user_achievements",
    "learning_streaks",
    "study_goals",
    "user_activity_logs",
)
# The RLS tables a learner writes directly (column by column); the others only through
# SECURITY DEFINER functions (migration 0013).
LEARNER_INSERTS = ("learning_sessions", "bookmarks", "study_goals", "user_activity_logs")
# An editable column of each table whose own rows a learner may change, and a new value.
LEARNER_UPDATES = {
    "user_profiles": ("first_name", "Mallory"),
    "user_settings": ("theme", "dark"),
    "bookmarks": ("note", "moved"),
}
TABLES = tuple(sorted(f.BUILDERS))
VIEWS = (
    "v_user_learning_stats",
    "v_component_performance",
    "v_assessment_performance",
    "v_user_assessment_history",
    "v_question_performance",
)
MATERIALIZED_VIEWS = ("mv_daily_user_activity", "mv_weekly_domain_progress", "mv_leaderboard")
# Migration 0019: the blueprint, the learner's study state (RLS) and the item statistics.
STUDY_TABLES = ("objective_mastery", "review_cards", "review_log")
LEARNING_TABLES = (
    "exam_blueprints",
    "exam_domains",
    "exam_objectives",
    *STUDY_TABLES,
    "question_item_statistics",
    "question_option_statistics",
)
RELATIONS = TABLES + LEARNING_TABLES + VIEWS + MATERIALIZED_VIEWS
WRITE_FUNCTIONS = {
    "update_learning_streak": "SELECT update_learning_streak(%s, current_date)",
    "check_and_award_achievement": "SELECT check_and_award_achievement(%s, 'welcome')",
    "refresh_analytics_views": "SELECT refresh_analytics_views()",
    "update_question_stats": "SELECT update_question_stats('{}', '{}', '{}', '{}')",
}
# What each write statement does to a table; the privilege check comes before any row.
WRITES = {
    "INSERT": "INSERT INTO {} DEFAULT VALUES",
    "UPDATE": "UPDATE {} SET id = id",
    "DELETE": "DELETE FROM {}",
    "TRUNCATE": "TRUNCATE {}",
}


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def set_role(conn: Conn, role: str) -> None:
    conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))


def set_user(conn: Conn, user: UUID | str) -> None:
    conn.execute("SELECT set_config('app.user_id', %s, true)", [str(user)])


def as_app_user(conn: Conn, user: UUID | None) -> None:
    set_role(conn, "app_user")
    if user is not None:
        set_user(conn, user)


def visible_ids(conn: Conn, table: str) -> set[UUID]:
    query = sql.SQL("SELECT id FROM {}").format(sql.Identifier(table))
    return {row_id for (row_id,) in conn.execute(query).fetchall()}


@dataclass(frozen=True)
class Learner:
    """A user with one row in every table under row-level security."""

    id: UUID
    rows: dict[str, UUID]


def learner(conn: Conn) -> Learner:
    user = f.user(conn)
    attempt = f.attempt(conn, user_id=user)
    rows = {
        "user_profiles": f.profile(conn, user_id=user),
        "user_settings": f.settings(conn, user_id=user),
        "user_progress": f.progress(
            conn, user_id=user, status="in_progress", progress_percentage=50
        ),
        "learning_sessions": f.session(conn, user_id=user),
        "bookmarks": f.bookmark(conn, user_id=user),
        "assessment_attempts": attempt,
        "assessment_answers": f.answer(conn, attempt_id=attempt),
        "user_achievements": f.user_achievement(conn, user_id=user),
        "learning_streaks": f.streak(conn, user_id=user),
        "study_goals": f.goal(conn, user_id=user),
        "user_activity_logs": f.activity_log(conn, user_id=user),
    }
    assert sorted(rows) == sorted(RLS_TABLES)
    return Learner(user, rows)


def two_learners(conn: Conn) -> tuple[Learner, Learner]:
    alice, bob = learner(conn), learner(conn)
    f.activity_log(conn, user_id=None, activity_type="login_failed")  # anonymous
    return alice, bob


def row_for(conn: Conn, table: str, owner: UUID, attempt: UUID) -> dict[str, Any]:
    """Column values of a new row of `table` owned by `owner` (answers: through `attempt`)."""
    if table == "assessment_answers":
        return {"attempt_id": attempt, "question_id": f.question(conn)}
    values: dict[str, Any] = {"user_id": owner}
    if table in ("user_progress", "learning_sessions", "bookmarks"):
        values["component_id"] = f.component(conn)
    elif table == "assessment_attempts":
        values["assessment_id"] = f.assessment(conn)
    elif table == "user_achievements":
        values["achievement_id"] = f.achievement(conn)
    return values


def assert_rls_violation(exc: pytest.ExceptionInfo[psycopg.errors.InsufficientPrivilege]) -> None:
    assert "row-level security" in str(exc.value), str(exc.value)


# ---------------------------------------------------------------------------
# The roles themselves
# ---------------------------------------------------------------------------


def test_roles_are_nologin_without_password_superuser_or_bypassrls(tx: Conn) -> None:
    found = f.rows(
        tx,
        """
        SELECT rolname, rolsuper, rolbypassrls, rolcanlogin, rolcreatedb, rolcreaterole,
               rolpassword IS NULL AS no_password
          FROM pg_authid
         WHERE rolname = ANY (%s)
         ORDER BY rolname
        """,
        [list(ROLES)],
    )
    assert found == [
        {
            "rolname": role,
            "rolsuper": False,
            "rolbypassrls": False,
            "rolcanlogin": False,
            "rolcreatedb": False,
            "rolcreaterole": False,
            "no_password": True,
        }
        for role in sorted(ROLES)
    ]


def test_app_user_and_readonly_do_not_have_the_privileges_of_another_role(tx: Conn) -> None:
    for role in ("app_user", "readonly"):
        for other in ROLES:
            if other != role:
                assert not f.scalar(tx, "SELECT pg_has_role(%s, %s, 'USAGE')", [role, other])


def test_the_roles_own_nothing_in_the_database(tx: Conn) -> None:
    owned = f.rows(
        tx,
        """
        SELECT 'relation' AS kind, c.relname AS name FROM pg_class c
         WHERE pg_get_userbyid(c.relowner) = ANY (%(roles)s)
        UNION ALL
        SELECT 'function', p.proname FROM pg_proc p
         WHERE pg_get_userbyid(p.proowner) = ANY (%(roles)s)
        UNION ALL
        SELECT 'schema', n.nspname FROM pg_namespace n
         WHERE pg_get_userbyid(n.nspowner) = ANY (%(roles)s)
        UNION ALL
        SELECT 'type', t.typname FROM pg_type t
         WHERE pg_get_userbyid(t.typowner) = ANY (%(roles)s)
        """,
        {"roles": list(ROLES)},
    )
    assert owned == []


def test_the_user_owned_tables_and_only_those_force_row_level_security(tx: Conn) -> None:
    found = f.rows(
        tx,
        """
        SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class
         WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')
           AND NOT relispartition
        """,
    )
    # users since 0010, audit_log 0014, the study state 0019
    owned = set(RLS_TABLES) | {"users", "audit_log"} | set(STUDY_TABLES)
    assert {r["relname"] for r in found if r["relrowsecurity"]} == owned
    assert {r["relname"] for r in found if r["relforcerowsecurity"]} == owned


# ---------------------------------------------------------------------------
# app_user under row-level security
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("table", RLS_TABLES)
def test_app_user_sees_only_the_rows_of_app_user_id(tx: Conn, table: str) -> None:
    alice, bob = two_learners(tx)
    assert len(visible_ids(tx, table)) >= 2  # the superuser sees both

    as_app_user(tx, alice.id)
    assert visible_ids(tx, table) == {alice.rows[table]}
    set_user(tx, bob.id)
    assert visible_ids(tx, table) == {bob.rows[table]}
    set_user(tx, "")  # unset: nobody
    assert visible_ids(tx, table) == set()


@pytest.mark.parametrize("table", LEARNER_INSERTS)
def test_app_user_inserts_rows_for_its_own_user_only(tx: Conn, table: str) -> None:
    _, bob = two_learners(tx)
    carol = f.user(tx)
    carol_attempt = f.attempt(tx, user_id=carol)
    own = row_for(tx, table, carol, carol_attempt)
    foreign = row_for(tx, table, bob.id, bob.rows["assessment_attempts"])

    as_app_user(tx, carol)
    f.BUILDERS[table](tx, **own)
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as exc, tx.transaction():
        f.BUILDERS[table](tx, **foreign)
    assert_rls_violation(exc)
    carols = 1
    assert len(visible_ids(tx, table)) == carols
    tx.execute("RESET ROLE")
    anonymous = 1 if table == "user_activity_logs" else 0
    assert len(visible_ids(tx, table)) == carols + 2 + anonymous  # and nothing of bob's added


@pytest.mark.parametrize("table", sorted(LEARNER_UPDATES))
def test_app_user_cannot_change_other_users_rows_or_give_its_rows_away(
    tx: Conn, table: str
) -> None:
    alice, bob = two_learners(tx)
    carol = f.user(tx)
    before = f.fetch(tx, table, bob.rows[table])
    column, value = LEARNER_UPDATES[table]

    as_app_user(tx, alice.id)
    update = sql.SQL("UPDATE {} SET {} = %s WHERE id = %s").format(
        sql.Identifier(table), sql.Identifier(column)
    )
    assert tx.execute(update, [value, bob.rows[table]]).rowcount == 0
    if table == "bookmarks":  # the one table whose rows a learner deletes
        delete = sql.SQL("DELETE FROM {} WHERE id = %s").format(sql.Identifier(table))
        assert tx.execute(delete, [bob.rows[table]]).rowcount == 0
    # Moving its own row to another user: user_id is not a column it may set.
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as exc, tx.transaction():
        f.update(tx, table, alice.rows[table], {"user_id": carol})
    assert "permission denied" in str(exc.value)
    # Its own rows it may change.
    assert tx.execute(update, [value, alice.rows[table]]).rowcount == 1

    tx.execute("RESET ROLE")
    assert f.fetch(tx, table, bob.rows[table]) == before


# What a plain INSERT needs beyond the owner and the parent rows of `row_for`.
INSERT_EXTRAS: dict[str, dict[str, Any]] = {
    "study_goals": {
        "goal_type": "daily",
        "title": "Study",
        "target_value": 30,
        "metric": "minutes",
    },
    "user_activity_logs": {"activity_type": "login"},
}
# The own-rows policy of each table and the column naming the owner (assessment_answers:
# through its attempt).
OWNER_COLUMN = {table: "user_id" for table in RLS_TABLES} | {
    "assessment_answers": "attempt_id",
    "users": "id",
}


def plain_insert(conn: Conn, table: str, values: dict[str, Any]) -> int:
    """INSERT one row with no RETURNING (which would make the SELECT policy refuse first):
    only the policy's WITH CHECK can refuse it. The row count."""
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(table),
        sql.SQL(", ").join(sql.Identifier(c) for c in values),
        sql.SQL(", ").join(sql.Placeholder() for _ in values),
    )
    return conn.execute(query, list(values.values())).rowcount


def owned_by(conn: Conn, table: str, user: UUID) -> int:
    """Rows of `table` that belong to `user`, counted as the superuser."""
    column = OWNER_COLUMN[table]
    if table == "assessment_answers":
        return int(
            f.scalar(
                conn,
                "SELECT count(*) FROM assessment_answers a JOIN assessment_attempts t"
                " ON t.id = a.attempt_id WHERE t.user_id = %s",
                [user],
            )
        )
    query = sql.SQL("SELECT count(*) FROM {} WHERE {} = %s").format(
        sql.Identifier(table), sql.Identifier(column)
    )
    row = conn.execute(query, [user]).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("table", LEARNER_INSERTS)
def test_app_user_cannot_insert_a_row_of_another_user_even_without_returning(
    tx: Conn, table: str
) -> None:
    alice, bob = two_learners(tx)
    extras = INSERT_EXTRAS.get(table, {})
    own = row_for(tx, table, alice.id, alice.rows["assessment_attempts"]) | extras
    foreign = row_for(tx, table, bob.id, bob.rows["assessment_attempts"]) | extras
    bobs = owned_by(tx, table, bob.id)

    as_app_user(tx, alice.id)
    assert plain_insert(tx, table, own) == 1  # the same statement for itself passes
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as exc, tx.transaction():
        plain_insert(tx, table, foreign)
    assert_rls_violation(exc)
    tx.execute("RESET ROLE")
    assert owned_by(tx, table, bob.id) == bobs


@pytest.mark.parametrize("table", sorted((*RLS_TABLES, "users")))
def test_each_own_rows_policy_refuses_rows_of_another_user_whatever_the_grants(
    tx: Conn, table: str
) -> None:
    """Defence in depth: with INSERT and UPDATE granted outright (rolled back with the test), the
    table's own-rows policy alone keeps app_user from writing a row of another user: an INSERT
    without RETURNING, an UPDATE without WHERE that moves its rows to another owner."""
    alice, bob = two_learners(tx)
    name = sql.Identifier(table)
    tx.execute(sql.SQL("GRANT INSERT, UPDATE ON {} TO app_user").format(name))
    if table == "users":
        foreign: dict[str, Any] = {
            "email": "mallory@example.test",
            "username": "mallory",
            "password_hash": f.PASSWORD_HASH,
        }
        moved: Any = uuid4()
    else:
        foreign = row_for(tx, table, bob.id, bob.rows["assessment_attempts"])
        foreign |= INSERT_EXTRAS.get(table, {})
        moved = bob.rows["assessment_attempts"] if table == "assessment_answers" else bob.id
    before = {who: owned_by(tx, table, who) for who in (alice.id, bob.id)}

    as_app_user(tx, alice.id)
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as exc, tx.transaction():
        plain_insert(tx, table, foreign)
    assert_rls_violation(exc)
    move = sql.SQL("UPDATE {} SET {} = %s").format(name, sql.Identifier(OWNER_COLUMN[table]))
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as exc, tx.transaction():
        tx.execute(move, [moved])
    assert_rls_violation(exc)
    tx.execute("RESET ROLE")
    assert {who: owned_by(tx, table, who) for who in (alice.id, bob.id)} == before


def test_app_user_may_log_anonymous_events_but_not_read_them(tx: Conn) -> None:
    alice, _ = two_learners(tx)
    log = "INSERT INTO user_activity_logs (user_id, activity_type) VALUES (NULL, %s)"
    as_app_user(tx, alice.id)
    tx.execute(log, ["password_reset_requested"])
    assert visible_ids(tx, "user_activity_logs") == {alice.rows["user_activity_logs"]}
    set_user(tx, "")
    tx.execute(log, ["login_failed"])
    assert visible_ids(tx, "user_activity_logs") == set()
    # Not even through RETURNING: the new row must pass a SELECT policy, and none matches.
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as exc, tx.transaction():
        tx.execute(log + " RETURNING id", ["login_failed"])
    assert_rls_violation(exc)
    tx.execute("RESET ROLE")
    assert f.scalar(tx, "SELECT count(*) FROM user_activity_logs WHERE user_id IS NULL") == 3


def test_app_user_sees_only_its_own_account_and_login_finds_any_only_anonymously(
    tx: Conn,
) -> None:
    alice, bob = two_learners(tx)
    bob_email = f.scalar(tx, "SELECT email FROM users WHERE id = %s", [bob.id])
    as_app_user(tx, None)
    assert visible_ids(tx, "users") == set()
    found = f.rows(tx, "SELECT id, password_hash FROM login_candidate(%s)", [bob_email.upper()])
    assert [r["id"] for r in found] == [bob.id] and found[0]["password_hash"]
    set_user(tx, alice.id)
    assert visible_ids(tx, "users") == {alice.id}
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as exc, tx.transaction():
        tx.execute("SELECT * FROM login_candidate(%s)", [bob_email])
    assert "only before a user is identified" in str(exc.value)
    for statement in (
        "UPDATE users SET role = 'admin' WHERE id = %s",
        "DELETE FROM users WHERE id = %s",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), tx.transaction():
            tx.execute(statement, [bob.id])
    tx.execute("RESET ROLE")
    assert f.scalar(tx, "SELECT role FROM users WHERE id = %s", [bob.id]) == "student"


def test_an_app_user_id_that_is_not_a_uuid_is_an_error(tx: Conn) -> None:
    as_app_user(tx, None)
    set_user(tx, "alice")
    with pytest.raises(psycopg.errors.InvalidTextRepresentation), tx.transaction():
        visible_ids(tx, "user_progress")


def test_app_user_id_and_role_do_not_outlive_the_transaction(db: Target, conn: Conn) -> None:
    alice, _ = two_learners(conn)
    superuser = f.scalar(conn, "SELECT current_user")
    with connect(db) as session:
        # Never set in this session: NULL, and app_user sees nothing.
        assert f.scalar(session, "SELECT current_setting('app.user_id', true)") is None
        as_app_user(session, None)
        assert {t: visible_ids(session, t) for t in RLS_TABLES} == {t: set() for t in RLS_TABLES}
        session.rollback()

        for end in (session.commit, session.rollback):
            as_app_user(session, alice.id)
            assert visible_ids(session, "user_progress") == {alice.rows["user_progress"]}
            end()
            # The next transaction on the same connection starts clean.
            assert f.scalar(session, "SELECT current_user") == superuser
            assert f.scalar(session, "SELECT current_setting('app.user_id', true)") == ""
            assert f.scalar(session, "SELECT app_current_user_id()") is None
            set_role(session, "app_user")
            assert {t: visible_ids(session, t) for t in RLS_TABLES} == {
                t: set() for t in RLS_TABLES
            }
            session.rollback()


@pytest.mark.parametrize("function", sorted(WRITE_FUNCTIONS))
def test_only_admin_runs_the_functions_that_take_any_user(tx: Conn, function: str) -> None:
    alice, _ = two_learners(tx)
    f.achievement(tx, code="welcome")
    tx.execute("DELETE FROM learning_streaks")
    query = WRITE_FUNCTIONS[function]
    params = [] if "%s" not in query else [alice.id]
    as_app_user(tx, alice.id)
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as exc, tx.transaction():
        tx.execute(query, params)
    assert f"permission denied for function {function}" in str(exc.value)
    set_role(tx, "admin")
    tx.execute(query, params)
    tx.execute("RESET ROLE")
    if function == "update_learning_streak":
        assert f.scalar(tx, "SELECT current_streak FROM learning_streaks") == 1
    if function == "refresh_analytics_views":  # as the view owner: every user's sessions
        assert f.scalar(tx, "SELECT sum(total_sessions) FROM mv_daily_user_activity") == 2


# ---------------------------------------------------------------------------
# Views under app_user (PostgreSQL 15+: security_invoker)
# ---------------------------------------------------------------------------


def test_the_views_are_security_invoker_on_15_and_later(tx: Conn, server: Server) -> None:
    if server.major < 15:
        pytest.skip("security_invoker views need PostgreSQL 15")
    options = dict(
        tx.execute(
            "SELECT relname, reloptions FROM pg_class"
            " WHERE relnamespace = 'public'::regnamespace AND relkind = 'v'"
        ).fetchall()
    )
    assert options == {view: ["security_invoker=true"] for view in VIEWS}


def test_the_views_show_app_user_no_other_users_data(tx: Conn, server: Server) -> None:
    if server.major < 15:
        pytest.skip("security_invoker views need PostgreSQL 15")
    alice, bob = two_learners(tx)
    for who in (alice, bob):
        tx.execute(
            "UPDATE user_progress SET status = 'completed', completion_date = now(),"
            " time_spent_minutes = 30 WHERE id = %s",
            [who.rows["user_progress"]],
        )
    as_app_user(tx, alice.id)
    totals = f.rows(
        tx,
        "SELECT sum(components_completed) AS completed, sum(total_time_minutes) AS minutes,"
        " sum(achievements_earned) AS achievements FROM v_user_learning_stats",
    )
    assert totals == [{"completed": 1, "minutes": 30, "achievements": 1}]
    history = f.rows(tx, "SELECT attempt_id, user_id FROM v_user_assessment_history")
    assert history == [{"attempt_id": alice.rows["assessment_attempts"], "user_id": alice.id}]
    performance = f.rows(tx, "SELECT sum(unique_users) AS users FROM v_component_performance")
    assert performance == [{"users": 1}]


def test_v_user_learning_stats_shows_app_user_only_its_own_row(tx: Conn, server: Server) -> None:
    if server.major < 15:
        pytest.skip("security_invoker views need PostgreSQL 15")
    alice, _ = two_learners(tx)
    as_app_user(tx, alice.id)
    users = [r["user_id"] for r in f.rows(tx, "SELECT user_id FROM v_user_learning_stats")]
    assert users == [alice.id]


# ---------------------------------------------------------------------------
# readonly
# ---------------------------------------------------------------------------


def test_the_relations_tested_are_all_of_them(tx: Conn) -> None:
    found = {
        name
        for (name,) in tx.execute(
            "SELECT relname FROM pg_class"
            " WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'v', 'm')"
            " AND NOT relispartition"
        ).fetchall()
    }
    assert found == set(RELATIONS)


def populate_everything(conn: Conn) -> None:
    alice, _ = two_learners(conn)
    f.component_day(conn)
    f.metric(conn)
    conn.execute("SELECT refresh_analytics_views()")
    # A submitted attempt with a missed multiple-choice question: mastery, a review card and
    # its log; then the item statistics.
    question = f.question(
        conn,
        question_data={"options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]},
        correct_answer={"option": "a"},
        comptia_objectives=["1.1"],
    )
    attempt = f.attempt(conn, user_id=alice.id, assessment_id=f.assessment(conn))
    f.answer(
        conn,
        attempt_id=attempt,
        question_id=question,
        user_answer={"option": "b"},
        is_correct=False,
        points_earned=0,
    )
    f.update(conn, "assessment_attempts", attempt, {"status": "completed"})
    conn.execute("SELECT refresh_item_statistics(1)")


@pytest.mark.parametrize("relation", RELATIONS)
def test_readonly_reads_every_row_of_every_relation(tx: Conn, relation: str) -> None:
    populate_everything(tx)
    expected = f.count(tx, relation)
    assert expected > 0
    set_role(tx, "readonly")
    assert f.count(tx, relation) == expected


@pytest.mark.parametrize("write", sorted(WRITES))
@pytest.mark.parametrize("table", TABLES)
def test_readonly_cannot_write_any_table(tx: Conn, table: str, write: str) -> None:
    set_role(tx, "readonly")
    statement = sql.SQL(WRITES[write]).format(sql.Identifier(table))
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as exc, tx.transaction():
        tx.execute(statement)
    assert "permission denied" in str(exc.value)


@pytest.mark.parametrize("view", MATERIALIZED_VIEWS)
def test_readonly_cannot_refresh_a_materialized_view(tx: Conn, view: str) -> None:
    set_role(tx, "readonly")
    statement = sql.SQL("REFRESH MATERIALIZED VIEW {}").format(sql.Identifier(view))
    with pytest.raises(psycopg.errors.InsufficientPrivilege), tx.transaction():
        tx.execute(statement)


@pytest.mark.parametrize("function", sorted(WRITE_FUNCTIONS))
def test_readonly_cannot_execute_the_write_functions(tx: Conn, function: str) -> None:
    user = f.user(tx)
    f.achievement(tx, code="welcome")
    query = WRITE_FUNCTIONS[function]
    params = [] if "%s" not in query else [user]
    set_role(tx, "readonly")
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as exc, tx.transaction():
        tx.execute(query, params)
    assert f"permission denied for function {function}" in str(exc.value)


def test_readonly_can_run_the_read_functions_over_all_rows(tx: Conn) -> None:
    alice, _ = two_learners(tx)
    expected = f.rows(tx, "SELECT * FROM get_user_dashboard_summary(%s)", [alice.id])
    assert expected[0]["overall_progress"] > 0
    set_role(tx, "readonly")
    summary = f.rows(tx, "SELECT * FROM get_user_dashboard_summary(%s)", [alice.id])
    assert summary == expected
    assert (summary[0]["components_started"], summary[0]["achievements_count"]) == (1, 1)
    progress = f.scalar(tx, "SELECT calculate_overall_progress(%s)", [alice.id])
    assert progress == expected[0]["overall_progress"]


@pytest.mark.parametrize("relation", RELATIONS)
def test_admin_reads_every_row_of_every_relation(tx: Conn, relation: str) -> None:
    populate_everything(tx)
    expected = f.count(tx, relation)
    assert expected > 0
    set_role(tx, "admin")
    assert f.count(tx, relation) == expected


def test_admin_sees_every_row_of_the_rls_tables(tx: Conn) -> None:
    two_learners(tx)
    expected = {table: f.count(tx, table) for table in RLS_TABLES}
    set_role(tx, "admin")
    assert {table: f.count(tx, table) for table in RLS_TABLES} == expected


# ---------------------------------------------------------------------------
# The migration ledger
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["app_user", "readonly"])
def test_the_migration_ledger_is_out_of_reach(tx: Conn, role: str) -> None:
    assert f.scalar(tx, "SELECT count(*) FROM netplus.schema_migrations") > 0
    assert not f.scalar(tx, "SELECT has_schema_privilege(%s, 'netplus', 'USAGE')", [role])
    set_role(tx, role)
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as exc, tx.transaction():
        tx.execute("SELECT * FROM netplus.schema_migrations")
    assert "permission denied for schema netplus" in str(exc.value)
