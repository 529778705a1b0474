"""Logins and registrations hold no pooled connection while bcrypt runs.

A burst of logins on a pool of two: a watcher samples pg_stat_activity the whole time and
finds no connection of the test's database idle in a transaction for longer than a round trip
takes (a hash at cost 12 takes hundreds of milliseconds, so a connection held across it
shows), and a catalog read made while the logins run is served before they are all done.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import Any

import psycopg
import pytest

from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.database import AsyncDatabase, Database
from netplus_db.flows.accounts import BCRYPT_ROUNDS, hash_password
from tests.support.apis import PASSWORD, build_catalog
from tests.support.factories import insert

# bcrypt at real cost on purpose: seconds each; `make test` runs them.
pytestmark = pytest.mark.slow

LOGINS = 6
# Idle in a transaction for longer than this while logins run: a connection held across a
# hash (one takes far longer at cost 12), not the gap between two statements of a transaction.
HELD = "150 milliseconds"


@contextmanager
def watching(target: Target) -> Iterator[list[tuple[Any, ...]]]:
    """Sample the database's sessions until the block ends; yields the offenders found."""
    found: list[tuple[Any, ...]] = []
    stop = threading.Event()

    def sample() -> None:
        with connect(target, autocommit=True) as watcher:
            while not stop.is_set():
                found.extend(
                    watcher.execute(
                        "SELECT pid, state, clock_timestamp() - state_change, query"
                        "  FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                        "   AND state LIKE 'idle in transaction%%'"
                        "   AND clock_timestamp() - state_change > %s::interval",
                        (HELD,),
                    ).fetchall()
                )
                time.sleep(0.01)

    thread = threading.Thread(target=sample)
    thread.start()
    try:
        yield found
    finally:
        stop.set()
        thread.join(timeout=30)


def slow_account(conn: psycopg.Connection[Any]) -> str:
    """An account whose hash costs what production's does (made directly: registering it
    through the library would cost one more hash)."""
    tag = uuid.uuid4().hex[:8]
    user_id = insert(
        conn,
        "users",
        {
            "email": f"slow.{tag}@network.test",
            "username": f"slow_{tag}",
            "password_hash": hash_password(PASSWORD, BCRYPT_ROUNDS),
        },
    )
    assert user_id
    return f"slow.{tag}@network.test"


def attempts(email: str) -> list[dict[str, str]]:
    """Right, wrong and unknown logins (the unknown ones compare against the dummy hash)."""
    kinds = [
        {"login": email, "password": PASSWORD},
        {"login": email, "password": "not the password"},
        {"login": "nobody@network.test", "password": PASSWORD},
    ]
    return [kinds[i % len(kinds)] for i in range(LOGINS)]


def test_logins_on_a_pool_of_two_hold_no_connection_while_hashing(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    build_catalog(conn)
    email = slow_account(conn)
    with (
        Database(db, min_size=2, max_size=2) as lib,
        watching(db) as held,
        ThreadPoolExecutor(LOGINS) as pool,
    ):
        logins = [pool.submit(partial(lib.login, **kw)) for kw in attempts(email)]
        time.sleep(0.05)
        page = lib.browse_components()
        served_meanwhile = not all(f.done() for f in logins)
        results = [f.result(timeout=120) for f in logins]
    assert held == []
    assert served_meanwhile and len(page.items) == 3
    assert [r.reason for r in results] == ["ok", "invalid_credentials", "invalid_credentials"] * 2
    logged = conn.execute(
        "SELECT activity_type, count(*) FROM user_activity_logs"
        " WHERE activity_type LIKE 'login%%' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert logged == [("login", 2), ("login_failed", 4)]


def test_async_logins_on_a_pool_of_two_hold_no_connection_while_hashing(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    build_catalog(conn)
    email = slow_account(conn)

    async def burst() -> tuple[bool, Any, list[Any]]:
        async with AsyncDatabase(db, min_size=2, max_size=2) as lib:
            logins = [asyncio.create_task(lib.login(**kw)) for kw in attempts(email)]
            await asyncio.sleep(0.05)
            page = await lib.browse_components()
            served_meanwhile = not all(t.done() for t in logins)
            return served_meanwhile, page, await asyncio.gather(*logins)

    with watching(db) as held:
        served_meanwhile, page, results = asyncio.run(burst())
    assert held == []
    assert served_meanwhile and len(page.items) == 3
    assert [r.reason for r in results] == ["ok", "invalid_credentials", "invalid_credentials"] * 2


def test_registrations_hash_before_borrowing(db: Target) -> None:
    """Registrations at cost 12 on a pool of two: no transaction waits for a hash."""

    def register(i: int) -> Any:
        tag = uuid.uuid4().hex[:6]
        return lib.register(
            email=f"new{i}.{tag}@network.test", username=f"new_{i}_{tag}", password=PASSWORD
        )

    with (
        Database(db, min_size=2, max_size=2) as lib,
        watching(db) as held,
        ThreadPoolExecutor(4) as pool,
    ):
        made = list(pool.map(register, range(4)))
    assert held == [] and len({u.id for u in made}) == 4
