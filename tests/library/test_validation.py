"""Bad input at the library's edge: a ValidationError naming the field, and nothing written.

Every bad input the issue names, through the flows sync and async: NUL characters, wrong
types (no silent coercion of bool, float or numeric strings), JSON nested deeper than the
documented limit (no RecursionError), oversized JSON, unknown catalog values.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from netplus_db.config import Target
from netplus_db.connection import connect, create_database, drop_database
from netplus_db.errors import NotFound, ValidationError
from netplus_db.testing import TestServer, fresh_name
from netplus_db.validation import MAX_JSON_CHARS, MAX_JSON_DEPTH
from tests.support.apis import (
    FLOWS,
    PASSWORD,
    Api,
    AsyncApi,
    Catalog,
    SyncApi,
    build_catalog,
    new_user,
)

WRITTEN = (
    "users",
    "user_profiles",
    "user_progress",
    "assessment_attempts",
    "assessment_answers",
    "user_activity_logs",
)


def counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Rows per table the flows write."""
    found: dict[str, int] = {}
    for table in WRITTEN:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        found[table] = row[0]
    return found


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"in": value}
    return value


def refused(api: Api, conn: psycopg.Connection[Any], field: str, name: str, **kwargs: Any) -> str:
    """Call the flow; assert ValidationError naming `field` (or a path inside it, such as
    `user_answer.option`) and no row written."""
    before = counts(conn)
    with pytest.raises(ValidationError) as caught:
        api.call(name, **kwargs)
    assert re.split(r"[.\[]", caught.value.field)[0] == field, caught.value
    assert counts(conn) == before
    return str(caught.value)


# Every case here is refused before anything is written (`refused` checks the row counts), so
# the module shares one clone, one course and one library per form instead of a clone per case.


@pytest.fixture(scope="module")
def db(server: TestServer, template: str) -> Iterator[Target]:
    """One migrated database for the whole module."""
    target = server.database(fresh_name("validation"))
    create_database(target, template=template)
    yield target
    drop_database(target)


@pytest.fixture(scope="module")
def conn(db: Target) -> Iterator[psycopg.Connection[Any]]:
    """A superuser connection to the module's database (autocommit)."""
    with connect(db, autocommit=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def course(conn: psycopg.Connection[Any]) -> Catalog:
    """The module's published course with one question of each type."""
    return build_catalog(conn)


@pytest.fixture(scope="module", params=["sync", "async"])
def api(request: pytest.FixtureRequest, db: Target) -> Iterator[Api]:
    """The library in both forms, on the module's database."""
    made: Api = SyncApi(db) if request.param == "sync" else AsyncApi(db)
    yield made
    made.close()


REGISTER = {"email": "new@network.test", "username": "new_user", "password": PASSWORD}


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("email", {"email": 123}),
        ("email", {"email": "ana\x00@network.test"}),
        ("email", {"email": "a" * 250 + "@network.test"}),
        ("username", {"username": "ana\x00"}),
        ("username", {"username": None}),
        ("password", {"password": None}),
        ("password", {"password": "secret\x00secret"}),
        ("first_name", {"first_name": "Ana\x00"}),
        ("last_name", {"last_name": "x" * 101}),
        ("display_name", {"display_name": 7}),
        ("role", {"role": None}),
        ("rounds", {"rounds": True}),
        ("rounds", {"rounds": 12.0}),
    ],
)
def test_bad_registration_input(
    api: Api, conn: psycopg.Connection[Any], field: str, bad: dict[str, Any]
) -> None:
    refused(api, conn, field, "register", **{**REGISTER, **bad})


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("login", {"login": "ana\x00"}),
        ("login", {"login": 42}),
        ("login", {"login": "x" * 256}),
        ("password", {"password": None}),
        ("password", {"password": b"bytes"}),
        ("password", {"password": "pass\x00word"}),
    ],
)
def test_bad_login_input(
    api: Api, conn: psycopg.Connection[Any], field: str, bad: dict[str, Any]
) -> None:
    refused(api, conn, field, "login", **{"login": "ana", "password": PASSWORD, **bad})


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("component_id", {"component_id": str(uuid.uuid4())}),
        ("component_id", {"component_id": 42}),
        ("status", {"status": "done"}),
        ("status", {"status": None}),
        ("progress_percentage", {"progress_percentage": "50"}),
        ("progress_percentage", {"progress_percentage": 50.0}),
        ("progress_percentage", {"progress_percentage": True}),
        ("progress_percentage", {"progress_percentage": 101}),
        ("time_spent_minutes", {"time_spent_minutes": 1.5}),
        ("time_spent_minutes", {"time_spent_minutes": 1441}),
        ("last_position", {"last_position": {"page": "x\x00"}}),
        ("last_position", {"last_position": {"pa\x00ge": 1}}),
        ("last_position", {"last_position": {"page": float("nan")}}),
        ("last_position", {"last_position": {"page": {1, 2}}}),
        ("last_position", {"last_position": {1: "int key"}}),
        ("last_position", {"last_position": "x" * (50 * 1024 * 1024)}),
        ("last_position", {"last_position": nested(10_000)}),
    ],
)
def test_bad_progress_input(
    api: Api, conn: psycopg.Connection[Any], course: Catalog, field: str, bad: dict[str, Any]
) -> None:
    user = new_user(api)
    kwargs = {"user_id": user.id, "component_id": course.lesson, "status": "completed", **bad}
    message = refused(api, conn, field, "record_progress", **kwargs)
    assert len(message) < 300  # the value is not echoed back whole


