"""Read routing on a real streaming standby of the test server: reads on the replica, writes on
the primary, read-your-writes, a replica stopped or lagging, and a failover."""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

import psycopg
import pytest

from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.database import AsyncDatabase, Database
from netplus_db.errors import CommitOutcomeUnknown, NotReadOnly, TransactionLost
from netplus_db.ops.standby import Standby
from netplus_db.routing import PRIMARY, Settings
from netplus_db.sql import sql_files
from tests.support.apis import ROUNDS, build_catalog
from tests.support.replica import SYNC_COMMIT, Pair, caught_up, received

pytestmark = pytest.mark.replica


def _learner(lib: Database, name: str = "r") -> uuid.UUID:
    tag = uuid.uuid4().hex[:8]
    return lib.register(
        email=f"{name}.{tag}@replica.test",
        username=f"{name}_{tag}",
        password="correct horse battery",
        rounds=ROUNDS,
    ).id


def _on_standby(conn: Any) -> bool:
    return bool(sql_files().replica.status(conn)[0])


def test_reads_go_to_the_replica_writes_to_the_primary(
    db: Target, replica_of_db: Target, conn: psycopg.Connection[Any]
) -> None:
    course = build_catalog(conn)
    with Database(db, replicas=[replica_of_db], **SYNC_COMMIT) as lib:
        learner = _learner(lib)
        with lib.as_user(learner, read_only=True) as q:
            assert _on_standby(q.conn)
            assert q.analytics.dashboard_summary(user_id=learner) is not None
        with lib.as_user(learner) as q:
            assert not _on_standby(q.conn)
        page = lib.browse_components(user_id=learner, domain="1.0")
        assert {item.id for item in page.items} >= {course.lesson, course.lab}
        assert lib.dashboard(user_id=learner) is not None
        reads = lib.read_stats.snapshot()["reads"]
        assert reads.get(replica_of_db.describe()) == 3
        assert PRIMARY not in reads


def test_a_read_only_session_refuses_a_query_not_marked_for_replicas(
    db: Target, replica_of_db: Target, conn: psycopg.Connection[Any]
) -> None:
    course = build_catalog(conn)
    with Database(db, replicas=[replica_of_db], **SYNC_COMMIT) as lib:
        learner = _learner(lib)
        with (
            pytest.raises(NotReadOnly, match=r"progress\.record_progress"),
            lib.as_user(learner, read_only=True) as q,
        ):
            q.progress.record_progress(
                component_id=course.lesson,
                status="in_progress",
                progress_percentage=1,
                time_spent_minutes=1,
                last_position=None,
            )


def test_read_your_writes_in_a_write_then_read_loop(
    db: Target, replica_of_db: Target, conn: psycopg.Connection[Any]
) -> None:
    """Each learner write is followed at once by a read of it: never stale, and the replica
    serves reads (it is not the primary answering everything)."""
    course = build_catalog(conn)
    stale = 0
    with Database(db, replicas=[replica_of_db], **SYNC_COMMIT) as lib:
        learner = _learner(lib)
        for i in range(1, 151):
            lib.record_progress(
                user_id=learner,
                component_id=course.lesson,
                status="in_progress",
                progress_percentage=i % 100,
                time_spent_minutes=1,
            )
            with lib.as_user(learner, read_only=True) as q:
                row = q.progress.get_progress(user_id=learner, component_id=course.lesson)
            if row is None or row.time_spent_minutes != i:
                stale += 1
        stats = lib.read_stats.snapshot()
    assert stale == 0
    assert stats["reads"].get(replica_of_db.describe(), 0) > 0


def test_async_read_your_writes(
    db: Target, replica_of_db: Target, conn: psycopg.Connection[Any]
) -> None:
    course = build_catalog(conn)
    with Database(db) as direct:
        learner = _learner(direct)

    async def loop() -> tuple[int, dict[str, Any]]:
        stale = 0
        async with AsyncDatabase(db, replicas=[replica_of_db], **SYNC_COMMIT) as lib:
            for i in range(1, 51):
                await lib.record_progress(
                    user_id=learner,
                    component_id=course.lesson,
                    status="in_progress",
                    progress_percentage=i,
                    time_spent_minutes=1,
                )
                async with lib.as_user(learner, read_only=True) as q:
                    row = await q.progress.get_progress(user_id=learner, component_id=course.lesson)
                stale += row is None or row.time_spent_minutes != i
            return stale, lib.read_stats.snapshot()

    stale, stats = asyncio.run(loop())
    assert stale == 0
    assert stats["reads"].get(replica_of_db.describe(), 0) > 0


