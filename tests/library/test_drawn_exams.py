"""Drawn practice exams (migration 0018) through the library, sync and async: the drawn
questions and their options come back in the stored order on start, resume and review, and
answers are graded by option, whatever the order shown."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from netplus_db.errors import NotFound
from tests.support.apis import Api, Catalog, new_user
from tests.support.factories import insert, scalar


def drawn_exam(conn: psycopg.Connection[Any], **settings: Any) -> uuid.UUID:
    """A published assessment drawn from the bank's domain 1.0 (the course's six questions)."""
    values = {
        "assessment_type": "practice_exam",
        "title": "Drawn exam",
        "slug": f"drawn-{uuid.uuid4().hex[:8]}",
        "is_published": True,
        "draw_split": {"1.0": 1},
        "draw_size": 5,
        "draw_min_simulations": 1,
        "randomize_questions": True,
        "randomize_answers": True,
        **settings,
    }
    return insert(conn, "assessments", values)


def option_ids(data: Any) -> list[str]:
    """The option and choice ids of a question's data, parts included, in the order shown."""
    ids = [o["id"] for key in ("options", "choices") for o in data.get(key, [])]
    for part in data.get("parts", []):
        ids += [f"{part['id']}/{i}" for i in option_ids(part["data"])]
    return ids


def test_start_resume_and_review_show_the_stored_draw_and_order(
    api: Api, conn: psycopg.Connection[Any], course: Catalog
) -> None:
    exam = drawn_exam(conn)
    user = new_user(api)
    listed = api.q(user.id, "assessments", "get_assessment_by_id", assessment_id=exam)
    assert (listed.drawn, listed.question_count) == (True, 5)
    started = api.call("start_attempt", user_id=user.id, assessment_id=exam)
    ids = [q.id for q in started.questions]
    assert ids == started.attempt.question_order and len(set(ids)) == 5
    assert set(ids) <= set(course.questions.values())
    assert course.questions["simulation"] in ids  # the simulation minimum
    stored = scalar(
        conn, "SELECT option_order FROM assessment_attempts WHERE id = %s", [started.attempt.id]
    )
    defined = {
        row[0]: row[1]
        for row in conn.execute(
            "SELECT id, question_data FROM question_bank WHERE id = ANY (%s)", [ids]
        ).fetchall()
    }
    for question in started.questions:
        shown = option_ids(question.question_data)
        assert sorted(shown) == sorted(option_ids(defined[question.id]))
        order = stored.get(str(question.id), {})
        if "options" in order:
            assert shown == order["options"]
    resumed = api.call("resume_attempt", user_id=user.id, attempt_id=started.attempt.id)
    assert resumed.questions == started.questions and resumed.answers == []
    assert resumed.state.draw_seed is not None and resumed.state.status == "in_progress"

    by_id = {v: k for k, v in course.questions.items()}
    first = started.questions[0].id
    for question in started.questions:  # the keys name options by id, not by position
        marked: dict[str, Any] = {}
        if question.id == first:
            marked = {"time_spent_seconds": 42, "flagged_for_review": True}
        api.call(
            "save_answer",
            user_id=user.id,
            attempt_id=started.attempt.id,
            question_id=question.id,
            user_answer=course.keys[by_id[question.id]],
            **marked,
        )
    again = api.call("resume_attempt", user_id=user.id, attempt_id=started.attempt.id)
    assert again.questions == started.questions
    assert sorted(a.question_id for a in again.answers) == sorted(ids)
    kept = {a.question_id: (a.time_spent_seconds, a.flagged_for_review) for a in again.answers}
    assert kept.pop(first) == (42, True)  # as given; the others took the defaults
    assert all(flagged is False for _, flagged in kept.values())
    result = api.call("submit_attempt", user_id=user.id, attempt_id=started.attempt.id)
    assert result.attempt.percentage == 100 and result.attempt.correct_answers == 5
    review = api.call("review_attempt", user_id=user.id, attempt_id=started.attempt.id)
    assert [(r.question_id, r.question_data) for r in review] == [
        (q.id, q.question_data) for q in started.questions
    ]
    assert all(r.is_correct for r in review)


def test_another_learner_can_neither_resume_nor_review_an_attempt(
    api: Api, conn: psycopg.Connection[Any], course: Catalog
) -> None:
    del course  # the bank the exam draws from
    exam = drawn_exam(conn)
    owner, other = new_user(api, "owner"), new_user(api, "other")
    started = api.call("start_attempt", user_id=owner.id, assessment_id=exam)
    with pytest.raises(NotFound):
        api.call("resume_attempt", user_id=other.id, attempt_id=started.attempt.id)
    api.call("submit_attempt", user_id=owner.id, attempt_id=started.attempt.id)
    assert api.call("review_attempt", user_id=other.id, attempt_id=started.attempt.id) == []
    assert len(api.call("review_attempt", user_id=owner.id, attempt_id=started.attempt.id)) == 5


def test_a_drawn_exam_the_bank_cannot_fill_is_not_available(
    api: Api, conn: psycopg.Connection[Any], course: Catalog
) -> None:
    del course
    exam = drawn_exam(conn, draw_size=7, draw_min_simulations=0)
    user = new_user(api)
    with pytest.raises(NotFound, match=r"domain 1\.0 has 6 published question"):
        api.call("start_attempt", user_id=user.id, assessment_id=exam)
    assert (
        scalar(conn, "SELECT count(*) FROM assessment_attempts WHERE assessment_id = %s", [exam])
        == 0
    )
