"""The flow drivers themselves, sync and async: `drive`/`adrive` inside the caller's own
transaction, and the pooled drivers behind `Database.run` rolling back a flow that fails after
a write, acting as a user with or without an application role, and as nobody."""

from __future__ import annotations

import asyncio
import inspect
import traceback
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from types import TracebackType
from typing import Any

import psycopg
import pytest

from netplus_db.config import Target
from netplus_db.database import AsyncDatabase, Database
from netplus_db.errors import AttemptClosed, Conflict, NotFound, ValidationError
from netplus_db.flows import (
    ActAs,
    Call,
    Flow,
    Step,
    accounts,
    adrive,
    adrive_pooled,
    assessments,
    call,
    catalog,
    drive,
    drive_pooled,
    learning,
    review,
    run_steps,
)
from netplus_db.generated import AsyncQueries, Queries
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


def test_a_query_step_refuses_positional_arguments_and_says_why() -> None:
    method: Any = BookmarksQueries.list_bookmarks  # untyped: as a caller without mypy has it
    with pytest.raises(TypeError, match=r"^generated query methods take keyword arguments only$"):
        call(method, uuid.uuid4())


def acted_then_read(who: uuid.UUID, owner: uuid.UUID) -> Flow[tuple[Any, int]]:
    """What the ActAs step gave the flow, and how many of `owner`'s bookmarks `who` sees."""
    acted = yield ActAs(who)
    rows = yield call(BookmarksQueries.list_bookmarks, user_id=owner)
    return acted, len(rows)


