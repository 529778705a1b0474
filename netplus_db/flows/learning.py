"""The learning flow: progress on a component, and what completing it sets off."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from netplus_db.errors import NotFound, ValidationError
from netplus_db.flows import Flow, call
from netplus_db.generated.achievements import (
    AchievementsQueries,
    EvaluateAchievementsRow,
    GetStreakRow,
)
from netplus_db.generated.activity import ActivityQueries
from netplus_db.generated.content import ContentQueries
from netplus_db.generated.enums import StudyGoalMetric, UserProgressStatus
from netplus_db.generated.goals import Goal, GoalsQueries
from netplus_db.generated.progress import ProgressQueries, UpsertProgressRow

STATUSES: tuple[UserProgressStatus, ...] = tuple(UserProgressStatus)  # user_progress's CHECK list


@dataclass(frozen=True)
class ProgressResult:
    """The progress row after the call, and what completing the component set off."""

    progress: UpsertProgressRow
    newly_completed: bool
    streak: GetStreakRow | None
    goals: list[Goal]
    achievements: list[EvaluateAchievementsRow]


def record_progress(
    *,
    user_id: uuid.UUID,
    component_id: uuid.UUID,
    status: str,
    progress_percentage: int = 0,
    time_spent_minutes: int = 0,
    last_position: Any = None,
    score: Decimal | None = None,
) -> Flow[ProgressResult]:
    """Record progress; when it completes the component, in the same transaction: count the
    completion, update the streak, advance goals, award achievements and log the activity."""
    if status not in STATUSES:
        raise ValidationError("status", f"must be one of {', '.join(STATUSES)}")
    if not 0 <= progress_percentage <= 100:
        raise ValidationError("progress_percentage", "must be between 0 and 100")
    if time_spent_minutes < 0:
        raise ValidationError("time_spent_minutes", "must not be negative")
    try:
        row: UpsertProgressRow = yield call(
            ProgressQueries.upsert_progress,
            user_id=user_id,
            component_id=component_id,
            status=status,
            progress_percentage=progress_percentage,
            time_spent_minutes=time_spent_minutes,
            last_position=last_position,
            score=score,
        )
    except NotFound:
        raise NotFound(f"component {component_id} or user {user_id} does not exist") from None
    goals: list[Goal] = []
    if time_spent_minutes:
        goals += yield call(
            GoalsQueries.advance_goals,
            user_id=user_id,
            metric=StudyGoalMetric.MINUTES,
            amount=time_spent_minutes,
        )
    if not row.newly_completed:
        return ProgressResult(row, False, None, goals, [])
    yield call(ContentQueries.count_completion, component_id=component_id)
    yield call(AchievementsQueries.update_streak, user_id=user_id, activity_date=None)
    streak: GetStreakRow | None = yield call(AchievementsQueries.get_streak, user_id=user_id)
    goals += yield call(
        GoalsQueries.advance_goals, user_id=user_id, metric=StudyGoalMetric.COMPONENTS, amount=1
    )
    goals += yield call(GoalsQueries.sync_streak_goals, user_id=user_id)
    awarded: list[EvaluateAchievementsRow] = yield call(
        AchievementsQueries.evaluate_achievements, user_id=user_id
    )
    yield call(
        ActivityQueries.log_activity,
        user_id=user_id,
        activity_type="component_completed",
        activity_description="Completed a learning component",
        resource_type="learning_component",
        resource_id=component_id,
        metadata={
            "achievements": [a.code for a in awarded],
            "score": str(score) if score else None,
        },
        ip_address=None,
        user_agent=None,
    )
    return ProgressResult(row, True, streak, goals, awarded)
