"""The platform's flows through the public library, each scenario run sync and async."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from netplus_db.config import Target
from netplus_db.errors import (
    AttemptClosed,
    Conflict,
    Forbidden,
    MaxAttemptsReached,
    NotFound,
    QueryArgumentError,
    ValidationError,
)
from tests.support.apis import (
    PASSWORD,
    Api,
    AsyncApi,
    Catalog,
    SyncApi,
    build_catalog,
    new_user,
)

# --- accounts ---------------------------------------------------------------------------------


def logged(conn: psycopg.Connection[Any], user_id: uuid.UUID | None) -> list[tuple[Any, ...]]:
    """The login activity rows of `user_id` (None: of no account), oldest first."""
    return conn.execute(
        "SELECT activity_type, activity_description, resource_type, resource_id"
        " FROM user_activity_logs WHERE user_id IS NOT DISTINCT FROM %s"
        " AND activity_type LIKE 'login%%' ORDER BY created_at, id",
        [user_id],
    ).fetchall()


def test_register_then_log_in_by_email_or_username(api: Api, conn: psycopg.Connection[Any]) -> None:
    user = new_user(api)
    assert user.role == "student" and user.account_status == "active"
    by_email = api.call("login", login=user.email.upper(), password=PASSWORD)
    by_name = api.call("login", login=f"  {user.username}  ", password=PASSWORD)
    assert by_email.reason == by_name.reason == "ok" and by_email.user.id == user.id
    assert "$2b$" not in repr(by_email) and not hasattr(by_email.user, "password_hash")
    assert by_email.user == by_name.user and (by_email.user.role, by_email.user.account_status) == (
        "student",
        "active",
    )
    assert logged(conn, user.id)[-2:] == [("login", "Logged in", "user", user.id)] * 2
    failed_before = len(logged(conn, None))
    wrong = api.call("login", login=user.email, password="not the password")
    nobody = api.call("login", login="nobody@network.test", password=PASSWORD)
    assert (
        logged(conn, None)[failed_before:]
        == [("login_failed", "Invalid credentials", "user", None)] * 2
    )
    assert (
        (wrong.user, wrong.reason) == (None, "invalid_credentials") == (nobody.user, nobody.reason)
    )
    profile = api.q(user.id, "profiles", "get_profile", user_id=user.id)
    settings = api.q(user.id, "profiles", "get_settings", user_id=user.id)
    streak = api.q(user.id, "achievements", "get_streak", user_id=user.id)
    assert profile.display_name == user.username and settings.theme == "system"
    assert streak.current_streak == 0


def test_a_taken_email_or_username_is_a_conflict_and_nothing_is_written(
    api: Api, conn: psycopg.Connection[Any]
) -> None:
    user = new_user(api)
    with pytest.raises(Conflict) as caught:
        api.call("register", email=user.email.upper(), username="someone_else", password=PASSWORD)
    assert caught.value.field == "email"
    with pytest.raises(Conflict) as caught:
        api.call(
            "register",
            email="fresh@network.test",
            username=user.username.upper(),
            password=PASSWORD,
        )
    assert caught.value.field == "username"
    assert conn.execute("SELECT count(*) FROM users").fetchone() == (1,)
    assert conn.execute("SELECT count(*) FROM user_profiles").fetchone() == (1,)


def register(api: Api, name: str, **extra: Any) -> Any:
    """Register `name` (its email at network.test) with the tests' password."""
    return api.call(
        "register", email=f"{name}@network.test", username=name, password=PASSWORD, **extra
    )


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_student_registers_anywhere_another_role_only_under_the_admin_role(
    db: Target, conn: psycopg.Connection[Any], kind: str
) -> None:
    make = SyncApi if kind == "sync" else AsyncApi
    learners = make(db)
    try:
        with pytest.raises(Forbidden):
            register(learners, "teach", role="instructor")
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)
        student = register(learners, "grace", first_name="Grace", last_name="Hopper")
    finally:
        learners.close()
    admins = make(db, app_role="admin")
    try:
        teacher = register(admins, "teach", role="instructor", first_name="Ada", last_name="Byron")
        editor = register(admins, "edit", role="admin", display_name="The Editor")
    finally:
        admins.close()
    assert (teacher.role, teacher.email, teacher.username) == (
        "instructor",
        "teach@network.test",
        "teach",
    )
    assert (editor.role, editor.account_status) == ("admin", "active")
    profiles = conn.execute(
        "SELECT user_id, first_name, last_name, display_name"
        " FROM user_profiles ORDER BY first_name NULLS LAST"
    ).fetchall()
    assert profiles == [
        (teacher.id, "Ada", "Byron", "teach"),
        (student.id, "Grace", "Hopper", "grace"),
        (editor.id, None, None, "The Editor"),
    ]
    login = make(db)
    try:
        assert login.call("login", login="teach", password=PASSWORD).user.role == "instructor"
    finally:
        login.close()


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("email", {"email": "not-an-email"}),
        ("username", {"username": "x"}),
        ("password", {"password": "short"}),
        ("password", {"password": "é" * 40}),
        ("role", {"role": "superhero"}),
    ],
)
def test_bad_registration_input_names_the_field(
    api: Api, field: str, kwargs: dict[str, Any]
) -> None:
    values = {"email": "ok@network.test", "username": "ok_user", "password": PASSWORD, **kwargs}
    with pytest.raises(ValidationError) as caught:
        api.call("register", **values)
    assert caught.value.field == field


