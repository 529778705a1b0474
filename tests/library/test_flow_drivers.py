"""The flow drivers themselves, sync and async: `drive`/`adrive` inside the caller's own
transaction, and the pooled drivers behind `Database.run` rolling back a flow that fails after
a write, acting as a user with or without an application role, and as nobody."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import psycopg
import pytest

from netplus_db.config import Target
from netplus_db.database import AsyncDatabase, Database
from netplus_db.errors import Conflict, NotFound, ValidationError
from netplus_db.flows import (
    ActAs,
    Flow,
    accounts,
    adrive,
    assessments,
    call,
    drive,
    learning,
    review,
)
from netplus_db.generated.bookmarks import BookmarksQueries
from tests.support import factories
from tests.support.apis import FLOWS, PASSWORD
from tests.support.sessions import QUICK, count_bookmarks, mark

IDENTITY = "SELECT current_user, app_current_user_id()"


def signup(tag: str) -> Flow[Any]:
    """The register flow for a new learner (bcrypt at the tests' low cost)."""
    return accounts.register(email=f"{tag}@network.test", username=tag, password=PASSWORD, rounds=4)


def test_drive_runs_a_flow_inside_the_callers_transaction(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    """Its Offload runs inline, its ActAs switches this transaction to the new user, its
    error (a duplicate) comes out as the flow's domain error, and the caller commits."""
    tag = f"drive_{uuid.uuid4().hex[:6]}"
    with Database(db, min_size=1, max_size=1, timeout=QUICK) as lib:
        with lib.transaction() as q:
            user = drive(signup(tag), q, "app_user")
            assert q.conn.execute(IDENTITY).fetchone() == ("app_user", user.id)
        with pytest.raises(Conflict), lib.transaction() as q:
            drive(signup(tag), q, "app_user")
    assert conn.execute("SELECT username FROM users WHERE id = %s", [user.id]).fetchone() == (tag,)

    async def scenario() -> tuple[Any, Any]:
        atag = f"adrive_{uuid.uuid4().hex[:6]}"
        async with AsyncDatabase(db, min_size=1, max_size=1, timeout=QUICK) as alib:
            async with alib.transaction() as aq:
                made = await adrive(signup(atag), aq, "app_user")
                seen = await (await aq.conn.execute(IDENTITY)).fetchone()
            with pytest.raises(Conflict):
                async with alib.transaction() as aq:
                    await adrive(signup(atag), aq, "app_user")
        return made, seen

    made, seen = asyncio.run(scenario())
    assert seen == ("app_user", made.id)
    assert conn.execute("SELECT 1 FROM users WHERE id = %s", [made.id]).fetchone() == (1,)


def bookmark_then_fail(user: uuid.UUID, component: uuid.UUID) -> Flow[None]:
    """Writes a bookmark, then asks for one on a component that does not exist (NotFound)."""
    yield call(BookmarksQueries.save_bookmark, **mark(user, component))
    yield call(BookmarksQueries.save_bookmark, **mark(user, uuid.uuid4()))


class Changed(Exception):
    """A flow's own reason to stop, raised in Python after a write succeeded."""


def bookmark_then_raise(user: uuid.UUID, component: uuid.UUID) -> Flow[None]:
    """Writes a bookmark, then gives up in Python: no failed statement aborts the
    transaction, so only the driver's rollback keeps the write out."""
    yield call(BookmarksQueries.save_bookmark, **mark(user, component))
    raise Changed("the flow changed its mind")


@pytest.mark.parametrize("flow", [bookmark_then_fail, bookmark_then_raise])
def test_a_pooled_flow_that_fails_after_a_write_writes_nothing(
    db: Target, conn: psycopg.Connection[Any], flow: Any
) -> None:
    user, component = factories.user(conn), factories.component(conn)
    with (
        Database(db, min_size=1, max_size=1, timeout=QUICK) as lib,
        pytest.raises((NotFound, Changed)),
    ):
        lib.run(flow(user, component), user)
    assert count_bookmarks(conn, user) == 0

    async def scenario() -> None:
        async with AsyncDatabase(db, min_size=1, max_size=1, timeout=QUICK) as alib:
            with pytest.raises((NotFound, Changed)):
                await alib.run(flow(user, component), user)

    asyncio.run(scenario())
    assert count_bookmarks(conn, user) == 0


def read_as(who: uuid.UUID | None, owner: uuid.UUID) -> Flow[int]:
    """Act as `who`, then count `owner`'s bookmarks as row-level security lets `who` see them."""
    yield ActAs(who)
    rows = yield call(BookmarksQueries.list_bookmarks, user_id=owner)
    return len(rows)


def test_acting_as_in_a_pooled_flow_is_what_row_security_sees(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    """Under the application role a learner sees only their own bookmarks and nobody sees
    none; with no application role (`app_role=None`) the connecting role sees them all."""
    owner, other, component = factories.user(conn), factories.user(conn), factories.component(conn)
    conn.execute(
        "INSERT INTO bookmarks (user_id, component_id) VALUES (%s, %s)", [owner, component]
    )
    cases: list[tuple[uuid.UUID | None, str | None, int]] = [
        (owner, "app_user", 1),
        (other, "app_user", 0),
        (None, "app_user", 0),
        (other, None, 1),
    ]
    for who, role, expected in cases:
        with Database(db, min_size=1, max_size=1, timeout=QUICK, app_role=role) as lib:
            assert lib.run(read_as(who, owner)) == expected, (who, role)

    async def scenario() -> list[int]:
        counts = []
        for who, role, _ in cases:
            async with AsyncDatabase(
                db, min_size=1, max_size=1, timeout=QUICK, app_role=role
            ) as alib:
                counts.append(await alib.run(read_as(who, owner)))
        return counts

    assert asyncio.run(scenario()) == [expected for _, _, expected in cases]


# Each flow checks its own arguments before its first step, so a caller driving it directly
# (drive/adrive) gets the same ValidationError as a Database method (which checks user_id
# once more before it begins a transaction).
OWN_CHECKS = {
    name: (getattr(module, name), kwargs)
    for name, kwargs in FLOWS.items()
    for module in (learning, assessments, review)
    if hasattr(module, name)
}


@pytest.mark.parametrize("name", sorted(OWN_CHECKS))
def test_each_flow_checks_its_own_user_id_before_its_first_step(name: str) -> None:
    make, kwargs = OWN_CHECKS[name]
    with pytest.raises(ValidationError) as caught:
        next(make(user_id="not a uuid", **kwargs))
    assert caught.value.field == "user_id"


def test_an_answer_review_checks_its_answer_before_its_first_step() -> None:
    with pytest.raises(ValidationError) as caught:
        next(
            review.answer_review(
                user_id=uuid.uuid4(), question_id=uuid.uuid4(), user_answer={"a\x00": 1}
            )
        )
    assert caught.value.field.startswith("user_answer")
