"""The migration runner: one type, `Migrator`, applies and rolls back migrations safely.

Guarantees:
- each migration and its ledger row commit in one transaction on one connection
  (`-- migrate:up transaction:false` files run statement by statement, then write the row);
- one runner at a time per database: a session advisory lock, polled with
  `pg_try_advisory_lock` under a timeout (a blocking wait deadlocks with CREATE INDEX
  CONCURRENTLY), released when the connection closes, whatever happens;
- never through a pooler that moves the runner between server sessions (PgBouncer in
  transaction mode): checked before the lock is taken and before each migration
  (migrate/pooler.py), refused with SessionNotKept;
- DDL never queues for ever behind a long transaction: `lock_timeout` bounds every wait;
- the files are validated against the ledger before anything runs: a malformed file, an
  edited or deleted applied migration, or an out-of-order one stops the run;
- every apply, rollback and baseline is added to the event history
  (`netplus.schema_migration_events`: who, from where, when, how long, which checksum) in the
  same transaction; a ledger from before the history is upgraded in place.
"""

from __future__ import annotations

import getpass
import hashlib
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import psycopg

from netplus_db.config import Target
from netplus_db.connection import (
    catalog_connection,
    connect,
    create_database,
    database_exists,
    require_supported_server,
    server_version,
)
from netplus_db.data_files import data_dir
from netplus_db.errors import (
    ChecksumMismatch,
    MigrationFailed,
    MigrationLockTimeout,
    MigrationStateError,
    MissingMigrationFile,
    OutOfOrderMigration,
    UnknownVersion,
)
from netplus_db.migrate.files import (
    MARKER,
    MarkerOptions,
    Migration,
    Section,
    Statement,
    load_directory,
    marker_options,
)
from netplus_db.migrate.pooler import require_lock, require_pinned
from netplus_db.sql import sql_files
from netplus_db.types import Progress

APPLICATION_NAME = "netplus-db migrate"
TOOL = "netplus-db"
LOCK_KEY = int.from_bytes(hashlib.sha256(b"netplus-db migrations").digest()[:8], "big", signed=True)


def default_migrations_dir() -> Path:
    """`migrations/` of a checkout, else the copy shipped inside the installed wheel."""
    return data_dir("migrations")


class State(StrEnum):
    """Where one migration stands."""

    APPLIED = "applied"
    PENDING = "pending"
    EDITED = "checksum_mismatch"
    MISSING_FILE = "missing_file"
    OUT_OF_ORDER = "out_of_order"


@dataclass(frozen=True)
class Applied:
    """A ledger row."""

    version: int
    name: str
    checksum: str
    applied_at: datetime
    applied_by: str
    duration_ms: int
    source: str
    down_sql: str
    down_transaction: bool


@dataclass(frozen=True)
class Status:
    """One line of `migrate status`: a file, a ledger row, or both."""

    version: int
    name: str
    state: State
    path: Path | None
    applied: Applied | None

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict (timestamps in ISO 8601)."""
        return {
            "version": self.version,
            "name": self.name,
            "state": self.state.value,
            "file": str(self.path) if self.path else None,
            "applied_at": self.applied.applied_at.isoformat() if self.applied else None,
            "applied_by": self.applied.applied_by if self.applied else None,
            "duration_ms": self.applied.duration_ms if self.applied else None,
        }


@dataclass(frozen=True)
class MigrationRun:
    """A migration applied or rolled back, and how long it took."""

    version: int
    name: str
    direction: str
    duration_ms: int

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "version": self.version,
            "name": self.name,
            "direction": self.direction,
            "duration_ms": self.duration_ms,
        }


@dataclass(frozen=True)
class Event:
    """One line of the event history: an apply, rollback, baseline, or an imported old row."""

    id: int
    version: int
    name: str
    action: str
    checksum: str
    happened_at: datetime
    duration_ms: int | None
    db_user: str
    session_user: str
    client_addr: str
    application_name: str
    os_user: str | None
    client_hostname: str | None
    tool: str | None

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict (timestamps in ISO 8601)."""
        return {
            "id": self.id,
            "version": self.version,
            "name": self.name,
            "action": self.action,
            "checksum": self.checksum,
            "happened_at": self.happened_at.isoformat(),
            "duration_ms": self.duration_ms,
            "db_user": self.db_user,
            "session_user": self.session_user,
            "client_addr": self.client_addr,
            "application_name": self.application_name,
            "os_user": self.os_user,
            "client_hostname": self.client_hostname,
            "tool": self.tool,
        }


