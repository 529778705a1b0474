"""What admin, readonly and content_editor are meant to run, run as them.

test_least_privilege.py proves what each role may NOT do; this file proves the other half: every
function a role holds EXECUTE on (beyond what PUBLIC holds) is called here as that role, and does
its job. A grant taken away breaks a tool of that role (an admin console acting for a learner,
a readonly report, a content editor's catalog write); a grant added without a duty here fails
`test_every_function_a_role_holds_has_its_duty_here`, so widening a role is a reviewed change.

Reads are judged against the owner: the same call, with the same acting user, as the superuser
must give the same rows. Writes are judged by what they return and change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, LiteralString
from uuid import UUID

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.schema.test_least_privilege import World, act, build_world
from tests.schema.test_rls_and_roles import set_role, set_user
from tests.support import factories as f
from tests.support.factories import Conn

Check = Callable[[list[tuple[Any, ...]]], bool]
Setup = Callable[[Conn, World], None]


@dataclass(frozen=True)
class Duty:
    statement: LiteralString  # %(name)s parameters from `params`
    roles: tuple[str, ...]
    acting: str | None = None  # "alice", "teacher", "newcomer": app.user_id for the call
    check: Check | None = None  # None: the rows the superuser gets from the same call
    setup: Setup | None = None  # run first, as the superuser
    effect: LiteralString | None = None  # run after, as the superuser: its rows are checked


def one_row(rows: list[tuple[Any, ...]]) -> bool:
    return len(rows) == 1


def void(rows: list[tuple[Any, ...]]) -> bool:
    return rows == [("void",)]


def missed_true_false(conn: Conn, world: World) -> None:
    """alice misses the course's true/false question in a submitted attempt of an assessment
    that shows its answers afterwards: the submit makes her a review card for it."""
    conn.execute(
        "UPDATE assessments SET allow_review = true, show_answers_after = true WHERE id = %s",
        [world.course.assessment],
    )
    act(
        conn,
        world.alice,
        "SELECT id FROM save_answer(%s, %s, %s, 5, false)",
        [
            world.alice_open,
            world.course.questions["true_false"],
            Jsonb(world.course.wrong["true_false"]),
        ],
    )
    act(conn, world.alice, "SELECT id FROM submit_attempt(%s)", [world.alice_open])
    conn.execute(  # the learning step's minute has passed
        "UPDATE review_cards SET due = now() - interval '1 minute' WHERE user_id = %s",
        [world.alice],
    )


def statistics(conn: Conn, world: World) -> None:
    """Item statistics from the answers so far (every question with one response)."""
    conn.execute("SELECT refresh_item_statistics(1)")


def alice_earned_a_badge(conn: Conn, world: World) -> None:
    badge = f.achievement(conn, code="duty-badge", points=40)
    f.user_achievement(conn, user_id=world.alice, achievement_id=badge)


def alice_on_the_leaderboard(conn: Conn, world: World) -> None:
    alice_earned_a_badge(conn, world)
    conn.execute("REFRESH MATERIALIZED VIEW mv_leaderboard")


def a_badge(conn: Conn, world: World) -> None:
    """A badge for one passed assessment (alice's only submitted attempt has no answers)."""
    f.achievement(
        conn,
        code="duty-badge",
        points=40,
        criteria={"type": "assessments_passed", "count": 1},
    )


ADMIN_READONLY = ("admin", "readonly")

DUTIES: dict[str, Duty] = {
    # An admin console acting for a learner: the learner flows, as admin, app.user_id set.
    "abandon_attempt": Duty(
        "SELECT status FROM abandon_attempt(%(alice_open)s)",
        ("admin",),
        "alice",
        lambda rows: rows == [("abandoned",)],
    ),
    "answer_review": Duty(
        "SELECT rating, reps FROM answer_review(%(tf)s, %(right_answer)s, 4)",
        ("admin",),
        "alice",
        lambda rows: len(rows) == 1 and rows[0][1] == 2,  # the submit's review, then this one
        setup=missed_true_false,
    ),
    "attempt_objective_report": Duty(
        "SELECT * FROM attempt_objective_report(%(alice_hidden_done)s)", ("admin",), "alice"
    ),
    "end_learning_session": Duty(
        "SELECT user_id FROM end_learning_session(%(alice_session)s, 3, true, '{}')",
        ("admin",),
        "alice",
        one_row,
    ),
    "record_progress": Duty(
        "SELECT status FROM record_progress(%(lesson)s, 'in_progress', 10, 5, NULL)",
        ("admin",),
        "alice",
        lambda rows: rows == [("in_progress",)],
    ),
    "review_attempt": Duty(
        "SELECT question_id, correct_answer FROM review_attempt(%(alice_hidden_done)s)",
        ("admin",),
        "alice",
    ),
    "save_answer": Duty(
        "SELECT attempt_id FROM save_answer(%(alice_open)s, %(tf)s, %(right_answer)s, 1, false)",
        ("admin",),
        "alice",
        one_row,
    ),
    "set_goal_status": Duty(
        "SELECT status FROM set_goal_status(%(alice_goal)s, 'abandoned')",
        ("admin",),
        "alice",
        lambda rows: rows == [("abandoned",)],
    ),
    "start_attempt": Duty(
        "SELECT attempt_number FROM start_attempt(%(assessment)s)",
        ("admin",),
        "alice",
        lambda rows: rows == [(2,)],  # alice's open attempt is her first
    ),
    "submit_attempt": Duty(
        "SELECT status FROM submit_attempt(%(alice_open)s)",
        ("admin",),
        "alice",
        lambda rows: rows == [("completed",)],
    ),
    # Accounts: the sign-in look-up and the admin's registrations.
    "login_candidate": Duty(
        "SELECT id FROM login_candidate(%(alice_email)s)", ("admin",), None, one_row
    ),
    "register_account": Duty(
        "SELECT role FROM register_account('duty@example.test', 'duty',"
        " '$2b$04$' || repeat('a', 53), NULL, NULL, NULL)",
        ("admin",),
        "newcomer",
        lambda rows: rows == [("student",)],
    ),
    "register_privileged_account": Duty(
        "SELECT role FROM register_privileged_account('teach@example.test', 'teach',"
        " '$2b$04$' || repeat('a', 53), 'instructor', NULL, NULL, NULL)",
        ("admin",),
        "newcomer",
        lambda rows: rows == [("instructor",)],
    ),
    # Instructors' reads (the acting account is an instructor) and maintenance.
    "cohort_readiness": Duty("SELECT * FROM cohort_readiness()", ("admin",), "teacher"),
    "item_flags": Duty("SELECT * FROM item_flags(50)", ("admin",), "teacher", setup=statistics),
    "platform_weakest_objectives": Duty(
        "SELECT * FROM platform_weakest_objectives(5)", ("admin",), "teacher"
    ),
    "refresh_analytics_views": Duty(
        "SELECT pg_typeof(refresh_analytics_views())::text",
        ("admin",),
        None,
        lambda rows: rows == [(40,)],
        setup=alice_earned_a_badge,
        effect="SELECT points_all_time FROM mv_leaderboard WHERE user_id = %(alice)s",
    ),
    "refresh_item_statistics": Duty(
        "SELECT questions > 0 FROM refresh_item_statistics(1)",
        ("admin",),
        None,
        lambda rows: rows == [(True,)],
    ),
    # The reward logic and the counters, which admin may run by hand (repairs, backfills).
    "check_and_award_achievement": Duty(
        "SELECT check_and_award_achievement(%(alice)s, 'duty-badge')",
        ("admin",),
        None,
        lambda rows: rows == [(False,)],
        setup=a_badge,
    ),
    "update_learning_streak": Duty(
        "SELECT pg_typeof(update_learning_streak(%(alice)s, current_date))::text",
        ("admin",),
        None,
        lambda rows: rows == [(1,)],
        effect="SELECT current_streak FROM learning_streaks WHERE user_id = %(alice)s",
    ),
    "update_question_stats": Duty(
        "SELECT update_question_stats(ARRAY[%(tf)s]::uuid[], ARRAY[true], ARRAY[true], ARRAY[7])",
        ("admin",),
        None,
        lambda rows: rows == [(1,)],
    ),
    "question_data_in_order": Duty(
        'SELECT question_data_in_order(\'{"options": [{"id": "a"}, {"id": "b"}]}\','
        ' \'["b", "a"]\')',
        ("admin",),
    ),
    "fsrs_step": Duty(
        "SELECT * FROM fsrs_step(NULL, NULL, NULL, NULL, NULL, 3::smallint,"
        " '2026-01-01 00:00+00', 0.5)",
        ("admin",),
    ),
    "review_fuzz": Duty("SELECT review_fuzz(%(alice)s, %(tf)s, 3)", ("admin",)),
    "leaderboard": Duty(
        "SELECT * FROM leaderboard('all_time', 10)",
        ADMIN_READONLY,
        setup=alice_on_the_leaderboard,
    ),
    # A learner's standing, read by a report (readonly) or support (admin) for any learner.
    "learner_objective_mastery": Duty(
        "SELECT * FROM learner_objective_mastery(%(alice)s)", ADMIN_READONLY
    ),
    "learner_readiness": Duty("SELECT * FROM learner_readiness(%(alice)s)", ADMIN_READONLY),
    "learner_weakest_objectives": Duty(
        "SELECT * FROM learner_weakest_objectives(%(alice)s, 5)", ADMIN_READONLY
    ),
    "review_due_counts": Duty("SELECT * FROM review_due_counts(%(alice)s)", ADMIN_READONLY),
    "exam_current_objectives": Duty("SELECT * FROM exam_current_objectives()", ADMIN_READONLY),
    "mastery_estimate": Duty("SELECT * FROM mastery_estimate(3, 1, 10)", ADMIN_READONLY),
    "mastery_decay": Duty("SELECT mastery_decay(30)", ADMIN_READONLY),
    "mastery_decayed": Duty("SELECT mastery_decayed(4, 30)", ADMIN_READONLY),
    "mastery_digamma": Duty("SELECT mastery_digamma(2.5)", ADMIN_READONLY),
    "mastery_trigamma": Duty("SELECT mastery_trigamma(2.5)", ADMIN_READONLY),
    # The audit triggers' helpers, run as the role whose write is audited.
    "audit_diff": Duty(
        'SELECT * FROM audit_diff(\'{"a": 1, "b": 2}\', \'{"a": 1, "b": 3}\', ARRAY[\'c\'])',
        ("admin", "content_editor"),
    ),
    "audit_acting_as_owner": Duty(
        "SELECT audit_acting_as_owner('user_achievements')",
        ("admin",),
        None,
        lambda rows: rows == [(False,)],
    ),
}

ROLES_WITH_DUTIES = ("admin", "readonly", "content_editor")


def params(conn: Conn, world: World) -> dict[str, Any]:
    return {
        "alice": world.alice,
        "alice_open": world.alice_open,
        "alice_hidden_done": world.alice_hidden_done,
        "alice_goal": world.alice_goal,
        "alice_session": f.session(conn, user_id=world.alice, component_id=world.course.lesson),
        "alice_email": f.scalar(conn, "SELECT email FROM users WHERE id = %s", [world.alice]),
        "assessment": world.course.assessment,
        "lesson": world.course.lesson,
        "tf": world.course.questions["true_false"],
        "right_answer": Jsonb(world.course.keys["true_false"]),
    }


def run(conn: Conn, role: str | None, duty: Duty, users: dict[str, UUID], values: Any) -> Any:
    """The duty's rows as `role` (None: the superuser), acting as its user, in a savepoint."""
    with conn.transaction():
        if role is not None:
            set_role(conn, role)
        set_user(conn, "" if duty.acting is None else users[duty.acting])
        rows = conn.execute(duty.statement, values).fetchall()
        conn.execute("RESET ROLE")
    return rows


def test_every_function_a_role_holds_has_its_duty_here(tx: Conn) -> None:
    """The functions each role may execute beyond PUBLIC's (triggers aside) are exactly those
    its duties below call: a new grant needs a duty, a duty needs its grant."""
    for role in ROLES_WITH_DUTIES:
        held = {
            r["proname"]
            for r in f.rows(
                tx,
                "SELECT p.proname FROM pg_proc p"
                " WHERE p.pronamespace = 'public'::regnamespace"
                "   AND p.prorettype <> 'trigger'::regtype"
                "   AND has_function_privilege(%s, p.oid, 'EXECUTE')"
                "   AND NOT has_function_privilege('public', p.oid, 'EXECUTE')",
                [role],
            )
        }
        assert held == {name for name, d in DUTIES.items() if role in d.roles}, role


def run_duty(tx: Conn, function: str, role: str) -> None:
    """Run one duty as `role` in the test's transaction and check what it gives."""
    world = build_world(tx)
    users = {"alice": world.alice, "teacher": world.teacher, "newcomer": uuid.uuid4()}
    values = params(tx, world)
    duty = DUTIES[function]
    if duty.setup is not None:
        duty.setup(tx, world)
    if duty.check is None:
        expected = run(tx, None, duty, users, values)
        assert expected, f"{function}: the owner's call returns nothing to compare with"
        assert run(tx, role, duty, users, values) == expected
    else:
        try:
            rows = run(tx, role, duty, users, values)
        except psycopg.errors.InsufficientPrivilege as exc:
            pytest.fail(f"{role} may not run {function}: {exc}")
        if duty.effect is not None:
            assert void(rows), f"{function} as {role}: {rows!r}"
            rows = tx.execute(duty.effect, values).fetchall()
        assert duty.check(rows), f"{function} as {role}: {rows!r}"


ROLE_DUTIES = [(name, role) for name, duty in sorted(DUTIES.items()) for role in duty.roles]


@pytest.mark.parametrize(("function", "role"), ROLE_DUTIES)
def test_each_role_runs_its_duties(tx: Conn, function: str, role: str) -> None:
    run_duty(tx, function, role)


@pytest.mark.parametrize(("function", "role"), ROLE_DUTIES[::7])
def test_duties_hold_without_publics_rights_on_the_schema(
    tx: Conn, function: str, role: str
) -> None:
    """PostgreSQL's documented secure schema pattern revokes PUBLIC's rights on schema public;
    every role keeps its own USAGE, so its duties (a sample, one in seven) still run."""
    tx.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
    run_duty(tx, function, role)


@pytest.mark.parametrize("role", ["app_user", "readonly", "admin", "content_editor"])
def test_each_role_reaches_schema_public_by_its_own_grant(tx: Conn, role: str) -> None:
    """With PUBLIC's rights on schema public revoked, each role still resolves the tables it
    reads: every role counts the published catalog as alice would see it, and gets what the
    owner gets."""
    world = build_world(tx)
    tx.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
    set_role(tx, role)
    set_user(tx, world.alice)
    published = f.scalar(tx, "SELECT count(*) FROM learning_components WHERE is_published")
    tx.execute("RESET ROLE")
    assert published == f.scalar(tx, "SELECT count(*) FROM learning_components WHERE is_published")
