"""Readiness and the spaced-review session (migration 0019, docs/learning-intelligence.md).

Readiness is read, never written, by a learner: mastery per objective is kept by the database
when an attempt is submitted. A review session serves the cards due now with their questions
as a learner may see them (no key), and each answer goes to answer_review, which grades it in
the database, reschedules the card with FSRS, logs it, and only then returns the key.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg

from netplus_db import validation as check
from netplus_db.errors import NotDue
from netplus_db.flows import Flow, call
from netplus_db.flows.assessments import MAX_SECONDS_PER_ANSWER
from netplus_db.generated.learning import (
    AnswerReviewRow,
    AttemptObjectiveReportRow,
    LearningQueries,
    Readiness,
    ReviewDueCountsRow,
    ReviewQueueRow,
    WeakestObjectivesRow,
)
from netplus_db.rows import Row
from netplus_db.types import Json

MAX_REVIEW_ITEMS = 100
MAX_WEAKEST = 25


@dataclass(slots=True)
class LearnerReadiness(Row):
    """An ESTIMATED readiness: the exam, its domains, the weakest objectives with the
    components that teach them, and the reviews due."""

    exam: Readiness
    domains: list[Readiness]
    weakest: list[WeakestObjectivesRow]
    reviews: ReviewDueCountsRow


@dataclass(slots=True)
class ReviewSession(Row):
    """The cards due now (questions without keys) and the schedule in numbers."""

    items: list[ReviewQueueRow]
    counts: ReviewDueCountsRow


def readiness(*, user_id: uuid.UUID, weakest: int = 5) -> Flow[LearnerReadiness]:
    """The learner's estimated readiness (likely_ready only when the interval's lower end
    clears 720), its `weakest` objectives (1-25) and its reviews due."""
    check.uuid_("user_id", user_id)
    check.integer("weakest", weakest, minimum=1, maximum=MAX_WEAKEST)
    rows: list[Readiness] = yield call(LearningQueries.readiness, user_id=user_id)
    weak: list[WeakestObjectivesRow] = yield call(
        LearningQueries.weakest_objectives, user_id=user_id, limit=weakest
    )
    counts: ReviewDueCountsRow | None = yield call(
        LearningQueries.review_due_counts, user_id=user_id
    )
    assert counts is not None  # an aggregate: always one row
    exam = next(r for r in rows if r.scope == "exam")
    return LearnerReadiness(exam, [r for r in rows if r.scope == "domain"], weak, counts)


def review_session(*, user_id: uuid.UUID, limit: int = 20) -> Flow[ReviewSession]:
    """The cards due now, oldest first (at most `limit`, 1-100), as a learner may see them."""
    check.uuid_("user_id", user_id)
    check.integer("limit", limit, minimum=1, maximum=MAX_REVIEW_ITEMS)
    items: list[ReviewQueueRow] = yield call(
        LearningQueries.review_queue, user_id=user_id, limit=limit
    )
    counts: ReviewDueCountsRow | None = yield call(
        LearningQueries.review_due_counts, user_id=user_id
    )
    assert counts is not None
    return ReviewSession(items, counts)


def answer_review(
    *,
    user_id: uuid.UUID,
    question_id: uuid.UUID,
    user_answer: Json,
    time_spent_seconds: int | None = None,
) -> Flow[AnswerReviewRow]:
    """Answer a due card: graded and rescheduled in the database, then the key. NotFound: not
    in the schedule; NotDue: not due yet; ValidationError naming the field: a malformed
    answer."""
    check.uuid_("user_id", user_id)
    check.uuid_("question_id", question_id)
    check.json_value("user_answer", user_answer)
    check.optional_integer(
        "time_spent_seconds", time_spent_seconds, minimum=0, maximum=MAX_SECONDS_PER_ANSWER
    )
    try:
        row: AnswerReviewRow | None = yield call(
            LearningQueries.answer_review,
            question_id=question_id,
            user_answer=user_answer,
            time_spent_seconds=time_spent_seconds,
        )
    except psycopg.errors.ObjectNotInPrerequisiteState as exc:
        raise NotDue(exc.diag.message_primary) from None  # the server always gives one
    assert row is not None  # answer_review returns its row or raises
    return row


def attempt_report(
    *, user_id: uuid.UUID, attempt_id: uuid.UUID
) -> Flow[list[AttemptObjectiveReportRow]]:
    """The per-objective score report of a submitted attempt of the learner (empty: not its
    attempt, not submitted, or no question with an objective)."""
    check.uuid_("user_id", user_id)
    check.uuid_("attempt_id", attempt_id)
    rows: list[AttemptObjectiveReportRow] = yield call(
        LearningQueries.attempt_objective_report, attempt_id=attempt_id
    )
    return rows