class Migrator:
    """Applies, rolls back and inspects the migrations of one directory on one target database."""

    def __init__(
        self,
        target: Target,
        migrations_dir: Path | None = None,
        *,
        lock_wait_seconds: float = 60.0,
        ddl_lock_timeout: str = "10s",
        allow_out_of_order: bool = False,
        report: Progress | None = None,
    ) -> None:
        self.target = target
        self.migrations_dir = migrations_dir or default_migrations_dir()
        self.lock_wait_seconds = lock_wait_seconds
        self.ddl_lock_timeout = ddl_lock_timeout
        self.allow_out_of_order = allow_out_of_order
        self.report: Progress = report or (lambda _message: None)

    # --- reading -----------------------------------------------------------------------------

    def migrations(self) -> list[Migration]:
        """Parse every file (all or nothing: MigrationSetError lists each malformed one)."""
        return load_directory(self.migrations_dir)

    def status(self) -> list[Status]:
        """Every migration known to the files or the ledger, by version, with its state
        (all pending when the database does not exist: see `database_exists`)."""
        files = self.migrations()
        applied = self._read_ledger() if database_exists(self.target) else []
        return _compare(files, applied)

    def database_exists(self) -> bool:
        """True when the target database exists on its server."""
        return database_exists(self.target)

    def has_ledger(self) -> bool:
        """True when the target database exists and holds the migration ledger."""
        if not database_exists(self.target):
            return False
        with catalog_connection(self.target) as conn:
            return bool(sql_files().ledger.exists(conn))

    def history(self, limit: int = 1000) -> list[Event]:
        """The newest `limit` events (apply, rollback, baseline), oldest first; a ledger from
        before the event history shows its rows as `imported` (it is not changed here)."""
        if not database_exists(self.target):
            return []
        q = sql_files()
        with catalog_connection(self.target) as conn:
            if not q.ledger.exists(conn):
                return []
            if q.ledger.events_exist(conn):
                return [Event(*row) for row in q.ledger.events(conn, max_rows=limit)]
            rows = self._ledger(conn)[-limit:]
        return [
            Event(
                0,
                a.version,
                a.name,
                "imported",
                a.checksum,
                a.applied_at,
                a.duration_ms,
                a.applied_by,
                "",
                "",
                "",
                None,
                None,
                "ledger row from before the event history",
            )
            for a in rows
        ]

    def problems(self) -> list[MigrationStateError]:
        """What stops `up`: edited or deleted applied files, out-of-order pending ones."""
        return self._problems(self.status())

    def _problems(self, statuses: list[Status]) -> list[MigrationStateError]:
        found: list[MigrationStateError] = []
        for s in statuses:
            if s.state is State.EDITED and s.applied is not None and s.path is not None:
                line = _first_changed_line(s.applied.source, s.path.read_bytes().decode())
                found.append(
                    ChecksumMismatch(
                        f"{s.path}:{line}: edited after it was applied on "
                        f"{s.applied.applied_at:%Y-%m-%d %H:%M:%S %Z} by {s.applied.applied_by} "
                        f"(first changed line {line}); restore the file and put the change in "
                        "a new migration"
                    )
                )
            elif s.state is State.MISSING_FILE:
                expected = self.migrations_dir / f"{s.version:04d}_{s.name}.sql"
                found.append(
                    MissingMigrationFile(
                        f"{expected}:1: migration {s.version} ({s.name}) is applied but its file "
                        "is gone; restore it from version control"
                    )
                )
            elif s.state is State.OUT_OF_ORDER and not self.allow_out_of_order and s.path:
                newest = max(x.version for x in statuses if x.applied)
                found.append(
                    OutOfOrderMigration(
                        f"{s.path}:1: version {s.version} is not applied but {newest} is; "
                        "renumber it after the newest, or pass --allow-out-of-order"
                    )
                )
        return found

    # --- writing -----------------------------------------------------------------------------

    def up(self, *, to: int | None = None, dry_run: bool = False) -> list[MigrationRun]:
        """Apply pending migrations in order (up to and including `to`)."""
        files = self.migrations()
        if to is not None and to not in {m.version for m in files}:
            raise UnknownVersion(f"--to {to}: no migration file has version {to}")
        if dry_run:
            applied = self._read_ledger() if database_exists(self.target) else []
            plan = self._plan_up(files, applied, to)
            for m in plan:
                self.report(f"would apply {m.label}")
            return [MigrationRun(m.version, m.name, "up", 0) for m in plan]
        with catalog_connection(self.target, maintenance=True) as conn:
            require_supported_server(*server_version(conn))
        if create_database(self.target):
            self.report(
                f"created database {self.target.dbname}: it did not exist on host "
                f"{self.target.host} port {self.target.port} (check the name if that is a "
                "surprise)"
            )
        steps: list[MigrationRun] = []
        with self._locked() as conn:
            sql_files().ledger.create(conn)
            plan = self._plan_up(files, self._ledger(conn), to)
            if not plan:
                self.report("nothing to apply: the database is up to date")
            for number, m in enumerate(plan, start=1):
                if len(plan) > 1:
                    self.report(f"[{number}/{len(plan)}] applying {m.label}…")
                require_lock(conn, self.target, LOCK_KEY)
                steps.append(self._apply(conn, m))
                self._eta(steps, len(plan))
        return steps

    def mark_applied(self, files: list[Migration]) -> list[MigrationRun]:
        """Record `files` as applied without running them (`migrate baseline`, after its
        schema check), each with a `baseline` event; refuses a database whose ledger already
        has rows."""
        steps: list[MigrationRun] = []
        with self._locked() as conn:
            sql_files().ledger.create(conn)
            if self._ledger(conn):
                raise MigrationStateError(
                    f"database {self.target.dbname} already has applied migrations in its "
                    "ledger; baseline is for a database that has none"
                )
            with conn.transaction():
                for m in files:
                    record = self._record(conn, m)
                    sql_files().ledger.record_applied(conn, duration_ms=0, **record)
                    self._event(conn, m.version, m.name, "baseline", m.checksum, 0)
                    steps.append(MigrationRun(m.version, m.name, "baseline", 0))
        for m in files:
            self.report(f"marked {m.label} as applied (baseline)")
        return steps

    def _eta(self, done: list[MigrationRun], total: int) -> None:
        line = pace([s.duration_ms for s in done], total)
        if line is not None:
            self.report(line)

    def down(
        self, *, steps: int | None = None, to: int | None = None, dry_run: bool = False
    ) -> list[MigrationRun]:
        """Roll back the newest `steps` migrations (default 1), or all newer than `to`."""
        files = self.migrations()
        if steps is not None and to is not None:
            raise ValueError("give either steps or to, not both")
        if steps is not None and steps < 1:
            raise ValueError("steps must be at least 1")
        if dry_run:
            applied = self._read_ledger() if database_exists(self.target) else []
            plan = self._plan_down(files, applied, steps, to)
            for a in plan:
                self.report(f"would roll back {a.version:04d}_{a.name}")
            return [MigrationRun(a.version, a.name, "down", 0) for a in plan]
        done: list[MigrationRun] = []
        with self._locked() as conn:
            sql_files().ledger.create(conn)
            plan = self._plan_down(files, self._ledger(conn), steps, to)
            if not plan:
                self.report("nothing to roll back")
            for number, a in enumerate(plan, start=1):
                if len(plan) > 1:
                    self.report(f"[{number}/{len(plan)}] rolling back {a.version:04d}_{a.name}…")
                require_lock(conn, self.target, LOCK_KEY)
                done.append(self._rollback(conn, a))
                self._eta(done, len(plan))
        return done

    def plan_down(self, *, steps: int | None = None, to: int | None = None) -> list[Applied]:
        """What `down` would roll back, newest first, without changing anything (for a
        confirmation prompt)."""
        applied = self._read_ledger() if database_exists(self.target) else []
        return self._plan_down(self.migrations(), applied, steps, to)

    # --- planning ----------------------------------------------------------------------------

    def _plan_up(
        self, files: list[Migration], applied: list[Applied], to: int | None
    ) -> list[Migration]:
        self._raise_problems(_compare(files, applied))
        done = {a.version for a in applied}
        return [m for m in files if m.version not in done and (to is None or m.version <= to)]

    def _plan_down(
        self, files: list[Migration], applied: list[Applied], steps: int | None, to: int | None
    ) -> list[Applied]:
        self._raise_problems(_compare(files, applied))
        newest_first = sorted(applied, key=lambda a: a.version, reverse=True)
        if to is not None:
            if to != 0 and to not in {a.version for a in applied}:
                raise UnknownVersion(f"--to {to}: version {to} is not applied (0 rolls back all)")
            return [a for a in newest_first if a.version > to]
        return newest_first[: steps or 1]

    def _raise_problems(self, statuses: list[Status]) -> None:
        problems = self._problems(statuses)
        if problems:
            detail = "\n".join(f"  {p}" for p in problems)
            error = (
                type(problems[0]) if len({type(p) for p in problems}) == 1 else MigrationStateError
            )
            raise error(f"the migrations on disk disagree with the database:\n{detail}")

    # --- running -----------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[psycopg.Connection[Any]]:
        conn = connect(self.target, autocommit=True, application_name=APPLICATION_NAME)
        try:
            require_pinned(conn, self.target, APPLICATION_NAME)
            # No statement_timeout unless a section sets its own (docs/migrations.md), even
            # where the database or role sets one for its applications: the same before a
            # transaction:false section as after it, which resets to this.
            sql_files().ledger.set_statement_timeout(conn, timeout="0")
            self._acquire(conn)
            yield conn
        finally:
            conn.close()  # also releases the session advisory lock

    def _acquire(self, conn: psycopg.Connection[Any]) -> None:
        """Take the migration lock, polling every 0.1 s until `lock_wait_seconds` have passed;
        a wait is reported once, naming who holds the lock."""
        q = sql_files().ledger
        deadline = time.monotonic() + self.lock_wait_seconds
        if q.try_lock(conn, key=LOCK_KEY):
            return
        held = q.lock_holders(conn, key=LOCK_KEY)
        holders = ", ".join(f"pid {r[0]} from {r[1]}" for r in held)
        self.report(f"waiting for another migration runner ({holders or 'unknown'})")
        while time.monotonic() < deadline:
            time.sleep(0.1)
            if q.try_lock(conn, key=LOCK_KEY):
                return
        raise MigrationLockTimeout(
            f"another migration runner held the lock on {self.target.dbname} for more "
            f"than {self.lock_wait_seconds:g}s; nothing was applied"
        )

    def _record(self, conn: psycopg.Connection[Any], m: Migration) -> dict[str, Any]:
        return {
            "version": m.version,
            "name": m.name,
            "checksum": m.checksum,
            "applied_by": _applied_by(conn),
            "source": m.source,
            "down_sql": m.down.sql,
            "down_transaction": m.down.transaction,
        }

    def _event(
        self,
        conn: psycopg.Connection[Any],
        version: int,
        name: str,
        action: str,
        checksum: str,
        duration_ms: int,
    ) -> None:
        sql_files().ledger.record_event(
            conn,
            version=version,
            name=name,
            action=action,
            checksum=checksum,
            duration_ms=duration_ms,
            os_user=_os_user(),
            client_hostname=socket.gethostname(),
            tool=TOOL,
        )

    def _apply(self, conn: psycopg.Connection[Any], m: Migration) -> MigrationRun:
        started = time.perf_counter()
        record = self._record(conn, m)
        if m.up.transaction:
            with conn.transaction():
                self._set_local_timeouts(conn, m.up)
                self._run(conn, m.path, m.up)
                ms = _elapsed_ms(started)
                sql_files().ledger.record_applied(conn, duration_ms=ms, **record)
                self._event(conn, m.version, m.name, "up", m.checksum, ms)
        else:
            self._run_outside_transaction(conn, m.path, m.up)
            ms = _elapsed_ms(started)
            with conn.transaction():
                sql_files().ledger.record_applied(conn, duration_ms=ms, **record)
                self._event(conn, m.version, m.name, "up", m.checksum, ms)
        self.report(f"applied {m.label} ({ms} ms)")
        return MigrationRun(m.version, m.name, "up", ms)

    def _set_local_timeouts(self, conn: psycopg.Connection[Any], section: Section) -> None:
        """The section's own lock_timeout (else --lock-timeout) and statement_timeout, for
        its transaction only."""
        q = sql_files().ledger
        q.set_local_lock_timeout(conn, timeout=section.lock_timeout or self.ddl_lock_timeout)
        if section.statement_timeout:
            q.set_local_statement_timeout(conn, timeout=section.statement_timeout)

    def _rollback(self, conn: psycopg.Connection[Any], a: Applied) -> MigrationRun:
        started = time.perf_counter()
        path = self.migrations_dir / f"{a.version:04d}_{a.name}.sql"
        down_line, options = _down_marker(path, a.source)
        section = Section(
            a.down_sql,
            down_line,
            a.down_transaction,
            options.lock_timeout,
            options.statement_timeout,
        )
        if section.is_empty:
            raise MigrationFailed(
                path,
                down_line,
                "the down section is empty: this migration cannot be rolled back",
                None,
            )
        if section.transaction:
            with conn.transaction():
                self._set_local_timeouts(conn, section)
                self._run(conn, path, section)
                sql_files().ledger.forget_applied(conn, version=a.version)
                ms = _elapsed_ms(started)
                self._event(conn, a.version, a.name, "down", a.checksum, ms)
        else:
            self._run_outside_transaction(conn, path, section)
            ms = _elapsed_ms(started)
            with conn.transaction():
                sql_files().ledger.forget_applied(conn, version=a.version)
                self._event(conn, a.version, a.name, "down", a.checksum, ms)
        self.report(f"rolled back {a.version:04d}_{a.name} ({ms} ms)")
        return MigrationRun(a.version, a.name, "down", ms)

    def _run(self, conn: psycopg.Connection[Any], path: Path, section: Section) -> None:
        for statement in section.statements:
            self._execute(conn, path, statement, section)

    def _run_outside_transaction(
        self, conn: psycopg.Connection[Any], path: Path, section: Section
    ) -> None:
        q = sql_files().ledger
        q.set_lock_timeout(conn, timeout=section.lock_timeout or self.ddl_lock_timeout)
        if section.statement_timeout:
            q.set_statement_timeout(conn, timeout=section.statement_timeout)
        statements = section.statements
        try:
            for number, statement in enumerate(statements, start=1):
                try:
                    self._execute(conn, path, statement, section)
                except MigrationFailed as exc:
                    raise MigrationFailed(
                        path,
                        exc.line,
                        f"{exc.problem} — this section runs outside a transaction: statements 1 to "
                        f"{number - 1} of {len(statements)} stay applied and the ledger was not "
                        "updated; make the statements idempotent (IF NOT EXISTS) and re-run",
                        exc.sqlstate,
                    ) from None
        finally:
            if not conn.closed:
                # equivalent for mutation testing: every later section sets its own lock_timeout,
                # so "0" or NULL (the session's default) reaches only the ledger write, which
                # waits on no lock: the advisory lock keeps other runners off the ledger
                q.set_lock_timeout(conn, timeout="0")  # pragma: no mutate
                q.set_statement_timeout(conn, timeout="0")

    def _execute(
        self, conn: psycopg.Connection[Any], path: Path, statement: Statement, section: Section
    ) -> None:
        try:
            conn.execute(statement.sql)
        except psycopg.Error as exc:
            lock_timeout = section.lock_timeout or self.ddl_lock_timeout
            raise _failure(
                path, statement, exc, lock_timeout, section.statement_timeout, self.target
            ) from None

    def _ledger(self, conn: psycopg.Connection[Any]) -> list[Applied]:
        return [Applied(*row) for row in sql_files().ledger.applied_migrations(conn)]

    def _read_ledger(self) -> list[Applied]:
        with catalog_connection(self.target) as conn:
            if not sql_files().ledger.exists(conn):
                return []
            return self._ledger(conn)


