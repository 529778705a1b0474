"""The databases a backup, verify or restore derives from a test's own (`<db>__...`), and a
fixture that drops them after the test (loaded as a plugin by tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from netplus_db.config import Target
from netplus_db.connection import connect, drop_database
from netplus_db.sql import sql_files
from netplus_db.testing import TestServer


def databases(server: TestServer, db: Target, middle: str = "") -> list[str]:
    """Databases named `<db>__<middle>...` on the server."""
    pattern = (db.dbname + "__" + middle).replace("_", "\\_") + "%"
    with connect(server.admin, autocommit=True) as conn:
        return [str(name) for (name,) in sql_files().backup.databases_like(conn, pattern=pattern)]


@pytest.fixture
def derived(server: TestServer, db: Target) -> Iterator[None]:
    """Drop every `<db>__*` database (scratch, old, new targets) after the test."""
    yield
    for name in databases(server, db):
        drop_database(server.database(name))
