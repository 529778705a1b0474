"""Databases restores and verifies leave behind: recorded, listed, and removed.

A restore loads into `<db>__restore_<UTC>` and keeps the database it replaced as
`<db>__old_<UTC>`; a verify loads into `<db>__verify_<UTC>`. Each gets a record in its
database comment (JSON: what it is, for which database, from which file, by which process on
which host), so a later `netplus-db restore list` can tell a scratch database a running
restore is filling from one a killed restore abandoned, with a full copy of the data in it
(password hashes included). `cleanup()` drops the abandoned ones and the replaced databases
older than a limit, never one a running restore or a session uses without saying so.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import psycopg
from psycopg import sql

from netplus_db.config import Target
from netplus_db.connection import MAINTENANCE_DB, connect, drop_database
from netplus_db.ops.archives import BackupError, parse_stamp
from netplus_db.ops.processes import process_alive
from netplus_db.sql import sql_files

Role = Literal["restore", "verify", "old"]
State = Literal["running", "in use", "abandoned", "kept"]
MARK = "netplus-db"
DEFAULT_OLDER_THAN = timedelta(days=7)


def record(
    conn: psycopg.Connection[Any], database: str, role: Role, target: str, source: str | None
) -> None:
    """Write what `database` is into its comment (the caller owns it or is a superuser)."""
    note = {
        MARK: role,
        "target": target,
        "source": source,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "recorded_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    set_comment(conn, database, json.dumps(note, sort_keys=True))


def set_comment(conn: psycopg.Connection[Any], database: str, text: str | None) -> None:
    """COMMENT ON DATABASE (None removes the comment)."""
    conn.execute(
        sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(database), sql.Literal(text) if text is not None else sql.SQL("NULL")
        )
    )


def _note(comment: str | None) -> dict[str, Any]:
    if not comment:
        return {}
    try:
        data = json.loads(comment)
    except ValueError:
        return {}
    return data if isinstance(data, dict) and MARK in data else {}


@dataclass(frozen=True)
class Leftover:
    """A scratch or replaced database on the server, and what is known of it."""

    name: str
    role: Role
    created: datetime  # from the name
    target: str
    source: str | None
    bytes: int
    sessions: int
    allow_connections: bool
    host: str | None
    pid: int | None

    @property
    def state(self) -> State:
        """running (its restore is alive here), in use (sessions), abandoned, or kept (old)."""
        if self.role != "old" and self._process_alive():
            return "running"
        if self.sessions:
            return "in use"
        return "kept" if self.role == "old" else "abandoned"

    def _process_alive(self) -> bool:
        return (
            self.pid is not None and self.host == socket.gethostname() and process_alive(self.pid)
        )

    def age(self, now: datetime) -> timedelta:
        """Time since the stamp in its name."""
        return now - self.created

    def as_json(self, now: datetime) -> dict[str, Any]:
        """The leftover as a JSON object."""
        return {
            "database": self.name,
            "role": self.role,
            "state": self.state,
            "target": self.target,
            "source": self.source,
            "created_at": self.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "age_days": round(self.age(now).total_seconds() / 86400, 3),
            "bytes": self.bytes,
            "sessions": self.sessions,
            "allow_connections": self.allow_connections,
            "process": None if self.pid is None else {"host": self.host, "pid": self.pid},
        }


def _parse(name: str) -> tuple[str, Role, datetime]:
    head, _, tail = name.rpartition("__")
    role, _, stamp = tail.partition("_")
    return head, role, parse_stamp(stamp[:16])  # type: ignore[return-value]


def list_leftovers(server: Target, target: str | None = None) -> list[Leftover]:
    """Every scratch and replaced database on the server (of `target` only, when given)."""
    with connect(server.with_dbname(MAINTENANCE_DB), autocommit=True) as conn:
        rows = list(sql_files().backup.derived_databases(conn))
    found = []
    for name, comment, allow, size, sessions in rows:
        head, role, created = _parse(str(name))
        note = _note(comment)
        of = str(note.get("target") or head)
        if target is not None and of != target:
            continue
        pid = note.get("pid")
        found.append(
            Leftover(
                name=str(name),
                role=role,
                created=created,
                target=of,
                source=note.get("source"),
                bytes=int(size or 0),
                sessions=int(sessions or 0),
                allow_connections=bool(allow),
                host=note.get("host"),
                pid=int(pid) if isinstance(pid, int) else None,
            )
        )
    return found


@dataclass(frozen=True)
class CleanupDecision:
    """What cleanup does (or would do) with one leftover, and why."""

    leftover: Leftover
    drop: bool
    reason: str

    def as_json(self, now: datetime) -> dict[str, Any]:
        """The decision as a JSON object."""
        return {**self.leftover.as_json(now), "drop": self.drop, "reason": self.reason}


def plan_cleanup(
    leftovers: list[Leftover], older_than: timedelta, now: datetime
) -> list[CleanupDecision]:
    """Abandoned scratch databases go (they hold a copy of the data and serve nothing);
    replaced databases go when older than `older_than`; running ones stay."""
    if older_than < timedelta(0):
        raise BackupError(f"--older-than must not be negative (got {older_than})")
    plan = []
    for item in leftovers:
        age = f"{item.age(now).total_seconds() / 86400:.1f} days old"
        ended = f"; its {item.sessions} session(s) will be ended" if item.sessions else ""
        if item.state == "running":
            plan.append(CleanupDecision(item, False, f"a restore is running (pid {item.pid})"))
        elif item.role == "old":
            if item.age(now) > older_than:
                plan.append(CleanupDecision(item, True, f"replaced, {age}{ended}"))
            else:
                plan.append(CleanupDecision(item, False, f"replaced, {age} (kept for rollback)"))
        else:
            why = f"left by an interrupted {item.role}, {age}, holds a copy of the data{ended}"
            plan.append(CleanupDecision(item, True, why))
    return plan


def cleanup(server: Target, plan: list[CleanupDecision]) -> list[str]:
    """Drop the databases the plan drops (their sessions ended); returns their names."""
    dropped = []
    for decision in plan:
        if decision.drop and drop_database(server.with_dbname(decision.leftover.name)):
            dropped.append(decision.leftover.name)
    return dropped


def parse_age(text: str) -> timedelta:
    """`7d`, `12h`, `30m`, `0` or a bare number of days, as a timedelta; BackupError otherwise."""
    value = text.strip().lower()
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    unit = value[-1:] if value[-1:] in units else "d"
    number = value[:-1] if value[-1:] in units else value
    try:
        amount = float(number)
    except ValueError:
        raise BackupError(
            f"--older-than {text!r}: use a number with d, h, m or s (e.g. 7d, 12h)"
        ) from None
    if amount < 0:
        raise BackupError(f"--older-than {text!r} must not be negative")
    return timedelta(seconds=amount * units[unit])
