"""One face for the sync and the async library, so every scenario runs on both.

`SyncApi` wraps `Database`, `AsyncApi` wraps `AsyncDatabase` on a private event loop; both
expose the same blocking methods, so a scenario written once checks that the two forms return
the same shapes and raise the same errors. `Catalog` builds a small, complete course.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
import pytest

from netplus_db.config import Target
from netplus_db.database import AsyncDatabase, Database
from netplus_db.flows import Flow

from .factories import insert

T = TypeVar("T")
ROUNDS = 4  # bcrypt cost for tests; the product uses 12
PASSWORD = "correct horse battery"


class SyncApi:
    """The sync library."""

    kind = "sync"

    def __init__(self, target: Target, **options: Any) -> None:
        self.db = Database(target, **{"min_size": 1, "max_size": 4, **options})

    def close(self) -> None:
        self.db.close()

    def run(self, flow: Flow[T], user_id: uuid.UUID | None = None) -> T:
        return self.db.run(flow, user_id)

    def call(self, name: str, /, **kwargs: Any) -> Any:
        if name == "register":
            kwargs.setdefault("rounds", ROUNDS)
        return getattr(self.db, name)(**kwargs)

    def q(self, acting: uuid.UUID | None, area: str, name: str, /, **kwargs: Any) -> Any:
        with self.db.as_user(acting) as q:
            return getattr(getattr(q, area), name)(**kwargs)

    def admin(self, area: str, name: str, /, **kwargs: Any) -> Any:
        with self.db.transaction() as q:
            return getattr(getattr(q, area), name)(**kwargs)

    def pause(self, seconds: float) -> None:
        """Wait a while (the cache listener's thread runs meanwhile)."""
        time.sleep(seconds)


class AsyncApi:
    """The async library, driven on a private event loop."""

    kind = "async"

    def __init__(self, target: Target, **options: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.db = AsyncDatabase(target, **{"min_size": 1, "max_size": 4, **options})
        self.loop.run_until_complete(self.db.open())

    def close(self) -> None:
        self.loop.run_until_complete(self.db.close())
        self.loop.close()

    def _wait(self, coro: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coro)

    def pause(self, seconds: float) -> None:
        """Let the event loop run (the cache listener's task with it) for a while."""
        self.loop.run_until_complete(asyncio.sleep(seconds))

    def run(self, flow: Flow[T], user_id: uuid.UUID | None = None) -> T:
        return self._wait(self.db.run(flow, user_id))

    def call(self, name: str, /, **kwargs: Any) -> Any:
        if name == "register":
            kwargs.setdefault("rounds", ROUNDS)
        method: Callable[..., Awaitable[Any]] = getattr(self.db, name)
        return self._wait(method(**kwargs))

    def q(self, acting: uuid.UUID | None, area: str, name: str, /, **kwargs: Any) -> Any:
        async def go() -> Any:
            async with self.db.as_user(acting) as q:
                return await getattr(getattr(q, area), name)(**kwargs)

        return self._wait(go())

    def admin(self, area: str, name: str, /, **kwargs: Any) -> Any:
        async def go() -> Any:
            async with self.db.transaction() as q:
                return await getattr(getattr(q, area), name)(**kwargs)

        return self._wait(go())


Api = SyncApi | AsyncApi


@dataclass(frozen=True)
class Catalog:
    """A small published course: a lesson, a lab that requires it, and a quiz of six questions."""

    lesson: uuid.UUID
    lab: uuid.UUID
    quiz_component: uuid.UUID
    assessment: uuid.UUID
    assessment_slug: str
    questions: dict[str, uuid.UUID]  # by question type
    keys: dict[str, Any]  # a full-marks answer, by question type
    wrong: dict[str, Any]  # a zero-marks answer, by question type


OPTIONS = [{"id": x, "text": f"option {x}"} for x in "abcd"]
QUESTIONS: dict[str, tuple[dict[str, Any], dict[str, Any], Any, Any]] = {
    # type: (question_data, correct_answer, full-marks answer, zero-marks answer)
    "multiple_choice": ({"options": OPTIONS}, {"option": "c"}, {"option": "c"}, {"option": "a"}),
    "multiple_select": (
        {"options": OPTIONS},
        {"options": ["a", "b"]},
        {"options": ["a", "b"]},
        {"options": ["a", "b", "c", "d"]},
    ),
    "true_false": ({}, {"value": False}, {"value": False}, {"value": True}),
    "fill_blank": (
        {"normalize": "ports"},
        {"accepted": [{"answer": "22", "credit": 1}]},
        {"text": " 22 "},
        {"text": "23"},
    ),
    "matching": (
        {
            "stems": [{"id": "1", "text": "SSH"}, {"id": "2", "text": "DNS"}],
            "choices": [{"id": "x", "text": "22"}, {"id": "y", "text": "53"}],
        },
        {"pairs": {"1": "x", "2": "y"}},
        {"pairs": {"1": "x", "2": "y"}},
        {"pairs": {"1": "y", "2": "x"}},
    ),
    "simulation": (
        {
            "parts": [
                {"id": "p1", "type": "true_false", "weight": 1, "data": {}},
                {"id": "p2", "type": "multiple_choice", "weight": 3, "data": {"options": OPTIONS}},
            ]
        },
        {"parts": {"p1": {"value": True}, "p2": {"option": "d"}}},
        {"parts": {"p1": {"value": True}, "p2": {"option": "d"}}},
        {"parts": {"p1": {"value": False}, "p2": {"option": "a"}}},
    ),
}


def build_catalog(conn: psycopg.Connection[Any], **assessment: Any) -> Catalog:
    """Insert the course (committed, as a superuser) and return its ids."""
    tag = uuid.uuid4().hex[:8]
    lesson = insert(
        conn,
        "learning_components",
        {
            "component_type": "lesson",
            "domain": "1.0",
            "subdomain": "1.4",
            "is_published": True,
            "title": "Ports and protocols",
            "slug": f"ports-{tag}",
            "content": {"sections": []},
        },
    )
    lab = insert(
        conn,
        "learning_components",
        {
            "component_type": "lab",
            "domain": "1.0",
            "subdomain": "1.4",
            "is_published": True,
            "title": "Port scanning lab",
            "slug": f"lab-{tag}",
            "prerequisites": [lesson],
            "content": {"steps": []},
        },
    )
    questions: dict[str, uuid.UUID] = {}
    for qtype, (data, key, _full, _zero) in QUESTIONS.items():
        questions[qtype] = insert(
            conn,
            "question_bank",
            {
                "question_type": qtype,
                "domain": "1.0",
                "subdomain": "1.4",
                "is_published": True,
                "question_text": f"A {qtype} question",
                "question_data": data,
                "correct_answer": key,
                "explanation": f"Why the {qtype} key is right",
                "points": 2,
                "comptia_objectives": ["1.4"],
            },
        )
    slug = f"quiz-{tag}"
    settings = {
        "assessment_type": "quiz",
        "title": "Ports quiz",
        "slug": slug,
        "is_published": True,
        "question_ids": list(questions.values()),
        "passing_score": 70,
        "max_attempts": 3,
        "randomize_questions": True,
    }
    settings.update(assessment)
    assessment_id = insert(conn, "assessments", settings)
    quiz_component = insert(
        conn,
        "learning_components",
        {
            "component_type": "quiz",
            "domain": "1.0",
            "subdomain": "1.4",
            "is_published": True,
            "title": "Ports quiz",
            "slug": f"quizc-{tag}",
            "content": {"assessment_slug": slug},
        },
    )
    for code, kind, criteria in (
        ("first-lesson", "milestone", {"type": "components_completed", "count": 1}),
        ("perfect", "badge", {"type": "perfect_score", "count": 1}),
        ("handed-out", "special", {"type": "manual"}),
    ):
        insert(
            conn,
            "achievements",
            {
                "code": f"{code}-{tag}",
                "achievement_type": kind,
                "name": code,
                "rarity": "common",
                "criteria": criteria,
                "points": 10,
            },
        )
    return Catalog(
        lesson,
        lab,
        quiz_component,
        assessment_id,
        slug,
        questions,
        {t: v[2] for t, v in QUESTIONS.items()},
        {t: v[3] for t, v in QUESTIONS.items()},
    )


def new_user(api: Api, name: str = "learner") -> Any:
    """Register a learner with a unique email and username and the tests' PASSWORD."""
    tag = uuid.uuid4().hex[:6]
    return api.call(
        "register", email=f"{name}.{tag}@network.test", username=f"{name}_{tag}", password=PASSWORD
    )


# --- fixtures (this module is loaded as a pytest plugin) ------------------------------------------


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest, db: Target) -> Iterator[Api]:
    """The library in both forms, on this test's database."""
    made: Api = SyncApi(db) if request.param == "sync" else AsyncApi(db)
    yield made
    made.close()


@pytest.fixture
def course(conn: psycopg.Connection[Any]) -> Catalog:
    """A published course with one question of each type."""
    return build_catalog(conn)


# Every flow, with arguments of the right types (the ids need not exist: each argument is
# checked before the database is asked anything).
FLOWS: dict[str, dict[str, Any]] = {
    "record_progress": {"component_id": uuid.uuid4(), "status": "completed"},
    "start_attempt": {"assessment_id": uuid.uuid4()},
    "resume_attempt": {"attempt_id": uuid.uuid4()},
    "review_attempt": {"attempt_id": uuid.uuid4()},
    "save_answer": {
        "attempt_id": uuid.uuid4(),
        "question_id": uuid.uuid4(),
        "user_answer": {"option": "c"},
    },
    "submit_attempt": {"attempt_id": uuid.uuid4()},
    "abandon_attempt": {"attempt_id": uuid.uuid4()},
    "attempt_report": {"attempt_id": uuid.uuid4()},
    "readiness": {},
    "review_session": {},
    "answer_review": {"question_id": uuid.uuid4(), "user_answer": {"option": "c"}},
}
