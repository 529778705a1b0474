"""The reads a backend needs without SQL of its own, sync and async, inside `as_user`:
assessments listed and filtered, a component by id, a component's assessment, the
leaderboard (usernames and points only, opt-out respected), browsing with has_more."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from tests.support import factories
from tests.support.apis import Api, Catalog, build_catalog, new_user


def test_assessments_are_listed_and_filtered(
    api: Api, conn: psycopg.Connection[Any], course: Catalog
) -> None:
    other = build_catalog(conn, assessment_type="practice_exam", domain="2.0")
    user = new_user(api)

    def listed(**filters: Any) -> list[uuid.UUID]:
        args: dict[str, Any] = {"assessment_type": None, "domain": None, "component_id": None}
        args |= {"after_title": None, "after_id": None, "page_size": 10, **filters}
        return [a.id for a in api.q(user.id, "assessments", "list_assessments", **args)]

    assert set(listed()) == {course.assessment, other.assessment}
    assert listed(assessment_type="practice_exam") == [other.assessment]
    assert listed(domain="2.0") == [other.assessment]
    assert listed(component_id=course.quiz_component) == [course.assessment]
    assert listed(component_id=course.lesson) == []
    first = api.q(
        user.id,
        "assessments",
        "list_assessments",
        assessment_type=None,
        domain=None,
        component_id=None,
        after_title=None,
        after_id=None,
        page_size=1,
    )
    rest = listed(after_title=first[0].title, after_id=first[0].id)
    assert len(first) == 1 and len(rest) == 1 and rest[0] != first[0].id


def test_a_component_by_id_and_its_assessment(api: Api, course: Catalog) -> None:
    user = new_user(api)
    lesson = api.q(user.id, "content", "get_component_by_id", component_id=course.lesson)
    by_slug = api.q(user.id, "content", "get_component", slug=lesson.slug)
    assert lesson == by_slug and lesson.id == course.lesson
    assert api.q(user.id, "content", "get_component_by_id", component_id=uuid.uuid4()) is None
    quiz = api.q(user.id, "assessments", "component_assessment", component_id=course.quiz_component)
    assert quiz.id == course.assessment and quiz.slug == course.assessment_slug
    assert quiz.question_count == len(course.questions)
    assert api.q(user.id, "assessments", "component_assessment", component_id=course.lesson) is None
    by_id = api.q(user.id, "assessments", "get_assessment_by_id", assessment_id=quiz.id)
    assert by_id == quiz


def test_browse_pages_say_whether_more_follow(api: Api, course: Catalog) -> None:
    user = new_user(api)
    first = api.call("browse_components", user_id=user.id, domain="1.0", page_size=2)
    assert len(first.items) == 2 and first.has_more
    assert (first.next_after_title, first.next_after_id) == (
        first.items[-1].title,
        first.items[-1].id,
    )
    second = api.call(
        "browse_components",
        domain="1.0",
        after_title=first.next_after_title,
        after_id=first.next_after_id,
        page_size=2,
    )
    assert len(second.items) == 1 and not second.has_more
    assert second.next_after_title is None and second.next_after_id is None
    assert {c.id for c in first.items + second.items} == {
        course.lesson,
        course.lab,
        course.quiz_component,
    }
    exact = api.call("browse_components", domain="1.0", page_size=3)  # fits: nothing more
    assert len(exact.items) == 3 and not exact.has_more and exact.next_after_id is None
    # every component of the course is intermediate: the filter alone leaves none
    assert api.call("browse_components", difficulty_level="beginner").items == []
    labs = api.call("browse_components", component_type="lab", difficulty_level="intermediate")
    assert [c.id for c in labs.items] == [course.lab] and not labs.has_more
    assert api.call("browse_components", domain="2.0").items == []


def test_browse_filters_by_subdomain_and_pages_through_equal_titles(
    api: Api, conn: psycopg.Connection[Any]
) -> None:
    """Two components of one title are told apart by id, one page each; a third of that
    title in another subdomain is filtered out."""
    same = sorted(factories.component(conn, title="Subnetting", subdomain="1.7") for _ in "ab")
    factories.component(conn, title="Subnetting", subdomain="1.6")
    seen: list[uuid.UUID] = []
    after: dict[str, Any] = {}
    for _ in range(4):
        page = api.call("browse_components", subdomain="1.7", page_size=1, **after)
        seen += [c.id for c in page.items]
        if not page.has_more:
            break
        after = {"after_title": page.next_after_title, "after_id": page.next_after_id}
    assert seen == same


def complete(api: Api, user: Any, course: Catalog) -> None:
    api.call("record_progress", user_id=user.id, component_id=course.lesson, status="completed")


def test_the_leaderboard_shows_usernames_and_points_of_those_who_did_not_opt_out(
    api: Api, conn: psycopg.Connection[Any], course: Catalog
) -> None:
    ana, ben, cyd, dee = (new_user(api, name) for name in ("ana", "ben", "cyd", "dee"))
    for learner in (ana, ben, cyd):
        complete(api, learner, course)  # the catalog's first-lesson achievement: 10 points
    conn.execute(
        "UPDATE user_settings SET privacy_settings = '{\"show_on_leaderboard\": false}'"
        " WHERE user_id = %s",
        [cyd.id],
    )
    conn.execute("SELECT refresh_analytics_views()")

    def board(acting: Any, period: str) -> list[Any]:
        return list(api.q(acting.id, "achievements", "leaderboard", period=period, page_size=10))

    for period in ("all_time", "week"):
        rows = board(dee, period)
        assert sorted((r.rank, r.username, r.points) for r in rows) == [
            (1, ana.username, 10),
            (1, ben.username, 10),
        ]
        assert set(rows[0]._fields) == {"rank", "username", "points", "as_of"}
    # Opting back in shows at once; new points show after the next refresh.
    conn.execute(
        "UPDATE user_settings SET privacy_settings = '{\"show_on_leaderboard\": true}'"
        " WHERE user_id = %s",
        [cyd.id],
    )
    conn.execute(
        "INSERT INTO user_achievements (user_id, achievement_id)"
        " SELECT %s, id FROM achievements WHERE name = 'handed-out'",
        [ben.id],
    )
    assert {r.username for r in board(ana, "all_time")} == {
        ana.username,
        ben.username,
        cyd.username,
    }
    assert {r.points for r in board(ana, "all_time")} == {10}
    conn.execute("SELECT refresh_analytics_views()")
    top = board(ana, "all_time")
    assert (top[0].rank, top[0].username, top[0].points) == (1, ben.username, 20)
    assert [r.rank for r in top] == [1, 2, 2]
