"""Restoring a backup: into a fresh scratch database first, swapped in by rename only when valid.

1. the file is checked before any database is touched (`archive_loading.prepare`): checksum
   against its manifest (a file without one is restored with a warning), encryption, format,
   fitting client programs;
2. it is restored into `<target>__restore_<UTC>`, recorded as such in its comment, all or
   nothing (`archive_loading.load`);
3. the result is validated: row counts match the manifest, the migration ledger is there;
4. the sessions connected to the target are counted and shown (by role, application and
   client), and confirmation is asked; with `backup_first` a verified backup of the live
   target is taken;
5. the swap, in ONE transaction: the target is renamed to `<target>__old_<UTC>` while a
   second connection ends the target's sessions (the rename holds the database's lock, so no
   new session gets in), the scratch database takes the target's name, comments record
   which is which, and the transaction commits.

There is no moment at which a crash leaves the target refusing connections: connections are
never disallowed, and a restore killed at any step (even SIGKILL inside the swap) leaves the
swap either not done or done; its transaction is rolled back by the server when the client
goes away. SIGTERM/SIGHUP/Ctrl-C run the cleanup (the scratch database is dropped). What a
SIGKILL leaves (a scratch database with a full copy of the data) is recorded in its comment
and listed and removed by `restore_leftovers` (`netplus-db restore list` / `cleanup`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from netplus_db.config import Target
from netplus_db.connection import MAINTENANCE_DB, connect, drop_database, ensure_server_started
from netplus_db.ops import restore_leftovers
from netplus_db.ops.archive_crypto import BackupKey
from netplus_db.ops.archive_loading import (
    Verified,
    load,
    prepare,
    stamped_scratch_database,
    validate,
    verify,
)
from netplus_db.ops.archives import BackupError, Kind, Manifest, derived_name
from netplus_db.ops.backup import DumpOptions, backup
from netplus_db.ops.interrupts import Terminated, pause_point, signals_interrupt
from netplus_db.ops.progress import LiveLine
from netplus_db.sql import sql_files
from netplus_db.types import Progress

PROTECTED = frozenset({MAINTENANCE_DB, "template0", "template1"})
SWAP_ATTEMPTS = 3  # a rename waits up to 5 s itself for the sessions being ended to go


class RestoreError(BackupError):
    """A restore was refused or its swap failed; the target database is as it was."""


@dataclass(frozen=True)
class SessionGroup:
    """Sessions connected to a database by one role, application and client."""

    role: str
    application: str
    client: str
    sessions: int

    def describe(self) -> str:
        """`2 x app_user via netplus-api from 10.0.0.5`."""
        return f"{self.sessions} x {self.role} via {self.application} from {self.client}"

    def as_json(self) -> dict[str, Any]:
        """The group as a JSON object."""
        return {
            "role": self.role,
            "application": self.application,
            "client": self.client,
            "sessions": self.sessions,
        }


@dataclass(frozen=True)
class Restored:
    """What a restore did."""

    database: str
    kind: Kind
    manifest: Manifest | None
    previous: str | None  # the old database's new name; None when there was none
    dropped_previous: bool
    sessions: list[SessionGroup] = field(default_factory=list)  # connected before the swap
    sessions_ended: int = 0
    safety_backup: Verified | None = None


def _silent(_message: str) -> None:
    pass


def _yes(_question: str) -> bool:
    return True


def sessions_on(target: Target) -> list[SessionGroup]:
    """Who is connected to the target's database now, grouped by role, application, client."""
    with connect(target.with_dbname(MAINTENANCE_DB), autocommit=True) as conn:
        rows = sql_files().backup.sessions_by_client(conn, datname=target.dbname)
        return [SessionGroup(str(r), str(a), str(c), int(n)) for r, a, c, n in rows]


def describe_sessions(groups: list[SessionGroup]) -> str:
    """`3 sessions (2 x app via api from 10.0.0.5, 1 x postgres via psql from local socket)`."""
    total = sum(g.sessions for g in groups)
    if not total:
        return "no sessions"
    shown = ", ".join(g.describe() for g in groups[:5])
    more = f", and {len(groups) - 5} more groups" if len(groups) > 5 else ""
    return f"{total} session{'s' if total != 1 else ''} ({shown}{more})"


