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
    """Run a CPU-bound function (bcrypt): inline when sync, in a worker thread when async."""

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
