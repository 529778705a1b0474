"""Every public result type serialises with its field names: one kind of result object
(`netplus_db.Row`, a slots dataclass), and `json.dumps(x, default=netplus_db.json_default)`."""

from __future__ import annotations

import dataclasses
import datetime
import importlib
import inspect
import json
import pkgutil
import uuid
from decimal import Decimal
from ipaddress import IPv4Address
from typing import Any

import msgspec
import pytest

import netplus_db
import netplus_db.generated
from netplus_db import Row, json_default
from netplus_db.generated.enums import DifficultyLevel
from tests.support.apis import PASSWORD, Api, Catalog, new_user


def encoded(value: Any) -> Any:
    return json.loads(json.dumps(value, default=json_default))


def named(value: Any, as_json: Any) -> None:
    """`as_json` is `value` with field names at every level: objects for rows, lists for lists."""
    if isinstance(value, Row):
        assert isinstance(as_json, dict), (type(value).__name__, as_json)
        assert list(as_json) == list(value._fields)
        for name in value._fields:
            named(getattr(value, name), as_json[name])
    elif isinstance(value, list):
        assert isinstance(as_json, list) and len(as_json) == len(value)
        for item, item_json in zip(value, as_json, strict=True):
            named(item, item_json)


def every_row_class() -> list[type]:
    found: list[type] = []
    for module in pkgutil.iter_modules(netplus_db.generated.__path__):
        loaded = importlib.import_module(f"netplus_db.generated.{module.name}")
        found += [
            c
            for _, c in inspect.getmembers(loaded, inspect.isclass)
            if c.__module__ == loaded.__name__
            and c.__name__ != "CheckedColumn"
            and not c.__name__.endswith("Queries")
            and not issubclass(c, str)
        ]
    return found


def test_every_generated_row_and_flow_result_is_one_kind() -> None:
    results = [
        netplus_db.LoginResult,
        netplus_db.ProgressResult,
        netplus_db.StartedAttempt,
        netplus_db.SubmittedAttempt,
        netplus_db.ComponentPage,
    ]
    rows = every_row_class()
    assert len(rows) > 30
    for cls in rows + results:
        assert issubclass(cls, Row) and dataclasses.is_dataclass(cls), cls
        assert not issubclass(cls, tuple) and "__slots__" in cls.__dict__, cls


def test_json_default_converts_the_values_rows_hold() -> None:
    when = datetime.datetime(2026, 3, 1, 12, 30, tzinfo=datetime.UTC)
    value = {
        "id": uuid.UUID(int=1),
        "score": Decimal("92.86"),
        "whole": Decimal("100.00"),
        "at": when,
        "day": when.date(),
        "time": datetime.time(7, 45),
        "ip": IPv4Address("10.0.0.1"),
        "level": DifficultyLevel.BEGINNER,
        "spent": datetime.timedelta(minutes=2),
    }
    assert encoded(value) == {
        "id": "00000000-0000-0000-0000-000000000001",
        "score": 92.86,
        "whole": 100,
        "at": "2026-03-01T12:30:00+00:00",
        "day": "2026-03-01",
        "time": "07:45:00",
        "ip": "10.0.0.1",
        "level": "beginner",
        "spent": 120.0,
    }
    with pytest.raises(TypeError, match="bytes is not JSON serializable"):
        json.dumps({"raw": b"x"}, default=json_default)


def test_every_flow_result_dumps_with_field_names(api: Api, course: Catalog) -> None:
    user = new_user(api)
    results: list[Any] = [
        user,
        api.call("login", login=user.email, password=PASSWORD),
        api.call("login", login=user.email, password="wrong password"),
        api.call(
            "record_progress", user_id=user.id, component_id=course.lesson, status="completed"
        ),
        api.call("browse_components", user_id=user.id, page_size=2),
    ]
    started = api.call("start_attempt", user_id=user.id, assessment_id=course.assessment)
    results.append(started)
    for qtype, qid in course.questions.items():
        results.append(
            api.call(
                "save_answer",
                user_id=user.id,
                attempt_id=started.attempt.id,
                question_id=qid,
                user_answer=course.keys[qtype],
            )
        )
    submitted = api.call("submit_attempt", user_id=user.id, attempt_id=started.attempt.id)
    assert submitted.progress is not None and isinstance(submitted.attempt.percentage, Decimal)
    results.append(submitted)
    other = api.call("start_attempt", user_id=user.id, assessment_id=course.assessment)
    results.append(api.call("abandon_attempt", user_id=user.id, attempt_id=other.attempt.id))
    results += api.q(user.id, "assessments", "review_attempt", attempt_id=started.attempt.id)
    results.append(api.q(user.id, "content", "get_component_by_id", component_id=course.lesson))
    kinds = set()
    for result in results:
        as_json = encoded(result)
        named(result, as_json)
        kinds.add(type(result).__name__)
        # msgspec encodes the same objects with the same names, with no custom code
        named(result, json.loads(msgspec.json.encode(result)))
    assert {
        "User",
        "LoginResult",
        "ProgressResult",
        "ComponentPage",
        "StartedAttempt",
        "SaveAnswerRow",
        "SubmittedAttempt",
        "Attempt",
        "ReviewAttemptRow",
        "Component",
    } <= kinds
    progress = encoded(submitted)["progress"]
    assert progress["progress"]["component_id"] == str(course.quiz_component)
    assert encoded(submitted)["attempt"]["percentage"] == 100
