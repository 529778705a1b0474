"""One transaction on a borrowed pooled connection, optionally acting as a user (RLS).

`Database.as_user` / `transaction` return these. They do what
`with pool.connection() as conn, conn.transaction(): act_as(...)` does, written out as one
small class: the hot path of every call then runs no generator-based context managers (about
thirty Python calls fewer per transaction; on this 2-vCPU VM, where code right after a network
wait runs slowly, that was 25-45 µs of a login lookup's overhead).

The order is the same: borrow (the pool's check), BEGIN, act as the user, the caller's
statements, COMMIT (ROLLBACK on an error), return the connection. A connection found dead by
its BEGIN (a backend terminated between the pool's check and the BEGIN) is discarded and the
borrow made once more: nothing of the caller's had run. psycopg's `Transaction` still guards
the block: an explicit `commit()` inside it, which would drop the role switch half-way, is
refused.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from netplus_db.flows import aact_as, act_as
from netplus_db.generated import AsyncQueries, Queries

NOBODY = object()  # `act`: do not switch role or user (a transaction as the connecting role)


def _lost_before_begin(
    exc: BaseException, conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any], attempt: int
) -> bool:
    """Whether to borrow again: the connection died under its BEGIN (a backend terminated
    after the pool's check looked), so nothing of the caller's ran. Once only."""
    return attempt == 0 and isinstance(exc, psycopg.OperationalError) and conn.closed


class Session:
    """`with Session(pool, role, user_id) as q:` one transaction; NOBODY: no role switch."""

    __slots__ = ("_conn", "_pool", "_role", "_tx", "_user_id")

    def __init__(self, pool: ConnectionPool[Any], role: str | None, user_id: Any) -> None:
        self._pool = pool
        self._role = role
        self._user_id = user_id

    def __enter__(self) -> Queries:
        for attempt in range(2):
            conn: psycopg.Connection[Any] = self._pool.getconn()
            try:
                tx = conn.transaction()
                tx.__enter__()
                break
            except BaseException as exc:
                self._pool.putconn(conn)  # a lost connection is discarded, not lent again
                if not _lost_before_begin(exc, conn, attempt):
                    raise
        try:
            if self._user_id is not NOBODY:
                act_as(conn, self._role, self._user_id)
        except BaseException as exc:
            try:
                tx.__exit__(type(exc), exc, exc.__traceback__)
            finally:
                self._pool.putconn(conn)
            raise
        self._conn, self._tx = conn, tx
        return Queries(conn)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        try:
            return self._tx.__exit__(exc_type, exc, tb)  # True: a psycopg.Rollback was handled
        finally:
            self._pool.putconn(self._conn)


class AsyncSession:
    """The async twin of Session (`async with`)."""

    __slots__ = ("_conn", "_pool", "_role", "_tx", "_user_id")

    def __init__(self, pool: AsyncConnectionPool[Any], role: str | None, user_id: Any) -> None:
        self._pool = pool
        self._role = role
        self._user_id = user_id

    async def __aenter__(self) -> AsyncQueries:
        for attempt in range(2):
            conn: psycopg.AsyncConnection[Any] = await self._pool.getconn()
            try:
                tx = conn.transaction()
                await tx.__aenter__()
                break
            except BaseException as exc:
                await self._pool.putconn(conn)
                if not _lost_before_begin(exc, conn, attempt):
                    raise
        try:
            if self._user_id is not NOBODY:
                await aact_as(conn, self._role, self._user_id)
        except BaseException as exc:
            try:
                await tx.__aexit__(type(exc), exc, exc.__traceback__)
            finally:
                await self._pool.putconn(conn)
            raise
        self._conn, self._tx = conn, tx
        return AsyncQueries(conn)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        try:
            return await self._tx.__aexit__(exc_type, exc, tb)
        finally:
            await self._pool.putconn(self._conn)
