"""Multi-step platform flows, written once and driven sync or async.

A flow is a generator that yields steps and receives their results; it never does I/O
itself (the way psycopg shares its protocol code between sync and async). `drive` runs it on
a sync `Queries`, `adrive` on an `AsyncQueries`; an error of a step is thrown back into the
flow, so a flow can turn it into a domain error. The caller owns the transaction: a flow
runs inside one, and anything it raised leaves nothing written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Concatenate, ParamSpec, TypeVar

import psycopg

from netplus_db.generated import AsyncQueries, Queries
from netplus_db.sql import sql_files

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Call:
    """Run one generated query method, named by its sync form (`UsersQueries.get_user`)."""

    area: str
    name: str
    kwargs: dict[str, Any]


@dataclass(frozen=True)
class Offload:
    """Run a CPU-bound function (bcrypt) outside any transaction: `Database.run` commits the
    transaction so far and gives its connection back to the pool first (so a flow yields one
    only before it writes: login after its read-only look-up, register before anything), and
    the next query step begins a new transaction. Inline when sync, in a worker thread when
    async. (`drive` and `adrive`, given one transaction, run it inside that one.)"""

    fn: Callable[..., Any]
    args: tuple[Any, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ActAs:
    """From here to the end of the transaction, act as this user (RLS) under `role`."""

    user_id: Any


Step = Call | Offload | ActAs
Flow = Generator[Step, Any, R]


def call(method: Callable[Concatenate[Any, P], Any], *args: P.args, **kwargs: P.kwargs) -> Call:
    """A step calling a generated method; its keyword arguments are checked by mypy."""
    if args:
        raise TypeError("generated query methods take keyword arguments only")
    owner, name = method.__qualname__.split(".")
    area = owner.removesuffix("Queries").lower()
    return Call(area, name, dict(kwargs))


def run_steps(flow: Flow[R], perform: Callable[[Step], Any]) -> R:
    """The loop every sync driver shares: `perform` each step, send its result back into the
    flow, throw its error in (a flow may turn it into a domain error), return what it returns."""
    try:
        step = next(flow)
        while True:
            try:
                result = perform(step)
            except Exception as exc:
                step = flow.throw(exc)
            else:
                step = flow.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def drive(flow: Flow[R], q: Queries, role: str | None) -> R:
    """Run a flow on a sync connection (inside the caller's transaction)."""

    def perform(step: Step) -> Any:
        if isinstance(step, Call):
            return getattr(getattr(q, step.area), step.name)(**step.kwargs)
        if isinstance(step, Offload):
            return step.fn(*step.args)
        act_as(q.conn, role, step.user_id)
        return None

    return run_steps(flow, perform)


async def adrive(flow: Flow[R], q: AsyncQueries, role: str | None) -> R:
    """Run a flow on an async connection; same steps, same results, same errors."""
    try:
        step = next(flow)
        while True:
            try:
                if isinstance(step, Call):
                    result = await getattr(getattr(q, step.area), step.name)(**step.kwargs)
                elif isinstance(step, Offload):
                    result = await asyncio.to_thread(step.fn, *step.args)
                else:
                    await aact_as(q.conn, role, step.user_id)
                    result = None
            except Exception as exc:
                step = flow.throw(exc)
            else:
                step = flow.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


class _Transactions:
    """The transactions of one `drive_pooled` run: begun on demand, ended at an Offload."""

    def __init__(self, begin: Callable[[], AbstractContextManager[Queries]]) -> None:
        self._begin = begin
        self._open: AbstractContextManager[Queries] | None = None
        self._q: Queries | None = None

    def queries(self) -> Queries:
        if self._q is None:
            session = self._begin()
            self._q = session.__enter__()
            self._open = session
        return self._q

    def end(self, exc: BaseException | None = None) -> None:
        session, self._open, self._q = self._open, None, None
        if session is not None:
            session.__exit__(type(exc) if exc else None, exc, exc.__traceback__ if exc else None)


def drive_pooled(
    flow: Flow[R], begin: Callable[[], AbstractContextManager[Queries]], role: str | None
) -> R:
    """Run a flow in transactions of its own (`begin()` opens one on a pooled connection):
    a transaction starts at the first query step and ends (commit) at an `Offload` step or
    the flow's end, so no connection is held while a password is hashed; an error rolls the
    open transaction back."""
    tx = _Transactions(begin)
    try:
        step = next(flow)
        while True:
            try:
                if isinstance(step, Offload):
                    tx.end()
                    result = step.fn(*step.args)
                elif isinstance(step, Call):
                    q = tx.queries()
                    result = getattr(getattr(q, step.area), step.name)(**step.kwargs)
                else:
                    act_as(tx.queries().conn, role, step.user_id)
                    result = None
            except Exception as exc:
                step = flow.throw(exc)
            else:
                step = flow.send(result)
    except StopIteration as stop:
        tx.end()
        return stop.value  # type: ignore[no-any-return]
    except BaseException as exc:
        tx.end(exc)
        raise


class _AsyncTransactions:
    """The async twin of _Transactions."""

    def __init__(self, begin: Callable[[], AbstractAsyncContextManager[AsyncQueries]]) -> None:
        self._begin = begin
        self._open: AbstractAsyncContextManager[AsyncQueries] | None = None
        self._q: AsyncQueries | None = None

    async def queries(self) -> AsyncQueries:
        if self._q is None:
            session = self._begin()
            self._q = await session.__aenter__()
            self._open = session
        return self._q

    async def end(self, exc: BaseException | None = None) -> None:
        session, self._open, self._q = self._open, None, None
        if session is not None:
            await session.__aexit__(
                type(exc) if exc else None, exc, exc.__traceback__ if exc else None
            )


async def adrive_pooled(
    flow: Flow[R],
    begin: Callable[[], AbstractAsyncContextManager[AsyncQueries]],
    role: str | None,
) -> R:
    """The async twin of `drive_pooled`: the same transactions, steps, results and errors."""
    tx = _AsyncTransactions(begin)
    try:
        step = next(flow)
        while True:
            try:
                if isinstance(step, Offload):
                    await tx.end()
                    result = await asyncio.to_thread(step.fn, *step.args)
                elif isinstance(step, Call):
                    q = await tx.queries()
                    result = await getattr(getattr(q, step.area), step.name)(**step.kwargs)
                else:
                    await aact_as((await tx.queries()).conn, role, step.user_id)
                    result = None
            except Exception as exc:
                step = flow.throw(exc)
            else:
                step = flow.send(result)
    except StopIteration as stop:
        await tx.end()
        return stop.value  # type: ignore[no-any-return]
    except BaseException as exc:
        await tx.end(exc)
        raise


@cache
def _act_as_sql() -> str:
    return str(sql_files().session.act_as.sql)


def act_as(conn: psycopg.Connection[Any], role: str | None, user_id: Any) -> None:
    """Switch to `role` (when given) and set `app.user_id`, both until the transaction ends
    (sql/session.sql `act_as`; sent directly: it runs once per transaction, on the hot path)."""
    params = {"role": role or "", "user_id": "" if user_id is None else str(user_id)}
    with conn.cursor() as cur:
        cur.execute(_act_as_sql(), params)


async def aact_as(conn: psycopg.AsyncConnection[Any], role: str | None, user_id: Any) -> None:
    """The async twin of `act_as` (the same SQL)."""
    params = {"role": role or "", "user_id": "" if user_id is None else str(user_id)}
    async with conn.cursor() as cur:
        await cur.execute(_act_as_sql(), params)
