"""The learning flow: progress on a component, and what completing it sets off.

The database does the work (record_progress, a SECURITY DEFINER function acting for
app.user_id): the progress row, and on completion the completion count, the streak, goals,
achievements and the log, so that a learner's transaction cannot write any of them directly.
This flow validates, makes that one call, and reads back what the rewards changed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from netplus_db import validation as check
from netplus_db.flows import Flow, call
from netplus_db.generated.achievements import AchievementsQueries, AwardedAchievement, GetStreakRow
from netplus_db.generated.enums import UserProgressStatus
from netplus_db.generated.goals import Goal, GoalsQueries
from netplus_db.generated.progress import ProgressQueries, ProgressUpdate
from netplus_db.rows import Row
from netplus_db.types import Json

STATUSES: tuple[UserProgressStatus, ...] = tuple(UserProgressStatus)  # user_progress CHECK list
MAX_MINUTES_PER_CALL = 1440  # the database refuses more (one day per call)


@dataclass(slots=True)
class ProgressResult(Row):
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
    last_position: Json = None,
) -> Flow[ProgressResult]:
    """Record the acting user's progress; when it completes the component, the database counts
    the completion, updates the streak, advances goals, awards achievements and logs it, in the
    same transaction. Scores are not the learner's to give: they come from submitted attempts."""
    check.uuid_("user_id", user_id)
    check.uuid_("component_id", component_id)
    check.choice("status", status, STATUSES)
    check.integer("progress_percentage", progress_percentage, minimum=0, maximum=100)
    check.integer("time_spent_minutes", time_spent_minutes, minimum=0, maximum=MAX_MINUTES_PER_CALL)
    check.json_value("last_position", last_position)
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
