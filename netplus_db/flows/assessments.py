"""The assessment flow: start an attempt, save answers, submit (grade), abandon."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from netplus_db.errors import AttemptClosed, MaxAttemptsReached, NotFound, ValidationError
from netplus_db.flows import Flow, call
from netplus_db.flows.learning import ProgressResult, record_progress
from netplus_db.generated.activity import ActivityQueries
from netplus_db.generated.assessments import (
    AssessmentsQueries,
    Attempt,
    AttemptQuestionsRow,
    AttemptStateRow,
    AttemptsUsedRow,
    GradingSheetRow,
    QuestionForAnswerRow,
    SaveAnswerRow,
    StartAttemptRow,
)
from netplus_db.generated.enums import AssessmentAttemptStatus, UserProgressStatus
from netplus_db.grading import grade


@dataclass(frozen=True)
class StartedAttempt:
    """A new attempt and its questions as the learner may see them (no keys)."""

    attempt: StartAttemptRow
    questions: list[AttemptQuestionsRow]


@dataclass(frozen=True)
class SubmittedAttempt:
    """A graded attempt and the progress it recorded."""

    attempt: Attempt
    progress: ProgressResult | None


@dataclass(frozen=True)
class ScoredAttempt:
    """An attempt's grading sheet scored: per question, then the totals."""

    ids: list[uuid.UUID]
    correct: list[bool]
    points: list[Decimal]
    answered: list[bool]
    seconds: list[int | None]
    score: Decimal
    percentage: Decimal
    passed: bool
    right: int
    wrong: int
    skipped: int


def score_sheet(sheet: Iterable[GradingSheetRow], passing_score: int | None) -> ScoredAttempt:
    """Grade each question of a grading sheet by its type and add up the attempt: points,
    percentage (to the cent), passed, and correct / incorrect / skipped counts."""
    scored = ScoredAttempt([], [], [], [], [], Decimal(0), Decimal(0), False, 0, 0, 0)
    possible = Decimal(0)
    score = Decimal(0)
    right = wrong = skipped = 0
    for row in sheet:
        try:
            result = grade(
                row.question_type, row.question_data, row.correct_answer, row.user_answer
            )
        except ValidationError:  # validated when saved; a later key change cannot crash grading
            result = grade(row.question_type, row.question_data, row.correct_answer, None)
        earned = result.points(row.points)
        scored.ids.append(row.question_id)
        scored.correct.append(result.correct)
        scored.points.append(earned)
        scored.answered.append(not result.skipped)
        scored.seconds.append(row.time_spent_seconds)
        score += earned
        possible += row.points
        skipped += result.skipped
        right += result.correct
        wrong += not result.skipped and not result.correct
    percentage = (
        (score * 100 / possible).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if possible
        else Decimal(0)
    )
    return replace(
        scored,
        score=score,
        percentage=percentage,
        passed=percentage >= (passing_score or 0),
        right=right,
        wrong=wrong,
        skipped=skipped,
    )


def start_attempt(*, user_id: uuid.UUID, assessment_id: uuid.UUID) -> Flow[StartedAttempt]:
    """Open the next attempt; racing starts are serialised, so max_attempts always holds."""
    yield call(AssessmentsQueries.lock_attempts, user_id=user_id, assessment_id=assessment_id)
    started: StartAttemptRow | None = yield call(
        AssessmentsQueries.start_attempt, user_id=user_id, assessment_id=assessment_id
    )
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


def save_answer(
    *,
    user_id: uuid.UUID,
    attempt_id: uuid.UUID,
    question_id: uuid.UUID,
    user_answer: Any,
    time_spent_seconds: int | None = None,
    flagged_for_review: bool = False,
) -> Flow[SaveAnswerRow]:
    """Save an answer after checking its shape against the question (ValidationError names
    the field); refused with AttemptClosed once the attempt is closed or out of time."""
    if time_spent_seconds is not None and time_spent_seconds < 0:
        raise ValidationError("time_spent_seconds", "must not be negative")
    state: AttemptStateRow | None = yield call(
        AssessmentsQueries.attempt_state, attempt_id=attempt_id, user_id=user_id
    )
    if state is None:
        raise NotFound(f"attempt {attempt_id} does not exist")
    question: QuestionForAnswerRow | None = yield call(
        AssessmentsQueries.question_for_answer, attempt_id=attempt_id, question_id=question_id
    )
    if question is None:
        raise ValidationError("question_id", f"{question_id} is not a question of this attempt")
    grade(question.question_type, question.question_data, question.correct_answer, user_answer)
    saved: SaveAnswerRow | None = yield call(
        AssessmentsQueries.save_answer,
        attempt_id=attempt_id,
        user_id=user_id,
        question_id=question_id,
        user_answer=user_answer,
        time_spent_seconds=time_spent_seconds,
        flagged_for_review=flagged_for_review,
    )
    if saved is None:
        why = "its time limit has passed" if state.expired else f"it is {state.status}"
        raise AttemptClosed(f"attempt {attempt_id} takes no more answers: {why}")
    return saved


