"""Refusing to migrate through a pooler that does not keep the runner's server session.

The runner's guarantees rest on one server session: its advisory lock keeps other runners
out, and its settings (lock_timeout...) bound its DDL. A pooler in transaction or statement
mode (PgBouncer `pool_mode = transaction`) hands that server session to other clients between
transactions and may run the runner's next transaction on another one: the lock would guard
nothing. Nothing on the wire says "PgBouncer", so the runner tests the one property it needs:

1. `pinned`: before taking the lock, the runner notes its server process id; a second client
   then opens a transaction and reads its own. A pooler in transaction mode lends it the
   server connection the runner has just released (PgBouncer reuses them last-in first-out),
   so the two ids are equal; directly or through session pooling they never are. The
   runner's id is read again afterwards: any change also means a pooler moves it.
2. `still_holds_lock`: before each migration the runner checks that the server session it
   is talking to holds the lock (a pooler with `server_round_robin` could pass step 1 by
   chance and then move the runner).

Either failure raises SessionNotKept naming the target; nothing has been applied.
"""

from __future__ import annotations

from typing import Any

import psycopg

from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.errors import SessionNotKept
from netplus_db.sql import sql_files

ROUNDS = 3


def _refusal(target: Target, why: str) -> SessionNotKept:
    return SessionNotKept(
        f"refusing to migrate {target.describe()}: {why}. A connection pooler in transaction or "
        "statement mode (PgBouncer pool_mode=transaction) seems to sit between the runner and "
        "PostgreSQL, so the migration lock and the runner's settings would not stay on one "
        "server session. Point the runner at PostgreSQL itself, or at a session-pooling port; "
        "nothing was applied"
    )


def require_pinned(conn: psycopg.Connection[Any], target: Target, application_name: str) -> None:
    """Raise SessionNotKept unless `conn` keeps one server session (module docstring)."""
    q = sql_files().ledger
    mine = int(q.backend_pid(conn))
    with connect(target, autocommit=True, application_name=application_name) as other:
        for _ in range(ROUNDS):
            with other.transaction():
                theirs = int(q.backend_pid(other))
            if theirs == mine:
                raise _refusal(
                    target, f"another client was given the runner's server process ({mine})"
                )
            now = int(q.backend_pid(conn))
            if now != mine:
                raise _refusal(target, f"the runner's server process changed ({mine} -> {now})")


def require_lock(conn: psycopg.Connection[Any], target: Target, key: int) -> None:
    """Raise SessionNotKept unless the server session `conn` talks to holds the lock now."""
    if not sql_files().ledger.holds_lock(conn, key=key):
        raise _refusal(
            target, "the server session now serving the runner does not hold its migration lock"
        )
