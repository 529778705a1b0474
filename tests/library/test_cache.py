"""The spec's cache in the library, sync and async: hits and misses, TTLs on an injected clock,
invalidation by the content triggers (in this process and in another one), no answer key in a
cached question, the cache switched off, a lost listener switching it off, forged
notifications, and a learner's settings after its own write."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from netplus_db.cache import (
    ACHIEVEMENTS,
    CATALOG,
    MISS,
    QUESTIONS,
    SETTINGS,
    Cache,
    CacheSettings,
)
from netplus_db.cache_listener import APPLICATION_NAME
from netplus_db.config import Target
from netplus_db.database import AsyncDatabase, Database
from tests.support.apis import Api, AsyncApi, Catalog, SyncApi, new_user
from tests.support.factories import scalar, update

WAIT = 30.0  # seconds: a bound on the wait loops below, never an assertion about speed
LISTENERS = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE application_name = %s AND datname = current_database()"
)
TERMINATE_LISTENERS = (
    "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
    " WHERE application_name = %s AND datname = current_database()"
)


class Clock:
    """An injected monotonic clock: time moves when the test says."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sync", "async"])
def make_api(request: pytest.FixtureRequest, db: Target) -> Iterator[Callable[..., Api]]:
    """Build the library in both forms with options of the test's own (closed afterwards)."""
    made: list[Api] = []

    def build(**options: Any) -> Api:
        api: Api = SyncApi(db, **options) if request.param == "sync" else AsyncApi(db, **options)
        made.append(api)
        return api

    yield build
    for api in made:
        api.close()


