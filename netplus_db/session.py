"""One transaction on a borrowed pooled connection, optionally acting as a user (RLS).

`Database.as_user` / `transaction` return these. They do what
`with pool.connection() as conn, conn.transaction(): act_as(...)` does, written out as one
small class around psycopg's `Transaction`: the hot path of every call then runs no
generator-based context manager (about thirty Python calls fewer per transaction; on this
2-vCPU VM, where code right after a network wait runs slowly, that was 25-45 µs of a login
lookup's overhead). A session is entered once; the pool's `usage_ms` statistic, which only
`pool.connection()` keeps, stays 0.

The order is the same: borrow (the pool's check), BEGIN, act as the user, the caller's
statements, COMMIT (ROLLBACK on an error), return the connection. A connection found dead by
its BEGIN (a backend terminated between the pool's check and the BEGIN) is discarded and the
borrow made once more: nothing of the caller's had run. psycopg's `Transaction` still guards
the block: an explicit `commit()` inside it, which would drop the role switch half-way, is
refused.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from netplus_db.flows import aact_as, act_as
from netplus_db.generated import AsyncQueries, Queries

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


class Session:
    """`with Session(pool, role, user_id) as q:` one transaction; NOBODY: no role switch."""

    __slots__ = ("_conn", "_pool", "_role", "_tx", "_user_id")

    def __init__(self, pool: ConnectionPool[Any], role: str | None, user_id: Any) -> None:
        self._pool = pool
        self._role = role
        self._user_id = user_id
        self._conn: psycopg.Connection[Any] | None = None
        self._tx: psycopg.Transaction | None = None

    def __enter__(self) -> Queries:
        if self._conn is not None:
            raise RuntimeError("a session is one transaction: it cannot be entered twice")
        first: BaseException | None = None
        for attempt in range(2):
            try:
                conn: psycopg.Connection[Any] = self._pool.getconn()
            except BaseException as exc:
                if first is not None:
                    raise exc from first
                raise
            tx = psycopg.Transaction(conn)  # conn.transaction() without its generator
            try:
                tx.__enter__()
                break
            except BaseException as exc:
                lost = _lost_before_begin(exc, conn, attempt)
                self._pool.putconn(conn)  # a lost connection is discarded, not lent again
                if not lost:
                    raise
                first = exc
                _retrying(exc)
        try:
            self._conn, self._tx = conn, tx
            if self._user_id is not NOBODY:
                act_as(conn, self._role, self._user_id)
        except BaseException as exc:
            self._conn = self._tx = None
            try:
                tx.__exit__(type(exc), exc, exc.__traceback__)
            finally:
                self._pool.putconn(conn)
            raise
        return Queries(conn)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        conn, tx = self._conn, self._tx
        self._conn = self._tx = None
        if conn is None or tx is None:
            return None
        try:
            return tx.__exit__(exc_type, exc, tb)  # True: a psycopg.Rollback was handled
        finally:
            self._pool.putconn(conn)


class AsyncSession:
    """The async twin of Session (`async with`)."""

    __slots__ = ("_conn", "_pool", "_role", "_tx", "_user_id")

    def __init__(self, pool: AsyncConnectionPool[Any], role: str | None, user_id: Any) -> None:
        self._pool = pool
        self._role = role
        self._user_id = user_id
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._tx: psycopg.AsyncTransaction | None = None

    async def __aenter__(self) -> AsyncQueries:
        if self._conn is not None:
            raise RuntimeError("a session is one transaction: it cannot be entered twice")
        first: BaseException | None = None
        for attempt in range(2):
            try:
                conn: psycopg.AsyncConnection[Any] = await self._pool.getconn()
            except BaseException as exc:
                if first is not None:
                    raise exc from first
                raise
            tx = psycopg.AsyncTransaction(conn)
            try:
                await tx.__aenter__()
                break
            except BaseException as exc:
                lost = _lost_before_begin(exc, conn, attempt)
                await self._pool.putconn(conn)
                if not lost:
                    raise
                first = exc
                _retrying(exc)
        try:
            self._conn, self._tx = conn, tx
            if self._user_id is not NOBODY:
                await aact_as(conn, self._role, self._user_id)
        except BaseException as exc:
            self._conn = self._tx = None
            try:
                await tx.__aexit__(type(exc), exc, exc.__traceback__)
            finally:
                await self._pool.putconn(conn)
            raise
        return AsyncQueries(conn)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        conn, tx = self._conn, self._tx
        self._conn = self._tx = None
        if conn is None or tx is None:
            return None
        try:
            return await tx.__aexit__(exc_type, exc, tb)
        finally:
            await self._pool.putconn(conn)
