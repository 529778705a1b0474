"""The benchmark's raw baseline: the library's flows and queries run on one plain psycopg cursor.

`netplus_db.flows` runs a flow on a sync `Queries` (`drive`) or an async one (`adrive`).
`drive_raw` is a third driver: the same steps on one cursor of a raw psycopg connection, with
no pool borrow, no session and no `Queries` objects. A `Call` step sends the SQL text of the
same named query (`querylayer.query(area, name)`) and gives the flow what the generated
method gives it, so the flow reads its results by field name either way and the baseline
follows a flow when it changes: nothing of a flow is copied here.

What a generated method does besides sending its SQL is read once per query from the method's
own declaration, which `netplus-db queries gen` writes from the same description as the
`run(...)` call inside the method:

- its rows are the row class its return annotation names (`list[Row]`, `Row | None`),
  built by psycopg's row factory exactly as the query layer builds them
  (`querylayer.row_factory`: `Row(*values)`); a `$` query gives its value,
  a `!` query its row count (`querylayer.result_of`);
- its parameters annotated `Json` are wrapped for json/jsonb (`querylayer.jsonb`).

A database error is turned into the library's domain error (`querylayer.translate`), since a
flow may catch one (`record_progress` turns a foreign-key `NotFound` into its own message);
that costs nothing unless a statement fails. The keyword check of the query layer (`bind`) is
left out: a flow's arguments are checked by mypy (`flows.call`), and raw psycopg checks none.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

import psycopg
from psycopg.rows import BaseRowFactory

from netplus_db.database import Database
from netplus_db.flows import Call, Flow, Offload, Step, run_steps
from netplus_db.generated import Queries
from netplus_db.querylayer import (
    SqlQuery,
    has_rows,
    jsonb,
    query,
    result_of,
    row_factory,
    statement,
    translate,
)
from netplus_db.rows import Row
from netplus_db.sql import sql_files

R = TypeVar("R")
Conn = psycopg.Connection[Any]
Cursor = psycopg.Cursor[Any]
_JSON_ANNOTATIONS = frozenset({"Json", "Json | None"})


@dataclass(frozen=True)
class RawStatement:
    """One named query as the raw baseline sends it, and how its result is shaped."""

    query: SqlQuery
    json_parameters: frozenset[str]
    row: type | None  # the generated row class of its rows (None: a value, a count, nothing)
    rows: BaseRowFactory[Any]

    def run(self, cur: Cursor, kwargs: Mapping[str, Any]) -> Any:
        """Execute on the cursor; the result the generated method returns for these arguments."""
        params = kwargs
        if self.json_parameters:
            params = {k: jsonb(v) if k in self.json_parameters else v for k, v in kwargs.items()}
        cur.row_factory = self.rows
        try:
            cur.execute(*statement(self.query, params))
        except psycopg.Error as exc:
            raise translate(exc, self.query) from exc
        return result_of(self.query, cur.rowcount, cur.fetchall() if has_rows(cur) else [])


@cache
def raw_statement(area: str, name: str) -> RawStatement:
    """The query `area.name` with the row class and JSON parameters its generated method
    declares (see the module docstring)."""
    area_class = typing.get_type_hints(getattr(Queries, area).fget)["return"]
    method = getattr(area_class, name)
    declared = inspect.get_annotations(method)
    if not all(isinstance(a, str) for a in declared.values()):
        raise TypeError(f"{method.__qualname__}: annotations are not strings; update raw_driver")
    json = frozenset(p for p, a in declared.items() if p != "return" and a in _JSON_ANNOTATIONS)
    q = query(area, name)
    row = _named_tuple_in(typing.get_type_hints(method)["return"])
    return RawStatement(q, json, row, row_factory(q, row))


def _named_tuple_in(hint: Any) -> type | None:
    """The row class inside a return annotation (`Row | None`, `list[Row]`), if any."""
    if isinstance(hint, type) and issubclass(hint, Row):
        return hint
    for arg in typing.get_args(hint):
        found = _named_tuple_in(arg)
        if found is not None:
            return found
    return None


def run_step(cur: Cursor, step: Call) -> Any:
    """One `Call` step on the cursor: what the generated method would return."""
    return raw_statement(step.area, step.name).run(cur, step.kwargs)


@cache
def _act_as_sql() -> str:
    return str(sql_files().session.act_as.sql)


def act_as(cur: Cursor, role: str | None, user_id: Any) -> None:
    """The library's `act_as` statement (sql/session.sql) on the cursor: switch to `role` and
    set `app.user_id` until the transaction ends."""
    params = {"role": role or "", "user_id": "" if user_id is None else str(user_id)}
    cur.execute(_act_as_sql(), params)


def drive_raw(flow: Flow[R], cur: Cursor, role: str | None) -> R:
    """Run a flow on one cursor of a raw connection, inside the caller's transaction: the
    steps and errors of `flows.drive`, without the library's session and query layer."""

    def perform(step: Step) -> Any:
        if isinstance(step, Call):
            return run_step(cur, step)
        if isinstance(step, Offload):
            return step.fn(*step.args)
        act_as(cur, role, step.user_id)
        return None

    return run_steps(flow, perform)


def run_flow(conn: Conn, role: str | None, user_id: Any, flow: Flow[R]) -> R:
    """The raw twin of `Database.run`: BEGIN, `act_as`, the flow on one cursor, COMMIT (raw
    psycopg: BEGIN is a round trip of its own, where a library session sends it with `act_as`)."""
    with conn.transaction(), conn.cursor() as cur:
        act_as(cur, role, user_id)
        return drive_raw(flow, cur, role)


def lent_connection(db: Database) -> Conn:
    """The connection of a pool of one, for raw psycopg to use directly while it sits idle in
    the pool (single-threaded use only: the library and the raw way take turns on it, so that
    both meet the same backend)."""
    if db.pool.max_size != 1:
        raise ValueError(f"the benchmark needs a pool of one connection, not {db.pool.max_size}")
    conn: Conn = db.pool.getconn()
    db.pool.putconn(conn)
    return conn
