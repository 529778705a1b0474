"""A learner-facing web service on netplus_db, with no SQL of its own (FastAPI, async).

Every route is one library call: a flow (`db.register`, `db.record_progress`...) or a named
query inside `db.as_user(...)`. Results go out as they come: rows and flow results are
dataclasses, which FastAPI serialises with their field names. Domain errors map to HTTP
statuses in one handler (ValidationError 422 naming the field, NotFound 404, Conflict 409...).

Who is calling is the service's business, not the library's: this example takes the learner's
id from an `X-User-Id` header after `/login` returned it. A real service puts a signed session
or token there; whatever it uses, it hands the library a user id it has authenticated.

    uvicorn --factory examples.web_service:app_from_environment   # NETPLUS_DSN or embedded
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, StrictBool, StrictInt, StrictStr

from netplus_db import (
    AsyncDatabase,
    AttemptClosed,
    ComponentPage,
    Conflict,
    DomainError,
    LoginResult,
    MaxAttemptsReached,
    NotFound,
    ProgressResult,
    StartedAttempt,
    SubmittedAttempt,
    ValidationError,
)
from netplus_db.errors import Forbidden
from netplus_db.generated.achievements import LeaderboardRow
from netplus_db.generated.analytics import DashboardSummaryRow
from netplus_db.generated.assessments import Assessment, ReviewAttemptRow, SaveAnswerRow
from netplus_db.generated.content import Component
from netplus_db.generated.users import User
from netplus_db.types import Json

STATUS = {
    ValidationError: 422,
    NotFound: 404,
    Conflict: 409,
    AttemptClosed: 409,
    MaxAttemptsReached: 409,
    Forbidden: 403,
}


# The request bodies. Strict types: no coercion of "50" or "yes", as in the library.


class Registration(BaseModel):
    email: StrictStr
    username: StrictStr
    password: StrictStr
    display_name: StrictStr | None = None


class Credentials(BaseModel):
    login: StrictStr
    password: StrictStr


class Progress(BaseModel):
    component_id: uuid.UUID
    status: StrictStr
    progress_percentage: StrictInt = 0
    time_spent_minutes: StrictInt = 0
    last_position: Json = None


class Answer(BaseModel):
    user_answer: Json
    time_spent_seconds: StrictInt | None = None
    flagged_for_review: StrictBool = False


def learner(x_user_id: Annotated[uuid.UUID, Header()]) -> uuid.UUID:
    """The acting learner: an id the service authenticated (here, for the example, a header)."""
    return x_user_id


Learner = Annotated[uuid.UUID, Depends(learner)]


def create_app(db: AsyncDatabase) -> FastAPI:
    """The service on an AsyncDatabase (opened and closed with the app)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with db:
            yield

    app = FastAPI(title="Network+ learning (netplus_db example)", lifespan=lifespan)

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
        body: dict[str, Any] = {"error": type(exc).__name__, "message": str(exc)}
        if isinstance(exc, ValidationError | Conflict):
            body["field"] = exc.field
        return JSONResponse(body, status_code=status)

    @app.post("/register", status_code=201)
    async def register(body: Registration) -> User:
        return await db.register(
            email=body.email,
            username=body.username,
            password=body.password,
            display_name=body.display_name,
        )

    @app.post("/login")
    async def login(body: Credentials) -> LoginResult:
        result = await db.login(login=body.login, password=body.password)
        if result.user is None:
            raise HTTPException(401, result.reason)
        return result

    @app.get("/components")
    async def browse(
        user: Learner,
        domain: str | None = None,
        component_type: str | None = None,
        difficulty_level: str | None = None,
        after_title: str | None = None,
        after_id: uuid.UUID | None = None,
        page_size: int = 20,
    ) -> ComponentPage:
        return await db.browse_components(
            user_id=user,
            domain=domain,
            component_type=component_type,
            difficulty_level=difficulty_level,
            after_title=after_title,
            after_id=after_id,
            page_size=page_size,
        )

    @app.get("/components/{component_id}")
    async def component(user: Learner, component_id: uuid.UUID) -> Component:
        async with db.as_user(user) as q:
            found = await q.content.get_component_by_id(component_id=component_id)
        if found is None:
            raise NotFound(f"component {component_id} does not exist")
        return found

    @app.get("/components/{component_id}/assessment")
    async def component_assessment(user: Learner, component_id: uuid.UUID) -> Assessment:
        async with db.as_user(user) as q:
            found = await q.assessments.component_assessment(component_id=component_id)
        if found is None:
            raise NotFound(f"component {component_id} presents no assessment")
        return found

    @app.get("/assessments")
    async def assessments(
        user: Learner,
        assessment_type: str | None = None,
        domain: str | None = None,
        component_id: uuid.UUID | None = None,
    ) -> list[Assessment]:
        async with db.as_user(user) as q:
            return await q.assessments.list_assessments(
                assessment_type=assessment_type,
                domain=domain,
                component_id=component_id,
                after_title=None,
                after_id=None,
                page_size=100,
            )

    @app.post("/progress")
    async def progress(user: Learner, body: Progress) -> ProgressResult:
        return await db.record_progress(
            user_id=user,
            component_id=body.component_id,
            status=body.status,
            progress_percentage=body.progress_percentage,
            time_spent_minutes=body.time_spent_minutes,
            last_position=body.last_position,
        )

    @app.post("/assessments/{assessment_id}/attempts", status_code=201)
    async def start(user: Learner, assessment_id: uuid.UUID) -> StartedAttempt:
        return await db.start_attempt(user_id=user, assessment_id=assessment_id)

    @app.put("/attempts/{attempt_id}/answers/{question_id}")
    async def answer(
        user: Learner, attempt_id: uuid.UUID, question_id: uuid.UUID, body: Answer
    ) -> SaveAnswerRow:
        return await db.save_answer(
            user_id=user,
            attempt_id=attempt_id,
            question_id=question_id,
            user_answer=body.user_answer,
            time_spent_seconds=body.time_spent_seconds,
            flagged_for_review=body.flagged_for_review,
        )

    @app.post("/attempts/{attempt_id}/submit")
    async def submit(user: Learner, attempt_id: uuid.UUID) -> SubmittedAttempt:
        return await db.submit_attempt(user_id=user, attempt_id=attempt_id)

    @app.get("/attempts/{attempt_id}/review")
    async def review(user: Learner, attempt_id: uuid.UUID) -> list[ReviewAttemptRow]:
        async with db.as_user(user) as q:
            return await q.assessments.review_attempt(attempt_id=attempt_id)

    @app.get("/leaderboard")
    async def leaderboard(
        user: Learner, period: str = "all_time", page_size: int = 10
    ) -> list[LeaderboardRow]:
        async with db.as_user(user) as q:
            return await q.achievements.leaderboard(period=period, page_size=page_size)

    @app.get("/dashboard")
    async def dashboard(user: Learner) -> DashboardSummaryRow:
        async with db.as_user(user) as q:
            found = await q.analytics.dashboard_summary(user_id=user)
        if found is None:
            raise NotFound(f"user {user} has no dashboard")
        return found

    return app


def app_from_environment() -> FastAPI:
    """The service on the database the environment names (as the CLI finds it)."""
    return create_app(AsyncDatabase())
