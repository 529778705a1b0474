"""The suite's database fixtures, on top of the `netplus_db.testing` plugin backend teams use.

The plugin starts one real PostgreSQL per test session (embedded unless
`NETPLUS_TEST_BACKEND` / `--netplus-backend` names another) and keeps a migrated template;
these fixtures give the suite's tests their short names and add what only this suite needs
(an empty database, a superuser connection, a database shared by one module).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from netplus_db.config import Target
from netplus_db.connection import connect, create_database, drop_database
from netplus_db.testing import TestServer, fresh_name

__all__ = ["MIGRATIONS", "REPO", "Server", "fresh_name"]

REPO = Path(__file__).resolve().parent.parent.parent
MIGRATIONS = REPO / "migrations"
Server = TestServer


@pytest.fixture(scope="session")
def server(netplus_server: TestServer) -> TestServer:
    """The session's PostgreSQL server."""
    return netplus_server


@pytest.fixture(scope="session")
def template(netplus_template: str) -> str:
    """A database migrated to the newest version, cloned for every test that needs one."""
    return netplus_template


@pytest.fixture
def db(netplus_target: Target) -> Target:
    """A fully migrated database of this test's own (a clone of the template)."""
    return netplus_target


@pytest.fixture
def empty_db(server: TestServer) -> Iterator[Target]:
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
def shared(server: TestServer, template: str) -> Iterator[psycopg.Connection[Any]]:
    """A migrated database shared by one test module, on a non-autocommit connection.

    Creating a database per test costs tens of milliseconds, so modules with many small
    data-level cases share one and roll back after each test (`tx`); tests that need commits
    or several connections use `db`/`conn` instead.
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
