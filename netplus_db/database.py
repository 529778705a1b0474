"""The entry point for backends: a pooled database, its typed queries and its flows.

    db = Database()                       # same configuration as the CLI (--dsn aside)
    user = db.register(email=..., username=..., password=...)
    with db.as_user(user.id) as q:        # one transaction, RLS applies: only this user's rows
        q.progress.list_progress(user_id=user.id)

`AsyncDatabase` is the same with `async with` / `await`. Every flow and every `as_user` block is
one transaction: an error leaves nothing written. `as_user` switches to the application role
(`app_user`, not the owner, no BYPASSRLS) and sets `app.user_id`, both transaction-locally, so
nothing leaks to the next borrower of a pooled connection.

Behind PgBouncer in transaction pooling, pass `pgbouncer=True` (or set NETPLUS_PGBOUNCER=1)
unless it is 1.21 or newer with `max_prepared_statements` set: README, "PgBouncer".

The catalog, achievement definitions, the learner-facing question bank and user settings are
cached in process and dropped at once when they change anywhere (cache.py); `cache=False` or
NETPLUS_CACHE=0 turns that off, `cache=CacheSettings(...)` sets TTLs and the listener.

Keyword arguments beyond the sizes go to psycopg_pool (`max_lifetime=`, `timeout=`...). The
pool checks a connection before lending it with `poolcheck.BorrowCheck` (`check=` replaces
it). How a session begins, switches role and ends, and why pooled connections are
autocommit: session.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from functools import partial
from typing import Any, TypeVar, cast

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from netplus_db import validation as check
from netplus_db.cache import (
    ACHIEVEMENTS,
    CATALOG,
    MISS,
    QUESTIONS,
    SETTINGS,
    Cache,
    CacheSettings,
    CacheStats,
)
from netplus_db.cache_listener import AsyncCacheListener, CacheListener
from netplus_db.cached_reads import (
    browse_key,
    cache_lookup,
    component_key,
    fresh,
    hashable,
    listen_conninfo,
    make_cache,
    picked,
    store,
)
from netplus_db.cached_reads import question_ids as question_ids_checked
from netplus_db.config import (
    Target,
    load_env_file,
    pgbouncer_from_env,
    replica_dsns_from_env,
    resolve_target,
)
from netplus_db.connection import ensure_server_started
from netplus_db.errors import TransactionLost
from netplus_db.flows import (
    Flow,
    accounts,
    adrive_pooled,
    assessments,
    catalog,
    drive_pooled,
    learning,
    review,
)
from netplus_db.generated import AsyncQueries, Queries
from netplus_db.generated.achievements import ListAchievementsRow
from netplus_db.generated.analytics import DashboardSummaryRow
from netplus_db.generated.assessments import (
    Attempt,
    LearnerQuestion,
    ReviewAttemptRow,
    SaveAnswerRow,
)
from netplus_db.generated.content import Component
from netplus_db.generated.learning import AnswerReviewRow, AttemptObjectiveReportRow
from netplus_db.generated.profiles import Settings as UserSettings
from netplus_db.generated.users import User
from netplus_db.poolcheck import AsyncBorrowCheck, BorrowCheck
from netplus_db.routing import (
    AsyncReadSession,
    AsyncRouter,
    ReadSession,
    ReadStats,
    Router,
    Settings,
    replica_targets,
)
from netplus_db.session import (
    NOBODY,
    AsyncGuardedConnection,
    AsyncSession,
    GuardedConnection,
    Session,
)
from netplus_db.types import Json

R = TypeVar("R")
APP_ROLE = "app_user"


def _pool_options(
    given: dict[str, Any], check: Any, connection_class: type, pgbouncer: bool | None
) -> dict[str, Any]:
    """psycopg_pool keywords: ours, then the caller's; connections are always autocommit
    (session.py says why). Behind PgBouncer in transaction pooling (`pgbouncer`, else
    NETPLUS_PGBOUNCER) nothing is prepared on the server: psycopg would prepare a statement
    after 5 runs, and the next transaction may land on a server connection that lacks it."""
    options = {"check": check, "connection_class": connection_class, **given}
    kwargs = {**given.get("kwargs", {}), "autocommit": True}
    if pgbouncer_from_env() if pgbouncer is None else pgbouncer:
        kwargs["prepare_threshold"] = None
    options["kwargs"] = kwargs
    return options


def _replicas(given: Sequence[Target | str] | None) -> list[Target]:
    """The replicas given, else NETPLUS_REPLICA_DSNS's (none when unset)."""
    return replica_targets(replica_dsns_from_env() if given is None else given)


