"""The entry point for backends: a pooled database, its typed queries and its flows.

    db = Database()                       # same configuration as the CLI (--dsn aside)
    user = db.register(email=..., username=..., password=...)
    with db.as_user(user.id) as q:        # one transaction, RLS applies: only this user's rows
        q.progress.list_progress(user_id=user.id)

`AsyncDatabase` is the same with `async with` / `await`. Every flow and every `as_user` block is
one transaction: an error leaves nothing written. `as_user` switches to the application role
(`app_user`, not the owner, no BYPASSRLS) and sets `app.user_id`, both transaction-locally, so
nothing leaks to the next borrower of a pooled connection.

Keyword arguments beyond the sizes go to psycopg_pool (`max_lifetime=`, `timeout=`...). The
pool checks a connection before lending it with `poolcheck.BorrowCheck` (`check=` replaces
it). How a session begins, switches role and ends, and why pooled connections are
autocommit: session.py.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, TypeVar

from psycopg_pool import AsyncConnectionPool, ConnectionPool

from netplus_db.config import Target, load_env_file, resolve_target
from netplus_db.connection import ensure_server_started
from netplus_db.flows import Flow, accounts, adrive, assessments, drive, learning
from netplus_db.generated import AsyncQueries, Queries
from netplus_db.generated.assessments import Attempt, SaveAnswerRow
from netplus_db.generated.users import User
from netplus_db.poolcheck import AsyncBorrowCheck, BorrowCheck
from netplus_db.session import (
    NOBODY,
    AsyncGuardedConnection,
    AsyncSession,
    GuardedConnection,
    Session,
)

R = TypeVar("R")
APP_ROLE = "app_user"


def _pool_options(given: dict[str, Any], check: Any, connection_class: type) -> dict[str, Any]:
    """psycopg_pool keywords: ours, then the caller's; connections are always autocommit
    (session.py says why)."""
    options = {"check": check, "connection_class": connection_class, **given}
    options["kwargs"] = {**given.get("kwargs", {}), "autocommit": True}
    return options


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
        **pool_kwargs: Any,
    ) -> None:
        self.target = _target(target)
        self.app_role = app_role
        self.pool = ConnectionPool(
            self.target.conninfo,
            min_size=min_size,
            max_size=max_size,
            open=True,
            name="netplus-db",
            **_pool_options(pool_kwargs, BorrowCheck(), GuardedConnection),
        )

    def close(self) -> None:
        """Close every pooled connection."""
        self.pool.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> AbstractContextManager[Queries]:
        """One transaction on a pooled connection as the connecting role (no RLS identity)."""
        return Session(self.pool, None, NOBODY)

    def as_user(self, user_id: uuid.UUID | None) -> AbstractContextManager[Queries]:
        """One transaction acting as a user: application role, `app.user_id` set, RLS applies."""
        return Session(self.pool, self.app_role, user_id)

    def run(self, flow: Flow[R], user_id: uuid.UUID | None = None) -> R:
        """Run a flow in its own transaction, acting as `user_id` (or nobody yet)."""
        with self.as_user(user_id) as q:
            return drive(flow, q, self.app_role)

    # --- flows ---------------------------------------------------------------------------------

    def register(self, *, email: str, username: str, password: str, **kwargs: Any) -> User:
        """Create an account (flows.accounts.register); Conflict when email/username is taken."""
        return self.run(
            accounts.register(email=email, username=username, password=password, **kwargs)
        )

    def login(self, *, login: str, password: str) -> accounts.LoginResult:
        """Check credentials in constant time (see flows.accounts.login)."""
        return self.run(accounts.login(login=login, password=password))

    def record_progress(self, *, user_id: uuid.UUID, **kwargs: Any) -> learning.ProgressResult:
        """Record progress; completing sets off streak, goals, achievements and the log."""
        return self.run(learning.record_progress(user_id=user_id, **kwargs), user_id)

    def start_attempt(
        self, *, user_id: uuid.UUID, assessment_id: uuid.UUID
    ) -> assessments.StartedAttempt:
        """Open the next attempt (MaxAttemptsReached when none is left)."""
        return self.run(
            assessments.start_attempt(user_id=user_id, assessment_id=assessment_id), user_id
        )

    def save_answer(self, *, user_id: uuid.UUID, **kwargs: Any) -> SaveAnswerRow:
        """Save one answer (ValidationError for a wrong shape, AttemptClosed when closed)."""
        return self.run(assessments.save_answer(user_id=user_id, **kwargs), user_id)

    def submit_attempt(
        self, *, user_id: uuid.UUID, attempt_id: uuid.UUID
    ) -> assessments.SubmittedAttempt:
        """Grade and close an attempt (AttemptClosed when already closed)."""
        return self.run(assessments.submit_attempt(user_id=user_id, attempt_id=attempt_id), user_id)

    def abandon_attempt(self, *, user_id: uuid.UUID, attempt_id: uuid.UUID) -> Attempt:
        """Give up an attempt in progress."""
        return self.run(
            assessments.abandon_attempt(user_id=user_id, attempt_id=attempt_id), user_id
        )


class AsyncDatabase:
    """The async twin of Database: same queries, same flows, same results and errors."""

    def __init__(
        self,
        target: Target | str | None = None,
        *,
        min_size: int = 1,
        max_size: int = 10,
        app_role: str | None = APP_ROLE,
        **pool_kwargs: Any,
    ) -> None:
        self.target = _target(target)
        self.app_role = app_role
        self.pool = AsyncConnectionPool(
            self.target.conninfo,
            min_size=min_size,
            max_size=max_size,
            open=False,
            name="netplus-db-async",
            **_pool_options(pool_kwargs, AsyncBorrowCheck(), AsyncGuardedConnection),
        )

    async def open(self) -> AsyncDatabase:
        """Open the pool (also done by `async with`)."""
        await self.pool.open()
        return self

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.pool.close()

    async def __aenter__(self) -> AsyncDatabase:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def transaction(self) -> AbstractAsyncContextManager[AsyncQueries]:
        """One transaction on a pooled connection as the connecting role."""
        return AsyncSession(self.pool, None, NOBODY)

    def as_user(self, user_id: uuid.UUID | None) -> AbstractAsyncContextManager[AsyncQueries]:
        """One transaction acting as a user: application role, `app.user_id` set, RLS applies."""
        return AsyncSession(self.pool, self.app_role, user_id)

    async def run(self, flow: Flow[R], user_id: uuid.UUID | None = None) -> R:
        """Run a flow in its own transaction, acting as `user_id` (or nobody yet)."""
        async with self.as_user(user_id) as q:
            return await adrive(flow, q, self.app_role)

    async def register(self, *, email: str, username: str, password: str, **kwargs: Any) -> User:
        """Create an account (flows.accounts.register); Conflict when email/username is taken."""
        return await self.run(
            accounts.register(email=email, username=username, password=password, **kwargs)
        )

    async def login(self, *, login: str, password: str) -> accounts.LoginResult:
        """Check credentials in constant time."""
        return await self.run(accounts.login(login=login, password=password))

    async def record_progress(
        self, *, user_id: uuid.UUID, **kwargs: Any
    ) -> learning.ProgressResult:
        """Record progress; completing sets off streak, goals, achievements and the log."""
        return await self.run(learning.record_progress(user_id=user_id, **kwargs), user_id)

    async def start_attempt(
        self, *, user_id: uuid.UUID, assessment_id: uuid.UUID
    ) -> assessments.StartedAttempt:
        """Open the next attempt (MaxAttemptsReached when none is left)."""
        return await self.run(
            assessments.start_attempt(user_id=user_id, assessment_id=assessment_id), user_id
        )

    async def save_answer(self, *, user_id: uuid.UUID, **kwargs: Any) -> SaveAnswerRow:
        """Save one answer."""
        return await self.run(assessments.save_answer(user_id=user_id, **kwargs), user_id)

    async def submit_attempt(
        self, *, user_id: uuid.UUID, attempt_id: uuid.UUID
    ) -> assessments.SubmittedAttempt:
        """Grade and close an attempt."""
        return await self.run(
            assessments.submit_attempt(user_id=user_id, attempt_id=attempt_id), user_id
        )

    async def abandon_attempt(self, *, user_id: uuid.UUID, attempt_id: uuid.UUID) -> Attempt:
        """Give up an attempt in progress."""
        return await self.run(
            assessments.abandon_attempt(user_id=user_id, attempt_id=attempt_id), user_id
        )