def submit_attempt(*, user_id: uuid.UUID, attempt_id: uuid.UUID) -> Flow[SubmittedAttempt]:
    """Grade every question by its type, store the totals, question statistics, progress and
    achievements. A second submit (even a concurrent one) finds it closed: graded once."""
    status: str | None = yield call(
        AssessmentsQueries.lock_attempt, attempt_id=attempt_id, user_id=user_id
    )
    if status is None:
        raise NotFound(f"attempt {attempt_id} does not exist")
    if status != AssessmentAttemptStatus.IN_PROGRESS:
        raise AttemptClosed(f"attempt {attempt_id} is already {status}")
    state: AttemptStateRow = yield call(
        AssessmentsQueries.attempt_state, attempt_id=attempt_id, user_id=user_id
    )
    sheet: list[GradingSheetRow] = yield call(
        AssessmentsQueries.grading_sheet, attempt_id=attempt_id
    )
    g = score_sheet(sheet, state.passing_score)
    yield call(
        AssessmentsQueries.record_grades,
        attempt_id=attempt_id,
        question_ids=g.ids,
        correct=g.correct,
        points=g.points,
    )
    yield call(
        AssessmentsQueries.update_question_stats,
        question_ids=g.ids,
        correct=g.correct,
        answered=g.answered,
        seconds=g.seconds,
    )
    attempt: Attempt = yield call(
        AssessmentsQueries.finish_attempt,
        attempt_id=attempt_id,
        status=(
            AssessmentAttemptStatus.TIMED_OUT
            if state.expired
            else AssessmentAttemptStatus.COMPLETED
        ),
        score=g.score,
        percentage=g.percentage,
        passed=g.passed,
        correct_answers=g.right,
        incorrect_answers=g.wrong,
        skipped_questions=g.skipped,
    )
    component_id: uuid.UUID | None = yield call(
        AssessmentsQueries.component_for_assessment, slug=state.slug
    )
    progress = None
    if component_id is not None:
        progress = yield from record_progress(
            user_id=user_id,
            component_id=component_id,
            status=UserProgressStatus.COMPLETED if g.passed else UserProgressStatus.IN_PROGRESS,
            progress_percentage=100 if g.passed else int(g.percentage),
            time_spent_minutes=attempt.time_spent_minutes,
            score=g.percentage,
        )
    yield call(
        ActivityQueries.log_activity,
        user_id=user_id,
        activity_type="assessment_submitted",
        activity_description=f"Scored {g.percentage}% ({'passed' if g.passed else 'not passed'})",
        resource_type="assessment_attempt",
        resource_id=attempt_id,
        metadata={"percentage": str(g.percentage), "passed": g.passed, "status": attempt.status},
        ip_address=None,
        user_agent=None,
    )
    return SubmittedAttempt(attempt, progress)


def abandon_attempt(*, user_id: uuid.UUID, attempt_id: uuid.UUID) -> Flow[Attempt]:
    """Give up an attempt in progress; AttemptClosed when it is not in progress."""
    attempt: Attempt | None = yield call(
        AssessmentsQueries.abandon_attempt, attempt_id=attempt_id, user_id=user_id
    )
    if attempt is None:
        state: AttemptStateRow | None = yield call(
            AssessmentsQueries.attempt_state, attempt_id=attempt_id, user_id=user_id
        )
        if state is None:
            raise NotFound(f"attempt {attempt_id} does not exist")
        raise AttemptClosed(f"attempt {attempt_id} is already {state.status}")
    return attempt
