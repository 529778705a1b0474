"""The library's overhead per call, and where it goes: the parts measured apart, on cached data.

One implementation for `python -m bench queries` (on a scratch database: `scratch_subject`) and
for the suite (on the scale database, after the query classes):

- the round trip of an empty query (what one more round trip costs on this machine now);
- borrowing a pooled connection (`Database.pool.connection()`, with its borrow check:
  `poolcheck.BorrowCheck`, a round trip only when the connection may be bad) against nothing;
- a transaction through `Database.as_user` with no statement in it (borrow, BEGIN, `act_as`,
  COMMIT, return) against BEGIN, the same `act_as` statement and COMMIT on the same connection
  used directly: what the library adds per call, statements aside;
- the query layer per statement: a generated method (`Queries(conn).analytics.
  dashboard_summary`) against `cursor.execute` + `fetchone` of the same SQL, on the same raw
  connection inside the same kind of transaction: with a new cursor per call (psycopg used
  plainly), and with one cursor kept (the layer alone);
- typed rows: the rows of a query returning several (the subject's `rows` step) fetched on one
  kept cursor as the generated rows (slots dataclasses) against plain tuples.

Each pair takes turns call by call; a figure is the median time per call
(`stats.interleaved_medians_us`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from psycopg.rows import BaseRowFactory, tuple_row

from bench.raw_driver import lent_connection, raw_statement
from bench.stats import interleaved_medians_us
from netplus_db.config import Target
from netplus_db.database import Database
from netplus_db.flows import Call, act_as, call
from netplus_db.generated import Queries
from netplus_db.generated.activity import ActivityQueries
from netplus_db.ops.codegen import migrated_scratch_database

SCRATCH_ACTIVITY_ROWS = 50
_PASSWORD = "password123"


@dataclass(frozen=True)
class Subject:
    """What the overhead is measured on: the library's pool of one connection (used raw too,
    while it sits idle), the learner the statements act as, and a query returning several rows
    for the typed-rows part."""

    db: Database
    user_id: uuid.UUID
    rows: Call


@contextmanager
def scratch_subject(target: Target) -> Iterator[Subject]:
    """A scratch database on the target's server (`<db>__bench__querygen`, dropped afterwards):
    migrated, one learner registered through the library, with a page of activity to read."""
    scratch_name = target.with_dbname(f"{target.dbname}__bench")
    with (
        migrated_scratch_database(scratch_name) as scratch,
        Database(scratch, min_size=1, max_size=1) as db,
    ):
        email = "bench@network.test"
        user = db.register(email=email, username="bench", password=_PASSWORD, rounds=4)
        for _ in range(SCRATCH_ACTIVITY_ROWS - 1):  # each login logs one row
            db.login(login=email, password=_PASSWORD)
        rows = call(ActivityQueries.list_activity, user_id=user.id, page_size=SCRATCH_ACTIVITY_ROWS)
        yield Subject(db, user.id, rows)


@dataclass(frozen=True)
class Part:
    """One part of the overhead: the library's way and the baseline, in microseconds."""

    label: str
    library_us: float
    baseline_us: float
    baseline: str

    @property
    def difference_us(self) -> float:
        """Library minus baseline."""
        return self.library_us - self.baseline_us

    def row(self) -> str:
        """`label  netplus_db  baseline  difference  (what the baseline is)` in microseconds."""
        if self.baseline == "-":
            return f"{self.label:<76} {self.library_us:>10.1f}"
        return (
            f"{self.label:<76} {self.library_us:>10.1f} {self.baseline_us:>10.1f}"
            f" {self.difference_us:>+10.1f}  ({self.baseline})"
        )


def breakdown(subject: Subject, calls: int = 300, rounds: int = 7) -> list[Part]:
    """Measure the parts (see the module docstring), `calls * rounds` calls each way."""
    db, user_id, role = subject.db, subject.user_id, subject.db.app_role
    raw = lent_connection(db)
    dashboard = raw_statement("analytics", "dashboard_summary").query.sql
    raw.commit()

    def round_trip() -> None:
        raw.execute("")

    def nothing() -> None:
        pass

    def borrow() -> None:
        with db.pool.connection():
            pass

    def session() -> None:
        with db.as_user(user_id):
            pass

    def bare() -> None:
        with raw.transaction():
            act_as(raw, role, user_id)

    def generated() -> None:
        with raw.transaction():
            act_as(raw, role, user_id)
            Queries(raw).analytics.dashboard_summary(user_id=user_id)

    def plain() -> None:
        with raw.transaction():
            act_as(raw, role, user_id)
            with raw.cursor() as cur:
                cur.execute(dashboard, {"user_id": user_id})
                cur.fetchone()

    kept = raw.cursor()

    def plain_kept() -> None:
        with raw.transaction():
            act_as(raw, role, user_id)
            kept.execute(dashboard, {"user_id": user_id})
            kept.fetchone()

    listing = raw_statement(subject.rows.area, subject.rows.name)
    listing_args = subject.rows.kwargs
    rows = len(kept.execute(listing.query.sql, listing_args).fetchall())
    raw.commit()

    def fetch(factory: BaseRowFactory[Any]) -> None:
        kept.row_factory = factory
        kept.execute(listing.query.sql, listing_args)
        kept.fetchall()

    was, raw.autocommit = raw.autocommit, True  # the pool's connections already are
    try:
        rt = interleaved_medians_us({"rt": round_trip}, calls * rounds)["rt"]
    finally:
        raw.autocommit = was
    pool = interleaved_medians_us({"borrow": borrow, "nothing": nothing}, calls * rounds)
    tx = interleaved_medians_us({"session": session, "bare": bare}, calls * rounds)
    layer = interleaved_medians_us(
        {"generated": generated, "plain": plain, "kept": plain_kept}, calls * rounds
    )
    typed = interleaved_medians_us(
        {"typed": lambda: fetch(listing.rows), "tuples": lambda: fetch(tuple_row)}, calls * rounds
    )
    raw.commit()
    kept.close()
    return [
        Part("round trip of an empty query (raw, autocommit)", rt, 0.0, "-"),
        Part(
            "borrow a pooled connection (borrow check included)",
            pool["borrow"],
            pool["nothing"],
            "no pool",
        ),
        Part(
            "a transaction through `as_user`, no statement (borrow and return included)",
            tx["session"],
            tx["bare"],
            "BEGIN, act_as, COMMIT on the same connection",
        ),
        Part(
            "one statement through the query layer (dashboard_summary)",
            layer["generated"],
            layer["plain"],
            "cursor.execute + fetchone on a new cursor, same connection and transaction",
        ),
        Part(
            "the same, the layer alone",
            layer["generated"],
            layer["kept"],
            "cursor.execute + fetchone on a kept cursor",
        ),
        Part(
            f"{rows} rows as typed rows ({subject.rows.name}, one kept cursor)",
            typed["typed"],
            typed["tuples"],
            "plain tuples",
        ),
    ]
