"""The pool's check on borrow: no round trip for a quiet, recently used connection; the full
check (and a replacement) when the server has spoken, or the connection sat idle too long."""

from __future__ import annotations

import asyncio
import os
import resource
import select
import time
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from netplus_db import poolcheck
from netplus_db.config import Target
from netplus_db.database import AsyncDatabase, Database
from netplus_db.poolcheck import AsyncBorrowCheck, BorrowCheck, socket_readable

TERMINATE = (
    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
)
NEVER = 3600.0  # seconds: the timer never asks for a round trip within a test


def backend_of(pool: ConnectionPool[Any]) -> int:
    with pool.connection() as c:
        return int(c.info.backend_pid)


def state_change(observer: psycopg.Connection[Any], pid: int) -> Any:
    """When the backend last went from active to idle (a round trip moves it)."""
    row = observer.execute(
        "SELECT state_change FROM pg_stat_activity WHERE pid = %s", [pid]
    ).fetchone()
    assert row is not None
    return row[0]


def test_a_quiet_recent_connection_is_lent_without_a_round_trip(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    with ConnectionPool(db.conninfo, min_size=1, max_size=1, check=BorrowCheck(NEVER)) as pool:
        pid = backend_of(pool)  # first borrow: the full check, then a query
        before = state_change(conn, pid)
        time.sleep(0.01)
        for _ in range(5):
            with pool.connection():
                pass
        assert state_change(conn, pid) == before


def test_a_connection_idle_past_the_limit_gets_the_round_trip(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    with ConnectionPool(db.conninfo, min_size=1, max_size=1, check=BorrowCheck(0.0)) as pool:
        pid = backend_of(pool)
        before = state_change(conn, pid)
        time.sleep(0.01)
        with pool.connection():
            pass
        assert state_change(conn, pid) > before


def test_a_connection_idle_exactly_the_limit_gets_the_round_trip(
    conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit is inclusive: at `full_check_after` seconds the socket alone is not trusted."""
    check = BorrowCheck(full_check_after=2.0)
    clock = iter([100.0, 101.0, 103.0, 104.9])
    monkeypatch.setattr(poolcheck, "monotonic", lambda: next(clock))
    assert check.needs_round_trip(conn)  # never lent: the full check
    assert not check.needs_round_trip(conn)  # 1 s later, nothing to read: the socket's word
    assert check.needs_round_trip(conn)  # 2 s after that: exactly the limit
    assert not check.needs_round_trip(conn)


def test_a_terminated_backend_is_replaced_before_it_is_lent(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    with ConnectionPool(db.conninfo, min_size=1, max_size=1, check=BorrowCheck(NEVER)) as pool:
        killed = backend_of(pool)
        conn.execute(TERMINATE)  # waits until the backend has exited
        with pool.connection() as c:
            assert c.execute("SELECT pg_backend_pid()").fetchone() != (killed,)
        assert pool.get_stats()["connections_lost"] == 1


def test_a_notification_on_a_pooled_connection_is_read_by_the_check(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    heard: list[str] = []
    with ConnectionPool(
        db.conninfo, min_size=1, max_size=1, check=BorrowCheck(NEVER), kwargs={"autocommit": True}
    ) as pool:
        with pool.connection() as c:
            c.add_notify_handler(lambda n: heard.append(n.payload))
            c.execute("LISTEN netplus_check")
        conn.execute("SELECT pg_notify('netplus_check', 'hello')")
        deadline = time.monotonic() + 5
        while not heard and time.monotonic() < deadline:  # until the notification arrives
            with pool.connection():  # no query: only the check can read it
                pass
            time.sleep(0.01)
        assert heard == ["hello"]


def test_a_connection_closed_since_its_last_loan_fails_the_quick_check(db: Target) -> None:
    check = BorrowCheck(NEVER)  # no round trip after the first: only the socket is asked
    conn = psycopg.connect(db.conninfo)
    check(conn)
    check(conn)  # recent and quiet: passes without a round trip
    conn.close()
    with pytest.raises(psycopg.OperationalError):
        check(conn)
    with pytest.raises(psycopg.OperationalError):
        socket_readable(conn)


def readable_once_notified(
    listener: psycopg.Connection[Any], sender: psycopg.Connection[Any], channel: str
) -> None:
    """The listener's socket is quiet until the sender notifies `channel`, then readable
    (within ten seconds)."""
    listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
    assert socket_readable(listener) is False
    sender.execute(sql.SQL("NOTIFY {}").format(sql.Identifier(channel)))
    deadline = time.monotonic() + 10
    while not socket_readable(listener) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert socket_readable(listener) is True


@pytest.mark.parametrize("way", ["poll", "select"])
def test_the_socket_is_readable_exactly_when_the_server_has_spoken(
    db: Target, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    if way == "select":  # the path of a platform without poll() (Windows)
        monkeypatch.delattr(select, "poll")
    with (
        psycopg.connect(db.conninfo, autocommit=True) as listener,
        psycopg.connect(db.conninfo, autocommit=True) as sender,
    ):
        readable_once_notified(listener, sender, "netplus_poolcheck")
        assert socket_readable(sender) is False  # the sender got its answer and nothing more


def test_a_negative_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="full_check_after must be >= 0 seconds, not -1"):
        BorrowCheck(-1)


def test_the_async_check_replaces_a_terminated_backend(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    async def scenario() -> tuple[int, int, int]:
        async with AsyncConnectionPool(
            db.conninfo, min_size=1, max_size=1, check=AsyncBorrowCheck(NEVER), open=False
        ) as pool:
            async with pool.connection() as c:
                killed = c.info.backend_pid
            await asyncio.to_thread(conn.execute, TERMINATE)
            async with pool.connection() as c:
                cur = await c.execute("SELECT pg_backend_pid()")
                row = await cur.fetchone()
                assert row is not None
            return killed, row[0], pool.get_stats()["connections_lost"]

    killed, now, lost = asyncio.run(scenario())
    assert now != killed
    assert lost == 1


def test_database_uses_the_borrow_check_unless_given_another(db: Target) -> None:
    seen: list[int] = []

    def count(c: psycopg.Connection[Any]) -> None:
        seen.append(c.info.backend_pid)

    with Database(db, min_size=1, max_size=1) as lib:
        assert isinstance(lib.pool._check, BorrowCheck)
    with Database(db, min_size=1, max_size=1, check=count) as lib, lib.transaction():
        pass
    assert len(seen) == 1
    assert isinstance(AsyncDatabase(db).pool._check, AsyncBorrowCheck)


def test_a_socket_numbered_past_selects_limit_is_still_asked(db: Target) -> None:
    """In a process with more than 1024 files open (FD_SETSIZE), a connection's socket may get
    a number select() refuses ("filedescriptor out of range"): poll(), which has no such
    limit, is the one asked wherever it exists."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 1200  # the fillers below, the two connections and what pytest holds open
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"the hard limit on open files ({hard}) is below {needed}")
    fillers: list[int] = []
    try:
        if soft != resource.RLIM_INFINITY and soft < needed:  # a common default is 1024
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
        while not fillers or fillers[-1] < 1100:  # the next descriptor is past select()'s limit
            fillers.append(os.open(os.devnull, os.O_RDONLY))
        with (
            psycopg.connect(db.conninfo, autocommit=True) as listener,
            psycopg.connect(db.conninfo, autocommit=True) as sender,
        ):
            assert listener.fileno() > 1024
            readable_once_notified(listener, sender, "netplus_poolcheck_high")
    finally:
        for fd in fillers:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_socket_is_asked_without_waiting_on_either_path(
    db: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check runs on every borrow, so it must never wait for the socket: poll() is given a
    timeout of 0 ms and select() (where there is no poll) one of 0 s. Both calls go to the
    real system calls; only their timeouts are recorded."""
    timeouts: list[tuple[str, Any]] = []
    real_poll, real_select = select.poll, select.select

    class Poller:
        def __init__(self) -> None:
            self.poller = real_poll()

        def register(self, fd: int, mask: int) -> None:
            self.poller.register(fd, mask)

        def poll(self, timeout: Any = None) -> list[tuple[int, int]]:
            timeouts.append(("poll", timeout))
            return self.poller.poll(timeout)

    def recorded_select(r: Any, w: Any, x: Any, timeout: Any = None) -> Any:
        timeouts.append(("select", timeout))
        return real_select(r, w, x, timeout)

    with psycopg.connect(db.conninfo, autocommit=True) as quiet:
        monkeypatch.setattr(select, "poll", Poller)
        assert socket_readable(quiet) is False
        monkeypatch.delattr(select, "poll")
        monkeypatch.setattr(select, "select", recorded_select)
        assert socket_readable(quiet) is False
    assert timeouts == [("poll", 0), ("select", 0)]