@pytest.mark.parametrize("damaged", ["not a bcrypt hash", "pas un hachage bcrypt ½"])
def test_a_malformed_stored_hash_never_matches(
    api: Api, conn: psycopg.Connection[Any], damaged: str
) -> None:
    """A hash damaged by hand (or by a bad import), ASCII or not, refuses every password, the
    right one too."""
    user = new_user(api)
    conn.execute("UPDATE users SET password_hash = %s WHERE id = %s", [damaged, user.id])
    for password in (PASSWORD, "anything at all", damaged):
        result = api.call("login", login=user.email, password=password)
        assert (result.user, result.reason) == (None, "invalid_credentials")


@pytest.mark.parametrize("status", ["suspended", "deactivated"])
def test_login_refuses_suspended_deactivated_and_deleted_accounts(
    api: Api, status: str, conn: psycopg.Connection[Any]
) -> None:
    user = new_user(api)
    api.admin("users", "set_account_status", user_id=user.id, account_status=status)
    result = api.call("login", login=user.email, password=PASSWORD)
    assert (result.user, result.reason) == (None, status)
    assert logged(conn, user.id)[-1] == ("login_refused", f"Account {status}", "user", user.id)
    api.admin("users", "set_account_status", user_id=user.id, account_status="active")
    assert api.call("login", login=user.email, password=PASSWORD).reason == "ok"
    api.admin("users", "soft_delete_user", user_id=user.id)
    assert api.call("login", login=user.email, password=PASSWORD).reason == "invalid_credentials"


def test_soft_delete_frees_the_email_and_restore_conflicts_when_retaken(api: Api) -> None:
    user = new_user(api)
    assert api.admin("users", "soft_delete_user", user_id=user.id) is not None
    assert api.admin("users", "get_user", user_id=user.id) is None
    again = api.call("register", email=user.email, username=user.username, password=PASSWORD)
    assert again.id != user.id
    with pytest.raises(Conflict):
        api.admin("users", "restore_user", user_id=user.id)
    api.admin("users", "soft_delete_user", user_id=again.id)
    restored = api.admin("users", "restore_user", user_id=user.id)
    assert restored.account_status == "active"
    verified = api.admin("users", "set_email_verified", user_id=user.id, verified=True)
    assert verified.email_verified is True


# --- learning flow ----------------------------------------------------------------------------