def test_every_driver_gives_an_act_as_step_none_and_acts_under_its_role(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    """The same results from the four drivers: the ActAs step gives None, and switches to the
    role each is given, even in a pooled transaction begun as nobody (the connecting role,
    which sees every bookmark): `other` sees none of `owner`'s."""
    owner, other, component = factories.user(conn), factories.user(conn), factories.component(conn)
    factories.bookmark(conn, user_id=owner, component_id=component)
    got = []
    with Database(db, min_size=1, max_size=1, timeout=QUICK) as lib:
        assert lib.run(read_as(owner, owner)) == 1  # the bookmark is there to be hidden
        with lib.transaction() as q:
            got.append(drive(acted_then_read(other, owner), q, "app_user"))
        got.append(drive_pooled(acted_then_read(other, owner), lib.transaction, "app_user"))

    async def scenario() -> list[tuple[Any, int]]:
        async with AsyncDatabase(db, min_size=1, max_size=1, timeout=QUICK) as alib:
            async with alib.transaction() as aq:
                inside = await adrive(acted_then_read(other, owner), aq, "app_user")
            pooled = await adrive_pooled(
                acted_then_read(other, owner), alib.transaction, "app_user"
            )
        return [inside, pooled]

    got += asyncio.run(scenario())
    assert got == [(None, 0)] * 4


ExitArgs = tuple[type[BaseException] | None, BaseException | None, TracebackType | None]


class Noted:
    """A transaction that notes what its __exit__ is given before it ends."""

    def __init__(self, inner: AbstractContextManager[Queries], seen: list[ExitArgs]) -> None:
        self.inner, self.seen = inner, seen

    def __enter__(self) -> Queries:
        return self.inner.__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        self.seen.append((exc_type, exc, tb))
        return self.inner.__exit__(exc_type, exc, tb)


class AsyncNoted:
    """The async twin of Noted."""

    def __init__(
        self, inner: AbstractAsyncContextManager[AsyncQueries], seen: list[ExitArgs]
    ) -> None:
        self.inner, self.seen = inner, seen

    async def __aenter__(self) -> AsyncQueries:
        return await self.inner.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        self.seen.append((exc_type, exc, tb))
        return await self.inner.__aexit__(exc_type, exc, tb)


def said_as_with_would(seen: list[ExitArgs], raised: BaseException) -> None:
    """One transaction ended as a `with` block would end it on `raised`: its type, itself, and
    its traceback, which reaches where the flow raised it."""
    assert len(seen) == 1 and seen[0][:2] == (type(raised), raised)
    tb = seen[0][2]
    assert tb is not None and traceback.extract_tb(tb)[-1].name == "bookmark_then_raise"


def test_the_pooled_drivers_end_a_transaction_as_a_with_block_would(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    """`begin` may give any context manager: a failed flow hands it the exception's type,
    the exception and its traceback; a finished one three Nones."""
    user, component = factories.user(conn), factories.component(conn)
    failed: list[ExitArgs] = []
    done: list[ExitArgs] = []
    with Database(db, min_size=1, max_size=1, timeout=QUICK) as lib:
        with pytest.raises(Changed) as caught:
            drive_pooled(
                bookmark_then_raise(user, component),
                lambda: Noted(lib.as_user(user), failed),
                "app_user",
            )
        said_as_with_would(failed, caught.value)
        drive_pooled(read_as(user, user), lambda: Noted(lib.as_user(user), done), "app_user")
        assert done == [(None, None, None)]

    async def scenario() -> tuple[list[ExitArgs], BaseException, list[ExitArgs]]:
        afailed: list[ExitArgs] = []
        adone: list[ExitArgs] = []
        async with AsyncDatabase(db, min_size=1, max_size=1, timeout=QUICK) as alib:
            with pytest.raises(Changed) as acaught:
                await adrive_pooled(
                    bookmark_then_raise(user, component),
                    lambda: AsyncNoted(alib.as_user(user), afailed),
                    "app_user",
                )
            await adrive_pooled(
                read_as(user, user), lambda: AsyncNoted(alib.as_user(user), adone), "app_user"
            )
        return afailed, acaught.value, adone

    afailed, araised, adone = asyncio.run(scenario())
    said_as_with_would(afailed, araised)
    assert adone == [(None, None, None)]
    assert count_bookmarks(conn, user) == 0


FLOW_MODULES = (accounts, assessments, catalog, learning, review)
DEFAULTS = [
    (name, param.name, param.default)
    for module in FLOW_MODULES
    for name, flow in vars(module).items()
    if inspect.isgeneratorfunction(flow) and hasattr(Database, name)
    for param in inspect.signature(flow).parameters.values()
    if param.default is not inspect.Parameter.empty
]


@pytest.mark.parametrize(("name", "argument", "default"), DEFAULTS)
def test_a_flow_driven_directly_has_the_defaults_of_its_database_method(
    name: str, argument: str, default: Any
) -> None:
    """A caller driving a flow itself (drive/adrive) and leaving an argument out gets what
    Database and AsyncDatabase give when it is left out there."""
    for cls in (Database, AsyncDatabase):
        method = inspect.signature(getattr(cls, name)).parameters[argument]
        assert method.default == default, (cls.__name__, name, argument)


class _Enough(Exception):
    """Stops a flow once the step a test looks at has been seen."""


def sent_by(flow: Flow[Any], query: str) -> dict[str, Any]:
    """The arguments the flow sends to its query named `query` (its earlier steps answered
    with nothing; a flow is stopped there)."""
    seen: dict[str, Any] = {}

    def perform(step: Step) -> Any:
        assert isinstance(step, Call)
        if step.name == query:
            seen.update(step.kwargs)
            raise _Enough
        return []

    with pytest.raises(_Enough):
        run_steps(flow, perform)
    return seen


U = uuid.UUID(int=1)


@pytest.mark.parametrize(
    ("make", "query", "sent", "method", "argument"),
    [
        (
            lambda: review.readiness(user_id=U),
            "weakest_objectives",
            "limit",
            "readiness",
            "weakest",
        ),
        (
            lambda: review.review_session(user_id=U),
            "review_queue",
            "limit",
            "review_session",
            "limit",
        ),
        *(
            (
                lambda: learning.record_progress(user_id=U, component_id=U, status="in_progress"),
                "record_progress",
                argument,
                "record_progress",
                argument,
            )
            for argument in ("progress_percentage", "time_spent_minutes", "last_position")
        ),
        (
            lambda: assessments.save_answer(user_id=U, attempt_id=U, question_id=U, user_answer={}),
            "save_answer",
            "flagged_for_review",
            "save_answer",
            "flagged_for_review",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_an_argument_left_out_of_a_flow_reaches_its_query_as_databases_default(
    make: Callable[[], Flow[Any]], query: str, sent: str, method: str, argument: str
) -> None:
    """What the query is sent, not what the signature says: the value a flow driven directly
    sends for an argument left out is the one Database sends when it is left out there."""
    default = inspect.signature(getattr(Database, method)).parameters[argument].default
    assert sent_by(make(), query)[sent] == default  # made here: in the mutant under test


def test_a_save_on_an_attempt_gone_since_says_it_is_gone() -> None:
    """No row saved, and then no attempt to be found (deleted by another transaction in
    between): AttemptClosed says the attempt is gone, after asking for both."""
    attempt_id = uuid.uuid4()
    flow = assessments.save_answer(
        user_id=uuid.uuid4(),
        attempt_id=attempt_id,
        question_id=uuid.uuid4(),
        user_answer={"option": "c"},
    )
    asked: list[str] = []

    def nothing(step: Step) -> None:
        assert isinstance(step, Call)
        asked.append(step.name)

    gone = f"^attempt {attempt_id} takes no more answers: it is gone$"
    with pytest.raises(AttemptClosed, match=gone):
        run_steps(flow, nothing)
    assert asked == ["save_answer", "attempt_state"]
