"""Read routing: reads to replicas, writes to the primary, and a learner's reads see that
learner's writes.

`Database(..., replicas=[dsn, ...])` (or NETPLUS_REPLICA_DSNS) keeps a pool per replica. A
read-only session (`as_user(id, read_only=True)`, the catalog, the dashboard) asks a replica
where its replay stands (sql/replica.sql, one round trip before BEGIN) and uses it only when

- it is up: a replica that refuses a connection within `replica_timeout` is skipped for
  `replica_retry_after` seconds;
- it lags by no more than `max_lag` seconds (0 when it has replayed all it received);
- it has replayed past the acting learner's last commit on the primary (read-your-writes:
  after each of a learner's transactions on the primary, its WAL insert position is kept in
  this process, per learner); it is given up to `replica_wait` seconds to get there.

Otherwise the read goes to the primary, as a READ ONLY transaction too; the caller sees no
error. `ReadStats` counts where reads went, what was skipped and the largest lag seen.
Positions are kept per process: a learner served by two processes gets read-your-writes
within each of them (put a learner's requests on one process, or pass the position along).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from netplus_db.config import Target, resolve_target
from netplus_db.generated import AsyncQueries, Queries
from netplus_db.poolcheck import AsyncBorrowCheck, BorrowCheck
from netplus_db.session import AsyncGuardedConnection, AsyncSession, GuardedConnection, Session
from netplus_db.sql import sql_files

DEFAULT_MAX_LAG = 5.0  # seconds of replay lag beyond which a replica is skipped
DEFAULT_WAIT = 1.0  # seconds a read may wait for a replica to replay the learner's last write
DEFAULT_TIMEOUT = 1.0  # seconds to get a replica's connection before skipping it
DEFAULT_RETRY_AFTER = 2.0  # seconds a replica that failed is left alone
POLL = 0.005  # seconds between looks at a replica's replay position while waiting
MAX_LEARNERS = 100_000  # learners whose last commit position is kept (the oldest forgotten)
PRIMARY = "primary"
UNKNOWN_POSITION = 1 << 62  # a commit whose position could not be read: read from the primary


@dataclass
class ReadStats:
    """Where reads went and why: `reads` by target (PRIMARY or a replica's name), replicas
    skipped as down or lagging, reads that waited for replay or fell back to the primary to
    see the learner's write, reads retried after a lost connection, and the lag seen."""

    reads: dict[str, int] = field(default_factory=dict)
    skipped_down: int = 0
    skipped_lag: int = 0
    waited_for_replay: int = 0
    primary_for_freshness: int = 0
    retried: int = 0
    max_lag_seconds: float = 0.0
    last_lag_seconds: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, name: str, attribute: str | None = None) -> None:
        """One more read on `name` (or one more of `attribute`'s events when given)."""
        with self._lock:
            if attribute is None:
                self.reads[name] = self.reads.get(name, 0) + 1
            else:
                setattr(self, attribute, getattr(self, attribute) + 1)

    def lag(self, name: str, seconds: float) -> None:
        """Note a replica's lag."""
        with self._lock:
            self.last_lag_seconds[name] = seconds
            self.max_lag_seconds = max(self.max_lag_seconds, seconds)

    def snapshot(self) -> dict[str, Any]:
        """The counters as a plain dict (JSON-ready)."""
        with self._lock:
            return {
                "reads": dict(self.reads),
                "skipped_down": self.skipped_down,
                "skipped_lag": self.skipped_lag,
                "waited_for_replay": self.waited_for_replay,
                "primary_for_freshness": self.primary_for_freshness,
                "retried": self.retried,
                "max_lag_seconds": self.max_lag_seconds,
                "last_lag_seconds": dict(self.last_lag_seconds),
            }