def _pgbouncer(given: bool | None) -> bool:
    return pgbouncer_from_env() if given is None else given


def _target(target: Target | str | None) -> Target:
    if isinstance(target, Target):
        return ensure_server_started(target)
    load_env_file()
    return ensure_server_started(resolve_target(target))


class Database:
    """A pool of connections to the configured target, with typed queries and flows (sync)."""

    def __init__(
        self,
        target: Target | str | None = None,
        *,
        min_size: int = 1,
        max_size: int = 10,
        app_role: str | None = APP_ROLE,
        pgbouncer: bool | None = None,
        replicas: Sequence[Target | str] | None = None,
        routing: Settings | None = None,
        cache: bool | CacheSettings | None = None,
        **pool_kwargs: Any,
    ) -> None:
        self.target = _target(target)
        self.app_role = app_role
        self.cache: Cache | None = make_cache(cache)
        self.router = Router(
            _replicas(replicas),
            routing or Settings(),
            max_size=max_size,
            pgbouncer=_pgbouncer(pgbouncer),
        )
        self.pool = ConnectionPool(
            self.target.conninfo,
            min_size=min_size,
            max_size=max_size,
            open=True,
            name="netplus-db",
            **_pool_options(pool_kwargs, BorrowCheck(), GuardedConnection, pgbouncer),
        )
        self._listener: CacheListener | None = None
        if self.cache is not None:
            conninfo = listen_conninfo(self.cache, self.target, _pgbouncer(pgbouncer))
            if conninfo is not None:
                self._listener = CacheListener(self.cache, conninfo, positions=self.router.enabled)

    def close(self) -> None:
        """Close every pooled connection (the replicas' and the cache listener's too)."""
        if self._listener is not None:
            self._listener.close()
        self.router.close()
        self.pool.close()

    @property
    def cache_stats(self) -> CacheStats:
        """What the cache did (hits, misses, invalidations, listener); all zero when off."""
        return self.cache.stats() if self.cache is not None else CacheStats(reason="off")

    @property
    def read_stats(self) -> ReadStats:
        """Where read-only sessions went: reads per target, replicas skipped, lag seen."""
        return self.router.stats

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> AbstractContextManager[Queries]:
        """One transaction on a pooled connection as the connecting role (no RLS identity)."""
        return Session(self.pool, None, NOBODY)

    def as_user(
        self, user_id: uuid.UUID | None, *, read_only: bool = False
    ) -> AbstractContextManager[Queries]:
        """One transaction acting as a user: application role, `app.user_id` set, RLS applies.
        `read_only`: a READ ONLY transaction of `-- replica: yes` queries, on a replica that
        has replayed this user's last write when one is fit, else on the primary
        (routing.py)."""
        if read_only:
            return ReadSession(self.pool, self.router, self.app_role, user_id)
        return Session(self.pool, self.app_role, user_id, on_commit=self._on_commit(user_id))

    def _on_commit(self, user_id: object) -> Callable[[psycopg.Connection[Any]], None] | None:
        """After a learner's commit: note its WAL position (replicas), drop its cached
        settings (its next read sees its write without waiting for the notification)."""
        routed = self.router.on_commit(user_id)
        cache = self.cache
        if cache is None or not isinstance(user_id, uuid.UUID):
            return routed

        def after(conn: psycopg.Connection[Any]) -> None:
            if routed is not None:
                routed(conn)
            cache.invalidate(SETTINGS, [user_id])

        return after

    def run(self, flow: Flow[R], user_id: uuid.UUID | None = None) -> R:
        """Run a flow acting as `user_id` (or nobody yet): its query steps in one transaction,
        begun at the first of them; an `Offload` step (bcrypt) ends the transaction so far and
        runs with no connection borrowed (flows.drive_pooled)."""
        return drive_pooled(flow, partial(self.as_user, user_id), self.app_role)

    def read(self, user_id: uuid.UUID | None, fn: Callable[[Queries], R]) -> R:
        """`fn(q)` in a read-only session (as_user(user_id, read_only=True)), run once more
        when the connection is lost under it (a replica stopped, a failover)."""
        return self._read(user_id, fn)

    def _read(self, user_id: uuid.UUID | None, fn: Callable[[Queries], R], at_least: int = 0) -> R:
        try:
            with ReadSession(self.pool, self.router, self.app_role, user_id, at_least) as q:
                return fn(q)
        except TransactionLost:
            self.router.stats.count("", "retried")
            with ReadSession(self.pool, self.router, self.app_role, user_id, at_least) as q:
                return fn(q)

    def _read_flow(
        self, make: Callable[[], Flow[R]], user_id: uuid.UUID | None, at_least: int = 0
    ) -> R:
        """A read-only flow, routed as `read` routes, retried once on a lost connection."""

        def begin() -> AbstractContextManager[Queries]:
            return ReadSession(self.pool, self.router, self.app_role, user_id, at_least)

        try:
            return drive_pooled(make(), begin, self.app_role)
        except TransactionLost:
            self.router.stats.count("", "retried")
            return drive_pooled(make(), begin, self.app_role)

    def _cached(self, region: str, key: Hashable, load: Callable[[int], R]) -> R:
        """The cached value, else `load(position)` stored unless invalidated meanwhile
        (`position`: what a replica must have replayed to serve the fill)."""
        cache = self.cache
        if cache is None or not hashable(key):
            return load(0)  # an unhashable argument: the load refuses it (ValidationError)
        if self._listener is not None:
            self._listener.ensure()
        found = cache.get(region, key)
        if found is not MISS:
            return fresh(cast(R, found))
        ticket = cache.ticket(region)
        value = load(cache.fill_position)
        cache.put(region, key, value, ticket)
        return fresh(value)

    def component(
        self, *, slug: str | None = None, component_id: uuid.UUID | None = None
    ) -> Component | None:
        """One published, live component by slug or by id (exactly one), cached for the
        catalog's TTL (its view and completion counters are as of the fill)."""
        key = component_key(slug, component_id)
        wanted = check.uuid_("component_id", component_id) if slug is None else uuid.UUID(int=0)

        def load(at_least: int) -> Component | None:
            if slug is not None:
                return self._read(None, lambda q: q.content.get_component(slug=slug), at_least)
            return self._read(
                None, lambda q: q.content.get_component_by_id(component_id=wanted), at_least
            )

        return self._cached(CATALOG, key, load)

    def achievements(self) -> list[ListAchievementsRow]:
        """The active achievement definitions, cached for an hour (or until they change)."""
        return self._cached(
            ACHIEVEMENTS,
            "all",
            lambda at_least: self._read(
                None, lambda q: q.achievements.list_achievements(), at_least
            ),
        )

    def questions(self, *, question_ids: Sequence[uuid.UUID]) -> list[LearnerQuestion]:
        """Published questions as a learner sees them (never the answer key or explanation),
        in the order asked, unknown or unpublished ones left out; cached per question."""
        ids = question_ids_checked(question_ids)
        cache = self.cache
        if cache is None:
            return picked(ids, self._read(None, partial(_learner_questions, ids=ids)))
        if self._listener is not None:
            self._listener.ensure()
        found, missing = cache_lookup(cache, ids)
        if missing:
            ticket = cache.ticket(QUESTIONS)
            loaded = self._read(None, partial(_learner_questions, ids=missing), cache.fill_position)
            store(cache, loaded, ticket, found)
        return picked(ids, found)

    def settings(self, *, user_id: uuid.UUID) -> UserSettings | None:
        """A learner's settings (as that learner: RLS), cached for `settings_ttl`."""
        learner = _acting(user_id)
        return self._cached(
            SETTINGS,
            learner,
            lambda at_least: self._read(
                learner, lambda q: q.profiles.get_settings(user_id=learner), at_least
            ),
        )

    def dashboard(self, *, user_id: uuid.UUID) -> DashboardSummaryRow | None:
        """The learner's dashboard (a read: a replica serves it when one is fit)."""
        learner = _acting(user_id)
        return self.read(learner, lambda q: q.analytics.dashboard_summary(user_id=learner))

    # --- flows ---------------------------------------------------------------------------------

    def register(
        self,
        *,
        email: str,
        username: str,
        password: str,
        role: str = "student",
        first_name: str | None = None,
        last_name: str | None = None,
        display_name: str | None = None,
        rounds: int = accounts.BCRYPT_ROUNDS,
    ) -> User:
        """Create an account (Conflict when the email or username is taken; ValidationError
        naming the field for bad input). The password is hashed before any connection is
        borrowed; a role other than student needs the admin role (Forbidden)."""
        return self.run(
            accounts.register(
                email=email,
                username=username,
                password=password,
                role=role,
                first_name=first_name,
                last_name=last_name,
                display_name=display_name,
                rounds=rounds,
            )
        )

    def login(self, *, login: str, password: str) -> accounts.LoginResult:
        """Check credentials in constant time, holding no connection while bcrypt runs
        (flows.accounts.login)."""
        return self.run(accounts.login(login=login, password=password))

    def record_progress(
        self,
        *,
        user_id: uuid.UUID,
        component_id: uuid.UUID,
        status: str,
        progress_percentage: int = 0,
        time_spent_minutes: int = 0,
        last_position: Json = None,
    ) -> learning.ProgressResult:
        """Record progress; completing sets off streak, goals, achievements and the log.
        `status`: not_started, in_progress, completed, mastered; `progress_percentage` 0-100;
        `time_spent_minutes` 0-1440 per call; `last_position` JSON within validation's limits."""
        return self.run(
            learning.record_progress(
                user_id=user_id,
                component_id=component_id,
                status=status,
                progress_percentage=progress_percentage,
                time_spent_minutes=time_spent_minutes,
                last_position=last_position,
            ),
            _acting(user_id),
        )

    def start_attempt(
        self, *, user_id: uuid.UUID, assessment_id: uuid.UUID
    ) -> assessments.StartedAttempt:
        """Open the next attempt (MaxAttemptsReached when none is left)."""
        return self.run(
            assessments.start_attempt(user_id=user_id, assessment_id=assessment_id),
            _acting(user_id),
        )

    def resume_attempt(
        self, *, user_id: uuid.UUID, attempt_id: uuid.UUID
    ) -> assessments.ResumedAttempt:
        """An attempt as it was left: questions and options in the order it started with, and
        the answers saved so far (NotFound when it is not this user's)."""
        return self.run(
            assessments.resume_attempt(user_id=user_id, attempt_id=attempt_id), _acting(user_id)
        )

    def review_attempt(
        self, *, user_id: uuid.UUID, attempt_id: uuid.UUID
    ) -> list[ReviewAttemptRow]:
        """A submitted attempt question by question in the order shown, as its assessment
        allows (empty: nothing to review)."""
        return self.run(
            assessments.review_attempt(user_id=user_id, attempt_id=attempt_id), _acting(user_id)
        )

    def save_answer(
        self,
        *,
        user_id: uuid.UUID,
        attempt_id: uuid.UUID,
        question_id: uuid.UUID,
        user_answer: Json,
        time_spent_seconds: int | None = None,
        flagged_for_review: bool = False,
    ) -> SaveAnswerRow:
        """Save one answer (ValidationError naming the field for a wrong shape, AttemptClosed
        when the attempt is closed or out of time)."""
        return self.run(
            assessments.save_answer(
                user_id=user_id,
                attempt_id=attempt_id,
                question_id=question_id,
                user_answer=user_answer,
                time_spent_seconds=time_spent_seconds,
                flagged_for_review=flagged_for_review,
            ),
            _acting(user_id),
        )

    def submit_attempt(
        self, *, user_id: uuid.UUID, attempt_id: uuid.UUID
    ) -> assessments.SubmittedAttempt:
        """Grade and close an attempt (AttemptClosed when already closed)."""
        return self.run(
            assessments.submit_attempt(user_id=user_id, attempt_id=attempt_id), _acting(user_id)
        )

    def abandon_attempt(self, *, user_id: uuid.UUID, attempt_id: uuid.UUID) -> Attempt:
        """Give up an attempt in progress."""
        return self.run(
            assessments.abandon_attempt(user_id=user_id, attempt_id=attempt_id), _acting(user_id)
        )

    def attempt_report(
        self, *, user_id: uuid.UUID, attempt_id: uuid.UUID
    ) -> list[AttemptObjectiveReportRow]:
        """A submitted attempt's score report per objective (empty: not the learner's, not
        submitted, or no question with an objective)."""
        return self.run(
            review.attempt_report(user_id=user_id, attempt_id=attempt_id), _acting(user_id)
        )

    def readiness(self, *, user_id: uuid.UUID, weakest: int = 5) -> review.LearnerReadiness:
        """The learner's ESTIMATED exam readiness per domain and for the exam (100-900 with a
        90 % interval; likely_ready only when its lower end clears 720), the `weakest`
        objectives (1-25) with the components that teach them, and the reviews due."""
        return self.run(review.readiness(user_id=user_id, weakest=weakest), _acting(user_id))

    def review_session(self, *, user_id: uuid.UUID, limit: int = 20) -> review.ReviewSession:
        """The review cards due now (1-100 of them, oldest first), questions without keys."""
        return self.run(review.review_session(user_id=user_id, limit=limit), _acting(user_id))

    def answer_review(
        self,
        *,
        user_id: uuid.UUID,
        question_id: uuid.UUID,
        user_answer: Json,
        time_spent_seconds: int | None = None,
    ) -> AnswerReviewRow:
        """Answer a due review card: graded, rescheduled (FSRS) and logged in the database,
        then the key and explanation. NotFound: no such card; NotDue: not due yet;
        ValidationError naming the field: a malformed answer."""
        return self.run(
            review.answer_review(
                user_id=user_id,
                question_id=question_id,
                user_answer=user_answer,
                time_spent_seconds=time_spent_seconds,
            ),
            _acting(user_id),
        )

    def browse_components(
        self,
        *,
        user_id: uuid.UUID | None = None,
        domain: str | None = None,
        subdomain: str | None = None,
        component_type: str | None = None,
        difficulty_level: str | None = None,
        after_title: str | None = None,
        after_id: uuid.UUID | None = None,
        page_size: int = catalog.DEFAULT_PAGE_SIZE,
    ) -> catalog.ComponentPage:
        """One page of the published catalog by title, filtered by any of the arguments
        (None: any); ValidationError for an unknown domain, type or difficulty. Pass the
        page's `next_after_title` / `next_after_id` for the next page; `has_more` says
        whether there is one. Pages are cached for the catalog's TTL."""
        make = partial(
            catalog.browse_components,
            domain=domain,
            subdomain=subdomain,
            component_type=component_type,
            difficulty_level=difficulty_level,
            after_title=after_title,
            after_id=after_id,
            page_size=page_size,
        )
        learner = None if user_id is None else _acting(user_id)
        key = browse_key(
            domain, subdomain, component_type, difficulty_level, after_title, after_id, page_size
        )
        return self._cached(CATALOG, key, lambda at: self._read_flow(make, learner, at))


