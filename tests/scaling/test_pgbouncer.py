"""The library and the migration runner behind PgBouncer (Debian's 1.18 here), in transaction
and session pooling modes, started by the tests in front of the session's server."""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

import psycopg
import pytest

from netplus_db.cache import CacheSettings
from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.database import AsyncDatabase, Database
from netplus_db.errors import SessionNotKept
from netplus_db.migrate import Migrator
from netplus_db.migrate.migrator import LOCK_KEY
from netplus_db.ops.pgbouncer import PgBouncer
from netplus_db.sql import sql_files
from tests.support.apis import ROUNDS, build_catalog
from tests.support.pgbouncer import POOL_SIZE, bouncer_target

pytestmark = pytest.mark.pgbouncer

THREADS = 6
TRANSACTIONS = 200  # per thread: the issue's 6 x 200


def _learners(db: Database, n: int) -> list[uuid.UUID]:
    return [
        db.register(
            email=f"l{i}.{uuid.uuid4().hex[:6]}@bouncer.test",
            username=f"l{i}_{uuid.uuid4().hex[:6]}",
            password="correct horse battery",
            rounds=ROUNDS,
        ).id
        for i in range(n)
    ]


def _browse_and_dashboard(db: Database, learner: uuid.UUID, i: int) -> None:
    """One of the issue's transactions: a catalog page, or the learner's dashboard."""
    if i % 2:
        page = db.browse_components(user_id=learner, domain="1.0", page_size=10)
        assert page.items, "the course's components are published"
    else:
        with db.as_user(learner) as q:
            assert q.analytics.dashboard_summary(user_id=learner) is not None


