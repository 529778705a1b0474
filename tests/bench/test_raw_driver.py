"""The benchmark's raw baseline (bench/raw_driver.py) runs the library's flows on one plain
psycopg cursor and hands them the same results and errors the library does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from bench.raw_driver import drive_raw, raw_statement, run_flow
from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.database import APP_ROLE, Database
from netplus_db.errors import NotFound
from netplus_db.flows import accounts, learning
from netplus_db.generated.achievements import GetStreakRow
from netplus_db.generated.progress import ProgressUpdate
from netplus_db.querylayer import Shape, load_all
from netplus_db.rows import Row
from tests.support import factories

# Loads scale data and runs every flow twice; `make test` runs it.
pytestmark = pytest.mark.slow


@pytest.fixture
def library(db: Target) -> Iterator[Database]:
    """The library on the test's database: a pool of one connection."""
    with Database(db, min_size=1, max_size=1) as database:
        yield database


@pytest.fixture
def raw(db: Target) -> Iterator[psycopg.Connection[Any]]:
    """A plain autocommit connection to the test's database, as the raw baseline uses one."""
    with connect(db, autocommit=True) as conn:
        yield conn


def _learner(library: Database, name: str) -> Any:
    return library.register(
        email=f"{name}@network.test", username=name, password="password123", rounds=4
    )


def test_a_flow_gets_the_same_rows_raw_as_through_the_library(
    library: Database, raw: psycopg.Connection[Any], conn: psycopg.Connection[Any]
) -> None:
    component = factories.component(conn)
    ada, bob = _learner(library, "ada"), _learner(library, "bob")
    progress: dict[str, Any] = {
        "component_id": component,
        "status": "completed",
        "time_spent_minutes": 5,
    }

    ours = library.record_progress(user_id=ada.id, **progress)
    theirs = run_flow(raw, APP_ROLE, bob.id, learning.record_progress(user_id=bob.id, **progress))

    assert type(theirs.progress) is type(ours.progress) is ProgressUpdate
    assert type(theirs.streak) is type(ours.streak) is GetStreakRow
    same = ("status", "progress_percentage", "time_spent_minutes", "newly_completed")
    assert [getattr(theirs.progress, f) for f in same] == [getattr(ours.progress, f) for f in same]
    assert theirs.newly_completed and theirs.streak is not None
    assert theirs.streak.current_streak == ours.streak.current_streak == 1
    assert [a.code for a in theirs.achievements] == [a.code for a in ours.achievements]
    # the completion's activity entry, JSON metadata included, was written for bob as for ada
    with library.as_user(bob.id) as q:
        logged = q.activity.list_activity(user_id=bob.id, page_size=5)
    assert logged[0].activity_type == "component_completed"
    assert logged[0].metadata == {
        "achievements": [a.code for a in theirs.achievements],
        "score": None,
    }


def test_a_failing_step_is_thrown_into_the_flow_as_the_librarys_error(
    library: Database, raw: psycopg.Connection[Any]
) -> None:
    ada = _learner(library, "ada")
    missing = uuid.uuid4()
    flow = learning.record_progress(user_id=ada.id, component_id=missing, status="in_progress")
    with pytest.raises(NotFound, match=rf"component {missing} does not exist"):
        run_flow(raw, APP_ROLE, ada.id, flow)
    with library.as_user(ada.id) as q:
        assert q.progress.list_progress(user_id=ada.id) == []


def test_offload_and_act_as_steps_run_raw(library: Database, raw: psycopg.Connection[Any]) -> None:
    flow = accounts.register(
        email="cyd@network.test", username="cyd", password="password123", rounds=4
    )
    with raw.transaction(), raw.cursor() as cur:
        user = drive_raw(flow, cur, APP_ROLE)
    assert user.username == "cyd"
    assert library.login(login="cyd@network.test", password="password123").reason == "ok"


def test_every_named_query_resolves_to_its_generated_row_class_and_json_parameters() -> None:
    returning_rows = {Shape.ROWS, Shape.ROW, Shape.RETURNING}
    for area, queries in load_all().items():
        for name, q in queries.items():
            statement = raw_statement(area, name)
            if q.shape in returning_rows:
                assert statement.row is not None, q.where
                assert issubclass(statement.row, Row), q.where
                assert statement.row.__module__ == f"netplus_db.generated.{area}", q.where
            else:
                assert statement.row is None, q.where
            assert statement.json_parameters <= q.parameter_set, q.where
    assert raw_statement("activity", "log_activity").json_parameters == {"metadata"}
    assert raw_statement("users", "find_login").json_parameters == frozenset()
