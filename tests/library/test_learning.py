"""Readiness, the review session, the per-objective report and the instructors' reads through
the library, sync and async alike (migration 0019, flows/review.py)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from netplus_db.errors import Forbidden, NotDue, NotFound, ValidationError
from tests.support.apis import Api, Catalog, new_user


def take_quiz(api: Api, user: Any, course: Catalog, right: set[str]) -> Any:
    """Submit the course's quiz, answering the question types in `right` correctly and the
    others wrongly."""
    started = api.call("start_attempt", user_id=user.id, assessment_id=course.assessment)
    for question in started.questions:
        kind = question.question_type
        api.call(
            "save_answer",
            user_id=user.id,
            attempt_id=started.attempt.id,
            question_id=question.id,
            user_answer=course.keys[kind] if kind in right else course.wrong[kind],
        )
    return api.call("submit_attempt", user_id=user.id, attempt_id=started.attempt.id)


def test_readiness_report_and_review_session_after_a_quiz(
    api: Api, course: Catalog, conn: psycopg.Connection[Any]
) -> None:
    user = new_user(api)
    before = api.call("readiness", user_id=user.id)
    assert before.exam.estimated_score == 500 and not before.exam.likely_ready
    assert before.exam.is_estimate and len(before.domains) == 5
    assert before.reviews.scheduled == 0
    done = take_quiz(api, user, course, right={"true_false", "matching"})
    # The course's questions are all objective 1.4: 2 of 6 right -> Beta(3, 5), mean 3/8.
    after = api.call("readiness", user_id=user.id, weakest=1)
    assert [w.objective_code for w in after.weakest] == ["1.4"]
    assert len(api.call("readiness", user_id=user.id).weakest) == 5  # the default
    assert after.weakest[0].mastery == pytest.approx(3 / 8)
    assert after.reviews.scheduled == 4  # the four missed questions
    report = api.call("attempt_report", user_id=user.id, attempt_id=done.attempt.id)
    assert [(r.objective_code, r.items, r.correct, r.missed) for r in report] == [
        ("1.4", 6, 2, True)
    ]
    # Nothing due yet (the first learning step is a minute); then the cards come due.
    assert api.call("review_session", user_id=user.id).items == []
    conn.execute("UPDATE review_cards SET due = now() - interval '1 minute'")
    session = api.call("review_session", user_id=user.id, limit=10)
    assert len(session.items) == 4 and session.counts.due_now == 4
    assert len(api.call("review_session", user_id=user.id, limit=1).items) == 1
    assert len(api.call("review_session", user_id=user.id).items) == 4  # default: up to 20
    item = session.items[0]
    assert not hasattr(item, "correct_answer") and not hasattr(item, "explanation")
    kind = item.question_type
    graded = api.call(
        "answer_review",
        user_id=user.id,
        question_id=item.question_id,
        user_answer=course.keys[kind],
        time_spent_seconds=12,
    )
    assert graded.is_correct and graded.rating == 3 and graded.correct_answer is not None
    logged = conn.execute(
        "SELECT rating, time_spent_seconds FROM review_log"
        " WHERE user_id = %s AND question_id = %s AND source = 'review'",
        [user.id, item.question_id],
    ).fetchall()
    assert logged == [(3, 12)]
    with pytest.raises(NotDue, match=r"^question \S+ is not due for review until [^\n]+$"):
        api.call(
            "answer_review",
            user_id=user.id,
            question_id=item.question_id,
            user_answer=course.keys[kind],
        )
    wrong_shape = session.items[1]
    with pytest.raises(ValidationError) as bad:
        api.call(
            "answer_review",
            user_id=user.id,
            question_id=wrong_shape.question_id,
            user_answer={"nonsense": 1},
        )
    assert bad.value.field.startswith("user_answer")
    with pytest.raises(NotFound):
        api.call(
            "answer_review",
            user_id=user.id,
            question_id=course.lesson,
            user_answer={},
        )
    dashboard = api.q(user.id, "learning", "dashboard_with_readiness", user_id=user.id)
    assert dashboard.reviews_due_now == 3 and dashboard.is_estimate
    assert dashboard.estimated_score == after.exam.estimated_score


def test_instructors_read_the_cohort_learners_do_not(
    api: Api, course: Catalog, conn: psycopg.Connection[Any]
) -> None:
    learner = new_user(api)
    take_quiz(api, learner, course, right={"true_false"})
    teacher = new_user(api, "teacher")
    conn.execute("UPDATE users SET role = 'instructor' WHERE id = %s", [teacher.id])
    refreshed = api.admin("learning", "refresh_item_statistics", min_responses=1)
    assert refreshed.questions == 6 and refreshed.answers == 6
    for name, kwargs in (
        ("cohort_readiness", {}),
        ("item_flags", {"limit": 10}),
        ("platform_weakest_objectives", {"limit": 3}),
    ):
        with pytest.raises(Forbidden):
            api.q(learner.id, "learning", name, **kwargs)
        assert api.q(teacher.id, "learning", name, **kwargs)
    weakest = api.q(teacher.id, "learning", "platform_weakest_objectives", limit=1)
    assert weakest[0].objective_code == "1.4" and weakest[0].learners == 1


@pytest.mark.parametrize(
    ("name", "kwargs", "field"),
    [
        ("readiness", {"weakest": 0}, "weakest"),
        ("review_session", {"limit": 101}, "limit"),
        ("answer_review", {"question_id": "x", "user_answer": {}}, "question_id"),
    ],
)
def test_bad_arguments_name_their_field(
    api: Api, name: str, kwargs: dict[str, Any], field: str
) -> None:
    user = new_user(api)
    with pytest.raises(ValidationError) as caught:
        api.call(name, user_id=user.id, **kwargs)
    assert caught.value.field == field
