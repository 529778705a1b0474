"""The learning flow: progress on a component, and what completing it sets off.

The database does the work (record_progress, a SECURITY DEFINER function acting for
app.user_id): the progress row, and on completion the completion count, the streak, goals,
achievements and the log, so that a learner's transaction cannot write any of them directly.
This flow validates, makes that one call, and reads back what the rewards changed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from netplus_db.errors import ValidationError
from netplus_db.flows import Flow, call
from netplus_db.generated.achievements import AchievementsQueries, AwardedAchievement, GetStreakRow
from netplus_db.generated.enums import UserProgressStatus
from netplus_db.generated.goals import Goal, GoalsQueries
from netplus_db.generated.progress import ProgressQueries, ProgressUpdate

STATUSES: tuple[UserProgressStatus, ...] = tuple(UserProgressStatus)  # user_progress CHECK list
MAX_MINUTES_PER_CALL = 1440  # the database refuses more (one day per call)


@dataclass(frozen=True)
class ProgressResult:
    """The progress row after the call, and what completing the component set off."""

    progress: ProgressUpdate
    newly_completed: bool
    streak: GetStreakRow | None
    goals: list[Goal]
    achievements: list[AwardedAchievement]


def record_progress(
    *,
    user_id: uuid.UUID,
    component_id: uuid.UUID,
    status: str,
    progress_percentage: int = 0,
    time_spent_minutes: int = 0,
    last_position: Any = None,
) -> Flow[ProgressResult]:
    """Record the acting user's progress; when it completes the component, the database counts
    the completion, updates the streak, advances goals, awards achievements and logs it, in the
    same transaction. Scores are not the learner's to give: they come from submitted attempts."""
    if status not in STATUSES:
        raise ValidationError("status", f"must be one of {', '.join(STATUSES)}")
    if not 0 <= progress_percentage <= 100:
        raise ValidationError("progress_percentage", "must be between 0 and 100")
    if not 0 <= time_spent_minutes <= MAX_MINUTES_PER_CALL:
        raise ValidationError("time_spent_minutes", f"must be between 0 and {MAX_MINUTES_PER_CALL}")
    row: ProgressUpdate = yield call(
        ProgressQueries.record_progress,
        component_id=component_id,
        status=status,
        progress_percentage=progress_percentage,
        time_spent_minutes=time_spent_minutes,
        last_position=last_position,
    )
    return (yield from rewards_of(user_id, row))


def rewards_of(user_id: uuid.UUID, row: ProgressUpdate) -> Flow[ProgressResult]:
    """The result of a progress step: the streak (when newly completed), the goals it changed
    and the achievements it awarded, read back by the ids and codes the database returned."""
    goals: list[Goal] = []
    awarded: list[AwardedAchievement] = []
    streak: GetStreakRow | None = None
    goal_ids = [g for g in row.goal_ids if g is not None]
    codes = [c for c in row.achievement_codes if c is not None]
    if goal_ids:
        goals = yield call(GoalsQueries.goals_by_id, ids=goal_ids)
    if row.newly_completed:
        streak = yield call(AchievementsQueries.get_streak, user_id=user_id)
    if codes:
        awarded = yield call(AchievementsQueries.achievement_summaries, codes=codes)
    return ProgressResult(row, row.newly_completed, streak, goals, awarded)
