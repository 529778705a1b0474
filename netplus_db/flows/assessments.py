"""The assessment flow: start an attempt, resume it, save answers, submit (grade), abandon,
review.

Every step is one call of a SECURITY DEFINER function acting for app.user_id (migration
0013): the database checks an answer's shape, grades the attempt set-based with grade_answer,
stores the grades, totals and question statistics, and runs the reward logic, so that nothing
of it is a learner's to write. A practice exam drawn from the bank (migration 0018) is drawn
in start_attempt itself, and its question and option order stored on the attempt: starting,
resuming and reviewing show the same order. Database errors come back as domain errors: NotFound,
AttemptClosed, MaxAttemptsReached, ValidationError naming the field.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg

from netplus_db import validation as check
from netplus_db.errors import AttemptClosed, MaxAttemptsReached, NotFound
from netplus_db.flows import Flow, call
from netplus_db.flows.learning import ProgressResult, rewards_of
from netplus_db.generated.assessments import (
    AssessmentsQueries,
    Attempt,
    AttemptAnswersRow,
    AttemptQuestionsRow,
    AttemptStateRow,
    AttemptsUsedRow,
    ReviewAttemptRow,
    SaveAnswerRow,
    StartAttemptRow,
    SubmitAttemptRow,
)
from netplus_db.generated.progress import ProgressUpdate
from netplus_db.rows import Row
from netplus_db.types import Json

MAX_SECONDS_PER_ANSWER = 86_400  # one day on one answer at most
BANK_CANNOT_FILL = "NP002"  # start_attempt: the bank has too few questions for a drawn exam


@dataclass(slots=True)
class StartedAttempt(Row):
    """A new attempt and its questions as the learner may see them (no keys)."""

    attempt: StartAttemptRow
    questions: list[AttemptQuestionsRow]


@dataclass(slots=True)
class ResumedAttempt(Row):
    """An attempt as the learner left it: its state, its questions in the order shown (options
    too) and the answers saved so far."""

    state: AttemptStateRow
    questions: list[AttemptQuestionsRow]
    answers: list[AttemptAnswersRow]


@dataclass(slots=True)
class SubmittedAttempt(Row):
    """A graded attempt and the progress it recorded."""

    attempt: Attempt
    progress: ProgressResult | None


def start_attempt(*, user_id: uuid.UUID, assessment_id: uuid.UUID) -> Flow[StartedAttempt]:
    """Open the acting user's next attempt; racing starts are serialised in the database, so
    max_attempts always holds."""
    check.uuid_("user_id", user_id)
    check.uuid_("assessment_id", assessment_id)
    try:
        started: StartAttemptRow | None = yield call(
            AssessmentsQueries.start_attempt, assessment_id=assessment_id
        )
    except psycopg.Error as exc:
        if exc.sqlstate != BANK_CANNOT_FILL:
            raise
        raise NotFound(
            f"assessment {assessment_id} is not available: {exc.diag.message_primary}"
        ) from None
    if started is None:
        used: AttemptsUsedRow | None = yield call(
            AssessmentsQueries.attempts_used, user_id=user_id, assessment_id=assessment_id
        )
        if used is not None and used.max_attempts is not None and used.used >= used.max_attempts:
            raise MaxAttemptsReached(
                f"all {used.max_attempts} attempt(s) of assessment {assessment_id} are used"
            )
        raise NotFound(f"assessment {assessment_id} is not available")
    questions: list[AttemptQuestionsRow] = yield call(
        AssessmentsQueries.attempt_questions, attempt_id=started.id, user_id=user_id
    )
    return StartedAttempt(started, questions)


def resume_attempt(*, user_id: uuid.UUID, attempt_id: uuid.UUID) -> Flow[ResumedAttempt]:
    """An attempt of the acting user as it was left: the same questions and options in the
    same order as when it started, and the answers saved so far (NotFound: not this user's)."""
    check.uuid_("user_id", user_id)
    check.uuid_("attempt_id", attempt_id)
    state: AttemptStateRow | None = yield call(
        AssessmentsQueries.attempt_state, attempt_id=attempt_id, user_id=user_id
    )
    if state is None:
        raise NotFound(f"attempt {attempt_id} does not exist")
    questions: list[AttemptQuestionsRow] = yield call(
        AssessmentsQueries.attempt_questions, attempt_id=attempt_id, user_id=user_id
    )
    answers: list[AttemptAnswersRow] = yield call(
        AssessmentsQueries.attempt_answers, attempt_id=attempt_id, user_id=user_id
    )
    return ResumedAttempt(state, questions, answers)


def review_attempt(*, user_id: uuid.UUID, attempt_id: uuid.UUID) -> Flow[list[ReviewAttemptRow]]:
    """A submitted attempt question by question, in the order shown (options too), with the
    grades and, where the assessment allows, the keys; empty when there is nothing to review
    (not submitted, not this user's, or the assessment allows no review)."""
    check.uuid_("user_id", user_id)
    check.uuid_("attempt_id", attempt_id)
    rows: list[ReviewAttemptRow] = yield call(
        AssessmentsQueries.review_attempt, attempt_id=attempt_id
    )
    return rows


def save_answer(
    *,
    user_id: uuid.UUID,
    attempt_id: uuid.UUID,
    question_id: uuid.UUID,
    user_answer: Json,
    time_spent_seconds: int | None = None,
    flagged_for_review: bool = False,
) -> Flow[SaveAnswerRow]:
    """Save an answer; the database checks its shape against the question (ValidationError
    names the field) and refuses it with AttemptClosed once the attempt is closed or out of
    time."""
    check.uuid_("user_id", user_id)
    check.uuid_("attempt_id", attempt_id)
    check.uuid_("question_id", question_id)
    check.json_value("user_answer", user_answer)
    check.optional_integer(
        "time_spent_seconds", time_spent_seconds, minimum=0, maximum=MAX_SECONDS_PER_ANSWER
    )
    check.boolean("flagged_for_review", flagged_for_review)
    saved: SaveAnswerRow | None = yield call(
        AssessmentsQueries.save_answer,
        attempt_id=attempt_id,
        question_id=question_id,
        user_answer=user_answer,
        time_spent_seconds=time_spent_seconds,
        flagged_for_review=flagged_for_review,
    )
    if saved is None:
        state: AttemptStateRow | None = yield call(
            AssessmentsQueries.attempt_state, attempt_id=attempt_id, user_id=user_id
        )
        why = (
            "it is gone"
            if state is None
            else ("its time limit has passed" if state.expired else f"it is {state.status}")
        )
        raise AttemptClosed(f"attempt {attempt_id} takes no more answers: {why}")
    return saved


def submit_attempt(*, user_id: uuid.UUID, attempt_id: uuid.UUID) -> Flow[SubmittedAttempt]:
    """Grade and close the attempt in the database (grades, totals, question statistics,
    progress and rewards). A second submit, even a concurrent one, finds it closed: graded
    once (AttemptClosed)."""
    check.uuid_("user_id", user_id)
    check.uuid_("attempt_id", attempt_id)
    try:
        row: SubmitAttemptRow = yield call(AssessmentsQueries.submit_attempt, attempt_id=attempt_id)
    except psycopg.errors.ObjectNotInPrerequisiteState as exc:
        raise AttemptClosed(exc.diag.message_primary) from None  # the server always gives one
    attempt = Attempt(**{name: getattr(row, name) for name in Attempt.field_names()})
    progress = None
    if row.progress_id is not None:
        assert row.progress_component_id is not None and row.progress_status is not None
        assert row.progress_percentage is not None
        assert row.progress_time_spent_minutes is not None
        update = ProgressUpdate(
            id=row.progress_id,
            user_id=row.user_id,
            component_id=row.progress_component_id,
            status=row.progress_status,
            progress_percentage=row.progress_percentage,
            time_spent_minutes=row.progress_time_spent_minutes,
            best_score=row.progress_best_score,
            latest_score=row.progress_latest_score,
            completion_date=row.progress_completion_date,
            mastery_date=row.progress_mastery_date,
            newly_completed=row.newly_completed,
            goal_ids=row.goal_ids,
            achievement_codes=row.achievement_codes,
        )
        progress = yield from rewards_of(user_id, update)
    return SubmittedAttempt(attempt, progress)


def abandon_attempt(*, user_id: uuid.UUID, attempt_id: uuid.UUID) -> Flow[Attempt]:
    """Give up an attempt in progress; AttemptClosed when it is not in progress."""
    check.uuid_("user_id", user_id)
    check.uuid_("attempt_id", attempt_id)
    attempt: Attempt | None = yield call(AssessmentsQueries.abandon_attempt, attempt_id=attempt_id)
    if attempt is None:
        state: AttemptStateRow | None = yield call(
            AssessmentsQueries.attempt_state, attempt_id=attempt_id, user_id=user_id
        )
        if state is None:
            raise NotFound(f"attempt {attempt_id} does not exist")
        raise AttemptClosed(f"attempt {attempt_id} is already {state.status}")
    return attempt