def _workload(db: Database, learners: list[uuid.UUID]) -> list[BaseException]:
    """THREADS threads x TRANSACTIONS transactions; every exception raised, collected."""
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(learner: uuid.UUID) -> None:
        for i in range(TRANSACTIONS):
            try:
                _browse_and_dashboard(db, learner, i)
            except Exception as exc:
                with lock:
                    errors.append(exc)

    threads = [threading.Thread(target=worker, args=(learner,)) for learner in learners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def _pin_a_server_connection(bouncer: PgBouncer, db: Target) -> psycopg.Connection[Any]:
    """Another client opens a transaction: PgBouncer lends it the server connection released
    last (LIFO), the one the library's only connection was using."""
    other = psycopg.connect(bouncer_target(bouncer, db).conninfo, autocommit=False)
    sql_files().ledger.backend_pid(other)
    return other


def test_default_prepared_statements_fail_behind_transaction_pooling(
    pgbouncer_transaction: PgBouncer, db: Target, conn: psycopg.Connection[Any]
) -> None:
    """The issue's failure, made deterministic: psycopg prepares the dashboard query on one
    server connection; the next transaction lands on another, which lacks it."""
    build_catalog(conn)
    target = bouncer_target(pgbouncer_transaction, db)
    with Database(target, min_size=1, max_size=1, pgbouncer=False) as lib:
        (learner,) = _learners(lib, 1)
        for _ in range(8):  # past psycopg's prepare_threshold (5)
            with lib.as_user(learner) as q:
                q.analytics.dashboard_summary(user_id=learner)
        other = _pin_a_server_connection(pgbouncer_transaction, db)
        try:
            with (
                pytest.raises(psycopg.errors.InvalidSqlStatementName, match="_pg3_"),
                lib.as_user(learner) as q,
            ):
                q.analytics.dashboard_summary(user_id=learner)
        finally:
            other.close()


def test_pgbouncer_option_prepares_nothing_so_the_same_sequence_works(
    pgbouncer_transaction: PgBouncer, db: Target, conn: psycopg.Connection[Any]
) -> None:
    """`pgbouncer=True`: the same sequence, and the dashboard is read on the other server
    connection."""
    build_catalog(conn)
    target = bouncer_target(pgbouncer_transaction, db)
    with Database(target, min_size=1, max_size=1, pgbouncer=True) as lib:
        (learner,) = _learners(lib, 1)
        for _ in range(8):
            with lib.as_user(learner) as q:
                q.analytics.dashboard_summary(user_id=learner)
        other = _pin_a_server_connection(pgbouncer_transaction, db)
        try:
            with lib.as_user(learner) as q:
                summary = q.analytics.dashboard_summary(user_id=learner)
            assert summary is not None
        finally:
            other.close()


def test_netplus_pgbouncer_variable_turns_prepares_off(
    monkeypatch: pytest.MonkeyPatch, db: Target
) -> None:
    """NETPLUS_PGBOUNCER=1 does what `pgbouncer=True` does, for both forms."""
    monkeypatch.setenv("NETPLUS_PGBOUNCER", "1")
    with Database(db, min_size=1, max_size=1) as lib, lib.pool.connection() as c:
        assert c.prepare_threshold is None
    monkeypatch.setenv("NETPLUS_PGBOUNCER", "0")
    with Database(db, min_size=1, max_size=1) as lib, lib.pool.connection() as c:
        assert c.prepare_threshold == 5

    async def async_threshold() -> int | None:
        monkeypatch.setenv("NETPLUS_PGBOUNCER", "yes")
        async with (
            AsyncDatabase(db, min_size=1, max_size=1) as alib,
            alib.pool.connection() as c,
        ):
            threshold: int | None = c.prepare_threshold
            return threshold

    assert asyncio.run(async_threshold()) is None


def test_issue_workload_through_transaction_pooling_has_no_errors(
    pgbouncer_transaction: PgBouncer, db: Target, conn: psycopg.Connection[Any]
) -> None:
    """6 threads x 200 as_user transactions (browse + dashboard) through PgBouncer 1.18 in
    transaction pooling: 142 errors in the issue, none with `pgbouncer=True`."""
    build_catalog(conn)
    with Database(
        bouncer_target(pgbouncer_transaction, db), max_size=THREADS, pgbouncer=True
    ) as lib:
        errors = _workload(lib, _learners(lib, THREADS))
    assert errors == []


def test_session_pooling_works_with_prepared_statements(
    pgbouncer_session: PgBouncer, db: Target, conn: psycopg.Connection[Any]
) -> None:
    """Session pooling pins a server connection per client: psycopg's prepares are safe, as
    long as the pool and the cache's listener together hold no more clients than PgBouncer has
    server connections for them (else the last one queues in PgBouncer). Here the pool takes
    all but one, the listener the last, and the cache is live through PgBouncer."""
    build_catalog(conn)
    target = bouncer_target(pgbouncer_session, db)
    with Database(target, min_size=1, max_size=POOL_SIZE - 1) as lib:
        errors = _workload(lib, _learners(lib, THREADS))
        stats = lib.cache_stats
    assert errors == []
    assert stats.connects == 1 and stats.losses == 0
    assert stats.hits["catalog"] > 0, "the cache served pages, so its listener was listening"


def test_session_pooling_with_the_listener_direct_takes_every_server_connection(
    pgbouncer_session: PgBouncer, db: Target, conn: psycopg.Connection[Any]
) -> None:
    """The other way the README gives: the listener connects to the server itself
    (`listen_dsn`), so the pool may take all of PgBouncer's server connections."""
    build_catalog(conn)
    target = bouncer_target(pgbouncer_session, db)
    cache = CacheSettings(listen_dsn=db.conninfo)
    with Database(target, min_size=1, max_size=POOL_SIZE, cache=cache) as lib:
        errors = _workload(lib, _learners(lib, THREADS))
        stats = lib.cache_stats
    assert errors == []
    assert stats.connects == 1 and stats.losses == 0
    assert stats.hits["catalog"] > 0


def test_async_library_through_transaction_pooling(
    pgbouncer_transaction: PgBouncer, db: Target, conn: psycopg.Connection[Any]
) -> None:
    """AsyncDatabase with `pgbouncer=True`: concurrent dashboards and catalog pages, no errors."""
    build_catalog(conn)
    with Database(db, max_size=1) as direct:
        learners = _learners(direct, 4)
    target = bouncer_target(pgbouncer_transaction, db)

    async def learner_loop(lib: AsyncDatabase, learner: uuid.UUID) -> int:
        done = 0
        for i in range(40):
            if i % 2:
                page = await lib.browse_components(user_id=learner, page_size=5)
                done += bool(page.items)
            else:
                async with lib.as_user(learner) as q:
                    done += (await q.analytics.dashboard_summary(user_id=learner)) is not None
        return done

    async def main() -> list[int]:
        async with AsyncDatabase(target, max_size=4, pgbouncer=True) as lib:
            return list(await asyncio.gather(*(learner_loop(lib, u) for u in learners)))

    assert asyncio.run(main()) == [40] * len(learners)


def test_migrations_refused_through_transaction_pooling(
    pgbouncer_transaction: PgBouncer, empty_db: Target
) -> None:
    """The runner notices that its server session is lent to another client and applies
    nothing: no ledger appears."""
    runner = Migrator(bouncer_target(pgbouncer_transaction, empty_db), lock_wait_seconds=5)
    with pytest.raises(SessionNotKept, match="pool_mode=transaction") as refused:
        runner.up(to=1)
    assert "nothing was applied" in str(refused.value)
    with connect(empty_db, autocommit=True) as direct:
        assert not sql_files().ledger.exists(direct)


def test_migrations_run_through_session_pooling(
    pgbouncer_session: PgBouncer, empty_db: Target
) -> None:
    """Session pooling keeps the runner on one server session: migrations apply."""
    runs = Migrator(bouncer_target(pgbouncer_session, empty_db)).up(to=2)
    assert [r.version for r in runs] == [1, 2]
    assert [s.version for s in Migrator(empty_db).status() if s.applied] == [1, 2]


def test_lock_check_sees_only_the_session_holding_the_lock(db: Target) -> None:
    """`holds_lock` decodes the bigint key from pg_locks (negative keys too): true on the
    session holding the lock, false on any other."""
    q = sql_files().ledger
    with connect(db, autocommit=True) as holder, connect(db, autocommit=True) as other:
        for key in (LOCK_KEY, -LOCK_KEY, 7):
            assert not q.holds_lock(holder, key=key)
            assert q.try_lock(holder, key=key)
            assert q.holds_lock(holder, key=key)
            assert not q.holds_lock(other, key=key)
            assert q.unlock(holder, key=key)
