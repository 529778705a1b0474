"""Where the library's overhead per call goes: the parts measured apart, on cached data.

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
- typed rows: the rows of `analytics.weekly_domain_progress` (12 weeks) fetched on one kept
  cursor as the generated named tuples against plain tuples.

Each pair takes turns call by call; a figure is the median time per call
(`stats.interleaved_medians_us`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg.rows import BaseRowFactory, tuple_row

from bench.query_classes import APP_ROLE, Analytics, Context, sql_of
from bench.stats import interleaved_medians_us
from netplus_db.flows import act_as
from netplus_db.generated import Queries
from netplus_db.generated.analytics import WeeklyDomainProgressRow
from netplus_db.querylayer import query, row_factory


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


def breakdown(ctx: Context, calls: int = 300, rounds: int = 7) -> list[Part]:
    """Measure the parts (see the module docstring)."""
    raw, db = ctx.raw, ctx.db
    user_id = ctx.samples.learners[0]
    dashboard = sql_of("analytics", "dashboard_summary")
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
            act_as(raw, APP_ROLE, user_id)

    def generated() -> None:
        with raw.transaction():
            act_as(raw, APP_ROLE, user_id)
            Queries(raw).analytics.dashboard_summary(user_id=user_id)

    def plain() -> None:
        with raw.transaction():
            act_as(raw, APP_ROLE, user_id)
            with raw.cursor() as cur:
                cur.execute(dashboard, {"user_id": user_id})
                cur.fetchone()

    kept = raw.cursor()

    def plain_kept() -> None:
        with raw.transaction():
            act_as(raw, APP_ROLE, user_id)
            kept.execute(dashboard, {"user_id": user_id})
            kept.fetchone()

    weeks_sql = sql_of("analytics", "weekly_domain_progress")
    weeks_args = {"from_week": Analytics().window(ctx.samples)["from_week"]}
    typed_rows = row_factory(query("analytics", "weekly_domain_progress"), WeeklyDomainProgressRow)
    rows = len(kept.execute(weeks_sql, weeks_args).fetchall())
    raw.commit()

    def fetch(factory: BaseRowFactory[Any]) -> None:
        kept.row_factory = factory
        kept.execute(weeks_sql, weeks_args)
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
        {"typed": lambda: fetch(typed_rows), "tuples": lambda: fetch(tuple_row)}, calls * rounds
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
            f"{rows} rows as named tuples (weekly_domain_progress, one kept cursor)",
            typed["typed"],
            typed["tuples"],
            "plain tuples",
        ),
    ]