def restore(
    target: Target,
    path: Path,
    *,
    drop_old: bool = False,
    no_owner: bool = False,
    confirm: Callable[[str], bool] = _yes,
    migrations_dir: Path | None = None,
    jobs: int = 1,
    key: BackupKey | None = None,
    backup_first: Path | None = None,
    report: Progress = _silent,
    live: LiveLine | None = None,
    now: datetime | None = None,
) -> Restored:
    """Restore a backup file into the target database (see the module docstring).

    `confirm` is asked, with the sessions that will be ended, before an existing database is
    replaced; False cancels, and the scratch database is dropped. `backup_first` (a
    directory) takes and verifies a full backup of the live target before the swap. Raises
    ArchiveError for an unusable file, RestoreError when refused, ClientToolError when
    pg_restore/psql is missing or too old.
    """
    target = ensure_server_started(target)
    if target.dbname in PROTECTED:
        raise RestoreError(f"refusing to restore over the {target.dbname} database")
    when = now or datetime.now(UTC)
    try:
        with signals_interrupt():
            _warn_about_leftovers(target, report)
            prepared = prepare(target, path, report, key=key)
            with stamped_scratch_database(target, "restore", when, report, path) as scratch:
                pause_point("load", report)
                load(
                    prepared,
                    scratch,
                    report,
                    no_owner=no_owner,
                    migrations_dir=migrations_dir,
                    jobs=jobs,
                    live=live,
                )
                pause_point("validate", report)
                validate(prepared, scratch, report)
                groups = _confirm(target, path, prepared.kind, drop_old, backup_first, confirm)
                safety = _safety_backup(target, backup_first, migrations_dir, report)
                previous, ended = swap_in(target, scratch.dbname, when, report)
    except Terminated as exc:
        raise RestoreError(
            f"restore of {path} {exc}: it cleaned up after itself (its scratch database is "
            f"dropped) and {target.dbname} accepts connections; `netplus-db restore list` "
            "shows what is left"
        ) from None
    dropped = bool(previous and drop_old and drop_database(target.with_dbname(previous)))
    if dropped:
        report(f"dropped the previous database {previous}")
    return Restored(
        target.dbname, prepared.kind, prepared.manifest, previous, dropped, groups, ended, safety
    )


def _warn_about_leftovers(target: Target, report: Progress) -> None:
    """Say when earlier restores of this database were interrupted and left databases."""
    left = [
        item
        for item in restore_leftovers.list_leftovers(target, target.dbname)
        if item.state == "abandoned"
    ]
    if left:
        names = ", ".join(item.name for item in left)
        report(
            f"warning: {len(left)} database(s) left by interrupted restores or verifies of "
            f"{target.dbname}, each with a copy of its data: {names}; "
            "see `netplus-db restore list`, remove with `netplus-db restore cleanup`"
        )


def _confirm(
    target: Target,
    path: Path,
    kind: Kind,
    drop_old: bool,
    backup_first: Path | None,
    confirm: Callable[[str], bool],
) -> list[SessionGroup]:
    """Ask before replacing an existing database, naming the sessions that will be ended."""
    with connect(target.with_dbname(MAINTENANCE_DB), autocommit=True) as conn:
        exists = bool(sql_files().server.database_exists(conn, datname=target.dbname))
    if not exists:
        return []
    groups = sessions_on(target)
    fate = "dropped" if drop_old else "kept under a new name (<db>__old_<UTC>)"
    first = f"; a verified backup of it goes to {backup_first} first" if backup_first else ""
    question = (
        f"Replace database {target.dbname!r} on {target.host} with the {kind} backup "
        f"{path.name}? {describe_sessions(groups).capitalize()} connected to it will be "
        f"ended; the current database is {fate}{first}."
    )
    if not confirm(question):
        raise RestoreError(f"restore of {path} not confirmed; {target.dbname} is unchanged")
    return groups