class CommitPositions:
    """Each learner's last commit position on the primary (bytes into the WAL), in process."""

    def __init__(self, limit: int = MAX_LEARNERS) -> None:
        self._positions: OrderedDict[uuid.UUID, int] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def note(self, user_id: uuid.UUID, position: int) -> None:
        """Record a commit (positions only grow)."""
        with self._lock:
            self._positions[user_id] = max(position, self._positions.get(user_id, 0))
            self._positions.move_to_end(user_id)
            while len(self._positions) > self._limit:
                self._positions.popitem(last=False)

    def needed(self, user_id: object) -> int:
        """The position a replica must have replayed for this learner (0: any)."""
        if not isinstance(user_id, uuid.UUID):
            return 0
        return self._positions.get(user_id, 0)


@dataclass(frozen=True)
class Settings:
    """The routing knobs (module docstring)."""

    max_lag: float = DEFAULT_MAX_LAG
    wait: float = DEFAULT_WAIT
    timeout: float = DEFAULT_TIMEOUT
    retry_after: float = DEFAULT_RETRY_AFTER


@dataclass
class _Replica:
    name: str
    pool: Any  # ConnectionPool or AsyncConnectionPool
    down_until: float = 0.0


def replica_targets(replicas: Sequence[Target | str]) -> list[Target]:
    """Targets for the replicas given as Target objects or connection strings."""
    return [r if isinstance(r, Target) else resolve_target(r) for r in replicas]


def _status_sql() -> str:
    return sql_files().replica.status.sql


def commit_position_sql() -> str:
    """The statement that reads the primary's WAL insert position (bytes)."""
    return sql_files().replica.commit_position.sql


class _Routing:
    """What the sync and async routers share: replicas in rotation, positions, counters."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stats = ReadStats()
        self.positions = CommitPositions()
        self.replicas: list[_Replica] = []
        self._turn = itertools.count()

    def _in_turn(self) -> list[_Replica]:
        if not self.replicas:
            return []
        start = next(self._turn) % len(self.replicas)
        return self.replicas[start:] + self.replicas[:start]

    def _usable(self, replica: _Replica) -> bool:
        if replica.down_until > time.monotonic():
            self.stats.count(replica.name, "skipped_down")
            return False
        return True

    def mark_down(self, replica: _Replica) -> None:
        """Leave a replica alone for a while (it failed a connection or a query)."""
        replica.down_until = time.monotonic() + self.settings.retry_after
        self.stats.count(replica.name, "skipped_down")

    def _judge(self, replica: _Replica, row: Any, needed: int, deadline: float) -> str | None:
        """'ok', 'skip' or None (wait and look again) for a replica's status row."""
        _in_recovery, replayed, lag = row
        self.stats.lag(replica.name, float(lag))
        if float(lag) > self.settings.max_lag:
            self.stats.count(replica.name, "skipped_lag")
            return "skip"
        if replayed is not None and int(replayed) >= needed:
            return "ok"
        if time.monotonic() >= deadline:
            self.stats.count(replica.name, "primary_for_freshness")
            return "skip"
        return None

    def noted(self, user_id: uuid.UUID, row: Any) -> None:
        """Record a learner's commit position from commit_position's row."""
        self.positions.note(user_id, int(row[0]) if row and row[0] is not None else 0)

    @property
    def enabled(self) -> bool:
        """Whether any replica is configured."""
        return bool(self.replicas)


def _pool_kwargs(pgbouncer: bool) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"autocommit": True}
    if pgbouncer:
        kwargs["prepare_threshold"] = None
    return kwargs


