"""Restoring a backup: into a fresh scratch database first, swapped in by rename only when valid.

1. the file is checked before any database is touched: checksum against its manifest (a file
   without one is restored with a warning), format (pg_dump custom format, or a plain SQL dump,
   gzipped or not), fitting client programs;
2. it is restored into `<target>__restore_<UTC>` in one transaction that stops at the first
   error (`pg_restore --single-transaction --exit-on-error`, or `psql --single-transaction -v
   ON_ERROR_STOP=1`);
3. the result is validated: row counts match the manifest, the migration ledger is there;
4. only then, after confirmation, it is swapped in: new connections to the target are
   blocked, its sessions terminated, and in one transaction the target is renamed to
   `<target>__old_<UTC>` and the scratch database takes its name. The previous database is
   kept unless `drop_old`.

Any failure before the swap drops the scratch database and leaves the target untouched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from netplus_db.config import Target
from netplus_db.connection import MAINTENANCE_DB, connect, drop_database, ensure_server_started
from netplus_db.ops.backup import (
    BackupError,
    Kind,
    Manifest,
    derived_name,
    load,
    prepare,
    stamped_scratch_database,
    validate,
)
from netplus_db.sql import sql_files
from netplus_db.types import Progress

PROTECTED = frozenset({MAINTENANCE_DB, "template0", "template1"})
DISCONNECT_WAIT = 10.0  # seconds for terminated sessions to go away


class RestoreError(BackupError):
    """A restore was refused or its swap failed; the target database is as it was."""


@dataclass(frozen=True)
class Restored:
    """What a restore did."""

    database: str
    kind: Kind
    manifest: Manifest | None
    previous: str | None  # the old database's new name; None when there was none
    dropped_previous: bool


def _silent(_message: str) -> None:
    pass


def _yes(_question: str) -> bool:
    return True


def restore(
    target: Target,
    path: Path,
    *,
    drop_old: bool = False,
    no_owner: bool = False,
    confirm: Callable[[str], bool] = _yes,
    migrations_dir: Path | None = None,
    report: Progress = _silent,
    now: datetime | None = None,
) -> Restored:
    """Restore a backup file into the target database (see the module docstring).

    `confirm` is asked before an existing database is replaced; False cancels, and the
    scratch database is dropped. Raises ArchiveError for an unusable file, RestoreError when
    refused, ClientToolError when pg_restore/psql is missing or too old.
    """
    target = ensure_server_started(target)
    if target.dbname in PROTECTED:
        raise RestoreError(f"refusing to restore over the {target.dbname} database")
    when = now or datetime.now(UTC)
    prepared = prepare(target, path, report)
    with stamped_scratch_database(target, "restore", when, report) as scratch:
        load(prepared, scratch, report, no_owner=no_owner, migrations_dir=migrations_dir)
        validate(prepared, scratch, report)
        _confirm(target, path, prepared.kind, drop_old, confirm)
        previous = swap_in(target, scratch.dbname, when, report)
    dropped = bool(previous and drop_old and drop_database(target.with_dbname(previous)))
    if dropped:
        report(f"dropped the previous database {previous}")
    return Restored(target.dbname, prepared.kind, prepared.manifest, previous, dropped)


def _confirm(
    target: Target, path: Path, kind: Kind, drop_old: bool, confirm: Callable[[str], bool]
) -> None:
    with connect(target.with_dbname(MAINTENANCE_DB), autocommit=True) as conn:
        exists = bool(sql_files().server.database_exists(conn, datname=target.dbname))
    if not exists:
        return
    fate = "dropped" if drop_old else "kept under a new name (<db>__old_<UTC>)"
    question = (
        f"Replace database {target.dbname!r} on {target.host} with the {kind} backup "
        f"{path.name}? Its sessions are terminated; the current database is {fate}."
    )
    if not confirm(question):
        raise RestoreError(f"restore of {path} not confirmed; {target.dbname} is unchanged")


def swap_in(target: Target, scratch: str, when: datetime, report: Progress) -> str | None:
    """Give database `scratch` the target's name; returns the old database's new name, if any.

    Both renames commit in one transaction, after new connections to the target are blocked
    and its sessions terminated; on failure the target is left as it was and connectable.
    """
    started = time.perf_counter()
    with connect(target.with_dbname(MAINTENANCE_DB), autocommit=True) as conn:
        _disconnect(conn, scratch)
        if not sql_files().server.database_exists(conn, datname=target.dbname):
            _rename(conn, scratch, target.dbname)
            report(f"restored database is now {target.dbname} (there was none before)")
            return None
        old = _free_name(conn, derived_name(target.dbname, "old", when))
        _copy_owner(conn, target.dbname, scratch, report)
        _allow_connections(conn, target.dbname, False)
        try:
            _disconnect(conn, target.dbname)
            with conn.transaction():
                _rename(conn, target.dbname, old)
                _rename(conn, scratch, target.dbname)
        except BaseException:
            _allow_connections(conn, target.dbname, True)
            raise
        _allow_connections(conn, old, True)
    report(
        f"swapped: restored database is now {target.dbname}; the previous one is {old}"
        f" ({time.perf_counter() - started:.2f}s)"
    )
    return old


def _copy_owner(conn: psycopg.Connection[Any], source: str, dest: str, report: Progress) -> None:
    """Give the restored database the owner of the one it replaces (it owns schema public)."""
    q = sql_files()
    owner = q.backup.database_owner(conn, datname=source)
    if owner is None or owner == q.backup.database_owner(conn, datname=dest):
        return
    try:
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(dest), sql.Identifier(owner)
            )
        )
    except psycopg.errors.InsufficientPrivilege as exc:
        report(f"warning: the restored database keeps its owner, not {owner}: {exc}")


def _rename(conn: psycopg.Connection[Any], old: str, new: str) -> None:
    conn.execute(
        sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(old), sql.Identifier(new))
    )


def _allow_connections(conn: psycopg.Connection[Any], database: str, allow: bool) -> None:
    conn.execute(
        sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
            sql.Identifier(database), sql.SQL("true" if allow else "false")
        )
    )


def _disconnect(conn: psycopg.Connection[Any], database: str) -> None:
    """Terminate every session on a database and wait until they are gone."""
    q = sql_files()
    deadline = time.monotonic() + DISCONNECT_WAIT
    while q.backup.terminate_sessions(conn, datname=database):
        if time.monotonic() > deadline:
            left = q.backup.session_count(conn, datname=database)
            raise RestoreError(
                f"{left} session(s) on {database} survived pg_terminate_backend for "
                f"{DISCONNECT_WAIT:.0f}s; nothing was swapped"
            )
        time.sleep(0.05)


def _free_name(conn: psycopg.Connection[Any], base: str) -> str:
    """`base`, or `base_2`, `base_3`... when a database of that name exists."""
    name, counter = base, 2
    while sql_files().server.database_exists(conn, datname=name):
        name, counter = f"{base}_{counter}", counter + 1
    return name
