"""One transaction on a borrowed pooled connection, optionally acting as a user (RLS).

`Database.as_user` / `transaction` return these. The pool's connections are autocommit and
of class `GuardedConnection`; a session sends `BEGIN; <act_as>` as one simple query (a psycopg
`ClientCursor` binds the role and user id client-side), so the transaction and the role
switch cost one round trip, not two; then the caller's statements; then COMMIT, or ROLLBACK
on an error (a `psycopg.Rollback` is handled quietly); then the connection goes back. While a
session holds the connection, `commit()` and `rollback()` are refused: either would end the
role switch half-way and run the rest of the block as the connecting role. A session is
entered once; the pool's `usage_ms` statistic, which only `pool.connection()` keeps, stays 0.

A connection found dead by the BEGIN (a backend terminated between the pool's check and the
BEGIN) is discarded and the borrow made once more: nothing of the caller's had run. A
connection lost later raises errors.TransactionLost (nothing committed: retriable), or
errors.CommitOutcomeUnknown when it is lost during COMMIT (never retried here: it could write
twice). A session may be read-only (`BEGIN READ ONLY`, only queries marked `-- replica: yes`),
may be given the connection to use (a replica's, routing.py), and may call `on_commit(conn)`
after its COMMIT (read-your-writes notes the commit's WAL position there).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import cache
from types import TracebackType
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout

from netplus_db.errors import CommitOutcomeUnknown, NoConnection, TransactionLost
from netplus_db.generated import AsyncQueries, Queries
from netplus_db.sql import sql_files

BEGIN = "BEGIN"
BEGIN_READ_ONLY = "BEGIN READ ONLY"
NOBODY = object()  # `user_id`: do not switch role or user (a transaction as the connecting role)
logger = logging.getLogger("netplus_db.session")


def _lost_before_begin(
    exc: BaseException, conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any], attempt: int
) -> bool:
    """Whether to borrow again: the connection died under its BEGIN (a backend terminated
    after the pool's check looked), so nothing of the caller's ran. Once only. Asked before
    the connection goes back to the pool, which may close it for reasons of its own."""
    return attempt == 0 and isinstance(exc, psycopg.OperationalError) and conn.closed


def _retrying(first: BaseException) -> None:
    logger.info("connection lost before BEGIN (%s); borrowing another", first)


@cache
def _begin_as(begin: str = BEGIN) -> str:
    """BEGIN and the `act_as` statement (sql/session.sql) as one simple query: one round trip."""
    return f"{begin}; " + str(sql_files().session.act_as.sql)


def _lost(exc: BaseException | None, conn: Any) -> bool:
    """Whether `exc` is the connection's loss (not an error the server reported)."""
    return isinstance(exc, psycopg.OperationalError) and bool(conn.closed)


def _transaction_lost(exc: BaseException) -> TransactionLost:
    return TransactionLost(
        f"the connection to the server was lost before COMMIT ({exc}); nothing of the "
        "transaction was written, it may be run again"
    )


def _commit_unknown(exc: BaseException) -> CommitOutcomeUnknown:
    return CommitOutcomeUnknown(
        f"the connection to the server was lost during COMMIT ({exc}); the transaction may "
        "or may not have been written: check before running it again"
    )


class GuardedConnection(psycopg.Connection[Any]):
    """The pool's connections: autocommit, with `commit()` / `rollback()` refused while a
    session holds them (the module docstring says why).

    They keep their cursors for the next session: the query layer's (`querylayer.run`) and the
    client-side one that sends BEGIN. A cursor takes the adapters of its connection when it is
    made: register types in the pool's `configure` callback, not later.
    """

    _netplus_held = False
    _netplus_read_only = False  # in a read-only session: only `-- replica: yes` queries run

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._netplus_cursors: list[psycopg.Cursor[Any]] = []
        self._netplus_begin: psycopg.ClientCursor[Any] | None = None

    def commit(self) -> None:
        """Commit, unless a session holds the connection (leave the block instead)."""
        if self._netplus_held:
            raise psycopg.ProgrammingError(HELD)
        super().commit()

    def rollback(self) -> None:
        """Roll back, unless a session holds the connection (raise psycopg.Rollback instead)."""
        if self._netplus_held:
            raise psycopg.ProgrammingError(HELD)
        super().rollback()


class AsyncGuardedConnection(psycopg.AsyncConnection[Any]):
    """The async twin of GuardedConnection."""

    _netplus_held = False
    _netplus_read_only = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._netplus_cursors: list[psycopg.AsyncCursor[Any]] = []
        self._netplus_begin: psycopg.AsyncClientCursor[Any] | None = None

    async def commit(self) -> None:
        """Commit, unless a session holds the connection."""
        if self._netplus_held:
            raise psycopg.ProgrammingError(HELD)
        await super().commit()

    async def rollback(self) -> None:
        """Roll back, unless a session holds the connection."""
        if self._netplus_held:
            raise psycopg.ProgrammingError(HELD)
        await super().rollback()


HELD = (
    "explicit commit()/rollback() inside an as_user/transaction block would end its role switch;"
    " leave the block to commit, raise to roll back (psycopg.Rollback rolls back quietly)"
)


def _begin(role: str | None, user_id: Any, read_only: bool) -> tuple[str, dict[str, str] | None]:
    """The BEGIN to send and its parameters: the role switch and user id unless NOBODY."""
    begin = BEGIN_READ_ONLY if read_only else BEGIN
    if user_id is NOBODY:
        return begin, None
    params = {"role": role or "", "user_id": "" if user_id is None else str(user_id)}
    return _begin_as(begin), params


def _begin_cursor(conn: psycopg.Connection[Any]) -> psycopg.ClientCursor[Any]:
    """The connection's client-side cursor for BEGIN (kept on a GuardedConnection)."""
    cur: psycopg.ClientCursor[Any] | None = getattr(conn, "_netplus_begin", None)
    if cur is None:
        cur = psycopg.ClientCursor(conn)
        if isinstance(conn, GuardedConnection):
            conn._netplus_begin = cur
    return cur


def _abegin_cursor(conn: psycopg.AsyncConnection[Any]) -> psycopg.AsyncClientCursor[Any]:
    cur: psycopg.AsyncClientCursor[Any] | None = getattr(conn, "_netplus_begin", None)
    if cur is None:
        cur = psycopg.AsyncClientCursor(conn)
        if isinstance(conn, AsyncGuardedConnection):
            conn._netplus_begin = cur
    return cur


class Session:
    """`with Session(pool, role, user_id) as q:` one transaction; NOBODY: no role switch."""

    __slots__ = ("_conn", "_given", "_on_commit", "_pool", "_read_only", "_role", "_user_id")

    def __init__(
        self,
        pool: ConnectionPool[Any],
        role: str | None,
        user_id: Any,
        *,
        read_only: bool = False,
        on_commit: Callable[[psycopg.Connection[Any]], None] | None = None,
        conn: psycopg.Connection[Any] | None = None,
    ) -> None:
        self._pool = pool
        self._role = role
        self._user_id = user_id
        self._read_only = read_only
        self._on_commit = on_commit
        self._given = conn  # a connection already borrowed from `pool` (routing.py)
        self._conn: psycopg.Connection[Any] | None = None

    def _borrow(self) -> psycopg.Connection[Any]:
        given, self._given = self._given, None
        if given is not None:
            return given
        try:
            conn: psycopg.Connection[Any] = self._pool.getconn()
        except PoolTimeout as exc:
            raise NoConnection(
                f"no connection to the server within the pool's timeout ({exc}); nothing was "
                "written, the transaction may be run again"
            ) from exc
        return conn

    def __enter__(self) -> Queries:
        if self._conn is not None:
            raise RuntimeError("a session is one transaction: it cannot be entered twice")
        query, params = _begin(self._role, self._user_id, self._read_only)
        first: BaseException | None = None
        # equivalent for mutation testing: more rounds change nothing, the second never
        # retries (_lost_before_begin is true at attempt 0 only)
        for attempt in range(2):  # pragma: no mutate
            try:
                conn: psycopg.Connection[Any] = self._borrow()
            except BaseException as exc:
                if first is not None:
                    raise exc from first
                raise
            try:
                _begin_cursor(conn).execute(query, params)
                break
            except BaseException as exc:
                lost = _lost_before_begin(exc, conn, attempt)
                if not lost:
                    _quietly_roll_back(conn)
                self._pool.putconn(conn)  # a lost connection is discarded, not lent again
                if not lost:
                    if _lost(exc, conn):
                        raise _transaction_lost(exc) from exc
                    raise
                first = exc
                _retrying(exc)
        conn._netplus_held = True  # type: ignore[attr-defined]
        conn._netplus_read_only = self._read_only  # type: ignore[attr-defined]
        self._conn = conn
        return Queries(conn)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        conn, self._conn = self._conn, None
        if conn is None:
            return None
        # the session's marks come off: the class defaults (False) show again
        del conn._netplus_held, conn._netplus_read_only  # type: ignore[attr-defined]
        try:
            if exc is None:
                try:
                    conn.commit()  # psycopg's own COMMIT: no cursor made for it
                except psycopg.OperationalError as failed:
                    if _lost(failed, conn):
                        raise _commit_unknown(failed) from failed
                    raise
                if self._on_commit is not None:
                    self._on_commit(conn)
            else:
                _quietly_roll_back(conn)
        finally:
            self._pool.putconn(conn)
        if exc is not None and _lost(exc, conn) and not isinstance(exc, TransactionLost):
            raise _transaction_lost(exc) from exc
        return True if isinstance(exc, psycopg.Rollback) else None  # True: handled quietly


def _quietly_roll_back(conn: psycopg.Connection[Any]) -> None:
    """ROLLBACK if a transaction is open; a broken connection is left to the pool to discard."""
    if conn.closed or conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        return
    try:
        conn.rollback()
    except psycopg.Error as exc:
        logger.warning("rollback failed, the pool will discard the connection: %s", exc)


async def _aquietly_roll_back(conn: psycopg.AsyncConnection[Any]) -> None:
    if conn.closed or conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        return
    try:
        await conn.rollback()
    except psycopg.Error as exc:
        logger.warning("rollback failed, the pool will discard the connection: %s", exc)


class AsyncSession:
    """The async twin of Session (`async with`)."""

    __slots__ = ("_conn", "_given", "_on_commit", "_pool", "_read_only", "_role", "_user_id")

    def __init__(
        self,
        pool: AsyncConnectionPool[Any],
        role: str | None,
        user_id: Any,
        *,
        read_only: bool = False,
        on_commit: Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]] | None = None,
        conn: psycopg.AsyncConnection[Any] | None = None,
    ) -> None:
        self._pool = pool
        self._role = role
        self._user_id = user_id
        self._read_only = read_only
        self._on_commit = on_commit
        self._given = conn
        self._conn: psycopg.AsyncConnection[Any] | None = None

    async def _borrow(self) -> psycopg.AsyncConnection[Any]:
        given, self._given = self._given, None
        if given is not None:
            return given
        try:
            conn: psycopg.AsyncConnection[Any] = await self._pool.getconn()
        except PoolTimeout as exc:
            raise NoConnection(
                f"no connection to the server within the pool's timeout ({exc}); nothing was "
                "written, the transaction may be run again"
            ) from exc
        return conn

    async def __aenter__(self) -> AsyncQueries:
        if self._conn is not None:
            raise RuntimeError("a session is one transaction: it cannot be entered twice")
        query, params = _begin(self._role, self._user_id, self._read_only)
        first: BaseException | None = None
        # equivalent for mutation testing: more rounds change nothing, the second never
        # retries (_lost_before_begin is true at attempt 0 only)
        for attempt in range(2):  # pragma: no mutate
            try:
                conn: psycopg.AsyncConnection[Any] = await self._borrow()
            except BaseException as exc:
                if first is not None:
                    raise exc from first
                raise
            try:
                await _abegin_cursor(conn).execute(query, params)
                break
            except BaseException as exc:
                lost = _lost_before_begin(exc, conn, attempt)
                if not lost:
                    await _aquietly_roll_back(conn)
                await self._pool.putconn(conn)
                if not lost:
                    if _lost(exc, conn):
                        raise _transaction_lost(exc) from exc
                    raise
                first = exc
                _retrying(exc)
        conn._netplus_held = True  # type: ignore[attr-defined]
        conn._netplus_read_only = self._read_only  # type: ignore[attr-defined]
        self._conn = conn
        return AsyncQueries(conn)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        conn, self._conn = self._conn, None
        if conn is None:
            return None
        # the session's marks come off: the class defaults (False) show again
        del conn._netplus_held, conn._netplus_read_only  # type: ignore[attr-defined]
        try:
            if exc is None:
                try:
                    await conn.commit()
                except psycopg.OperationalError as failed:
                    if _lost(failed, conn):
                        raise _commit_unknown(failed) from failed
                    raise
                if self._on_commit is not None:
                    await self._on_commit(conn)
            else:
                await _aquietly_roll_back(conn)
        finally:
            await self._pool.putconn(conn)
        if exc is not None and _lost(exc, conn) and not isinstance(exc, TransactionLost):
            raise _transaction_lost(exc) from exc
        return True if isinstance(exc, psycopg.Rollback) else None
