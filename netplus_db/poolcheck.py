"""The pool's check on borrow: a round trip only when a pooled connection may be bad.

psycopg_pool's `check_connection` runs an empty query on every borrow: one more round trip on
the hottest path of every call (a network's latency, on a remote server). This
check asks the socket first. An idle pooled connection has nothing to read: when its socket
is readable the server has said something unasked (the FATAL of a terminated backend, a
shutdown, end of file, or a notification), and the full check runs and fails, or consumes it.
A peer that vanished without a word (a host gone, a NAT entry expired) leaves nothing to read,
so a connection not borrowed for `full_check_after` seconds gets the full check as well.

A connection psycopg already knows to be closed fails at once. Whatever fails, the pool
discards the connection and hands out another, as with `check_connection`. The check is a
handful of calls and one poll(2) with no timeout: it runs on every borrow.
"""

from __future__ import annotations

import select
from time import monotonic
from typing import Any, TypeAlias

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool

AnyConnection: TypeAlias = "psycopg.Connection[Any] | psycopg.AsyncConnection[Any]"
FULL_CHECK_AFTER = 5.0  # seconds without a check after which a borrow gets a round trip
_STAMP = "_netplus_lent_at"  # attribute on the connection: monotonic time it was last lent


def socket_readable(conn: AnyConnection) -> bool:
    """True when the connection's socket has data or end of file waiting (no waiting)."""
    fd = conn.fileno()  # raises OperationalError when the connection is closed
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    readable, _, _ = select.select([fd], [], [], 0)  # Windows has no poll()
    return bool(readable)


class _Timing:
    """The limit, and when each connection was last lent (stamped on the connection itself,
    as psycopg_pool stamps its own `_expire_at`, so that it goes with the connection)."""

    def __init__(self, full_check_after: float = FULL_CHECK_AFTER) -> None:
        if full_check_after < 0:
            raise ValueError(f"full_check_after must be >= 0 seconds, not {full_check_after}")
        self.full_check_after = full_check_after

    def needs_round_trip(self, conn: AnyConnection) -> bool:
        """Whether this borrow needs the full check; stamps the connection as lent now."""
        now = monotonic()
        lent_at = getattr(conn, _STAMP, None)
        setattr(conn, _STAMP, now)
        if lent_at is None or now - lent_at >= self.full_check_after:
            return True
        return socket_readable(conn)  # raises OperationalError when the connection is closed


class BorrowCheck(_Timing):
    """`check=` for a ConnectionPool: the full check only when the connection may be bad."""

    def __call__(self, conn: psycopg.Connection[Any]) -> None:
        """Raise when the connection is not usable (the pool then replaces it)."""
        if self.needs_round_trip(conn):
            ConnectionPool.check_connection(conn)

    def __repr__(self) -> str:
        return f"BorrowCheck(full_check_after={self.full_check_after})"


class AsyncBorrowCheck(_Timing):
    """`check=` for an AsyncConnectionPool: the async twin of BorrowCheck."""

    async def __call__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Raise when the connection is not usable (the pool then replaces it)."""
        if self.needs_round_trip(conn):
            await AsyncConnectionPool.check_connection(conn)

    def __repr__(self) -> str:
        return f"AsyncBorrowCheck(full_check_after={self.full_check_after})"