class AsyncDatabase:
    """The async twin of Database: same queries, same flows, same results and errors."""

    def __init__(
        self,
        target: Target | str | None = None,
        *,
        min_size: int = 1,
        max_size: int = 10,
        app_role: str | None = APP_ROLE,
        pgbouncer: bool | None = None,
        replicas: Sequence[Target | str] | None = None,
        routing: Settings | None = None,
        cache: bool | CacheSettings | None = None,
        **pool_kwargs: Any,
    ) -> None:
        self.target = _target(target)
        self.app_role = app_role
        self.cache: Cache | None = make_cache(cache)
        self.router = AsyncRouter(
            _replicas(replicas),
            routing or Settings(),
            max_size=max_size,
            pgbouncer=_pgbouncer(pgbouncer),
        )
        self.pool = AsyncConnectionPool(
            self.target.conninfo,
            min_size=min_size,
            max_size=max_size,
            open=False,
            name="netplus-db-async",
            **_pool_options(pool_kwargs, AsyncBorrowCheck(), AsyncGuardedConnection, pgbouncer),
        )
        self._listener: AsyncCacheListener | None = None
        if self.cache is not None:
            conninfo = listen_conninfo(self.cache, self.target, _pgbouncer(pgbouncer))
            if conninfo is not None:
                self._listener = AsyncCacheListener(
                    self.cache, conninfo, positions=self.router.enabled
                )

    async def open(self) -> AsyncDatabase:
        """Open the pool (also done by `async with`)."""
        await self.pool.open()
        await self.router.open()
        return self

    async def close(self) -> None:
        """Close every pooled connection (the replicas' and the cache listener's too)."""
        if self._listener is not None:
            await self._listener.close()
        await self.router.close()
        await self.pool.close()

    @property
    def cache_stats(self) -> CacheStats:
        """What the cache did (hits, misses, invalidations, listener); all zero when off."""
        return self.cache.stats() if self.cache is not None else CacheStats(reason="off")

    @property
    def read_stats(self) -> ReadStats:
        """Where read-only sessions went: reads per target, replicas skipped, lag seen."""
        return self.router.stats

    async def __aenter__(self) -> AsyncDatabase:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def transaction(self) -> AbstractAsyncContextManager[AsyncQueries]:
        """One transaction on a pooled connection as the connecting role."""
        return AsyncSession(self.pool, None, NOBODY)

    def as_user(
        self, user_id: uuid.UUID | None, *, read_only: bool = False
    ) -> AbstractAsyncContextManager[AsyncQueries]:
        """One transaction acting as a user: application role, `app.user_id` set, RLS applies.
        `read_only`: routed as Database.as_user routes it."""
        if read_only:
            return AsyncReadSession(self.pool, self.router, self.app_role, user_id)
        return AsyncSession(self.pool, self.app_role, user_id, on_commit=self._on_commit(user_id))

    def _on_commit(
        self, user_id: object
    ) -> Callable[[psycopg.AsyncConnection[Any]], Coroutine[Any, Any, None]] | None:
        """After a learner's commit: as Database._on_commit."""
        routed = self.router.on_commit(user_id)
        cache = self.cache
        if cache is None or not isinstance(user_id, uuid.UUID):
            return routed

        async def after(conn: psycopg.AsyncConnection[Any]) -> None:
            if routed is not None:
                await routed(conn)
            cache.invalidate(SETTINGS, [user_id])

        return after

    async def run(self, flow: Flow[R], user_id: uuid.UUID | None = None) -> R:
        """Run a flow acting as `user_id` (or nobody yet): its query steps in one transaction,
        begun at the first of them; an `Offload` step (bcrypt) ends the transaction so far and
        runs with no connection borrowed (flows.adrive_pooled)."""
        return await adrive_pooled(flow, partial(self.as_user, user_id), self.app_role)

    async def read(
        self, user_id: uuid.UUID | None, fn: Callable[[AsyncQueries], Awaitable[R]]
    ) -> R:
        """`await fn(q)` in a read-only session, run once more when the connection is lost."""
        return await self._read(user_id, fn)

    async def _read(
        self,
        user_id: uuid.UUID | None,
        fn: Callable[[AsyncQueries], Awaitable[R]],
        at_least: int = 0,
    ) -> R:
        try:
            async with AsyncReadSession(
                self.pool, self.router, self.app_role, user_id, at_least
            ) as q:
                return await fn(q)
        except TransactionLost:
            self.router.stats.count("", "retried")
            async with AsyncReadSession(
                self.pool, self.router, self.app_role, user_id, at_least
            ) as q:
                return await fn(q)

    async def _read_flow(
        self, make: Callable[[], Flow[R]], user_id: uuid.UUID | None, at_least: int = 0
    ) -> R:
        def begin() -> AbstractAsyncContextManager[AsyncQueries]:
            return AsyncReadSession(self.pool, self.router, self.app_role, user_id, at_least)

        try:
            return await adrive_pooled(make(), begin, self.app_role)
        except TransactionLost:
            self.router.stats.count("", "retried")
            return await adrive_pooled(make(), begin, self.app_role)

    async def _cached(self, region: str, key: Hashable, load: Callable[[int], Awaitable[R]]) -> R:
        """As Database._cached."""
        cache = self.cache
        if cache is None or not hashable(key):
            return await load(0)
        if self._listener is not None:
            await self._listener.ensure()
        found = cache.get(region, key)
        if found is not MISS:
            return fresh(cast(R, found))
        ticket = cache.ticket(region)
        value = await load(cache.fill_position)
        cache.put(region, key, value, ticket)
        return fresh(value)

    async def component(
        self, *, slug: str | None = None, component_id: uuid.UUID | None = None
    ) -> Component | None:
        """One published, live component by slug or by id (Database.component)."""
        key = component_key(slug, component_id)
        wanted = check.uuid_("component_id", component_id) if slug is None else uuid.UUID(int=0)

        async def get(q: AsyncQueries) -> Component | None:
            if slug is not None:
                return await q.content.get_component(slug=slug)
            return await q.content.get_component_by_id(component_id=wanted)

        return await self._cached(CATALOG, key, partial(self._read, None, get))

    async def achievements(self) -> list[ListAchievementsRow]:
        """The active achievement definitions, cached for an hour (or until they change)."""

        async def get(q: AsyncQueries) -> list[ListAchievementsRow]:
            return await q.achievements.list_achievements()

        return await self._cached(ACHIEVEMENTS, "all", partial(self._read, None, get))

    async def questions(self, *, question_ids: Sequence[uuid.UUID]) -> list[LearnerQuestion]:
        """Published questions as a learner sees them (Database.questions)."""
        ids = question_ids_checked(question_ids)
        cache = self.cache
        if cache is None:
            return picked(ids, await self._read(None, partial(_alearner_questions, ids=ids)))
        if self._listener is not None:
            await self._listener.ensure()
        found, missing = cache_lookup(cache, ids)
        if missing:
            ticket = cache.ticket(QUESTIONS)
            loaded = await self._read(
                None, partial(_alearner_questions, ids=missing), cache.fill_position
            )
            store(cache, loaded, ticket, found)
        return picked(ids, found)

    async def settings(self, *, user_id: uuid.UUID) -> UserSettings | None:
        """A learner's settings (as that learner: RLS), cached for `settings_ttl`."""
        learner = _acting(user_id)

        async def get(q: AsyncQueries) -> UserSettings | None:
            return await q.profiles.get_settings(user_id=learner)

        return await self._cached(SETTINGS, learner, partial(self._read, learner, get))

    async def dashboard(self, *, user_id: uuid.UUID) -> DashboardSummaryRow | None:
        """The learner's dashboard (a read: a replica serves it when one is fit)."""
        learner = _acting(user_id)

        async def get(q: AsyncQueries) -> DashboardSummaryRow | None:
            return await q.analytics.dashboard_summary(user_id=learner)

        return await self.read(learner, get)

    # --- flows ---------------------------------------------------------------------------------

    async def register(
        self,
        *,
        email: str,
        username: str,
        password: str,
        role: str = "student",
        first_name: str | None = None,
        last_name: str | None = None,
        display_name: str | None = None,
        rounds: int = accounts.BCRYPT_ROUNDS,
    ) -> User:
        """Create an account (Conflict when the email or username is taken; ValidationError
        naming the field for bad input). The password is hashed before any connection is
        borrowed; a role other than student needs the admin role (Forbidden)."""
        return await self.run(
            accounts.register(
                email=email,
                username=username,
                password=password,
                role=role,
                first_name=first_name,
                last_name=last_name,
                display_name=display_name,
                rounds=rounds,
            )
        )

    async def login(self, *, login: str, password: str) -> accounts.LoginResult:
        """Check credentials in constant time, holding no connection while bcrypt runs
        (flows.accounts.login)."""
        return await self.run(accounts.login(login=login, password=password))

    async def record_progress(
        self,
        *,
        user_id: uuid.UUID,
        component_id: uuid.UUID,
        status: str,
        progress_percentage: int = 0,
        time_spent_minutes: int = 0,
        last_position: Json = None,
    ) -> learning.ProgressResult:
        """Record progress; completing sets off streak, goals, achievements and the log.
        `status`: not_started, in_progress, completed, mastered; `progress_percentage` 0-100;
        `time_spent_minutes` 0-1440 per call; `last_position` JSON within validation's limits."""
        return await self.run(
            learning.record_progress(
                user_id=user_id,
                component_id=component_id,
                status=status,
                progress_percentage=progress_percentage,
                time_spent_minutes=time_spent_minutes,
                last_position=last_position,
            ),
            _acting(user_id),
        )

    async def start_attempt(
        self, *, user_id: uuid.UUID, assessment_id: uuid.UUID
    ) -> assessments.StartedAttempt:
        """Open the next attempt (MaxAttemptsReached when none is left)."""
        return await self.run(
            assessments.start_attempt(user_id=user_id, assessment_id=assessment_id),
            _acting(user_id),
        )

    async def resume_attempt(
        self, *, user_id: uuid.UUID, attempt_id: uuid.UUID
    ) -> assessments.ResumedAttempt:
        """An attempt as it was left: questions and options in the order it started with, and
        the answers saved so far (NotFound when it is not this user's)."""
        return await self.run(
            assessments.resume_attempt(user_id=user_id, attempt_id=attempt_id), _acting(user_id)
        )

    async def review_attempt(
        self, *, user_id: uuid.UUID, attempt_id: uuid.UUID
    ) -> list[ReviewAttemptRow]:
        """A submitted attempt question by question in the order shown, as its assessment
        allows (empty: nothing to review)."""
        return await self.run(
            assessments.review_attempt(user_id=user_id, attempt_id=attempt_id), _acting(user_id)
        )

    async def save_answer(
        self,
        *,
        user_id: uuid.UUID,
        attempt_id: uuid.UUID,
        question_id: uuid.UUID,
        user_answer: Json,
        time_spent_seconds: int | None = None,
        flagged_for_review: bool = False,
    ) -> SaveAnswerRow:
        """Save one answer (ValidationError naming the field for a wrong shape, AttemptClosed
        when the attempt is closed or out of time)."""
        return await self.run(
            assessments.save_answer(
                user_id=user_id,
                attempt_id=attempt_id,
                question_id=question_id,
                user_answer=user_answer,
                time_spent_seconds=time_spent_seconds,
                flagged_for_review=flagged_for_review,
            ),
            _acting(user_id),
        )

    async def submit_attempt(
        self, *, user_id: uuid.UUID, attempt_id: uuid.UUID
    ) -> assessments.SubmittedAttempt:
        """Grade and close an attempt (AttemptClosed when already closed)."""
        return await self.run(
            assessments.submit_attempt(user_id=user_id, attempt_id=attempt_id), _acting(user_id)
        )

    async def abandon_attempt(self, *, user_id: uuid.UUID, attempt_id: uuid.UUID) -> Attempt:
        """Give up an attempt in progress."""
        return await self.run(
            assessments.abandon_attempt(user_id=user_id, attempt_id=attempt_id), _acting(user_id)
        )

    async def attempt_report(
        self, *, user_id: uuid.UUID, attempt_id: uuid.UUID
    ) -> list[AttemptObjectiveReportRow]:
        """A submitted attempt's score report per objective (empty: not the learner's, not
        submitted, or no question with an objective)."""
        return await self.run(
            review.attempt_report(user_id=user_id, attempt_id=attempt_id), _acting(user_id)
        )

    async def readiness(self, *, user_id: uuid.UUID, weakest: int = 5) -> review.LearnerReadiness:
        """The learner's ESTIMATED exam readiness per domain and for the exam (100-900 with a
        90 % interval; likely_ready only when its lower end clears 720), the `weakest`
        objectives (1-25) with the components that teach them, and the reviews due."""
        return await self.run(review.readiness(user_id=user_id, weakest=weakest), _acting(user_id))

    async def review_session(self, *, user_id: uuid.UUID, limit: int = 20) -> review.ReviewSession:
        """The review cards due now (1-100 of them, oldest first), questions without keys."""
        return await self.run(review.review_session(user_id=user_id, limit=limit), _acting(user_id))

    async def answer_review(
        self,
        *,
        user_id: uuid.UUID,
        question_id: uuid.UUID,
        user_answer: Json,
        time_spent_seconds: int | None = None,
    ) -> AnswerReviewRow:
        """Answer a due review card: graded, rescheduled (FSRS) and logged in the database,
        then the key and explanation. NotFound: no such card; NotDue: not due yet;
        ValidationError naming the field: a malformed answer."""
        return await self.run(
            review.answer_review(
                user_id=user_id,
                question_id=question_id,
                user_answer=user_answer,
                time_spent_seconds=time_spent_seconds,
            ),
            _acting(user_id),
        )

    async def browse_components(
        self,
        *,
        user_id: uuid.UUID | None = None,
        domain: str | None = None,
        subdomain: str | None = None,
        component_type: str | None = None,
        difficulty_level: str | None = None,
        after_title: str | None = None,
        after_id: uuid.UUID | None = None,
        page_size: int = catalog.DEFAULT_PAGE_SIZE,
    ) -> catalog.ComponentPage:
        """One page of the published catalog by title, filtered by any of the arguments
        (None: any); ValidationError for an unknown domain, type or difficulty. Pass the
        page's `next_after_title` / `next_after_id` for the next page; `has_more` says
        whether there is one. Pages are cached for the catalog's TTL."""
        make = partial(
            catalog.browse_components,
            domain=domain,
            subdomain=subdomain,
            component_type=component_type,
            difficulty_level=difficulty_level,
            after_title=after_title,
            after_id=after_id,
            page_size=page_size,
        )
        learner = None if user_id is None else _acting(user_id)
        key = browse_key(
            domain, subdomain, component_type, difficulty_level, after_title, after_id, page_size
        )
        return await self._cached(CATALOG, key, partial(self._read_flow, make, learner))


def _learner_questions(q: Queries, ids: list[uuid.UUID]) -> list[LearnerQuestion]:
    return q.assessments.learner_questions(question_ids=ids)


async def _alearner_questions(q: AsyncQueries, ids: list[uuid.UUID]) -> list[LearnerQuestion]:
    return await q.assessments.learner_questions(question_ids=ids)


def _acting(user_id: object) -> uuid.UUID:
    """The user a flow acts as, checked before a transaction begins."""
    return check.uuid_("user_id", user_id)