def test_learning_flow_register_browse_learn_complete_streak_achievement(
    api: Api, course: Catalog
) -> None:
    user = new_user(api)
    page = api.q(
        user.id,
        "content",
        "browse_components",
        domain="1.0",
        subdomain=None,
        component_type=None,
        difficulty_level=None,
        after_title=None,
        after_id=None,
        page_size=2,
    )
    assert isinstance(page, list) and len(page) == 2
    rest = api.q(
        user.id,
        "content",
        "browse_components",
        domain="1.0",
        subdomain=None,
        component_type=None,
        difficulty_level=None,
        after_title=page[-1].title,
        after_id=page[-1].id,
        page_size=10,
    )
    assert {c.id for c in page + rest} == {course.lesson, course.lab, course.quiz_component}
    lesson = api.q(user.id, "content", "get_component", slug=page[0].slug)
    assert lesson is not None
    prereqs = api.q(user.id, "content", "prerequisites", user_id=user.id, component_id=course.lab)
    assert [(p.id, p.met) for p in prereqs] == [(course.lesson, False)]
    session = api.q(
        user.id,
        "progress",
        "start_session",
        user_id=user.id,
        component_id=course.lesson,
        device_type="desktop",
        session_data={"from": "test"},
    )
    opened = api.call(  # the defaults: no percentage, no time, a position kept as given
        "record_progress",
        user_id=user.id,
        component_id=course.lesson,
        status="in_progress",
        last_position={"page": 3, "note": "ends here"},
    )
    assert (opened.progress.progress_percentage, opened.progress.time_spent_minutes) == (0, 0)
    kept = api.q(user.id, "progress", "get_progress", user_id=user.id, component_id=course.lesson)
    assert kept is not None and kept.last_position == {"page": 3, "note": "ends here"}
    halfway = api.call(
        "record_progress",
        user_id=user.id,
        component_id=course.lesson,
        status="in_progress",
        progress_percentage=40,
        time_spent_minutes=10,
    )
    assert (halfway.newly_completed, halfway.progress.progress_percentage) == (False, 40)
    assert (halfway.streak, halfway.goals, halfway.achievements) == (None, [], [])
    done = api.call(
        "record_progress",
        user_id=user.id,
        component_id=course.lesson,
        status="completed",
        time_spent_minutes=5,
    )
    assert done.newly_completed and done.progress.status == "completed"
    assert done.progress.progress_percentage == 100 and done.progress.time_spent_minutes == 15
    assert done.streak is not None and done.streak.current_streak == 1
    assert [a.name for a in done.achievements] == ["first-lesson"]
    ended = api.q(
        user.id,
        "progress",
        "end_session",
        session_id=session.id,
        interaction_count=7,
        completion_achieved=True,
        session_data={"end": 1},
    )
    assert ended.duration_minutes == 0 and ended.session_end >= ended.session_start
    again = api.call(
        "record_progress",
        user_id=user.id,
        component_id=course.lesson,
        status="in_progress",
        progress_percentage=10,
    )
    assert not again.newly_completed and again.progress.status == "completed"
    assert again.progress.progress_percentage == 100
    assert again.progress.time_spent_minutes == 15  # no time given: none added
    prereqs = api.q(user.id, "content", "prerequisites", user_id=user.id, component_id=course.lab)
    assert [p.met for p in prereqs] == [True]
    log = api.q(user.id, "activity", "list_activity", user_id=user.id, page_size=10)
    assert [e.activity_type for e in log][:1] == ["component_completed"]


def test_progress_only_moves_forward_and_takes_no_score_from_the_learner(
    api: Api, course: Catalog
) -> None:
    user = new_user(api)
    first = api.call("record_progress", user_id=user.id, component_id=course.lab, status="mastered")
    assert first.progress.mastery_date is not None and first.progress.completion_date is not None
    later = api.call(
        "record_progress", user_id=user.id, component_id=course.lab, status="completed"
    )
    assert later.progress.status == "mastered" and not later.newly_completed
    assert later.progress.completion_date == first.progress.completion_date
    assert (later.progress.best_score, later.progress.latest_score) == (None, None)
    with pytest.raises(TypeError):
        api.call(
            "record_progress", user_id=user.id, component_id=course.lab, status="mastered", score=90
        )
    with pytest.raises(ValidationError) as caught:
        api.call("record_progress", user_id=user.id, component_id=course.lab, status="done")
    assert caught.value.field == "status"
    with pytest.raises(NotFound):
        api.call("record_progress", user_id=user.id, component_id=uuid.uuid4(), status="completed")
    # The quiz's component is completed by passing the quiz, not by saying so.
    with pytest.raises(ValidationError) as caught:
        api.call(
            "record_progress",
            user_id=user.id,
            component_id=course.quiz_component,
            status="completed",
        )
    assert caught.value.field == "status"