def test_a_replica_stopped_mid_run_is_skipped_without_errors(
    db: Target, replica: Standby, replica_of_db: Target, conn: psycopg.Connection[Any]
) -> None:
    build_catalog(conn)
    caught_up(replica, db)  # the catalog is written by an admin: no learner's position
    errors: list[BaseException] = []
    # Cache off: every browse is a read to route (the cache would serve all but the first).
    routing = Settings(timeout=0.5)
    with Database(db, replicas=[replica_of_db], routing=routing, cache=False) as lib:
        learner = _learner(lib)
        try:
            for i in range(60):
                if i == 20:
                    replica.stop("fast")
                try:
                    assert lib.dashboard(user_id=learner) is not None
                    assert lib.browse_components(user_id=learner).items
                except Exception as exc:
                    errors.append(exc)
        finally:
            replica.start()
        stats = lib.read_stats.snapshot()
    assert errors == []
    assert stats["reads"][replica_of_db.describe()] >= 40  # the 20 rounds before the stop
    assert stats["reads"][PRIMARY] > 0
    assert stats["skipped_down"] > 0


def test_a_lagging_replica_is_skipped_and_the_learner_still_reads_the_write(
    db: Target, replica: Standby, replica_of_db: Target, conn: psycopg.Connection[Any]
) -> None:
    """Replay paused: the learner's write is read from the primary after a bounded wait; a
    replica lagging beyond the bound is skipped for everyone."""
    course = build_catalog(conn)
    with Database(db, replicas=[replica_of_db], routing=Settings(wait=0.2), **SYNC_COMMIT) as lib:
        learner, other = _learner(lib), _learner(lib, "o")
        caught_up(replica, db)
        replica.pause_replay()
        try:
            lib.record_progress(
                user_id=learner,
                component_id=course.lesson,
                status="in_progress",
                progress_percentage=5,
                time_spent_minutes=7,
            )
            with lib.as_user(learner, read_only=True) as q:
                assert not _on_standby(q.conn)
                row = q.progress.get_progress(user_id=learner, component_id=course.lesson)
            assert row is not None and row.time_spent_minutes == 7
            assert lib.read_stats.snapshot()["primary_for_freshness"] == 1
        finally:
            replica.resume_replay()
    strict_routing = Settings(max_lag=0.0)
    with Database(db, replicas=[replica_of_db], routing=strict_routing, **SYNC_COMMIT) as strict:
        replica.pause_replay()
        try:
            assert _learner(strict, "s")  # WAL the paused replica receives but does not replay
            received(replica, db)
            with strict.as_user(other, read_only=True) as q:
                assert not _on_standby(q.conn)
            stats = strict.read_stats.snapshot()
            assert stats["skipped_lag"] >= 1
            assert stats["max_lag_seconds"] > 0
        finally:
            replica.resume_replay()


@pytest.mark.slow
def test_failover_reaches_the_promoted_standby_without_double_writes(
    failover_pair: Pair,
) -> None:
    """The primary is killed mid-run and its standby promoted: writes raise only the
    retriable TransactionLost (or CommitOutcomeUnknown, never retried by the library) until
    the new primary answers, then succeed there; nothing is written twice."""
    pair = failover_pair
    replica_dsn = pair.replica.target(pair.dbname)
    done: list[str] = []
    unknown: list[str] = []
    other_errors: list[BaseException] = []
    lost = 0
    stop = threading.Event()
    with Database(pair.multi_host(), replicas=[replica_dsn], timeout=3) as lib:
        reader = _learner(lib, "reader")

        def writer() -> None:
            nonlocal lost
            n = 0
            while not stop.is_set():
                n += 1
                email = f"w{n}.{uuid.uuid4().hex[:6]}@failover.test"
                try:
                    lib.register(
                        email=email,
                        username=f"w{n}_{email[-20:-14]}",
                        password="pw-long-enough-1",
                        rounds=ROUNDS,
                    )
                    done.append(email)
                except TransactionLost:
                    lost += 1
                except CommitOutcomeUnknown:
                    unknown.append(email)
                except Exception as exc:
                    other_errors.append(exc)

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            while len(done) < 10:
                stop.wait(0.01)
            pair.primary.kill()
            pair.replica.promote()
            promoted_at = len(done)
            while len(done) < promoted_at + 10 and not other_errors:
                stop.wait(0.01)
                assert thread.is_alive()
        finally:
            stop.set()
            thread.join()
        assert lib.dashboard(user_id=reader) is not None  # reads work after the failover
    assert other_errors == []
    with connect(pair.replica.target(pair.dbname), autocommit=True) as new_primary:
        assert not _on_standby(new_primary)
        emails = {
            row[0]
            for row in new_primary.execute(
                "SELECT email FROM users WHERE email LIKE %s", ("%@failover.test",)
            )
        }
    # Nothing is written that was not reported done (or of unknown outcome): no double or
    # phantom writes. Writes done after the promotion are all there; the last ones done on
    # the old primary may be missing: replication is asynchronous (synchronous_standby_names
    # closes that window, at a price per commit).
    assert emails <= set(done) | set(unknown)
    assert set(done[promoted_at:]) <= emails