def test_json_limits_are_exact_and_name_the_path(
    api: Api, conn: psycopg.Connection[Any], course: Catalog
) -> None:
    user = new_user(api)
    deep_ok = nested(MAX_JSON_DEPTH - 1)
    done = api.call(
        "record_progress",
        user_id=user.id,
        component_id=course.lesson,
        status="in_progress",
        last_position=deep_ok,
    )
    assert done.progress.status == "in_progress"
    with pytest.raises(ValidationError) as caught:
        api.call(
            "record_progress",
            user_id=user.id,
            component_id=course.lesson,
            status="in_progress",
            last_position={"pages": [1, {"note": "a\x00"}]},
        )
    assert caught.value.field == "last_position.pages[1].note"
    refused(
        api,
        conn,
        "last_position",
        "record_progress",
        user_id=user.id,
        component_id=course.lesson,
        status="in_progress",
        last_position={"text": "x" * MAX_JSON_CHARS},
    )


def test_user_id_must_be_a_uuid(api: Api, conn: psycopg.Connection[Any], course: Catalog) -> None:
    calls: list[tuple[str, dict[str, Any]]] = [
        ("record_progress", {"component_id": course.lesson, "status": "completed"}),
        ("start_attempt", {"assessment_id": course.assessment}),
        ("submit_attempt", {"attempt_id": uuid.uuid4()}),
    ]
    for name, kwargs in calls:
        refused(api, conn, "user_id", name, user_id=str(uuid.uuid4()), **kwargs)


