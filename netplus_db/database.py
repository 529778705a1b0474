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
from functools import partial
from typing import Any, TypeVar

from psycopg_pool import AsyncConnectionPool, ConnectionPool

from netplus_db import validation as check
from netplus_db.config import Target, load_env_file, resolve_target
from netplus_db.connection import ensure_server_started
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
from netplus_db.generated.assessments import Attempt, SaveAnswerRow
from netplus_db.generated.learning import AnswerReviewRow, AttemptObjectiveReportRow
from netplus_db.generated.users import User
from netplus_db.poolcheck import AsyncBorrowCheck, BorrowCheck
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
        """Run a flow acting as `user_id` (or nobody yet): its query steps in one transaction,
        begun at the first of them; an `Offload` step (bcrypt) ends the transaction so far and
        runs with no connection borrowed (flows.drive_pooled)."""
        return drive_pooled(flow, partial(self.as_user, user_id), self.app_role)

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
        whether there is one."""
        return self.run(
            catalog.browse_components(
                domain=domain,
                subdomain=subdomain,
                component_type=component_type,
                difficulty_level=difficulty_level,
                after_title=after_title,
                after_id=after_id,
                page_size=page_size,
            ),
            None if user_id is None else _acting(user_id),
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
        """Run a flow acting as `user_id` (or nobody yet): its query steps in one transaction,
        begun at the first of them; an `Offload` step (bcrypt) ends the transaction so far and
        runs with no connection borrowed (flows.adrive_pooled)."""
        return await adrive_pooled(flow, partial(self.as_user, user_id), self.app_role)

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
        whether there is one."""
        return await self.run(
            catalog.browse_components(
                domain=domain,
                subdomain=subdomain,
                component_type=component_type,
                difficulty_level=difficulty_level,
                after_title=after_title,
                after_id=after_id,
                page_size=page_size,
            ),
            None if user_id is None else _acting(user_id),
        )


def _acting(user_id: object) -> uuid.UUID:
    """The user a flow acts as, checked before a transaction begins."""
    return check.uuid_("user_id", user_id)