def _safety_backup(
    target: Target, directory: Path | None, migrations_dir: Path | None, report: Progress
) -> Verified | None:
    """A full backup of the live target, proven by a restore, before it is replaced."""
    if directory is None:
        return None
    with connect(target.with_dbname(MAINTENANCE_DB), autocommit=True) as conn:
        if not sql_files().server.database_exists(conn, datname=target.dbname):
            report(f"no backup first: {target.dbname} does not exist yet")
            return None
    taken = backup(target, "full", directory, options=DumpOptions(), report=report)
    proven = verify(target, taken.path, migrations_dir=migrations_dir, report=report)
    report(f"backup of the live {target.dbname} taken and verified: {taken.path}")
    return proven


# --- the swap ---------------------------------------------------------------------------------


def swap_in(
    target: Target, scratch: str, when: datetime, report: Progress
) -> tuple[str | None, int]:
    """Give database `scratch` the target's name, in one transaction; returns the old
    database's new name (None when there was none) and how many sessions were ended."""
    started = time.perf_counter()
    with connect(target.with_dbname(MAINTENANCE_DB), autocommit=True) as conn:
        q = sql_files()
        q.backup.terminate_sessions(conn, datname=scratch)
        if not q.server.database_exists(conn, datname=target.dbname):
            pause_point("swap", report)
            with conn.transaction():
                _rename(conn, scratch, target.dbname)
                restore_leftovers.set_comment(conn, target.dbname, None)
            report(f"restored database is now {target.dbname} (there was none before)")
            return None, 0
        old = _free_name(conn, derived_name(target.dbname, "old", when))
        comment = q.backup.database_comment(conn, datname=target.dbname)
        for attempt in range(1, SWAP_ATTEMPTS + 1):
            try:
                with conn.transaction():
                    ended = _rename_away(conn, target, old)
                    pause_point("swap", report)
                    _rename(conn, scratch, target.dbname)
                    _copy_owner(conn, old, target.dbname, report)
                    restore_leftovers.set_comment(conn, target.dbname, comment)
                    restore_leftovers.record(conn, old, "old", target.dbname, None)
                break
            except psycopg.errors.ObjectInUse as exc:
                if attempt == SWAP_ATTEMPTS:
                    raise RestoreError(
                        f"sessions on {target.dbname} kept coming back while it was being "
                        f"replaced ({exc.diag.message_primary}); nothing was swapped and "
                        f"{target.dbname} is unchanged"
                    ) from None
    report(
        f"swapped: restored database is now {target.dbname}; the previous one is {old}; "
        f"{ended} session(s) ended ({time.perf_counter() - started:.2f}s)"
    )
    return old, ended


def _rename_away(conn: psycopg.Connection[Any], target: Target, new_name: str) -> int:
    """Rename the target inside the open transaction while another connection ends its
    sessions; returns how many were ended. New sessions wait on the rename's lock, and once
    it commits find their database renamed."""
    stop = threading.Event()
    ended: set[int] = set()
    errors: list[BaseException] = []

    def terminate() -> None:
        try:
            with connect(target.with_dbname(MAINTENANCE_DB), autocommit=True) as killer:
                while not stop.is_set():
                    q = sql_files().backup
                    pids = q.terminate_sessions_returning_pids(killer, datname=target.dbname)
                    ended.update(int(pid) for pid, signalled in pids if signalled)
                    stop.wait(0.02)
        except BaseException as exc:  # reported after the rename
            errors.append(exc)

    thread = threading.Thread(target=terminate, name="end-sessions", daemon=True)
    thread.start()
    try:
        _rename(conn, target.dbname, new_name)
    finally:
        stop.set()
        thread.join()
    if errors:
        raise RestoreError(f"could not end the sessions on {target.dbname}: {errors[0]}")
    return len(ended)


def _copy_owner(conn: psycopg.Connection[Any], source: str, dest: str, report: Progress) -> None:
    """Give the restored database the owner of the one it replaces (it owns schema public)."""
    q = sql_files()
    owner = q.backup.database_owner(conn, datname=source)
    if owner is None or owner == q.backup.database_owner(conn, datname=dest):
        return
    try:
        with conn.transaction():  # a savepoint: a refusal must not undo the swap
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


def _free_name(conn: psycopg.Connection[Any], base: str) -> str:
    """`base`, or `base_2`, `base_3`... when a database of that name exists."""
    name, counter = base, 2
    while sql_files().server.database_exists(conn, datname=name):
        name, counter = f"{base}_{counter}", counter + 1
    return name
