"""A session's edges, sync and async: a connection lost during COMMIT, no connection to be had
(alone, and after a dead BEGIN), a second dead BEGIN, the `on_commit` hook, a connection given
to the session, a pool of plain psycopg connections, the identity it sets when there is no
application role or no user, and the guard that keeps writes out of a read-only session.

Each test names what it holds; they were written against the mutants the session module's
mutation run left alive (docs/mutation.md)."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout

from netplus_db.config import Target
from netplus_db.database import AsyncDatabase, Database
from netplus_db.errors import CommitOutcomeUnknown, NoConnection, NotReadOnly, TransactionLost
from netplus_db.session import NOBODY, AsyncSession, Session
from tests.support import factories
from tests.support.sessions import (
    LOST,
    QUICK,
    RETRYING,
    TERMINATE,
    alend_anything,
    count_bookmarks,
    lend_anything,
    mark,
    pool_cleanups,
    session_log,
)

UNKNOWN = (
    r"^the connection to the server was lost during COMMIT \(.*terminat.*\); the transaction "
    r"may or may not have been written: check before running it again$"
)
NO_CONNECTION = (
    r"^no connection to the server within the pool's timeout \(.+\); nothing was written, "
    r"the transaction may be run again$"
)
IDENTITY = "SELECT current_user, app_current_user_id(), current_setting('app.user_id', true)"
SHORT = 0.3  # seconds: a pool timeout the test waits out on purpose


def test_a_connection_lost_during_commit_is_commit_outcome_unknown(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    """The server goes away between the block's last statement and its COMMIT: the library
    cannot know whether the write landed, says so (not retriable, psycopg's error as the
    cause and in the message), does not call the commit hook, and the pool recovers."""
    user, component = factories.user(conn), factories.component(conn)
    hooked: list[object] = []
    with Database(db, min_size=1, max_size=1, timeout=QUICK) as lib:
        session = Session(lib.pool, lib.app_role, user, on_commit=hooked.append)
        with pytest.raises(CommitOutcomeUnknown, match=UNKNOWN) as caught, session as q:
            q.bookmarks.save_bookmark(**mark(user, component))
            conn.execute(TERMINATE)
        assert not caught.value.retriable and not hooked
        assert isinstance(caught.value.__cause__, psycopg.OperationalError)
        with lib.as_user(user) as q:
            assert q.bookmarks.list_bookmarks(user_id=user) == []  # it had not landed

    async def scenario() -> tuple[BaseException, list[object]]:
        seen: list[object] = []

        async def hook(c: psycopg.AsyncConnection[Any]) -> None:
            seen.append(c)

        async with AsyncDatabase(db, min_size=1, max_size=1, timeout=QUICK) as lib:
            with pytest.raises(CommitOutcomeUnknown, match=UNKNOWN) as lost:
                async with AsyncSession(lib.pool, lib.app_role, user, on_commit=hook) as q:
                    await q.bookmarks.save_bookmark(**mark(user, component))
                    await asyncio.to_thread(conn.execute, TERMINATE)
            async with lib.as_user(user) as q:
                assert await q.bookmarks.list_bookmarks(user_id=user) == []
            return lost.value, seen

    error, seen = asyncio.run(scenario())
    assert not seen and isinstance(error.__cause__, psycopg.OperationalError)


def test_the_commit_hook_gets_the_committed_connection_and_only_after_a_commit(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    """`on_commit(conn)` runs once after COMMIT, with the session's own connection, no
    transaction open and the write visible; never after an error or a quiet Rollback."""
    user, component = factories.user(conn), factories.component(conn)
    seen: list[tuple[int, str, int]] = []

    def hook(c: psycopg.Connection[Any]) -> None:
        seen.append((c.info.backend_pid, c.info.transaction_status.name, count_bookmarks(c, user)))

    with Database(db, min_size=1, max_size=1, timeout=QUICK) as lib:
        with Session(lib.pool, None, NOBODY, on_commit=hook) as q:
            q.bookmarks.save_bookmark(**mark(user, component))
            pid = q.conn.info.backend_pid
        with pytest.raises(RuntimeError), Session(lib.pool, None, NOBODY, on_commit=hook):
            raise RuntimeError("no commit")
        with Session(lib.pool, None, NOBODY, on_commit=hook):
            raise psycopg.Rollback()
    assert seen == [(pid, "IDLE", 1)]

    async def scenario() -> tuple[list[tuple[int, str]], int]:
        got: list[tuple[int, str]] = []

        async def ahook(c: psycopg.AsyncConnection[Any]) -> None:
            got.append((c.info.backend_pid, c.info.transaction_status.name))

        async with AsyncDatabase(db, min_size=1, max_size=1, timeout=QUICK) as lib:
            async with AsyncSession(lib.pool, None, NOBODY, on_commit=ahook) as q:
                apid = q.conn.info.backend_pid
            with pytest.raises(RuntimeError):
                async with AsyncSession(lib.pool, None, NOBODY, on_commit=ahook):
                    raise RuntimeError("no commit")
            async with AsyncSession(lib.pool, None, NOBODY, on_commit=ahook):
                raise psycopg.Rollback()
        return got, apid

    got, apid = asyncio.run(scenario())
    assert got == [(apid, "IDLE")]


def test_a_quiet_rollback_in_an_async_block_writes_nothing_and_raises_nothing(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    user, component = factories.user(conn), factories.component(conn)

    async def scenario() -> None:
        async with (
            AsyncDatabase(db, min_size=1, max_size=1, timeout=QUICK) as lib,
            lib.as_user(user) as q,
        ):
            await q.bookmarks.save_bookmark(**mark(user, component))
            raise psycopg.Rollback()

    asyncio.run(scenario())
    assert count_bookmarks(conn, user) == 0


def test_a_session_given_a_connection_uses_it_and_gives_it_back(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    """routing.py borrows a replica's connection itself and hands it to the session: the
    session must run on that one (a pool of one has no other to lend) and return it."""
    with Database(db, min_size=1, max_size=1, timeout=SHORT) as lib:
        given = lib.pool.getconn()
        with Session(lib.pool, None, NOBODY, conn=given) as q:
            assert q.conn is given
        assert lib.pool.get_stats()["pool_available"] == 1

    async def scenario() -> tuple[bool, int]:
        async with AsyncDatabase(db, min_size=1, max_size=1, timeout=SHORT) as lib:
            agiven = await lib.pool.getconn()
            async with AsyncSession(lib.pool, None, NOBODY, conn=agiven) as aq:
                same = aq.conn is agiven
            available: int = lib.pool.get_stats()["pool_available"]
            return same, available

    assert asyncio.run(scenario()) == (True, 1)


def test_no_connection_within_the_timeout_is_no_connection_and_retriable(db: Target) -> None:
    """Every connection busy: NoConnection (a retriable TransactionLost, and the pool's own
    PoolTimeout, as its cause too), with a message that says nothing was written."""
    with Database(db, min_size=1, max_size=1, timeout=SHORT) as lib:
        held = lib.pool.getconn()
        with pytest.raises(NoConnection, match=NO_CONNECTION) as caught, lib.as_user(None):
            pass
        lib.pool.putconn(held)
    assert caught.value.retriable and isinstance(caught.value.__cause__, PoolTimeout)

    async def scenario() -> BaseException:
        async with AsyncDatabase(db, min_size=1, max_size=1, timeout=SHORT) as lib:
            aheld = await lib.pool.getconn()
            with pytest.raises(NoConnection, match=NO_CONNECTION) as acaught:
                async with lib.as_user(None):
                    pass
            await lib.pool.putconn(aheld)
        return acaught.value

    error = asyncio.run(scenario())
    assert isinstance(error.__cause__, PoolTimeout)


class _refused:
    """`with _refused(db, conn):` the pool's backends are killed and the database lets no new
    connection in (superusers included) until the block ends. A database cannot be closed
    to connections from inside itself: the switch is thrown from `postgres`."""

    def __init__(self, db: Target, conn: psycopg.Connection[Any]) -> None:
        self._admin = db.with_dbname("postgres").conninfo
        self._conn = conn
        self._name = sql.Identifier(db.dbname)

    def _allow(self, allow: bool) -> None:
        with psycopg.connect(self._admin, autocommit=True) as admin:
            statement = sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}")
            admin.execute(statement.format(self._name, sql.Literal(allow)))

    def __enter__(self) -> None:
        self._allow(False)
        self._conn.execute(TERMINATE)

    def __exit__(self, *exc: object) -> None:
        self._allow(True)


def test_no_connection_after_a_dead_begin_is_caused_by_the_dead_begin(
    db: Target, conn: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture
) -> None:
    """The BEGIN finds the connection dead, the borrow-again finds no connection (the server
    takes none): the caller gets NoConnection caused by the first loss, which is logged."""
    with Database(db, min_size=1, max_size=1, timeout=SHORT, check=lend_anything) as lib:
        lib.pool.wait()
        with (
            caplog.at_level("INFO", logger="netplus_db.session"),
            _refused(db, conn),
            pytest.raises(NoConnection) as caught,
            lib.as_user(None),
        ):
            pass
    assert isinstance(caught.value.__cause__, psycopg.OperationalError)
    assert not isinstance(caught.value.__cause__, PoolTimeout)
    assert "terminat" in str(caught.value.__cause__)
    assert len(session_log(caplog, RETRYING)) == 1
    caplog.clear()

    async def scenario() -> BaseException:
        async with AsyncDatabase(
            db, min_size=1, max_size=1, timeout=SHORT, check=alend_anything
        ) as lib:
            await lib.pool.wait()
            with _refused(db, conn), pytest.raises(NoConnection) as acaught:
                async with lib.as_user(None):
                    pass
            return acaught.value

    with caplog.at_level("INFO", logger="netplus_db.session"):
        error = asyncio.run(scenario())
    assert isinstance(error.__cause__, psycopg.OperationalError)
    assert not isinstance(error.__cause__, PoolTimeout) and "terminat" in str(error.__cause__)
    assert len(session_log(caplog, RETRYING)) == 1


def test_a_second_dead_begin_is_a_transaction_lost(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    """Both pooled connections dead: the borrow-again is made once, and its loss is the
    caller's TransactionLost naming psycopg's error; the pool then recovers."""
    with Database(db, min_size=2, max_size=2, timeout=QUICK, check=lend_anything) as lib:
        lib.pool.wait()
        conn.execute(TERMINATE)
        with pytest.raises(TransactionLost, match=LOST) as caught, lib.as_user(None):
            pass
        assert isinstance(caught.value.__cause__, psycopg.OperationalError)
        assert lib.pool.get_stats()["returns_bad"] == 2  # borrowed twice, then gave up
        with lib.as_user(None) as q:  # the pool has made new ones
            assert q.conn.execute("SELECT 1").fetchone() == (1,)

    async def scenario() -> int:
        async with AsyncDatabase(
            db, min_size=2, max_size=2, timeout=QUICK, check=alend_anything
        ) as lib:
            await lib.pool.wait()
            await asyncio.to_thread(conn.execute, TERMINATE)
            with pytest.raises(TransactionLost, match=LOST):
                async with lib.as_user(None):
                    pass
            bad: int = lib.pool.get_stats()["returns_bad"]
            return bad

    assert asyncio.run(scenario()) == 2


def test_a_failing_role_switch_returns_a_clean_connection(
    db: Target, caplog: pytest.LogCaptureFixture
) -> None:
    """The BEGIN's role switch fails: the error is the server's, the session rolls back
    itself (the pool has nothing to clean up) and the one connection comes back."""
    with (
        caplog.at_level("WARNING", logger="psycopg.pool"),
        Database(db, min_size=1, max_size=1, timeout=QUICK, app_role="no_such_role") as lib,
    ):
        for _ in range(3):  # a lost connection would make the second borrow time out
            refused = pytest.raises(psycopg.errors.InvalidParameterValue, match="no_such_role")
            with refused, lib.as_user(None):
                pass
        assert lib.pool.get_stats()["pool_available"] == 1
    assert not pool_cleanups(caplog)

    async def scenario() -> int:
        async with AsyncDatabase(
            db, min_size=1, max_size=1, timeout=QUICK, app_role="no_such_role"
        ) as lib:
            for _ in range(2):
                with pytest.raises(psycopg.errors.InvalidParameterValue, match="no_such_role"):
                    async with lib.as_user(None):
                        pass
            available: int = lib.pool.get_stats()["pool_available"]
            return available

    with caplog.at_level("WARNING", logger="psycopg.pool"):
        assert asyncio.run(scenario()) == 1
    assert not pool_cleanups(caplog)


def test_the_identity_without_an_application_role_or_without_a_user(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    """`app_role=None`: no role switch, but the user is still the one RLS compares with.
    `as_user(None)`: the application role with no user at all (an empty setting)."""
    user = factories.user(conn)
    connecting = conn.info.user
    with (
        Database(db, min_size=1, max_size=1, timeout=QUICK, app_role=None) as lib,
        lib.as_user(user) as q,
    ):
        assert q.conn.execute(IDENTITY).fetchone() == (connecting, user, str(user))
    with Database(db, min_size=1, max_size=1, timeout=QUICK) as lib, lib.as_user(None) as q:
        assert q.conn.execute(IDENTITY).fetchone() == ("app_user", None, "")

    async def scenario() -> tuple[Any, Any]:
        async with (
            AsyncDatabase(db, min_size=1, max_size=1, timeout=QUICK, app_role=None) as a,
            a.as_user(user) as q,
        ):
            mine = await (await q.conn.execute(IDENTITY)).fetchone()
        async with (
            AsyncDatabase(db, min_size=1, max_size=1, timeout=QUICK) as b,
            b.as_user(None) as q,
        ):
            nobody = await (await q.conn.execute(IDENTITY)).fetchone()
        return mine, nobody

    assert asyncio.run(scenario()) == ((connecting, user, str(user)), ("app_user", None, ""))


def test_a_read_only_session_refuses_a_write_query_and_the_next_one_does_not(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    """In a read-only session a query not marked `-- replica: yes` is refused before it is
    sent; the same pooled connection in the next, ordinary session takes it."""
    user, component = factories.user(conn), factories.component(conn)
    with Database(db, min_size=1, max_size=1, timeout=QUICK) as lib:
        with (
            pytest.raises(NotReadOnly, match="save_bookmark"),
            lib.as_user(user, read_only=True) as q,
        ):
            q.bookmarks.save_bookmark(**mark(user, component))
        with lib.as_user(user) as q:
            q.bookmarks.save_bookmark(**mark(user, component))
    assert count_bookmarks(conn, user) == 1
    other = factories.component(conn)

    async def scenario() -> None:
        async with AsyncDatabase(db, min_size=1, max_size=1, timeout=QUICK) as lib:
            with pytest.raises(NotReadOnly, match="save_bookmark"):
                async with lib.as_user(user, read_only=True) as q:
                    await q.bookmarks.save_bookmark(**mark(user, other))
            async with lib.as_user(user) as q:
                await q.bookmarks.save_bookmark(**mark(user, other))

    asyncio.run(scenario())
    assert count_bookmarks(conn, user) == 2


def test_a_session_runs_on_a_pool_of_plain_psycopg_connections(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    """A caller's own pool of autocommit psycopg connections (not the library's guarded
    class) still gets one transaction per session, acting as the user."""
    user = factories.user(conn)
    with ConnectionPool(
        db.conninfo, min_size=1, max_size=1, kwargs={"autocommit": True}, open=True
    ) as pool:
        for _ in range(2):
            with Session(pool, "app_user", user) as q:
                assert q.conn.execute(IDENTITY).fetchone() == ("app_user", user, str(user))
                assert q.conn.info.transaction_status.name == "INTRANS"

    async def scenario() -> list[Any]:
        rows = []
        async with AsyncConnectionPool(
            db.conninfo, min_size=1, max_size=1, kwargs={"autocommit": True}, open=False
        ) as apool:
            for _ in range(2):
                async with AsyncSession(apool, "app_user", user) as q:
                    rows.append(await (await q.conn.execute(IDENTITY)).fetchone())
        return rows

    assert asyncio.run(scenario()) == [("app_user", user, str(user))] * 2