def test_bookmarks_goals_and_verbatim_strings(api: Api, course: Catalog) -> None:
    user = new_user(api)
    nasty = "O'Brien said \"100%\" -- done; '); DROP TABLE users; -- %s %(x)s"
    saved = api.q(
        user.id,
        "bookmarks",
        "save_bookmark",
        user_id=user.id,
        component_id=course.lesson,
        position={"section": 2, "note": nasty},
        note=nasty,
    )
    assert saved.note == nasty and saved.position == {"section": 2, "note": nasty}
    listed = api.q(user.id, "bookmarks", "list_bookmarks", user_id=user.id)
    assert [(b.note, b.slug) for b in listed] == [(nasty, listed[0].slug)]
    assert (
        api.q(user.id, "bookmarks", "delete_bookmark", user_id=user.id, component_id=course.lesson)
        == 1
    )
    goal = api.q(
        user.id,
        "goals",
        "create_goal",
        user_id=user.id,
        goal_type="weekly",
        title=nasty,
        target_value=1,
        metric="components",
        start_date=None,
        target_date=None,
    )
    assert goal.title == nasty and goal.status == "active"
    result = api.call(
        "record_progress", user_id=user.id, component_id=course.lesson, status="completed"
    )
    assert [(g.id, g.status, g.current_value) for g in result.goals] == [(goal.id, "completed", 1)]
    assert api.q(user.id, "goals", "list_goals", user_id=user.id, status="active") == []


# --- assessment flow --------------------------------------------------------------------------


def test_assessment_flow_start_answer_submit_score_progress_dashboard(
    api: Api, course: Catalog, conn: psycopg.Connection[Any]
) -> None:
    user = new_user(api)
    started = api.call("start_attempt", user_id=user.id, assessment_id=course.assessment)
    assert started.attempt.attempt_number == 1 and len(started.questions) == 6
    assert sorted(started.attempt.question_order) == sorted(course.questions.values())
    served = set(started.questions[0]._fields)
    assert "correct_answer" not in served and "explanation" not in served
    by_id = {v: k for k, v in course.questions.items()}
    for question in started.questions:
        qtype = by_id[question.id]
        answer = course.wrong[qtype] if qtype == "matching" else course.keys[qtype]
        if qtype == "true_false":
            continue  # skipped
        api.call(
            "save_answer",
            user_id=user.id,
            attempt_id=started.attempt.id,
            question_id=question.id,
            user_answer=answer,
            time_spent_seconds=30,
        )
    result = api.call("submit_attempt", user_id=user.id, attempt_id=started.attempt.id)
    attempt = result.attempt
    assert (
        attempt.status,
        attempt.correct_answers,
        attempt.incorrect_answers,
        attempt.skipped_questions,
    ) == ("completed", 4, 1, 1)
    assert attempt.score == 8 and attempt.percentage == Decimal("66.67") and not attempt.passed
    assert result.progress is not None and result.progress.progress.status == "in_progress"
    assert (
        result.progress.progress.best_score
        == result.progress.progress.latest_score
        == Decimal("66.67")
    )
    review = api.q(user.id, "assessments", "review_attempt", attempt_id=attempt.id)
    assert len(review) == 6 and all(r.correct_answer is not None for r in review)
    stats = api.admin(
        "analytics", "question_performance", question_id=course.questions["multiple_choice"]
    )
    assert (stats.usage_count, stats.correct_count) == (1, 1)
    second = api.call("start_attempt", user_id=user.id, assessment_id=course.assessment)
    for qtype, question_id in course.questions.items():
        api.call(
            "save_answer",
            user_id=user.id,
            attempt_id=second.attempt.id,
            question_id=question_id,
            user_answer=course.keys[qtype],
        )
    passed = api.call("submit_attempt", user_id=user.id, attempt_id=second.attempt.id)
    assert passed.attempt.passed and passed.attempt.percentage == 100
    assert passed.progress is not None and passed.progress.newly_completed
    assert passed.progress.streak is not None and passed.progress.streak.user_id == user.id
    stored = conn.execute(
        "SELECT id, user_id, component_id, status, time_spent_minutes, completion_date,"
        " mastery_date FROM user_progress WHERE user_id = %s AND component_id = %s",
        [user.id, course.quiz_component],
    ).fetchone()
    got = passed.progress.progress
    assert stored is not None and stored[3] == "completed" and stored[5] is not None
    assert (
        got.id,
        got.user_id,
        got.component_id,
        got.status,
        got.time_spent_minutes,
        got.completion_date,
        got.mastery_date,
    ) == stored
    assert (passed.progress.progress.best_score, passed.progress.progress.progress_percentage) == (
        100,
        100,
    )
    assert {a.name for a in passed.progress.achievements} == {"first-lesson", "perfect"}
    dashboard = api.q(user.id, "analytics", "dashboard_summary", user_id=user.id)
    assert (dashboard.components_completed, dashboard.current_streak) == (1, 1)
    assert dashboard.average_assessment_score == Decimal("83.34")
    history = api.q(user.id, "analytics", "assessment_history", user_id=user.id)
    assert [h.attempt_number for h in history] == [2, 1]


