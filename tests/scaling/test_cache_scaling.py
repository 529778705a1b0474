"""The cache with replicas and PgBouncer: a fill after a content change never stores what a
lagging replica still shows, and behind transaction pooling the listener's own connection
(listen_dsn) keeps invalidation working."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg
import pytest

from netplus_db.cache import CacheSettings
from netplus_db.config import Target
from netplus_db.database import AsyncDatabase, Database
from netplus_db.generated.content import Component
from netplus_db.ops.pgbouncer import PgBouncer
from netplus_db.ops.standby import Standby
from netplus_db.routing import PRIMARY, Settings
from tests.support.apis import build_catalog
from tests.support.factories import update
from tests.support.pgbouncer import bouncer_target
from tests.support.replica import SYNC_COMMIT, caught_up

WAIT = 30.0  # seconds: a bound on the wait loops, never an assertion about speed


def _title(component: Component | None) -> str:
    assert component is not None, "the component is published"
    return component.title


def _until(check: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {WAIT:g} s")
        time.sleep(0.01)


async def _auntil(check: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {WAIT:g} s")
        await asyncio.sleep(0.01)


@pytest.mark.replica
def test_a_fill_after_a_change_skips_a_replica_that_has_not_replayed_it(
    db: Target, replica: Standby, replica_of_db: Target, conn: psycopg.Connection[Any]
) -> None:
    course = build_catalog(conn)
    caught_up(replica, db)
    routing = Settings(wait=0.2)
    with Database(db, replicas=[replica_of_db], routing=routing, **SYNC_COMMIT) as lib:
        assert _title(lib.component(component_id=course.lesson)) == "Ports and protocols"
        assert lib.read_stats.snapshot()["reads"] == {replica_of_db.describe(): 1}
        replica.pause_replay()
        try:
            before = lib.cache_stats.notifications
            update(conn, "learning_components", course.lesson, {"title": "Renamed on primary"})
            _until(lambda: lib.cache_stats.notifications > before, "the change notified")
            for _ in range(3):  # a miss (the primary fills), then hits
                assert _title(lib.component(component_id=course.lesson)) == "Renamed on primary"
        finally:
            replica.resume_replay()
        reads = lib.read_stats.snapshot()
    assert reads["reads"].get(PRIMARY) == 1 and reads["primary_for_freshness"] == 1
    assert lib.cache_stats.hits["catalog"] == 2


@pytest.mark.replica
def test_async_fill_after_a_change_skips_a_lagging_replica(
    db: Target, replica: Standby, replica_of_db: Target, conn: psycopg.Connection[Any]
) -> None:
    course = build_catalog(conn)
    caught_up(replica, db)

    async def scenario() -> tuple[list[str], dict[str, Any]]:
        titles = []
        async with AsyncDatabase(
            db, replicas=[replica_of_db], routing=Settings(wait=0.2), **SYNC_COMMIT
        ) as lib:
            titles.append(_title(await lib.component(component_id=course.lab)))
            replica.pause_replay()
            try:
                before = lib.cache_stats.notifications
                await asyncio.to_thread(
                    update, conn, "learning_components", course.lab, {"title": "Lab, renamed"}
                )
                await _auntil(lambda: lib.cache_stats.notifications > before, "notified")
                titles.append(_title(await lib.component(component_id=course.lab)))
            finally:
                replica.resume_replay()
            return titles, lib.read_stats.snapshot()

    titles, reads = asyncio.run(scenario())
    assert titles == ["Port scanning lab", "Lab, renamed"]
    assert reads["primary_for_freshness"] == 1


@pytest.mark.pgbouncer
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_behind_transaction_pooling_the_listener_uses_its_own_connection(
    db: Target, pgbouncer_transaction: PgBouncer, conn: psycopg.Connection[Any], kind: str
) -> None:
    course = build_catalog(conn)
    through = bouncer_target(pgbouncer_transaction, db)
    cache = CacheSettings(listen_dsn=db.conninfo)

    def change() -> None:
        update(conn, "learning_components", course.lesson, {"title": f"Retitled {kind}"})

    if kind == "sync":
        with Database(through, pgbouncer=True, cache=cache) as lib:
            lib.component(component_id=course.lesson)
            before = lib.cache_stats.notifications
            change()
            _until(lambda: lib.cache_stats.notifications > before, "the change notified")
            title = _title(lib.component(component_id=course.lesson))
            stats = lib.cache_stats
    else:

        async def scenario() -> tuple[str, Any]:
            async with AsyncDatabase(through, pgbouncer=True, cache=cache) as lib:
                await lib.component(component_id=course.lesson)
                before = lib.cache_stats.notifications
                await asyncio.to_thread(change)
                await _auntil(lambda: lib.cache_stats.notifications > before, "notified")
                return _title(await lib.component(component_id=course.lesson)), lib.cache_stats

        title, stats = asyncio.run(scenario())
    assert title == f"Retitled {kind}"
    assert stats.live and stats.misses["catalog"] == 2