def _compare(files: list[Migration], applied: list[Applied]) -> list[Status]:
    by_version = {m.version: m for m in files}
    ledger = {a.version: a for a in applied}
    newest = max(ledger, default=0)
    statuses: list[Status] = []
    for version in sorted(by_version.keys() | ledger.keys()):
        m, a = by_version.get(version), ledger.get(version)
        if m and a:
            state = State.APPLIED if m.checksum == a.checksum else State.EDITED
            statuses.append(Status(version, m.name, state, m.path, a))
        elif m:
            state = State.OUT_OF_ORDER if version < newest else State.PENDING
            statuses.append(Status(version, m.name, state, m.path, None))
        elif a:
            statuses.append(Status(version, a.name, State.MISSING_FILE, None, a))
    return statuses


def _failure(
    path: Path,
    statement: Statement,
    exc: psycopg.Error,
    lock_timeout: str,
    statement_timeout: str | None,
    target: Target,
) -> MigrationFailed:
    diag = exc.diag
    line = statement.line
    position = diag.statement_position
    if position and position.isdigit():
        before = statement.sql[: int(position) - 1]
        line += before.count("\n") - _leading_blank_or_comment(statement.sql)
    message = (diag.message_primary or str(exc)).strip()
    if diag.message_detail:
        message += f" ({diag.message_detail})"
    if isinstance(exc, psycopg.errors.LockNotAvailable):
        message += (
            f"; waited {lock_timeout} for a lock held by another transaction. "
            "Nothing of this migration was applied; retry when that transaction ends, "
            "or raise --lock-timeout (or the file's lock_timeout: marker option)"
        )
    elif isinstance(exc, psycopg.errors.QueryCanceled) and statement_timeout:
        message += (
            f"; the statement ran longer than the migration's statement_timeout:"
            f"{statement_timeout} and its transaction was rolled back"
        )
    elif isinstance(exc, psycopg.OperationalError):
        message += "; the connection was lost and the server rolled the transaction back"
    else:
        message += "; the migration's transaction was rolled back"
    return MigrationFailed(path, line, target.redact(message), diag.sqlstate)