def test_a_submit_keeps_the_mastery_date_of_a_component_mastered_before(
    api: Api, course: Catalog, conn: psycopg.Connection[Any]
) -> None:
    """Progress only moves forward: a quiz mastered before (set by hand, as an import would)
    stays mastered, and the submit's progress row says since when."""
    user = new_user(api)
    since = datetime(2024, 3, 1, tzinfo=UTC)
    conn.execute(
        "INSERT INTO user_progress (user_id, component_id, status, progress_percentage,"
        " completion_date, mastery_date) VALUES (%s, %s, 'mastered', 100, %s, %s)",
        [user.id, course.quiz_component, since, since],
    )
    started = api.call("start_attempt", user_id=user.id, assessment_id=course.assessment)
    result = api.call("submit_attempt", user_id=user.id, attempt_id=started.attempt.id)
    assert result.progress is not None
    kept = result.progress.progress
    assert (kept.status, kept.completion_date, kept.mastery_date) == ("mastered", since, since)


def test_a_second_submit_is_refused_and_grades_nothing_again(api: Api, course: Catalog) -> None:
    user = new_user(api)
    started = api.call("start_attempt", user_id=user.id, assessment_id=course.assessment)
    attempt_id = started.attempt.id
    api.call("submit_attempt", user_id=user.id, attempt_id=attempt_id)
    closed = f"^attempt {attempt_id} is already completed$"
    with pytest.raises(AttemptClosed, match=closed):
        api.call("submit_attempt", user_id=user.id, attempt_id=attempt_id)
    with pytest.raises(
        AttemptClosed, match=f"^attempt {attempt_id} takes no more answers: it is completed$"
    ):
        api.call(
            "save_answer",
            user_id=user.id,
            attempt_id=attempt_id,
            question_id=course.questions["true_false"],
            user_answer={"value": True},
        )
    with pytest.raises(AttemptClosed, match=closed):
        api.call("abandon_attempt", user_id=user.id, attempt_id=attempt_id)
    missing = uuid.uuid4()
    for flow in ("resume_attempt", "abandon_attempt", "submit_attempt"):
        with pytest.raises(NotFound, match=f"^attempt {missing} does not exist$"):
            api.call(flow, user_id=user.id, attempt_id=missing)
    with pytest.raises(NotFound, match=f"^attempt {missing} does not exist"):
        api.call(
            "save_answer",
            user_id=user.id,
            attempt_id=missing,
            question_id=course.questions["true_false"],
            user_answer={"value": True},
        )
    stats = api.admin(
        "analytics", "question_performance", question_id=course.questions["true_false"]
    )
    assert stats.usage_count == 1


