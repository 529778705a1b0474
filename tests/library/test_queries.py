"""The queries no flow calls: profiles and settings, catalog reads, reports — sync and async."""

from __future__ import annotations

import datetime

import pytest

from netplus_db.errors import Forbidden, ValidationError
from tests.support.apis import Api, Catalog, new_user


def test_profile_and_settings_are_replaced_and_validated(api: Api) -> None:
    user = new_user(api, "q")
    profile = api.q(
        user.id,
        "profiles",
        "update_profile",
        user_id=user.id,
        first_name="Ana",
        last_name="O'Neil",
        display_name="ana",
        bio="100% on 'ports'; -- really",
        avatar_url=None,
        timezone="Europe/Lisbon",
        locale="pt-PT",
        certifications=["A+"],
    )
    assert (profile.last_name, profile.bio, profile.certifications) == (
        "O'Neil",
        "100% on 'ports'; -- really",
        ["A+"],
    )
    settings = api.q(
        user.id,
        "profiles",
        "update_settings",
        user_id=user.id,
        theme="dark",
        notifications_enabled=False,
        email_notifications=False,
        study_reminders=True,
        reminder_time=datetime.time(19, 30),
        reminder_days=[1, 3, 5],
        accessibility_mode=True,
        high_contrast=False,
        font_size="large",
        daily_goal_minutes=45,
        privacy_settings={"profile": "private"},
    )
    assert (settings.theme, settings.reminder_days, settings.privacy_settings) == (
        "dark",
        [1, 3, 5],
        {"profile": "private"},
    )
    with pytest.raises(ValidationError) as caught:
        api.q(
            user.id,
            "profiles",
            "update_settings",
            user_id=user.id,
            theme="neon",
            notifications_enabled=True,
            email_notifications=True,
            study_reminders=True,
            reminder_time=None,
            reminder_days=[1],
            accessibility_mode=False,
            high_contrast=False,
            font_size="medium",
            daily_goal_minutes=30,
            privacy_settings={},
        )
    assert caught.value.field == "theme"
    assert api.q(user.id, "profiles", "get_settings", user_id=user.id).theme == "dark"
    other = new_user(api, "q")  # RLS: an update of someone else's row changes nothing
    assert (
        api.q(
            user.id,
            "profiles",
            "update_profile",
            user_id=other.id,
            first_name="x",
            last_name=None,
            display_name=None,
            bio=None,
            avatar_url=None,
            timezone="UTC",
            locale="en-US",
            certifications=[],
        )
        is None
    )


def test_catalog_reads_views_and_attempt_reads(api: Api, course: Catalog) -> None:
    user = new_user(api, "q")
    assert api.admin("content", "count_view", component_id=course.lesson) == 1
    assessment = api.q(user.id, "assessments", "get_assessment", slug=course.assessment_slug)
    assert assessment.question_count == 6 and assessment.max_attempts == 3
    assert api.q(user.id, "assessments", "get_assessment", slug="no-such-quiz") is None
    started = api.call("start_attempt", user_id=user.id, assessment_id=course.assessment)
    attempt = api.q(
        user.id, "assessments", "get_attempt", attempt_id=started.attempt.id, user_id=user.id
    )
    assert attempt.status == "in_progress" and attempt.score is None
    api.call("submit_attempt", user_id=user.id, attempt_id=started.attempt.id)
    progress = api.q(
        user.id, "progress", "get_progress", user_id=user.id, component_id=course.quiz_component
    )
    assert progress.status == "in_progress" and progress.latest_score == 0
    stats = api.q(user.id, "analytics", "user_learning_stats", user_id=user.id)
    assert stats.user_id == user.id and stats.components_started == 1
    component = api.admin("analytics", "component_performance", component_id=course.lesson)
    assert component.component_id == course.lesson
    performance = api.admin("analytics", "assessment_performance", assessment_id=course.assessment)
    assert performance.total_attempts == 1 and performance.fail_count == 1
    api.admin("analytics", "refresh_analytics_views")
    weeks = api.admin(
        "analytics",
        "weekly_domain_progress",
        from_week=datetime.date.today() - datetime.timedelta(days=14),
    )
    assert [w.domain for w in weeks] == ["1.0"]


def test_achievements_catalog_manual_award_and_goal_status(api: Api, course: Catalog) -> None:
    user = new_user(api, "q")
    catalog = api.q(user.id, "achievements", "list_achievements")
    manual = [a.code for a in catalog if a.code.startswith("handed-out")]
    assert len(manual) == 1
    with pytest.raises(Forbidden):  # a learner cannot hand itself an achievement
        api.q(user.id, "achievements", "award_achievement", user_id=user.id, code=manual[0])
    assert api.admin("achievements", "award_achievement", user_id=user.id, code=manual[0])
    assert not api.admin("achievements", "award_achievement", user_id=user.id, code=manual[0])
    earned = api.q(user.id, "achievements", "user_achievements", user_id=user.id)
    assert [e.code for e in earned] == manual
    goal = api.q(
        user.id,
        "goals",
        "create_goal",
        user_id=user.id,
        goal_type="custom",
        title="Pass N10-009",
        target_value=720,
        metric="score",
        start_date=None,
        target_date=datetime.date.today() + datetime.timedelta(days=60),
    )
    abandoned = api.q(user.id, "goals", "set_goal_status", goal_id=goal.id, status="abandoned")
    assert abandoned.status == "abandoned" and abandoned.completed_date is None
    with pytest.raises(ValidationError) as caught:  # completed only by reaching the target
        api.q(user.id, "goals", "set_goal_status", goal_id=goal.id, status="completed")
    assert caught.value.field == "status"
    again = api.q(user.id, "goals", "set_goal_status", goal_id=goal.id, status="active")
    assert again.status == "active" and again.current_value == 0
    other = new_user(api, "q")  # someone else's goal: no row, no change
    assert api.q(other.id, "goals", "set_goal_status", goal_id=goal.id, status="failed") is None