class Router(_Routing):
    """Sync routing over replica pools (Database)."""

    def __init__(
        self, replicas: list[Target], settings: Settings, *, max_size: int, pgbouncer: bool
    ) -> None:
        super().__init__(settings)
        for number, target in enumerate(replicas, start=1):
            pool: ConnectionPool[Any] = ConnectionPool(
                target.conninfo,
                min_size=0,
                max_size=max_size,
                open=True,
                timeout=settings.timeout,
                reconnect_timeout=max(settings.retry_after * 5, 10.0),
                name=f"netplus-db-replica-{number}",
                check=BorrowCheck(),
                connection_class=GuardedConnection,
                kwargs=_pool_kwargs(pgbouncer),
            )
            self.replicas.append(_Replica(target.describe(), pool))

    def borrow(
        self, user_id: object, at_least: int = 0
    ) -> tuple[_Replica, psycopg.Connection[Any]] | None:
        """A replica connection fit for this learner's read (replayed past the learner's last
        commit and past `at_least`), or None (use the primary)."""
        needed = max(self.positions.needed(user_id), at_least)
        for replica in self._in_turn():
            if not self._usable(replica):
                continue
            try:
                conn: psycopg.Connection[Any] = replica.pool.getconn()
            except psycopg.Error:
                self.mark_down(replica)
                continue
            try:
                fit = self._fit(replica, conn, needed)
            except psycopg.Error:
                replica.pool.putconn(conn)
                self.mark_down(replica)
                continue
            if fit:
                return replica, conn
            replica.pool.putconn(conn)
        return None

    def _fit(self, replica: _Replica, conn: psycopg.Connection[Any], needed: int) -> bool:
        deadline = time.monotonic() + self.settings.wait
        waited = False
        while True:
            row = conn.execute(_status_sql()).fetchone()
            verdict = self._judge(replica, row, needed, deadline)
            if verdict is not None:
                return verdict == "ok"
            if not waited:
                self.stats.count(replica.name, "waited_for_replay")
                waited = True
            time.sleep(POLL)

    def on_commit(self, user_id: object) -> Callable[[psycopg.Connection[Any]], None] | None:
        """The hook a learner's primary session calls after COMMIT, when replicas exist."""
        if not self.replicas or not isinstance(user_id, uuid.UUID):
            return None

        def note(conn: psycopg.Connection[Any]) -> None:
            try:
                self.noted(user_id, conn.execute(commit_position_sql()).fetchone())
            except psycopg.Error:  # committed, position unknown: the primary serves them
                self.positions.note(user_id, UNKNOWN_POSITION)

        return note

    def close(self) -> None:
        """Close the replica pools."""
        for replica in self.replicas:
            replica.pool.close()


class AsyncRouter(_Routing):
    """The async twin of Router (AsyncDatabase)."""

    def __init__(
        self, replicas: list[Target], settings: Settings, *, max_size: int, pgbouncer: bool
    ) -> None:
        super().__init__(settings)
        for number, target in enumerate(replicas, start=1):
            pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
                target.conninfo,
                min_size=0,
                max_size=max_size,
                open=False,
                timeout=settings.timeout,
                reconnect_timeout=max(settings.retry_after * 5, 10.0),
                name=f"netplus-db-async-replica-{number}",
                check=AsyncBorrowCheck(),
                connection_class=AsyncGuardedConnection,
                kwargs=_pool_kwargs(pgbouncer),
            )
            self.replicas.append(_Replica(target.describe(), pool))

    async def open(self) -> None:
        """Open the replica pools (no connection is made until a read needs one)."""
        for replica in self.replicas:
            await replica.pool.open()

    async def borrow(
        self, user_id: object, at_least: int = 0
    ) -> tuple[_Replica, psycopg.AsyncConnection[Any]] | None:
        """A replica connection fit for this learner's read (Router.borrow), or None."""
        needed = max(self.positions.needed(user_id), at_least)
        for replica in self._in_turn():
            if not self._usable(replica):
                continue
            try:
                conn: psycopg.AsyncConnection[Any] = await replica.pool.getconn()
            except psycopg.Error:
                self.mark_down(replica)
                continue
            try:
                fit = await self._fit(replica, conn, needed)
            except psycopg.Error:
                await replica.pool.putconn(conn)
                self.mark_down(replica)
                continue
            if fit:
                return replica, conn
            await replica.pool.putconn(conn)
        return None

    async def _fit(
        self, replica: _Replica, conn: psycopg.AsyncConnection[Any], needed: int
    ) -> bool:
        deadline = time.monotonic() + self.settings.wait
        waited = False
        while True:
            row = await (await conn.execute(_status_sql())).fetchone()
            verdict = self._judge(replica, row, needed, deadline)
            if verdict is not None:
                return verdict == "ok"
            if not waited:
                self.stats.count(replica.name, "waited_for_replay")
                waited = True
            await asyncio.sleep(POLL)

    def on_commit(
        self, user_id: object
    ) -> Callable[[psycopg.AsyncConnection[Any]], Coroutine[Any, Any, None]] | None:
        """The hook a learner's primary session awaits after COMMIT, when replicas exist."""
        if not self.replicas or not isinstance(user_id, uuid.UUID):
            return None

        async def note(conn: psycopg.AsyncConnection[Any]) -> None:
            try:
                self.noted(user_id, await (await conn.execute(commit_position_sql())).fetchone())
            except psycopg.Error:
                self.positions.note(user_id, UNKNOWN_POSITION)

        return note

    async def close(self) -> None:
        """Close the replica pools."""
        for replica in self.replicas:
            await replica.pool.close()


