"""The cache's listener: one connection per Database that LISTENs on `netplus_cache` and hands
every notification to the Cache (a thread for Database, a task for AsyncDatabase).

It starts with the first cached read and waits (up to the connection timeout) for its first
connection: until LISTEN has run, the cache serves nothing. When the connection fails (the
server restarted, a failover, a network cut seen by the heartbeat or TCP keepalives), the
cache is emptied and switched off, and the listener connects again every `retry_after`
seconds; when it is back, the cache starts empty. With replicas, each notification also notes
the primary's WAL position (one query), which replicas must have replayed before they fill the
cache again (cache.py, `fill_position`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import psycopg

from netplus_db.cache import Cache
from netplus_db.config import redact
from netplus_db.routing import commit_position_sql
from netplus_db.sql import sql_files

# libpq keepalives: a silent network cut is noticed in about idle + interval x count seconds.
APPLICATION_NAME = "netplus-db cache listener"  # in pg_stat_activity
CONNECT_OPTIONS: dict[str, Any] = {
    "autocommit": True,
    "application_name": APPLICATION_NAME,
    "prepare_threshold": None,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 3,
    "keepalives_count": 3,
}
NOT_LISTENING = (
    "the listener's session no longer listens (a pooler in transaction mode moved it: give"
    " CacheSettings(listen_dsn=...) a direct or session-pooling connection)"
)
FIRST_CONNECT_TIMEOUT = 10.0  # seconds the first cached read waits for the listener at most
CLOSE_TIMEOUT = 10.0


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return redact(
        f"listener connection lost: {type(exc).__name__}: {text[0] if text else ''}", None
    )


class CacheListener:
    """The sync listener: a daemon thread owning one connection."""

    def __init__(self, cache: Cache, conninfo: str, *, positions: bool) -> None:
        self._cache = cache
        self._conninfo = conninfo
        self._positions = positions
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection[Any] | None = None

    def ensure(self) -> None:
        """Start the listener if it has not started; the first call waits for its first try."""
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                thread = threading.Thread(target=self._run, name="netplus-db-cache", daemon=True)
                thread.start()
                self._thread = thread
        self._ready.wait(FIRST_CONNECT_TIMEOUT)

    def close(self) -> None:
        """Stop listening and close the connection (the cache is switched off)."""
        with self._lock:
            self._stop.set()
            conn, thread = self._conn, self._thread
        if conn is not None:
            conn.close()  # wakes the thread out of its wait for notifications
        if thread is not None:
            thread.join(CLOSE_TIMEOUT)
        self._cache.went_down("the database is closed")

    def _run(self) -> None:
        settings = self._cache.settings
        while not self._stop.is_set():
            try:
                self._listen()
                reason = "the database is closed"
            except Exception as exc:  # anything: never leave the cache on without a listener
                reason = _reason(exc)
            self._cache.went_down(reason)
            self._ready.set()
            self._stop.wait(settings.retry_after)

    def _listen(self) -> None:
        conn = psycopg.connect(self._conninfo, **CONNECT_OPTIONS)
        with self._lock:
            if self._stop.is_set():
                conn.close()
                return
            self._conn = conn
        try:
            sql_files().cache.listen(conn)
            self._cache.went_live()
            self._ready.set()
            heartbeat = self._cache.settings.heartbeat
            while not self._stop.is_set():
                payloads = [n.payload for n in conn.notifies(timeout=heartbeat, stop_after=1)]
                if not payloads:
                    if not sql_files().cache.heartbeat(conn):
                        raise psycopg.OperationalError(NOT_LISTENING)
                    continue
                if self._positions:
                    self._cache.note_position(int(sql_files().replica.commit_position(conn) or 0))
                for payload in payloads:
                    self._cache.apply(payload)
        finally:
            with self._lock:
                self._conn = None
            conn.close()


class AsyncCacheListener:
    """The async listener: a task on the event loop owning one connection."""

    def __init__(self, cache: Cache, conninfo: str, *, positions: bool) -> None:
        self._cache = cache
        self._conninfo = conninfo
        self._positions = positions
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None
        self._closed = False

    async def ensure(self) -> None:
        """Start the listener if it has not started; the first call waits for its first try."""
        if self._closed:
            return
        if self._task is None:
            self._ready = asyncio.Event()
            self._task = asyncio.create_task(self._run(), name="netplus-db-cache")
        if self._ready is not None and not self._ready.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), FIRST_CONNECT_TIMEOUT)

    async def close(self) -> None:
        """Stop listening and close the connection (the cache is switched off)."""
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._cache.went_down("the database is closed")

    def _set_ready(self) -> None:
        if self._ready is not None:
            self._ready.set()

    async def _run(self) -> None:
        settings = self._cache.settings
        while True:
            try:
                await self._listen()
                reason = "the database is closed"
            except Exception as exc:  # anything: never leave the cache on without a listener
                reason = _reason(exc)
            self._cache.went_down(reason)
            self._set_ready()
            await asyncio.sleep(settings.retry_after)

    async def _listen(self) -> None:
        async with await psycopg.AsyncConnection.connect(self._conninfo, **CONNECT_OPTIONS) as conn:
            await conn.execute(sql_files().cache.listen.sql)
            self._cache.went_live()
            self._set_ready()
            heartbeat = self._cache.settings.heartbeat
            while True:
                payloads = [n.payload async for n in conn.notifies(timeout=heartbeat, stop_after=1)]
                if not payloads:
                    row = await (await conn.execute(sql_files().cache.heartbeat.sql)).fetchone()
                    if not (row and row[0]):
                        raise psycopg.OperationalError(NOT_LISTENING)
                    continue
                if self._positions:
                    row = await (await conn.execute(commit_position_sql())).fetchone()
                    self._cache.note_position(int(row[0]) if row else 0)
                for payload in payloads:
                    self._cache.apply(payload)
