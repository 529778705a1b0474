"""Streak days are the learner's calendar days (user_profiles.timezone, UTC by default).

learner_day (0015) gives the day of an instant in the learner's zone; apply_progress counts
the streak and goal completion on it. Day boundaries are checked at fixed instants in two
zones, and through the library at the real clock in two zones 25 hours apart (whose dates
always differ).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import psycopg
import pytest

from netplus_db.config import Target
from netplus_db.database import Database
from tests.support import factories as f
from tests.support.apis import ROUNDS, build_catalog
from tests.support.factories import Conn

UTC = dt.UTC


def learner(conn: Conn, zone: str | None) -> UUID:
    user = f.user(conn)
    if zone is not None:
        f.profile(conn, user_id=user, timezone=zone)
    return user


def day(conn: Conn, user: UUID, at: dt.datetime) -> dt.date:
    found: dt.date = f.scalar(conn, "SELECT learner_day(%s, %s)", [user, at])
    return found


def test_the_day_is_the_learners(tx: Conn) -> None:
    late = dt.datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    berlin = learner(tx, "Europe/Berlin")  # UTC+1 in March
    new_york = learner(tx, "America/New_York")  # UTC-5
    assert day(tx, berlin, late) == dt.date(2026, 3, 2)
    assert day(tx, new_york, late) == dt.date(2026, 3, 1)
    assert day(tx, new_york, dt.datetime(2026, 3, 2, 4, 59, tzinfo=UTC)) == dt.date(2026, 3, 1)
    assert day(tx, new_york, dt.datetime(2026, 3, 2, 5, 0, tzinfo=UTC)) == dt.date(2026, 3, 2)
    # No profile, or a zone PostgreSQL does not know: UTC.
    assert day(tx, learner(tx, None), late) == dt.date(2026, 3, 1)
    assert day(tx, learner(tx, "Mars/Olympus_Mons"), late) == dt.date(2026, 3, 1)


@pytest.mark.parametrize(
    ("zone", "streak"),
    [("Europe/Berlin", 2), ("America/New_York", 1)],
)
def test_a_streak_crosses_midnight_where_the_learner_lives(
    tx: Conn, zone: str, streak: int
) -> None:
    """Two activities an hour apart, 22:30 and 23:30 UTC: in Berlin they fall on two days
    (a streak of 2), in New York on one (still 1)."""
    user = learner(tx, zone)
    f.insert(tx, "learning_streaks", {"user_id": user})
    for hour in (22, 23):
        at = dt.datetime(2026, 3, 1, hour, 30, tzinfo=UTC)
        tx.execute("SELECT update_learning_streak(%s, learner_day(%s, %s))", [user, user, at])
    row = f.rows(
        tx,
        "SELECT current_streak, total_active_days FROM learning_streaks WHERE user_id = %s",
        [user],
    )
    assert row == [{"current_streak": streak, "total_active_days": streak}]


def test_completing_counts_on_the_learners_day(db: Target, conn: psycopg.Connection[Any]) -> None:
    course = build_catalog(conn)
    zones = ("Pacific/Kiritimati", "Pacific/Pago_Pago")  # UTC+14 and UTC-11
    seen: dict[str, dt.date] = {}
    with Database(db, max_size=2) as lib:
        for n, zone in enumerate(zones):
            user = lib.register(
                email=f"tz{n}@network.test",
                username=f"tz_{n}",
                password="password123",
                rounds=ROUNDS,
            )
            conn.execute(
                "UPDATE user_profiles SET timezone = %s WHERE user_id = %s", [zone, user.id]
            )
            query = "SELECT (now() AT TIME ZONE %s)::date"
            before = f.scalar(conn, query, [zone])
            done = lib.record_progress(
                user_id=user.id, component_id=course.lesson, status="completed"
            )
            after = f.scalar(conn, query, [zone])
            assert done.streak is not None
            assert done.streak.last_activity_date in (before, after)
            seen[zone] = done.streak.last_activity_date
    assert seen[zones[0]] > seen[zones[1]]