class ReadSession:
    """`with ReadSession(...) as q:` a READ ONLY transaction on a fit replica, else on the
    primary. A replica that fails its BEGIN is left alone for a while; the primary serves.
    `at_least`: a WAL position the replica must have replayed besides the learner's own (the
    cache's fills after a content change)."""

    __slots__ = ("_at_least", "_inner", "_primary", "_role", "_router", "_user_id")

    def __init__(
        self,
        primary: ConnectionPool[Any],
        router: Router | None,
        role: str | None,
        user_id: Any,
        at_least: int = 0,
    ) -> None:
        self._at_least = at_least
        self._primary = primary
        self._router = router
        self._role = role
        self._user_id = user_id
        self._inner: Session | None = None

    def __enter__(self) -> Queries:
        router = self._router
        picked = (
            router.borrow(self._user_id, self._at_least)
            if router is not None and router.enabled
            else None
        )
        if picked is not None and router is not None:
            replica, conn = picked
            inner = Session(replica.pool, self._role, self._user_id, read_only=True, conn=conn)
            try:
                queries = inner.__enter__()
            except psycopg.OperationalError:
                router.mark_down(replica)
            else:
                router.stats.count(replica.name)
                self._inner = inner
                return queries
        self._inner = Session(self._primary, self._role, self._user_id, read_only=True)
        queries = self._inner.__enter__()
        if router is not None:
            router.stats.count(PRIMARY)
        return queries

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        inner, self._inner = self._inner, None
        return None if inner is None else inner.__exit__(exc_type, exc, tb)


class AsyncReadSession:
    """The async twin of ReadSession."""

    __slots__ = ("_at_least", "_inner", "_primary", "_role", "_router", "_user_id")

    def __init__(
        self,
        primary: AsyncConnectionPool[Any],
        router: AsyncRouter | None,
        role: str | None,
        user_id: Any,
        at_least: int = 0,
    ) -> None:
        self._at_least = at_least
        self._primary = primary
        self._router = router
        self._role = role
        self._user_id = user_id
        self._inner: AsyncSession | None = None

    async def __aenter__(self) -> AsyncQueries:
        router = self._router
        picked = (
            await router.borrow(self._user_id, self._at_least)
            if router is not None and router.enabled
            else None
        )
        if picked is not None and router is not None:
            replica, conn = picked
            inner = AsyncSession(replica.pool, self._role, self._user_id, read_only=True, conn=conn)
            try:
                queries = await inner.__aenter__()
            except psycopg.OperationalError:
                router.mark_down(replica)
            else:
                router.stats.count(replica.name)
                self._inner = inner
                return queries
        self._inner = AsyncSession(self._primary, self._role, self._user_id, read_only=True)
        queries = await self._inner.__aenter__()
        if router is not None:
            router.stats.count(PRIMARY)
        return queries

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        inner, self._inner = self._inner, None
        return None if inner is None else await inner.__aexit__(exc_type, exc, tb)
