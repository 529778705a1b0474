"""The functions of 0007 and the views of 0008 on small data sets, including concurrent calls."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID, uuid4

import psycopg
import pytest

from netplus_db.config import Target
from netplus_db.connection import connect
from tests.support import factories as f
from tests.support.factories import Conn

T = TypeVar("T")

D = date(2024, 5, 6)  # a Monday
NOW = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
SECURITY = "Network Security"


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def record(conn: Conn, user: UUID, day: date | None) -> None:
    conn.execute("SELECT update_learning_streak(%s, %s)", [user, day])


def streak_of(conn: Conn, user: UUID) -> dict[str, Any]:
    found = f.rows(conn, "SELECT * FROM learning_streaks WHERE user_id = %s", [user])
    assert len(found) == 1
    return found[0]


def award(conn: Conn, user: UUID, code: str) -> bool:
    result = f.scalar(conn, "SELECT check_and_award_achievement(%s, %s)", [user, code])
    assert isinstance(result, bool)
    return result


def awards(conn: Conn, user: UUID) -> list[dict[str, Any]]:
    return f.rows(conn, "SELECT * FROM user_achievements WHERE user_id = %s", [user])


def finish(
    conn: Conn,
    user: UUID,
    status: str = "completed",
    on: dict[str, Any] | None = None,
    **progress: Any,
) -> UUID:
    """A new component (with the columns `on`) and the user's progress on it with this status;
    the milestone dates that the status requires are filled."""
    dates: dict[str, Any] = {}
    if status in ("completed", "mastered"):
        dates["completion_date"] = NOW
    if status == "mastered":
        dates["mastery_date"] = NOW
    component = f.component(conn, **(on or {}))
    return f.progress(
        conn, user_id=user, component_id=component, status=status, **dates, **progress
    )


def wait_until_blocked(monitor: Conn, pid: int, pending: Future[Any]) -> None:
    """Wait until backend `pid` waits for a lock held by another session."""
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while datetime.now(UTC) < deadline:
        if pending.done():
            pending.result()  # raises if the call failed
            pytest.fail("the second call finished without waiting for the first transaction")
        if f.scalar(monitor, "SELECT cardinality(pg_blocking_pids(%s)) > 0", [pid]):
            return
        monitor.execute("SELECT pg_sleep(0.01)")
    pytest.fail("the second call never blocked on the first transaction")


def overlapped(db: Target, monitor: Conn, call: Callable[[Conn], T]) -> tuple[T, T]:
    """Run `call` in two transactions that overlap: the first has called and is still open when
    the second calls (in a thread, where it must block); then the first commits, the second
    finishes and commits. Returns both results."""
    # Exit order on failure: close `first` (releasing its locks), join the thread, then `second`.
    with (
        connect(db) as second,
        ThreadPoolExecutor(max_workers=1) as pool,
        connect(db) as first,
    ):
        second.execute("SET lock_timeout = '20s'")
        second.commit()
        first_result = call(first)
        pending = pool.submit(call, second)
        wait_until_blocked(monitor, second.info.backend_pid, pending)
        first.commit()
        second_result = pending.result(timeout=20)
        second.commit()
    return first_result, second_result


# ---------------------------------------------------------------------------
# update_learning_streak
# ---------------------------------------------------------------------------


def test_first_activity_initialises_the_streak(tx: Conn) -> None:
    user = f.user(tx)
    record(tx, user, D)
    row = streak_of(tx, user)
    assert row["current_streak"] == 1
    assert row["longest_streak"] == 1
    assert row["streak_start_date"] == D
    assert row["last_activity_date"] == D
    assert row["total_active_days"] == 1
    assert row["streak_frozen_days"] == 0
    assert row["streak_history"] == []


def test_first_activity_on_a_row_created_without_activity(tx: Conn) -> None:
    user = f.user(tx)
    f.streak(tx, user_id=user, streak_frozen_days=2)  # e.g. created at registration
    record(tx, user, D)
    row = streak_of(tx, user)
    assert (row["current_streak"], row["longest_streak"], row["total_active_days"]) == (1, 1, 1)
    assert row["streak_start_date"] == row["last_activity_date"] == D
    assert row["streak_frozen_days"] == 2


def test_the_date_defaults_to_today(tx: Conn) -> None:
    user = f.user(tx)
    other = f.user(tx)
    tx.execute("SELECT update_learning_streak(%s)", [user])
    record(tx, other, None)
    today = f.scalar(tx, "SELECT current_date")
    assert streak_of(tx, user)["last_activity_date"] == today
    assert streak_of(tx, other)["last_activity_date"] == today


def test_the_same_day_changes_nothing(tx: Conn) -> None:
    user = f.user(tx)
    record(tx, user, D)
    before = streak_of(tx, user)
    record(tx, user, D)
    record(tx, user, D)
    assert streak_of(tx, user) == before


def test_consecutive_days_increment_the_streak_and_the_longest(tx: Conn) -> None:
    user = f.user(tx)
    for offset in range(4):
        record(tx, user, D + timedelta(days=offset))
    row = streak_of(tx, user)
    assert (row["current_streak"], row["longest_streak"], row["total_active_days"]) == (4, 4, 4)
    assert row["streak_start_date"] == D
    assert row["last_activity_date"] == D + timedelta(days=3)
    assert row["streak_history"] == []


def test_the_next_day_keeps_a_longer_longest_streak(tx: Conn) -> None:
    user = f.user(tx)
    f.streak(
        tx,
        user_id=user,
        current_streak=2,
        longest_streak=9,
        last_activity_date=D,
        streak_start_date=D - timedelta(days=1),
        total_active_days=20,
    )
    record(tx, user, D + timedelta(days=1))
    row = streak_of(tx, user)
    assert (row["current_streak"], row["longest_streak"], row["total_active_days"]) == (3, 9, 21)


def test_a_gap_resets_to_one_and_appends_the_finished_streak_to_the_history(tx: Conn) -> None:
    user = f.user(tx)
    for offset in (0, 1, 2):
        record(tx, user, D + timedelta(days=offset))
    restart = D + timedelta(days=5)  # two days missed
    record(tx, user, restart)
    row = streak_of(tx, user)
    assert (row["current_streak"], row["longest_streak"], row["total_active_days"]) == (1, 3, 4)
    assert row["streak_start_date"] == row["last_activity_date"] == restart
    first = {"start": D.isoformat(), "end": (D + timedelta(days=2)).isoformat(), "length": 3}
    assert row["streak_history"] == [first]

    # A second break appends after the first.
    record(tx, user, restart + timedelta(days=1))
    later = restart + timedelta(days=10)
    record(tx, user, later)
    row = streak_of(tx, user)
    second = {
        "start": restart.isoformat(),
        "end": (restart + timedelta(days=1)).isoformat(),
        "length": 2,
    }
    assert row["streak_history"] == [first, second]
    assert (row["current_streak"], row["longest_streak"], row["total_active_days"]) == (1, 3, 6)


def test_frozen_days_bridge_a_gap_and_are_consumed(tx: Conn) -> None:
    user = f.user(tx)
    record(tx, user, D)
    record(tx, user, D + timedelta(days=1))
    tx.execute("UPDATE learning_streaks SET streak_frozen_days = 3 WHERE user_id = %s", [user])
    record(tx, user, D + timedelta(days=4))  # days 2 and 3 missed: two frozen days spent
    row = streak_of(tx, user)
    assert (row["current_streak"], row["longest_streak"], row["total_active_days"]) == (3, 3, 3)
    assert row["streak_frozen_days"] == 1
    assert row["streak_start_date"] == D
    assert row["streak_history"] == []

    record(tx, user, D + timedelta(days=5))  # consecutive: no frozen day spent
    assert streak_of(tx, user)["streak_frozen_days"] == 1

    record(tx, user, D + timedelta(days=8))  # two missed, one frozen day: the streak breaks
    row = streak_of(tx, user)
    assert (row["current_streak"], row["longest_streak"], row["total_active_days"]) == (1, 4, 5)
    assert row["streak_frozen_days"] == 1
    end = (D + timedelta(days=5)).isoformat()
    assert row["streak_history"] == [{"start": D.isoformat(), "end": end, "length": 4}]


def test_an_earlier_date_changes_nothing(tx: Conn) -> None:
    user = f.user(tx)
    record(tx, user, D)
    record(tx, user, D + timedelta(days=1))
    before = streak_of(tx, user)
    record(tx, user, D - timedelta(days=7))
    record(tx, user, D)
    assert streak_of(tx, user) == before


@pytest.mark.parametrize("existing_row", [False, True], ids=["first-activity", "next-day"])
def test_concurrent_calls_for_the_same_user_and_day_count_the_day_once(
    db: Target, conn: Conn, existing_row: bool
) -> None:
    user = f.user(conn)
    if existing_row:
        record(conn, user, D - timedelta(days=1))

    def call(connection: Conn) -> None:
        record(connection, user, D)

    overlapped(db, conn, call)
    row = streak_of(conn, user)
    expected = 2 if existing_row else 1
    assert row["total_active_days"] == expected
    assert row["current_streak"] == expected
    assert row["last_activity_date"] == D


# ---------------------------------------------------------------------------
# check_and_award_achievement
# ---------------------------------------------------------------------------

Setup = Callable[[Conn, UUID], Any]


@dataclass(frozen=True)
class Criteria:
    """Achievement criteria; `unmet` builds data that falls just short, `met` completes it."""

    label: str
    criteria: dict[str, Any]
    unmet: Setup
    met: Setup


def _others_complete_a_lot(conn: Conn, user: UUID) -> None:
    someone = f.user(conn)
    for _ in range(3):
        finish(conn, someone)
        f.attempt(conn, user_id=someone, status="completed", passed=True, percentage=100)


def _completed_unmet(conn: Conn, user: UUID) -> None:
    _others_complete_a_lot(conn, user)
    finish(conn, user)
    finish(conn, user, status="in_progress")
    finish(conn, user, status="not_started")


def _set_streak(**values: Any) -> Setup:
    def setup(conn: Conn, user: UUID) -> None:
        if f.scalar(conn, "SELECT count(*) FROM learning_streaks WHERE user_id = %s", [user]):
            conn.execute(
                "UPDATE learning_streaks SET current_streak = %s, longest_streak = %s,"
                " total_active_days = %s WHERE user_id = %s",
                [values["current"], values["longest"], values["total"], user],
            )
        else:
            f.streak(
                conn,
                user_id=user,
                current_streak=values["current"],
                longest_streak=values["longest"],
                total_active_days=values["total"],
            )

    return setup


def _passed_unmet(conn: Conn, user: UUID) -> None:
    _others_complete_a_lot(conn, user)
    twice = f.assessment(conn, slug="passed-twice")
    for number in (1, 2):  # two passes of the same assessment count once
        f.attempt(
            conn,
            user_id=user,
            assessment_id=twice,
            attempt_number=number,
            status="completed",
            passed=True,
        )
    pending = f.assessment(conn, slug="pending")
    f.attempt(conn, user_id=user, assessment_id=pending, status="in_progress", passed=True)
    failed = f.assessment(conn, slug="failed")
    f.attempt(conn, user_id=user, assessment_id=failed, status="completed", passed=False)


def _passed_met(conn: Conn, user: UUID) -> None:
    pending = f.scalar(conn, "SELECT id FROM assessments WHERE slug = 'pending'")
    f.attempt(
        conn,
        user_id=user,
        assessment_id=pending,
        attempt_number=2,
        status="completed",
        passed=True,
    )


def _perfect_unmet(conn: Conn, user: UUID) -> None:
    _others_complete_a_lot(conn, user)
    f.attempt(conn, user_id=user, status="completed", percentage=Decimal("99.99"), passed=True)
    f.attempt(conn, user_id=user, status="in_progress", percentage=100)
    f.attempt(conn, user_id=user, status="timed_out", percentage=100)


def _minutes(first: int, second: int) -> Setup:
    def setup(conn: Conn, user: UUID) -> None:
        conn.execute("DELETE FROM user_progress WHERE user_id = %s", [user])
        f.progress(conn, user_id=user, time_spent_minutes=first)
        f.progress(conn, user_id=user, time_spent_minutes=second)

    return setup


CRITERIA = [
    Criteria(
        "components_completed",
        {"type": "components_completed", "count": 2},
        _completed_unmet,
        lambda conn, user: finish(conn, user, status="mastered"),
    ),
    Criteria(
        "components_completed-domain",
        {"type": "components_completed", "count": 1, "domain": SECURITY},
        lambda conn, user: finish(conn, user),
        lambda conn, user: finish(conn, user, on={"domain": SECURITY}),
    ),
    Criteria(
        "components_completed-component_type",
        {"type": "components_completed", "count": 1, "component_type": "lab"},
        lambda conn, user: finish(conn, user, on={"component_type": "lesson"}),
        lambda conn, user: finish(conn, user, on={"component_type": "lab"}),
    ),
    Criteria(
        "components_mastered",
        {"type": "components_mastered", "count": 1},
        lambda conn, user: finish(conn, user),
        lambda conn, user: finish(conn, user, status="mastered"),
    ),
    Criteria(
        "components_mastered-domain",
        {"type": "components_mastered", "count": 1, "domain": SECURITY},
        lambda conn, user: finish(conn, user, status="mastered"),
        lambda conn, user: finish(conn, user, "mastered", on={"domain": SECURITY}),
    ),
    Criteria(
        "streak_days-current",
        {"type": "streak_days", "days": 3},
        _set_streak(current=2, longest=2, total=10),
        _set_streak(current=3, longest=3, total=11),
    ),
    Criteria(
        "streak_days-longest",
        {"type": "streak_days", "days": 3},
        _set_streak(current=1, longest=2, total=10),
        _set_streak(current=1, longest=3, total=10),
    ),
    Criteria(
        "active_days",
        {"type": "active_days", "days": 5},
        _set_streak(current=4, longest=4, total=4),
        _set_streak(current=1, longest=4, total=5),
    ),
    Criteria(
        "assessments_passed",
        {"type": "assessments_passed", "count": 2},
        _passed_unmet,
        _passed_met,
    ),
    Criteria(
        "assessments_passed-assessment_type",
        {"type": "assessments_passed", "count": 1, "assessment_type": "final_exam"},
        lambda conn, user: f.attempt(conn, user_id=user, status="completed", passed=True),
        lambda conn, user: f.attempt(
            conn,
            user_id=user,
            assessment_id=f.assessment(conn, assessment_type="final_exam"),
            status="completed",
            passed=True,
        ),
    ),
    Criteria(
        "perfect_score",
        {"type": "perfect_score", "count": 1},
        _perfect_unmet,
        lambda conn, user: f.attempt(conn, user_id=user, status="completed", percentage=100),
    ),
    Criteria(
        "total_minutes",
        {"type": "total_minutes", "minutes": 60},
        _minutes(25, 34),
        _minutes(25, 35),
    ),
]


def test_every_criteria_type_of_the_function_comment_is_tested(tx: Conn) -> None:
    comment = f.scalar(
        tx,
        "SELECT obj_description("
        "'check_and_award_achievement(uuid, text)'::regprocedure, 'pg_proc')",
    )
    documented = set(re.findall(r'"type":\s*"(\w+)"', comment))
    tested = {case.criteria["type"] for case in CRITERIA} | {"manual", "first_login"}
    assert documented == tested


@pytest.mark.parametrize("case", CRITERIA, ids=lambda case: case.label)
def test_achievement_is_awarded_when_its_criteria_are_met_and_not_before(
    tx: Conn, case: Criteria
) -> None:
    user = f.user(tx)
    f.achievement(tx, code="target", criteria=case.criteria)
    case.unmet(tx, user)
    assert award(tx, user, "target") is False
    assert awards(tx, user) == []

    case.met(tx, user)
    assert award(tx, user, "target") is True
    (earned,) = awards(tx, user)
    data = earned["progress_data"]
    assert data["type"] == case.criteria["type"]
    assert data["criteria"] == case.criteria
    assert data["measured"] >= data["required"]

    assert award(tx, user, "target") is False  # at most once
    assert len(awards(tx, user)) == 1


@pytest.mark.parametrize(
    "criteria",
    [{}, {"type": "manual"}, {"type": "first_login"}],
    ids=["empty", "manual", "first_login"],
)
def test_criteria_that_are_always_met_award_on_the_first_call_only(
    tx: Conn, criteria: dict[str, Any]
) -> None:
    user = f.user(tx)
    f.achievement(tx, code="welcome", criteria=criteria)
    assert award(tx, user, "welcome") is True
    assert award(tx, user, "welcome") is False
    assert len(awards(tx, user)) == 1


def test_an_inactive_achievement_is_not_awarded(tx: Conn) -> None:
    user = f.user(tx)
    achievement = f.achievement(tx, code="retired", is_active=False)
    assert award(tx, user, "retired") is False
    assert awards(tx, user) == []
    f.update(tx, "achievements", achievement, {"is_active": True})
    assert award(tx, user, "retired") is True


def test_an_achievement_earned_before_is_not_awarded_again(tx: Conn) -> None:
    user = f.user(tx)
    achievement = f.achievement(tx, code="earned")
    f.user_achievement(tx, user_id=user, achievement_id=achievement)
    before = awards(tx, user)
    assert award(tx, user, "earned") is False
    assert awards(tx, user) == before


@pytest.mark.parametrize("missing", ["code", "user"])
def test_an_unknown_code_or_user_raises_no_data_found(tx: Conn, missing: str) -> None:
    f.achievement(tx, code="exists")
    user = uuid4() if missing == "user" else f.user(tx)
    code = "no-such-achievement" if missing == "code" else "exists"
    with pytest.raises(psycopg.errors.NoDataFound) as exc, tx.transaction():
        award(tx, user, code)
    assert (code if missing == "code" else str(user)) in str(exc.value)


@pytest.mark.parametrize(
    "criteria",
    [
        {"type": "components_finished", "count": 1},
        {"count": 1},
        {"type": "components_completed"},
        {"type": "streak_days", "count": 3},
        {"type": "total_minutes"},
    ],
    ids=["unknown-type", "no-type", "no-count", "wrong-threshold-key", "no-minutes"],
)
def test_malformed_criteria_raise_naming_the_achievement(
    tx: Conn, criteria: dict[str, Any]
) -> None:
    user = f.user(tx)
    f.achievement(tx, code="broken-rule", criteria=criteria)
    with pytest.raises(psycopg.errors.InvalidParameterValue) as exc, tx.transaction():
        award(tx, user, "broken-rule")
    assert "broken-rule" in str(exc.value)


def test_concurrent_awards_give_one_true_one_false_and_one_row(db: Target, conn: Conn) -> None:
    user = f.user(conn)
    f.achievement(conn, code="race", criteria={"type": "first_login"})
    results = overlapped(db, conn, lambda connection: award(connection, user, "race"))
    assert results == (True, False)
    assert len(awards(conn, user)) == 1


# ---------------------------------------------------------------------------
# calculate_overall_progress and get_user_dashboard_summary
# ---------------------------------------------------------------------------


def overall(conn: Conn, user: UUID) -> Decimal:
    value = f.scalar(conn, "SELECT calculate_overall_progress(%s)", [user])
    assert isinstance(value, Decimal)
    return value


def test_overall_progress_is_zero_without_components(tx: Conn) -> None:
    tx.execute("DELETE FROM learning_components")
    user = f.user(tx)
    assert overall(tx, user) == Decimal("0.00")
    assert str(overall(tx, user)) == "0.00"


def test_overall_progress_averages_all_published_components(tx: Conn) -> None:
    user = f.user(tx)
    other = f.user(tx)
    f.component(tx)  # no progress row: counts 0
    assert overall(tx, user) == 0
    finish(tx, user, progress_percentage=30)  # completed counts 100 whatever the percentage
    finish(tx, user, status="mastered")
    in_progress = f.component(tx)
    f.progress(
        tx, user_id=user, component_id=in_progress, status="in_progress", progress_percentage=50
    )
    f.progress(
        tx, user_id=other, component_id=in_progress, status="in_progress", progress_percentage=90
    )
    # Ignored: an unpublished and a soft-deleted component, even though completed.
    finish(tx, user, on={"is_published": False})
    finish(tx, user, on={"deleted_at": NOW})
    assert overall(tx, user) == Decimal("62.50")  # (0 + 100 + 100 + 50) / 4
    assert overall(tx, other) == Decimal("22.50")  # 90 / 4


def test_overall_progress_is_rounded_to_two_places(tx: Conn) -> None:
    tx.execute("DELETE FROM learning_components")
    user = f.user(tx)
    finish(tx, user)
    f.component(tx)
    f.component(tx)
    assert str(overall(tx, user)) == "33.33"


def dashboard(conn: Conn, user: UUID) -> list[dict[str, Any]]:
    return f.rows(conn, "SELECT * FROM get_user_dashboard_summary(%s)", [user])


def test_dashboard_of_a_user_without_data_is_one_row_of_zeros(tx: Conn) -> None:
    _others_complete_a_lot(tx, f.user(tx))
    empty = {
        "components_started": 0,
        "components_completed": 0,
        "total_time_minutes": 0,
        "current_streak": 0,
        "longest_streak": 0,
        "achievements_count": 0,
        "average_assessment_score": None,
        "active_goals_count": 0,
        "overall_progress": Decimal("0.00"),
    }
    assert dashboard(tx, f.user(tx)) == [empty]
    assert dashboard(tx, uuid4()) == [empty]  # not even a user


def test_dashboard_counts_the_users_own_data(tx: Conn) -> None:
    user = f.user(tx)
    _others_complete_a_lot(tx, f.user(tx))  # 3 components completed by someone else
    started = f.component(tx)
    f.progress(
        tx,
        user_id=user,
        component_id=started,
        status="in_progress",
        progress_percentage=40,
        time_spent_minutes=10,
    )
    tx.execute(
        "UPDATE user_progress SET time_spent_minutes = 20 WHERE id = %s",
        [finish(tx, user)],
    )
    f.progress(tx, user_id=user, status="not_started", time_spent_minutes=5)
    f.attempt(tx, user_id=user, status="completed", percentage=80)
    f.attempt(tx, user_id=user, status="completed", percentage=Decimal("90.5"))
    f.attempt(tx, user_id=user, status="in_progress", percentage=10)
    f.user_achievement(tx, user_id=user)
    f.user_achievement(tx, user_id=user)
    f.goal(tx, user_id=user)
    f.goal(tx, user_id=user, goal_type="weekly")
    f.goal(tx, user_id=user, status="completed")
    f.streak(tx, user_id=user, current_streak=3, longest_streak=5, total_active_days=9)

    components = f.scalar(tx, "SELECT count(*) FROM learning_components WHERE is_published")
    expected_progress = round(Decimal(40 + 100) / components, 2)
    assert dashboard(tx, user) == [
        {
            "components_started": 2,
            "components_completed": 1,
            "total_time_minutes": 35,
            "current_streak": 3,
            "longest_streak": 5,
            "achievements_count": 2,
            "average_assessment_score": Decimal("85.25"),
            "active_goals_count": 2,
            "overall_progress": expected_progress,
        }
    ]
    assert expected_progress == overall(tx, user)


# ---------------------------------------------------------------------------
# refresh_analytics_views and the materialized views
# ---------------------------------------------------------------------------


def test_refresh_analytics_views_shows_new_sessions_and_progress_and_runs_twice(
    tx: Conn,
) -> None:
    # Days are UTC days whatever the session's time zone.
    tx.execute("SET LOCAL TimeZone = 'Pacific/Auckland'")
    alice, bob = f.user(tx), f.user(tx)
    late = datetime(2024, 3, 10, 23, 30, tzinfo=UTC)
    early = datetime(2024, 3, 11, 0, 30, tzinfo=UTC)
    f.session(tx, user_id=alice, session_start=late, duration_minutes=30, completion_achieved=True)
    f.session(tx, user_id=bob, session_start=late, duration_minutes=15)
    f.session(tx, user_id=alice, session_start=early, duration_minutes=45)
    finish(tx, alice, time_spent_minutes=60)
    f.progress(tx, user_id=bob, status="in_progress", progress_percentage=50, time_spent_minutes=10)
    f.progress(tx, user_id=bob, status="not_started")  # left out
    finish(tx, bob, on={"domain": SECURITY, "deleted_at": NOW})  # a deleted component: left out

    assert f.count(tx, "mv_daily_user_activity") == 0  # not refreshed yet
    assert f.count(tx, "mv_weekly_domain_progress") == 0
    tx.execute("SELECT refresh_analytics_views()")

    daily = f.rows(tx, "SELECT * FROM mv_daily_user_activity ORDER BY activity_date")
    assert daily == [
        {
            "activity_date": date(2024, 3, 10),
            "active_users": 2,
            "total_sessions": 2,
            "total_minutes": 45,
            "average_minutes": Decimal("22.50"),
            "completions": 1,
        },
        {
            "activity_date": date(2024, 3, 11),
            "active_users": 1,
            "total_sessions": 1,
            "total_minutes": 45,
            "average_minutes": Decimal("45.00"),
            "completions": 0,
        },
    ]
    week = f.scalar(tx, "SELECT date_trunc('week', now() AT TIME ZONE 'UTC')::date")
    weekly = f.rows(tx, "SELECT * FROM mv_weekly_domain_progress")
    assert weekly == [
        {
            "week_start": week,
            "domain": f.DOMAIN,
            "active_users": 2,
            "components_in_progress": 1,
            "completions": 1,
            "average_progress": Decimal("75.00"),
            "total_time_minutes": 70,
        }
    ]

    f.session(tx, user_id=bob, session_start=early, duration_minutes=5)
    tx.execute("SELECT refresh_analytics_views()")
    assert (
        f.scalar(
            tx,
            "SELECT total_sessions FROM mv_daily_user_activity WHERE activity_date = %s",
            [date(2024, 3, 11)],
        )
        == 2
    )
    assert f.count(tx, "mv_daily_user_activity") == 2


# ---------------------------------------------------------------------------
# The plain views on a small data set
# ---------------------------------------------------------------------------


def test_v_user_learning_stats(tx: Conn) -> None:
    user = f.user(tx, username="stats-user")
    idle = f.user(tx)
    gone = f.user(tx, deleted_at=NOW)
    finish(tx, user, time_spent_minutes=30)
    finish(tx, user, status="mastered", time_spent_minutes=20)
    f.progress(tx, user_id=user, status="in_progress", progress_percentage=40, time_spent_minutes=5)
    f.progress(tx, user_id=user, status="not_started")
    f.user_achievement(tx, user_id=user)
    f.streak(tx, user_id=user, current_streak=2, longest_streak=7)
    stats = {row["user_id"]: row for row in f.rows(tx, "SELECT * FROM v_user_learning_stats")}
    assert gone not in stats
    assert stats[user] == {
        "user_id": user,
        "username": "stats-user",
        "components_started": 3,
        "components_completed": 2,
        "components_mastered": 1,
        "total_time_minutes": 55,
        "average_progress": Decimal("60.00"),  # (100 + 100 + 40 + 0) / 4
        "current_streak": 2,
        "longest_streak": 7,
        "achievements_earned": 1,
    }
    assert stats[idle]["components_started"] == 0
    assert stats[idle]["average_progress"] is None
    assert (stats[idle]["current_streak"], stats[idle]["achievements_earned"]) == (0, 0)


def test_v_component_performance(tx: Conn) -> None:
    component = f.component(tx, average_rating=Decimal("4.50"), rating_count=2)
    deleted = f.component(tx, deleted_at=NOW)
    f.progress(
        tx,
        component_id=component,
        status="completed",
        completion_date=NOW,
        time_spent_minutes=30,
        best_score=90,
    )
    f.progress(
        tx,
        component_id=component,
        status="in_progress",
        progress_percentage=20,
        time_spent_minutes=10,
        best_score=70,
    )
    f.progress(tx, component_id=component)
    found = {r["component_id"]: r for r in f.rows(tx, "SELECT * FROM v_component_performance")}
    assert deleted not in found
    row = found[component]
    assert (row["unique_users"], row["completion_count"]) == (3, 1)
    assert row["average_progress"] == Decimal("40.00")  # (100 + 20 + 0) / 3
    assert row["average_time_minutes"] == Decimal("13.33")
    assert row["average_score"] == Decimal("80.00")
    assert (row["average_rating"], row["rating_count"]) == (Decimal("4.50"), 2)


def test_v_assessment_performance(tx: Conn) -> None:
    assessment = f.assessment(tx)
    alice, bob = f.user(tx), f.user(tx)
    common = {"assessment_id": assessment}
    f.attempt(
        tx,
        user_id=alice,
        status="completed",
        percentage=90,
        passed=True,
        time_spent_minutes=20,
        **common,
    )
    f.attempt(
        tx,
        user_id=alice,
        attempt_number=2,
        status="completed",
        percentage=50,
        time_spent_minutes=30,
        **common,
    )
    f.attempt(tx, user_id=bob, status="timed_out", percentage=40, time_spent_minutes=60, **common)
    f.attempt(tx, user_id=bob, attempt_number=2, status="in_progress", percentage=100, **common)
    f.attempt(tx, user_id=bob, attempt_number=3, status="abandoned", passed=True, **common)
    idle = f.assessment(tx)
    deleted = f.assessment(tx, deleted_at=NOW)
    found = {r["assessment_id"]: r for r in f.rows(tx, "SELECT * FROM v_assessment_performance")}
    assert deleted not in found
    row = found[assessment]
    assert (row["total_attempts"], row["unique_users"]) == (5, 2)
    assert (row["pass_count"], row["fail_count"]) == (1, 2)
    assert row["average_score"] == Decimal("60.00")  # finished attempts: 90, 50, 40
    assert row["average_time_minutes"] == Decimal("36.67")
    assert found[idle]["total_attempts"] == 0
    assert (found[idle]["pass_count"], found[idle]["average_score"]) == (0, None)


def test_v_user_assessment_history(tx: Conn) -> None:
    user = f.user(tx)
    questions = [f.question(tx) for _ in range(4)]
    assessment = f.assessment(tx, question_ids=questions, title="Subnetting quiz")
    shown = f.attempt(
        tx, user_id=user, assessment_id=assessment, question_order=questions[:2], status="completed"
    )
    f.answer(tx, attempt_id=shown, question_id=questions[0], user_answer={"choice": "B"})
    f.answer(tx, attempt_id=shown, question_id=questions[1])  # skipped: no answer
    plain = f.attempt(tx, user_id=user, assessment_id=assessment, attempt_number=2)
    tx.execute("UPDATE assessments SET deleted_at = now() WHERE id = %s", [assessment])
    found = {
        r["attempt_id"]: r
        for r in f.rows(tx, "SELECT * FROM v_user_assessment_history WHERE user_id = %s", [user])
    }
    assert set(found) == {shown, plain}  # history stays after the assessment is deleted
    assert found[shown]["assessment_title"] == "Subnetting quiz"
    assert (found[shown]["total_questions"], found[shown]["answered_count"]) == (2, 1)
    assert (found[plain]["total_questions"], found[plain]["answered_count"]) == (4, 0)
    assert found[plain]["attempt_number"] == 2


def test_v_question_performance(tx: Conn) -> None:
    asked = f.question(tx, usage_count=4, correct_count=3, incorrect_count=1)
    fresh = f.question(tx)
    deleted = f.question(tx, deleted_at=NOW)
    f.answer(tx, question_id=asked)
    f.answer(tx, question_id=asked)
    found = {r["question_id"]: r for r in f.rows(tx, "SELECT * FROM v_question_performance")}
    assert deleted not in found
    assert found[asked]["success_rate"] == Decimal("75.00")
    assert found[asked]["times_answered"] == 2
    assert found[fresh]["success_rate"] is None
    assert found[fresh]["times_answered"] == 0