def eventually(api: Api, what: str, check: Callable[[], bool]) -> None:
    """Wait (letting the listener run) until `check()` holds; fail after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {WAIT:g} s")
        api.pause(0.01)


def notified(api: Api, before: int) -> Callable[[], bool]:
    """Whether the cache has received a notification since it had received `before`."""
    return lambda: api.db.cache_stats.notifications > before


def test_hits_and_misses_are_counted_per_region(api: Api, course: Catalog) -> None:
    learner = new_user(api)
    question_ids = list(course.questions.values())
    for _ in range(2):
        page = api.call("browse_components", domain="1.0", page_size=5)
        lab = api.call("component", component_id=course.lab)
        definitions = api.call("achievements")
        questions = api.call("questions", question_ids=question_ids)
        settings = api.call("settings", user_id=learner.id)
    stats = api.db.cache_stats
    assert stats.live
    assert stats.misses == {CATALOG: 2, ACHIEVEMENTS: 1, QUESTIONS: 6, SETTINGS: 1}
    assert stats.hits == {CATALOG: 2, ACHIEVEMENTS: 1, QUESTIONS: 6, SETTINGS: 1}
    assert {item.id for item in page.items} >= {course.lesson, course.lab}
    assert lab is not None and lab.prerequisites == [course.lesson]
    assert len(definitions) == 3
    assert [q.id for q in questions] == question_ids
    assert settings is not None and settings.user_id == learner.id


def test_a_cached_list_is_the_callers_own(api: Api, course: Catalog) -> None:
    first = api.call("achievements")
    first.clear()
    page = api.call("browse_components", domain="1.0")
    page.items.clear()
    assert len(api.call("achievements")) == 3
    assert api.call("browse_components", domain="1.0").items
    assert api.db.cache_stats.hits[ACHIEVEMENTS] == 1


def test_entries_expire_after_their_region_ttl(
    make_api: Callable[..., Api], course: Catalog
) -> None:
    clock = Clock()
    api = make_api(cache=CacheSettings(catalog_ttl=300, achievements_ttl=3600, clock=clock))
    api.call("component", slug=None, component_id=course.lesson)
    api.call("achievements")
    clock.now += 299
    api.call("component", component_id=course.lesson)
    api.call("achievements")
    assert api.db.cache_stats.hits == {CATALOG: 1, ACHIEVEMENTS: 1, QUESTIONS: 0, SETTINGS: 0}
    clock.now += 2  # the catalog's 300 s are over, the definitions' hour is not
    api.call("component", component_id=course.lesson)
    api.call("achievements")
    stats = api.db.cache_stats
    assert stats.misses[CATALOG] == 2 and stats.hits[CATALOG] == 1
    assert stats.hits[ACHIEVEMENTS] == 2
    clock.now += 3600
    api.call("achievements")
    assert api.db.cache_stats.misses[ACHIEVEMENTS] == 2


def test_a_content_change_is_seen_once_notified(
    api: Api, course: Catalog, conn: psycopg.Connection[Any]
) -> None:
    assert api.call("component", component_id=course.lesson).title == "Ports and protocols"
    before = api.db.cache_stats.notifications
    update(conn, "learning_components", course.lesson, {"title": "Ports, renamed"})
    eventually(api, "the title change notified", notified(api, before))
    assert api.call("component", component_id=course.lesson).title == "Ports, renamed"
    assert api.db.cache_stats.misses[CATALOG] == 2


def test_platform_statistics_do_not_empty_the_cache(
    api: Api, course: Catalog, conn: psycopg.Connection[Any]
) -> None:
    api.call("component", component_id=course.lesson)
    api.call("questions", question_ids=[course.questions["true_false"]])
    conn.execute(
        "UPDATE learning_components SET view_count = view_count + 1 WHERE id = %s", [course.lesson]
    )
    conn.execute(
        "UPDATE question_bank SET usage_count = usage_count + 1 WHERE id = %s",
        [course.questions["true_false"]],
    )
    before = api.db.cache_stats.notifications
    update(conn, "achievements", _achievement(conn), {"points": 20})  # a marker: this one counts
    eventually(api, "the achievement change notified", notified(api, before))
    api.call("component", component_id=course.lesson)
    api.call("questions", question_ids=[course.questions["true_false"]])
    stats = api.db.cache_stats
    assert stats.notifications == before + 1
    assert stats.hits[CATALOG] == 1 and stats.hits[QUESTIONS] == 1


def _achievement(conn: psycopg.Connection[Any]) -> uuid.UUID:
    found: uuid.UUID = scalar(conn, "SELECT id FROM achievements ORDER BY code LIMIT 1")
    return found


def test_no_answer_key_in_cached_questions(
    api: Api, course: Catalog, conn: psycopg.Connection[Any]
) -> None:
    ids = list(course.questions.values())
    for _ in range(2):  # a miss, then hits
        questions = api.call("questions", question_ids=ids)
        for question in questions:
            fields = set(question.field_names())
            assert not fields & {"correct_answer", "explanation"}
            assert "key is right" not in repr(question)  # the explanations' wording
    keys = {str(k) for (k,) in conn.execute("SELECT correct_answer FROM question_bank")}
    cached = repr(questions)
    assert not any(key in cached for key in keys if len(key) > 16)
    assert api.db.cache_stats.hits[QUESTIONS] == len(ids)


def test_unpublished_questions_are_left_out_and_not_remembered(
    api: Api, course: Catalog, conn: psycopg.Connection[Any]
) -> None:
    hidden = course.questions["matching"]
    unknown = uuid.uuid4()
    api.call("achievements")  # the listener starts with the first cached read
    before = api.db.cache_stats.notifications
    update(conn, "question_bank", hidden, {"is_published": False})
    eventually(api, "the unpublishing notified", notified(api, before))
    asked = [unknown, course.questions["true_false"], hidden]
    assert [q.id for q in api.call("questions", question_ids=asked)] == [asked[1]]
    assert [q.id for q in api.call("questions", question_ids=asked)] == [asked[1]]
    stats = api.db.cache_stats
    assert stats.hits[QUESTIONS] == 1 and stats.misses[QUESTIONS] == 5


def test_the_cache_can_be_switched_off(
    make_api: Callable[..., Api],
    course: Catalog,
    conn: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    off = make_api(cache=False)
    monkeypatch.setenv("NETPLUS_CACHE", "0")
    by_env = make_api()
    for number, api in enumerate((off, by_env)):
        assert api.db.cache is None
        first = api.call("component", component_id=course.lesson)
        update(conn, "learning_components", course.lesson, {"title": f"Retitled {number}"})
        assert first.title != api.call("component", component_id=course.lesson).title
        assert api.call("questions", question_ids=[course.questions["true_false"]])
        stats = api.db.cache_stats
        assert not stats.live and stats.reason == "off" and sum(stats.hits.values()) == 0
    assert scalar(conn, LISTENERS, [APPLICATION_NAME]) == 0


def test_behind_transaction_pooling_the_cache_needs_a_listen_dsn(
    make_api: Callable[..., Api], course: Catalog, db: Target
) -> None:
    pooled = make_api(pgbouncer=True)
    pooled.call("achievements")
    pooled.call("achievements")
    stats = pooled.db.cache_stats
    assert not stats.live and stats.bypassed == 2 and "listen_dsn" in stats.reason
    direct = make_api(pgbouncer=True, cache=CacheSettings(listen_dsn=db.conninfo))
    direct.call("achievements")
    direct.call("achievements")
    assert direct.db.cache_stats.hits[ACHIEVEMENTS] == 1


def test_a_lost_listener_switches_the_cache_off_until_it_is_back(
    make_api: Callable[..., Api], course: Catalog, conn: psycopg.Connection[Any]
) -> None:
    api = make_api(cache=CacheSettings(retry_after=0.2))
    api.call("achievements")
    assert api.db.cache_stats.live
    terminated = scalar(conn, TERMINATE_LISTENERS, [APPLICATION_NAME])
    assert terminated == 1
    eventually(api, "the listener's loss noticed", lambda: api.db.cache_stats.losses == 1)
    # Whatever it missed meanwhile is not served: the cache starts empty when it is back.
    update(conn, "achievements", _achievement(conn), {"name": "renamed while deaf"})
    eventually(api, "the listener back", lambda: api.db.cache_stats.live)
    names = {a.name for a in api.call("achievements")}
    assert "renamed while deaf" in names
    stats = api.db.cache_stats
    assert stats.connects == 2 and stats.hits[ACHIEVEMENTS] == 0


def test_while_the_listener_is_down_nothing_is_served(
    make_api: Callable[..., Api], course: Catalog, conn: psycopg.Connection[Any]
) -> None:
    api = make_api(cache=CacheSettings(retry_after=3600))  # it will not come back in this test
    api.call("achievements")
    scalar(conn, TERMINATE_LISTENERS, [APPLICATION_NAME])
    eventually(api, "the listener's loss noticed", lambda: not api.db.cache_stats.live)
    update(conn, "achievements", _achievement(conn), {"name": "renamed while down"})
    for _ in range(3):
        assert "renamed while down" in {a.name for a in api.call("achievements")}
    stats = api.db.cache_stats
    assert stats.bypassed == 3 and stats.hits[ACHIEVEMENTS] == 0
    assert stats.reason.startswith("listener connection lost")


def test_forged_notifications_only_cost_misses(api: Api, course: Catalog) -> None:
    learner = new_user(api)
    api.call("achievements")
    api.call("settings", user_id=learner.id)
    before = api.db.cache_stats.notifications
    forged = ["achievements", "user_settings:not-a-uuid", "nonsense", "", "x" * 7000]
    with Database(api.db.target, min_size=1, max_size=1, cache=False) as lib:
        for payload in forged:  # any role may NOTIFY: here a learner, in its own transaction
            with lib.as_user(learner.id) as q:
                q.conn.execute("SELECT pg_notify('netplus_cache', %s)", [payload])
    eventually(api, "the forged notifications received", notified(api, before + len(forged) - 1))
    assert [a.name for a in api.call("achievements")]
    assert api.call("settings", user_id=learner.id).user_id == learner.id
    stats = api.db.cache_stats
    assert stats.hits == {CATALOG: 0, ACHIEVEMENTS: 0, QUESTIONS: 0, SETTINGS: 0}
    assert stats.misses[ACHIEVEMENTS] == 2 and stats.misses[SETTINGS] == 2
    assert stats.live


def test_a_learner_may_notify_but_not_call_or_disable_the_triggers(
    api: Api, conn: psycopg.Connection[Any]
) -> None:
    learner = new_user(api)
    with Database(api.db.target, min_size=1, max_size=1, cache=False) as lib:
        with lib.as_user(learner.id) as q:
            q.conn.execute("SELECT pg_notify('netplus_cache', 'learning_components')")
        for statement in (
            "SELECT notify_cache_change()",
            "SELECT notify_settings_change()",
            "ALTER TABLE learning_components DISABLE TRIGGER trg_learning_components_cache",
            "DROP TRIGGER trg_user_settings_cache_update ON user_settings",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), lib.as_user(learner.id) as q:
                q.conn.execute(statement)


def test_a_learner_sees_its_own_settings_change_at_once(api: Api) -> None:
    learner = new_user(api)
    assert api.call("settings", user_id=learner.id).theme == "system"
    current = api.call("settings", user_id=learner.id)
    values = {k: v for k, v in current._asdict().items() if k not in ("user_id", "updated_at")}
    api.q(
        learner.id, "profiles", "update_settings", user_id=learner.id, **{**values, "theme": "dark"}
    )
    assert api.call("settings", user_id=learner.id).theme == "dark"  # no wait: same process


def test_settings_are_cached_per_learner(api: Api, conn: psycopg.Connection[Any]) -> None:
    ana, ben = new_user(api, "ana"), new_user(api, "ben")
    assert api.call("settings", user_id=ana.id).user_id == ana.id
    assert api.call("settings", user_id=ben.id).user_id == ben.id
    before = api.db.cache_stats.notifications
    conn.execute("UPDATE user_settings SET font_size = 'large' WHERE user_id = %s", [ben.id])
    eventually(api, "ben's settings change notified", notified(api, before))
    assert api.call("settings", user_id=ana.id).user_id == ana.id  # still cached
    assert api.call("settings", user_id=ben.id).font_size == "large"
    stats = api.db.cache_stats
    assert stats.hits[SETTINGS] == 1 and stats.misses[SETTINGS] == 3


def test_a_fill_that_read_before_an_invalidation_is_not_kept() -> None:
    cache = Cache()
    cache.went_live()
    ticket = cache.ticket(CATALOG)
    cache.apply("learning_components")  # arrives while the fill was reading
    cache.put(CATALOG, "page", ["old"], ticket)
    assert cache.get(CATALOG, "page") is MISS
    stats = cache.stats()
    assert stats.discarded == 1 and stats.stored == 0 and stats.misses[CATALOG] == 1


# --- another process -----------------------------------------------------------------------


def _watch(target: Target, kind: str, component: uuid.UUID, changed: Any, out: Any) -> None:
    """In another process: cache a component, say so, then read it until its title changes
    (bounded), and report the title and the cache's counters."""

    def report(title: str, stats: Any) -> None:
        out.put((title, stats.notifications, stats.hits[CATALOG], stats.misses[CATALOG]))

    if kind == "sync":
        with Database(target, min_size=1, max_size=1) as db:
            first = db.component(component_id=component)
            out.put(first.title if first else None)
            changed.wait(WAIT)
            deadline = time.monotonic() + WAIT
            title = first.title if first else ""
            while title == (first.title if first else "") and time.monotonic() < deadline:
                time.sleep(0.005)
                now = db.component(component_id=component)
                title = now.title if now else ""
            report(title, db.cache_stats)
        return

    async def main() -> None:
        async with AsyncDatabase(target, min_size=1, max_size=1) as db:
            first = await db.component(component_id=component)
            out.put(first.title if first else None)
            await asyncio.to_thread(changed.wait, WAIT)
            deadline = time.monotonic() + WAIT
            title = first.title if first else ""
            while title == (first.title if first else "") and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
                now = await db.component(component_id=component)
                title = now.title if now else ""
            report(title, db.cache_stats)

    asyncio.run(main())


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_another_process_sees_a_content_change(
    db: Target, course: Catalog, conn: psycopg.Connection[Any], kind: str
) -> None:
    context = multiprocessing.get_context("spawn")
    changed, out = context.Event(), context.Queue()
    watcher = context.Process(target=_watch, args=(db, kind, course.lab, changed, out))
    watcher.start()
    try:
        assert out.get(timeout=120) == "Port scanning lab"
        update(conn, "learning_components", course.lab, {"title": "Port scanning, revised"})
        changed.set()
        title, notifications, hits, misses = out.get(timeout=120)
    finally:
        watcher.join(WAIT)
        if watcher.is_alive():
            watcher.kill()
    assert title == "Port scanning, revised"
    assert notifications >= 1 and misses == 2
    assert hits >= 0