def test_an_unknown_component_is_named(api: Api, conn: psycopg.Connection[Any]) -> None:
    user = new_user(api)
    missing = uuid.uuid4()
    before = counts(conn)
    with pytest.raises(NotFound) as caught:
        api.call("record_progress", user_id=user.id, component_id=missing, status="completed")
    assert str(caught.value) == f"component {missing} does not exist"
    assert counts(conn) == before


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("assessment_id", {"assessment_id": 42}),
        ("assessment_id", {"assessment_id": None}),
    ],
)
def test_bad_start_input(
    api: Api, conn: psycopg.Connection[Any], course: Catalog, field: str, bad: dict[str, Any]
) -> None:
    user = new_user(api)
    refused(api, conn, field, "start_attempt", **{"user_id": user.id, **bad})


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("user_answer", {"user_answer": {"option": "c\x00"}}),
        ("user_answer", {"user_answer": {"opt\x00ion": "c"}}),
        ("user_answer", {"user_answer": {"option": "c", "extra": "x" * (20 * 1024 * 1024)}}),
        ("user_answer", {"user_answer": nested(5_000)}),
        ("user_answer", {"user_answer": {"option": uuid.uuid4()}}),
        ("time_spent_seconds", {"time_spent_seconds": 1.5}),
        ("time_spent_seconds", {"time_spent_seconds": -1}),
        ("time_spent_seconds", {"time_spent_seconds": "30"}),
        ("flagged_for_review", {"flagged_for_review": "yes"}),
        ("flagged_for_review", {"flagged_for_review": 1}),
        ("question_id", {"question_id": "not a uuid"}),
        ("attempt_id", {"attempt_id": 42}),
    ],
)
def test_bad_answer_input(
    api: Api, conn: psycopg.Connection[Any], course: Catalog, field: str, bad: dict[str, Any]
) -> None:
    user = new_user(api)
    started = api.call("start_attempt", user_id=user.id, assessment_id=course.assessment)
    kwargs = {
        "user_id": user.id,
        "attempt_id": started.attempt.id,
        "question_id": course.questions["multiple_choice"],
        "user_answer": {"option": "c"},
        **bad,
    }
    refused(api, conn, field, "save_answer", **kwargs)


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("domain", {"domain": "9.0"}),
        ("component_type", {"component_type": "podcast"}),
        ("difficulty_level", {"difficulty_level": "expert"}),
        ("difficulty_level", {"difficulty_level": 1}),
        ("page_size", {"page_size": 0}),
        ("page_size", {"page_size": 101}),
        ("after_id", {"after_title": "Ports"}),
        ("subdomain", {"subdomain": "1.\x00"}),
    ],
)
def test_bad_browse_input(
    api: Api, conn: psycopg.Connection[Any], course: Catalog, field: str, bad: dict[str, Any]
) -> None:
    message = refused(api, conn, field, "browse_components", **bad)
    if "after_title" in bad:
        assert message == "after_id: after_title and after_id go together (or neither)"


def test_generated_queries_refuse_nul_and_deep_values_naming_the_parameter(api: Api) -> None:
    """Beyond the flows, every query's text and array parameters are checked the same way."""
    user = new_user(api)
    profile = api.q(user.id, "profiles", "get_profile", user_id=user.id)
    fields = {
        "user_id": user.id,
        "first_name": None,
        "last_name": None,
        "display_name": profile.display_name,
        "bio": None,
        "avatar_url": None,
        "timezone": "UTC",
        "locale": "en-US",
        "certifications": [],
    }
    for name, bad in [
        ("bio", "about me\x00"),
        ("certifications", ["CCNA\x00"]),
        ("certifications", nested_list(10_000)),
    ]:
        with pytest.raises(ValidationError) as caught:
            api.q(user.id, "profiles", "update_profile", **{**fields, name: bad})
        assert caught.value.field.startswith(name)
    after = api.q(user.id, "profiles", "get_profile", user_id=user.id)
    assert after == profile


def nested_list(depth: int) -> Any:
    value: Any = ["x"]
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("name", "field"),
    [(name, "user_id") for name in FLOWS]
    + [(name, field) for name, given in FLOWS.items() for field in given if field.endswith("_id")],
)
def test_every_flow_names_an_identifier_that_is_not_a_uuid(
    api: Api, conn: psycopg.Connection[Any], name: str, field: str
) -> None:
    kwargs = {"user_id": uuid.uuid4(), **FLOWS[name], field: "not a uuid"}
    message = refused(api, conn, field, name, **kwargs)
    assert message.startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("name", "field", "bad"),
    [
        ("record_progress", "progress_percentage", -1),
        ("record_progress", "progress_percentage", 101),
        ("record_progress", "time_spent_minutes", -1),
        ("record_progress", "last_position", {"bad\x00key": 1}),
        ("save_answer", "time_spent_seconds", -1),
        ("answer_review", "time_spent_seconds", -1),
        ("answer_review", "user_answer", {"option": "c\x00"}),
        ("readiness", "weakest", 0),
        ("review_session", "limit", 0),
        ("browse_components", "after_title", "x" * 501),
        ("browse_components", "subdomain", "x" * 101),
        ("browse_components", "after_id", "not a uuid"),
    ],
)
def test_every_bounded_flow_argument_names_itself(
    api: Api, conn: psycopg.Connection[Any], name: str, field: str, bad: Any
) -> None:
    base: dict[str, Any] = {} if name == "browse_components" else {"user_id": uuid.uuid4()}
    if field == "after_id":
        base["after_title"] = "Ports"
    kwargs = {**base, **FLOWS.get(name, {}), field: bad}
    message = refused(api, conn, field, name, **kwargs)
    assert message.startswith(f"{field}")


