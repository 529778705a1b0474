"""The library's catalog and leaderboard reads, timed as a backend calls them.

Each read is one named query in a learner's transaction (`Database.as_user(learner)`, then the
generated method), beside the same statement run raw on the very connection the library's pool
lends (`raw_driver.lent_connection`, with the library's `act_as`), the two taking turns call by
call with arguments drawn by one seeded generator. The spec names no target for these; ours is
the component list's (5 ms p95 at SCALE=100) for a page or a row of the catalog, and the
dashboard's (10 ms) for the leaderboard, which reads a materialized view.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from random import Random
from typing import Any

from bench.query_classes import APP_ROLE, PAGE_SIZE, Context, Samples
from bench.raw_driver import act_as, lent_connection, raw_statement
from bench.stats import Summary, Timings, summarize, timed_call

Draw = Callable[[Samples, Random], Mapping[str, Any]]


@dataclass(frozen=True)
class Read:
    """One library read: its named query, our p95 target, and how its arguments are drawn."""

    area: str
    name: str
    target_ms: float
    what: str
    draw: Draw


@dataclass(frozen=True)
class ReadResult:
    """What one read took through the library and raw."""

    read: Read
    api: Summary
    raw: Summary

    @property
    def meets_target(self) -> bool:
        """The library's p95 within our target."""
        return self.api.p95_ms <= self.read.target_ms


def _component(s: Samples, rng: Random) -> dict[str, Any]:
    return {"component_id": rng.choice(s.components)}


def _assessment_page(s: Samples, rng: Random) -> dict[str, Any]:
    return {
        "assessment_type": None,
        "domain": rng.choice(s.domains),
        "component_id": None,
        "after_title": None,
        "after_id": None,
        "page_size": PAGE_SIZE,
    }


def _assessment(s: Samples, rng: Random) -> dict[str, Any]:
    return {"assessment_id": rng.choice(list(s.assessments.values()))}


def _leaderboard(period: str) -> Draw:
    def draw(_s: Samples, _rng: Random) -> dict[str, Any]:
        return {"period": period, "page_size": PAGE_SIZE}

    return draw


READS: tuple[Read, ...] = (
    Read(
        "assessments",
        "list_assessments",
        5,
        "the published assessments of one domain, first page of 20",
        _assessment_page,
    ),
    Read("assessments", "get_assessment_by_id", 5, "one assessment by id", _assessment),
    Read("content", "get_component_by_id", 5, "one component by id", _component),
    Read(
        "assessments",
        "component_assessment",
        5,
        "the assessment a component presents (none for most)",
        _component,
    ),
    Read("achievements", "leaderboard", 10, "top 20 of the week", _leaderboard("week")),
    Read("achievements", "leaderboard", 10, "top 20 of all time", _leaderboard("all_time")),
)


def measure_reads(ctx: Context, iterations: int, warmup: int) -> list[ReadResult]:
    """Time every read `iterations` times each way (after `warmup` untimed calls each way)."""
    db, conn = ctx.db, lent_connection(ctx.db)
    results: list[ReadResult] = []
    for read in READS:
        statement = raw_statement(read.area, read.name)
        learners = [ctx.rng.choice(ctx.samples.learners) for _ in range(warmup + iterations)]
        arguments = [read.draw(ctx.samples, ctx.rng) for _ in learners]

        def api(user_id: uuid.UUID, kwargs: Mapping[str, Any], read: Read = read) -> object:
            with db.as_user(user_id) as q:
                return getattr(getattr(q, read.area), read.name)(**kwargs)

        def raw(user_id: uuid.UUID, kwargs: Mapping[str, Any], st: Any = statement) -> object:
            with conn.transaction(), conn.cursor() as cur:
                act_as(cur, APP_ROLE, user_id)
                return st.run(cur, kwargs)

        timings: dict[str, Timings] = {"api": ([], []), "raw": ([], [])}
        for index, (user_id, kwargs) in enumerate(zip(learners, arguments, strict=True)):
            ways = [("api", api), ("raw", raw)]
            for way, fn in ways if index % 2 == 0 else reversed(ways):
                if index < warmup:
                    fn(user_id, kwargs)
                else:
                    timed_call(partial(fn, user_id, kwargs), timings[way])
        results.append(ReadResult(read, summarize(timings["api"][0]), summarize(timings["raw"][0])))
    return results
