"""examples/web_service.py through its HTTP interface: the whole learner journey, served by
the library with no SQL of the service's own, results as JSON objects with field names."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from netplus_db.config import Target
from netplus_db.database import AsyncDatabase
from tests.support.apis import PASSWORD, build_catalog

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "web_service.py"


def load_example() -> Any:
    spec = importlib.util.spec_from_file_location("netplus_example_web_service", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the models' annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def client(db: Target) -> Iterator[TestClient]:
    app = load_example().create_app(AsyncDatabase(db, min_size=1, max_size=4))
    with TestClient(app) as made:
        yield made


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_the_learner_journey_over_http(client: TestClient, conn: psycopg.Connection[Any]) -> None:
    course = build_catalog(conn)
    tag = uuid.uuid4().hex[:6]
    account = {"email": f"web.{tag}@network.test", "username": f"web_{tag}", "password": PASSWORD}
    user = ok(client.post("/register", json=account), 201)
    assert set(user) >= {"id", "email", "username", "role"} and "password_hash" not in user
    taken = client.post("/register", json=account)
    assert taken.status_code == 409 and taken.json()["field"] == "email"
    assert (
        client.post("/login", json={"login": account["email"], "password": "nope"}).status_code
        == 401
    )
    login = ok(client.post("/login", json={"login": account["username"], "password": PASSWORD}))
    assert login["reason"] == "ok" and login["user"]["id"] == user["id"]
    me = {"X-User-Id": login["user"]["id"]}

    page = ok(client.get("/components", params={"domain": "1.0", "page_size": 2}, headers=me))
    assert len(page["items"]) == 2 and page["has_more"] is True
    rest = ok(
        client.get(
            "/components",
            params={"after_title": page["next_after_title"], "after_id": page["next_after_id"]},
            headers=me,
        )
    )
    assert rest["has_more"] is False
    bad = client.get("/components", params={"component_type": "podcast"}, headers=me)
    assert bad.status_code == 422 and bad.json()["field"] == "component_type"

    lesson = ok(client.get(f"/components/{course.lesson}", headers=me))
    assert lesson["id"] == str(course.lesson) and "content" in lesson
    assert client.get(f"/components/{uuid.uuid4()}", headers=me).status_code == 404
    done = ok(
        client.post(
            "/progress",
            json={
                "component_id": str(course.lesson),
                "status": "completed",
                "last_position": {"s": 3},
            },
            headers=me,
        )
    )
    assert done["newly_completed"] is True and done["streak"]["current_streak"] == 1
    assert {a["name"] for a in done["achievements"]} == {"first-lesson"}
    nul = client.post(
        "/progress",
        json={
            "component_id": str(course.lesson),
            "status": "in_progress",
            "last_position": {"s": "\u0000"},
        },
        headers=me,
    )
    assert nul.status_code == 422 and nul.json()["field"] == "last_position.s"

    quiz = ok(client.get(f"/components/{course.quiz_component}/assessment", headers=me))
    assert quiz["id"] == str(course.assessment)
    listed = ok(
        client.get("/assessments", params={"component_id": str(course.quiz_component)}, headers=me)
    )
    assert [a["id"] for a in listed] == [str(course.assessment)]
    started = ok(client.post(f"/assessments/{course.assessment}/attempts", headers=me), 201)
    attempt = started["attempt"]["id"]
    assert len(started["questions"]) == len(course.questions)
    assert all("correct_answer" not in q for q in started["questions"])
    by_id = {str(v): k for k, v in course.questions.items()}
    for question in started["questions"]:
        saved = ok(
            client.put(
                f"/attempts/{attempt}/answers/{question['id']}",
                json={"user_answer": course.keys[by_id[question["id"]]], "time_spent_seconds": 5},
                headers=me,
            )
        )
        assert saved["attempt_id"] == attempt
    mc = course.questions["multiple_choice"]
    flagged = client.put(
        f"/attempts/{attempt}/answers/{mc}",
        json={"user_answer": {"option": "c"}, "flagged_for_review": "yes"},
        headers=me,
    )
    assert flagged.status_code == 422  # the example's models are strict, as the library is
    assert flagged.json()["detail"][0]["loc"] == ["body", "flagged_for_review"]
    nested = client.put(
        f"/attempts/{attempt}/answers/{mc}",
        json={"user_answer": {"option": "c", "extra": "x" * 70_000}},
        headers=me,
    )
    assert nested.status_code == 422 and nested.json()["field"] == "user_answer"
    submitted = ok(client.post(f"/attempts/{attempt}/submit", headers=me))
    assert (
        submitted["attempt"]["passed"] is True and float(submitted["attempt"]["percentage"]) == 100
    )
    assert submitted["progress"]["progress"]["component_id"] == str(course.quiz_component)
    again = client.post(f"/attempts/{attempt}/submit", headers=me)
    assert again.status_code == 409 and again.json()["error"] == "AttemptClosed"
    review = ok(client.get(f"/attempts/{attempt}/review", headers=me))
    assert len(review) == len(course.questions) and all(r["is_correct"] for r in review)

    conn.execute("SELECT refresh_analytics_views()")
    board = ok(client.get("/leaderboard", headers=me))
    assert [(r["rank"], r["username"]) for r in board] == [(1, account["username"])]
    assert set(board[0]) == {"rank", "username", "points", "as_of"}
    assert client.get("/leaderboard", params={"period": "ever"}, headers=me).status_code == 422
    dashboard = ok(client.get("/dashboard", headers=me))
    assert dashboard["components_completed"] == 2