@pytest.mark.parametrize(
    ("name", "field", "edge"),
    [
        ("record_progress", "progress_percentage", 0),
        ("record_progress", "progress_percentage", 100),
        ("record_progress", "time_spent_minutes", 0),
        ("save_answer", "time_spent_seconds", 0),
        ("answer_review", "time_spent_seconds", 0),
        ("readiness", "weakest", 1),
        ("review_session", "limit", 1),
        ("browse_components", "page_size", 1),
        ("browse_components", "after_title", "x" * 500),
        ("browse_components", "subdomain", "x" * 100),
    ],
)
def test_the_edges_of_each_bound_are_accepted(
    api: Api, conn: psycopg.Connection[Any], name: str, field: str, edge: Any
) -> None:
    """The limits are inclusive: the edge value passes validation (the flow may then find
    that its ids do not exist, which is NotFound, not a ValidationError)."""
    base: dict[str, Any] = {} if name == "browse_components" else {"user_id": new_user(api).id}
    if field == "after_title":
        base["after_id"] = uuid.uuid4()
    try:
        api.call(name, **{**base, **FLOWS.get(name, {}), field: edge})
    except ValidationError as refused_edge:
        pytest.fail(f"{name}({field}={edge!r}) was refused: {refused_edge}")
    except NotFound:
        pass


@pytest.mark.parametrize(
    ("field", "bad", "message"),
    [
        # One past each bound: refused by the flow's own check, which its message names (the
        # database refuses some of these too, in other words).
        (
            "email",
            {"email": "x" * 243 + "@network.test"},
            "email: must be at most 255 characters (got 256)",
        ),
        ("email", {"email": "not an address"}, "email: is not an email address"),
        ("username", {"username": "u" * 51}, "username: must be at most 50 characters (got 51)"),
        ("username", {"username": "a b"}, "username: 3-50 letters, digits, '.', '_' or '-'"),
        ("rounds", {"rounds": 32}, "rounds: must be between 4 and 31 (got 32)"),
        ("password", {"password": "x" * 7}, "password: must be at least 8 characters"),
        (
            "password",
            {"password": "é" * 36 + "x"},  # 73 bytes
            "password: must be at most 72 bytes (bcrypt's limit)",
        ),
    ],
    ids=["email-long", "email-shape", "user-long", "user-shape", "rounds", "short", "bytes"],
)
def test_registration_bounds_and_their_messages(
    api: Api, conn: psycopg.Connection[Any], field: str, bad: dict[str, Any], message: str
) -> None:
    assert refused(api, conn, field, "register", **{**REGISTER, **bad}) == message


def test_registration_accepts_each_bound_exactly(api: Api) -> None:
    """255 characters of email, 50 of username, 8 characters and 72 bytes of password."""
    tag = uuid.uuid4().hex[:6]
    user = api.call(
        "register",
        email="e" * (255 - len(f"{tag}@network.test")) + f"{tag}@network.test",
        username=("u" * 44 + tag)[:50],
        password="x" * 8,
    )
    assert len(user.email) == 255 and len(user.username) == 50
    other = api.call(
        "register", email=f"o{tag}@network.test", username=f"o_{tag}", password="é" * 36
    )
    assert other.username == f"o_{tag}"