@pytest.mark.parametrize(
    ("qtype", "answer", "field"),
    [
        ("multiple_choice", {"option": "z"}, "user_answer.option"),
        ("multiple_choice", ["c"], "user_answer"),
        ("multiple_select", {"options": "a"}, "user_answer.options"),
        ("true_false", {"value": "true"}, "user_answer.value"),
        ("fill_blank", {"text": 22}, "user_answer.text"),
        ("matching", {"pairs": {"9": "x"}}, "user_answer.pairs"),
        ("simulation", {"parts": {"p9": {}}}, "user_answer.parts"),
    ],
)
def test_a_malformed_answer_is_a_validation_error_naming_the_field(
    api: Api, course: Catalog, qtype: str, answer: Any, field: str
) -> None:
    user = new_user(api)
    started = api.call("start_attempt", user_id=user.id, assessment_id=course.assessment)
    with pytest.raises(ValidationError) as caught:
        api.call(
            "save_answer",
            user_id=user.id,
            attempt_id=started.attempt.id,
            question_id=course.questions[qtype],
            user_answer=answer,
        )
    assert caught.value.field == field
    with pytest.raises(ValidationError) as not_in_attempt:
        api.call(
            "save_answer",
            user_id=user.id,
            attempt_id=started.attempt.id,
            question_id=uuid.uuid4(),
            user_answer={"value": True},
        )
    assert not_in_attempt.value.field == "question_id"


def test_max_attempts_and_abandon(api: Api, conn: psycopg.Connection[Any]) -> None:
    course = build_catalog(conn, max_attempts=2)
    user = new_user(api)
    first = api.call("start_attempt", user_id=user.id, assessment_id=course.assessment)
    abandoned = api.call("abandon_attempt", user_id=user.id, attempt_id=first.attempt.id)
    assert abandoned.status == "abandoned"
    api.call("start_attempt", user_id=user.id, assessment_id=course.assessment)
    used = f"^all 2 attempt\\(s\\) of assessment {course.assessment} are used$"
    with pytest.raises(MaxAttemptsReached, match=used):
        api.call("start_attempt", user_id=user.id, assessment_id=course.assessment)
    missing = uuid.uuid4()
    with pytest.raises(NotFound, match=f"^assessment {missing} is not available"):
        api.call("start_attempt", user_id=user.id, assessment_id=missing)


def test_a_late_submit_times_out_and_counts_only_answers_saved_in_time(
    api: Api, conn: psycopg.Connection[Any]
) -> None:
    course = build_catalog(conn, time_limit_minutes=30, randomize_questions=False)
    user = new_user(api)
    started = api.call("start_attempt", user_id=user.id, assessment_id=course.assessment)
    attempt_id = started.attempt.id
    for qtype in ("multiple_choice", "true_false"):
        api.call(
            "save_answer",
            user_id=user.id,
            attempt_id=attempt_id,
            question_id=course.questions[qtype],
            user_answer=course.keys[qtype],
        )
    # 40 minutes later by the database clock: the first answer was saved in time, the
    # second (moved after the deadline) was not. (Triggers off: they would stamp now().)
    conn.execute("SET session_replication_role = replica")
    conn.execute(
        "UPDATE assessment_attempts SET started_at = started_at - %s WHERE id = %s",
        [timedelta(minutes=40), attempt_id],
    )
    conn.execute(
        "UPDATE assessment_answers SET updated_at = now()"
        " WHERE attempt_id = %s AND question_id = %s",
        [attempt_id, course.questions["true_false"]],
    )
    conn.execute(
        "UPDATE assessment_answers SET updated_at = now() - interval '35 minutes'"
        " WHERE attempt_id = %s AND question_id = %s",
        [attempt_id, course.questions["multiple_choice"]],
    )
    conn.execute("RESET session_replication_role")
    late = f"^attempt {attempt_id} takes no more answers: its time limit has passed$"
    with pytest.raises(AttemptClosed, match=late):
        api.call(
            "save_answer",
            user_id=user.id,
            attempt_id=attempt_id,
            question_id=course.questions["fill_blank"],
            user_answer={"text": "22"},
        )
    result = api.call("submit_attempt", user_id=user.id, attempt_id=attempt_id)
    assert result.attempt.status == "timed_out"
    assert (result.attempt.correct_answers, result.attempt.skipped_questions) == (1, 5)


