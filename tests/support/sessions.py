"""What the session tests share: a pool check that lends dead connections, the statement that
kills the pool's backends, and a filter for the session module's log lines."""

from __future__ import annotations

import re
import uuid
from typing import Any

import psycopg
import pytest

QUICK = 2.0  # seconds: a pool of one that lost its connection would time out

# Every other backend of this test's database: the pool's connections, not the test's own.
TERMINATE = (
    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
)

# What the session module says: the borrow-again after a dead BEGIN (with psycopg's error), a
# ROLLBACK that failed on a terminated backend, the TransactionLost of a connection lost
# mid-block.
RETRYING = r"^connection lost before BEGIN \(.*terminat.*\); borrowing another$"
ROLLBACK_FAILED = r"^rollback failed, the pool will discard the connection: .*terminat"
LOST = (
    r"^the connection to the server was lost before COMMIT \(.*terminat.*\); nothing of the "
    r"transaction was written, it may be run again$"
)


def lend_anything(conn: psycopg.Connection[Any]) -> None:
    """A pool check that lets every connection through (as if the check looked too early)."""


async def alend_anything(conn: psycopg.AsyncConnection[Any]) -> None:
    """The async twin of lend_anything."""


def session_log(caplog: pytest.LogCaptureFixture, pattern: str) -> list[str]:
    """What the session module logged that matches `pattern`."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "netplus_db.session" and re.match(pattern, r.getMessage(), re.DOTALL)
    ]


def pool_cleanups(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The pool's warnings that it had to roll back a connection a session gave back."""
    return [r.getMessage() for r in caplog.records if "rolling back returned" in r.getMessage()]


def count_bookmarks(conn: psycopg.Connection[Any], user_id: uuid.UUID) -> int:
    """How many bookmarks `user_id` has, read on `conn`."""
    row = conn.execute("SELECT count(*) FROM bookmarks WHERE user_id = %s", [user_id]).fetchone()
    assert row is not None
    return int(row[0])


def mark(user: uuid.UUID, component: uuid.UUID) -> dict[str, Any]:
    """save_bookmark's arguments for a bookmark of `user` on `component`."""
    return {"user_id": user, "component_id": component, "position": None, "note": None}