def pace(durations_ms: list[int], total: int) -> str | None:
    """`3 left; about 0.9 s more at the pace so far` after the steps that took `durations_ms`
    of `total`; None when there is nothing worth saying (no step done, none left, or a run of
    two steps or fewer)."""
    left = total - len(durations_ms)
    if not left or not durations_ms or total <= 2:
        return None
    per_step = sum(durations_ms) / len(durations_ms) / 1000
    return f"{left} left; about {per_step * left:.1f} s more at the pace so far"


def _leading_blank_or_comment(sql: str) -> int:
    count = 0
    for line in sql.splitlines():
        if line.strip() and not line.strip().startswith("--"):
            break
        count += 1
    return count


def _first_changed_line(old: str, new: str) -> int:
    """The first line that differs, or the line after the shorter text when one text is the
    start of the other."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    shorter = min(len(old_lines), len(new_lines))
    for index in range(shorter):
        if old_lines[index] != new_lines[index]:
            return index + 1
    return shorter + 1


def _down_marker(path: Path, source: str) -> tuple[int, MarkerOptions]:
    """The first line of the down section and its marker's options (its timeouts), as the file
    was when applied; line 1 and no options for a source without a down marker."""
    for number, line in enumerate(source.splitlines(), start=1):
        found = MARKER.match(line.strip())
        if found and found["kind"] == "down":
            return number + 1, marker_options(path, number, found["options"])
    return 1, MarkerOptions()


def _applied_by(conn: psycopg.Connection[Any]) -> str:
    return f"{conn.info.user} ({_os_user()}@{socket.gethostname()})"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