def test_review_follows_allow_review_and_show_answers_after(
    api: Api, conn: psycopg.Connection[Any]
) -> None:
    hidden = build_catalog(conn, show_answers_after=False)
    closed = build_catalog(conn, allow_review=False)
    user = new_user(api)
    for course, expect_rows in ((hidden, 6), (closed, 0)):
        started = api.call("start_attempt", user_id=user.id, assessment_id=course.assessment)
        assert (
            api.q(
                user.id,
                "assessments",
                "review_attempt",
                attempt_id=started.attempt.id,
            )
            == []
        )  # nothing before submission
        api.call("submit_attempt", user_id=user.id, attempt_id=started.attempt.id)
        review = api.q(user.id, "assessments", "review_attempt", attempt_id=started.attempt.id)
        assert len(review) == expect_rows
        assert all(r.correct_answer is None and r.explanation is None for r in review)


# --- the layer itself -------------------------------------------------------------------------


def test_rows_are_slotted_lists_and_arguments_are_checked_before_sending(api: Api) -> None:
    user = new_user(api)
    rows = api.q(user.id, "activity", "list_activity", user_id=user.id, page_size=5)
    assert isinstance(rows, list) and rows
    with pytest.raises(AttributeError):
        setattr(rows[0], "activity_typo", "changed")  # noqa: B010 - slots: no new attributes
    first: Any = rows[0]
    assert dataclasses.is_dataclass(type(first)) and not isinstance(first, tuple)
    assert first._fields[0] == "id" and first._asdict()["id"] == first.id
    with pytest.raises(TypeError):
        api.q(user.id, "activity", "list_activity", user_id=user.id)
    from netplus_db.querylayer import bind, query

    with pytest.raises(QueryArgumentError, match="missing: page_size; unexpected: pagesize"):
        bind(query("activity", "list_activity"), {"user_id": user.id, "pagesize": 3})


def test_as_user_sees_only_that_users_rows_and_leaks_nothing(api: Api, course: Catalog) -> None:
    alice, bob = new_user(api, "alice"), new_user(api, "bob")
    for user in (alice, bob):
        api.call(
            "record_progress",
            user_id=user.id,
            component_id=course.lesson,
            status="in_progress",
            progress_percentage=10,
        )
    seen = api.q(alice.id, "progress", "list_progress", user_id=bob.id)
    assert seen == []  # RLS: alice cannot read bob's rows even when she asks for them
    assert len(api.q(bob.id, "progress", "list_progress", user_id=bob.id)) == 1
    assert api.q(None, "progress", "list_progress", user_id=bob.id) == []
    # The pooled connection comes back with no identity and the connecting role.
    if isinstance(api, SyncApi):
        with api.db.pool.connection() as conn:
            row = conn.execute(
                "SELECT current_user, current_setting('app.user_id', true)"
            ).fetchone()
        assert row is not None and row[0] != "app_user" and row[1] in ("", None)


def test_analytics_aggregation_is_idempotent_and_views_refresh(api: Api, course: Catalog) -> None:
    user = new_user(api)
    session = api.q(
        user.id,
        "progress",
        "start_session",
        user_id=user.id,
        component_id=course.lesson,
        device_type="mobile",
        session_data={},
    )
    api.q(
        user.id,
        "progress",
        "end_session",
        session_id=session.id,
        interaction_count=3,
        completion_achieved=True,
        session_data={},
    )
    day = session.session_start.date()
    assert api.admin("analytics", "aggregate_component_analytics", day=day) == 1
    assert api.admin("analytics", "aggregate_component_analytics", day=day) == 1
    rows = api.admin(
        "analytics", "component_analytics", component_id=course.lesson, from_day=day, to_day=day
    )
    assert [(r.views, r.unique_users, r.completions) for r in rows] == [(1, 1, 1)]
    api.admin("analytics", "refresh_analytics_views")
    daily = api.admin("analytics", "daily_activity", from_day=day, to_day=day)
    assert [d.total_sessions for d in daily] == [1]
    assert (
        api.admin(
            "analytics",
            "record_metric",
            metric_type="latency",
            metric_name="login",
            metric_value=1.5,
            unit="ms",
            tags={"env": "test"},
        )
        == 1
    )
