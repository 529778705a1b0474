"""pytest fixtures for testing a service against the real netplus-db schema.

Installed with `pip install 'netplus-db[testing]'` and registered as a pytest plugin, so the
fixtures are there in any test without an import:

    def test_signup_then_dashboard(netplus_database, netplus_learner):
        ana = netplus_learner("ana")
        with netplus_database.as_user(ana.id) as q:
            assert q.analytics.dashboard_summary(user_id=ana.id) is not None

- `netplus_server` (session): the PostgreSQL of this test session;
- `netplus_template` (session): a database migrated to the newest version (and seeded with
  the N10-009 catalog when `--netplus-seed` or the ini option `netplus_seed = true`), cloned
  for every test; `--netplus-template NAME` / `NETPLUS_TEST_TEMPLATE=NAME` clones an existing
  database of the server instead (used as it is: not migrated, not seeded, not dropped), e.g.
  one a mutation harness changed;
- `netplus_target` (test): a fresh clone of it, dropped afterwards (a `Target`);
- `netplus_database` (test): a `Database` on that clone; `netplus_async_database`: an
  `AsyncDatabase` not yet opened (`async with netplus_async_database as db:` under any
  async test runner);
- `netplus_learner` (test): `netplus_learner("ana")` registers a learner and returns the user.

The server, first that applies: `--netplus-backend` / `NETPLUS_TEST_BACKEND` (`embedded`,
`dsn`, `docker`, `binaries`), else `dsn` when `NETPLUS_TEST_DSN` is set, else `embedded`.
Docker uses `NETPLUS_TEST_IMAGE` (default `postgres:16-alpine`; any image honouring the
official image's `POSTGRES_*` variables); `binaries` uses `NETPLUS_TEST_PG_BIN`. A backend
that is named and unavailable fails the session; nothing falls back silently.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from netplus_db.config import Target
from netplus_db.connection import create_database, drop_database
from netplus_db.database import AsyncDatabase, Database
from netplus_db.generated.users import User
from netplus_db.testing import servers
from netplus_db.testing.servers import (
    BACKENDS,
    TestServer,
    TestServerError,
    test_server,
)

__all__ = ["PREFIX", "TestServer", "fresh_name"]

LEARNER_PASSWORD = "correct horse battery"
LEARNER_ROUNDS = 4  # bcrypt cost for test learners: the product uses 12, tests need speed

_counter = itertools.count()


def __getattr__(name: str) -> Any:
    """`PREFIX` is read when asked for: a process forked after import has its own."""
    if name == "PREFIX":
        return servers.PREFIX
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def fresh_name(label: str = "db") -> str:
    """A database name unique to this session (dropped with the session's server)."""
    return f"{servers.PREFIX}{label}_{next(_counter)}"


def pytest_addoption(parser: pytest.Parser) -> None:
    """The plugin's command-line and ini options."""
    group = parser.getgroup("netplus-db", "netplus-db test databases")
    group.addoption(
        "--netplus-backend",
        choices=BACKENDS,
        help="where the test server comes from (default: NETPLUS_TEST_BACKEND, else dsn when"
        " NETPLUS_TEST_DSN is set, else embedded)",
    )
    group.addoption("--netplus-dsn", help="superuser DSN for the dsn backend (NETPLUS_TEST_DSN)")
    group.addoption("--netplus-seed", action="store_true", help="seed the template database")
    group.addoption(
        "--netplus-template",
        help="clone this existing database of the server for each test instead of migrating a"
        " template (NETPLUS_TEST_TEMPLATE); it is used as it is",
    )
    parser.addini("netplus_seed", "seed the template database with the catalog", type="bool")
    parser.addini("netplus_migrations", "migrations directory (default: the package's own)")


def _backend(config: pytest.Config) -> str:
    chosen = config.getoption("netplus_backend") or os.environ.get("NETPLUS_TEST_BACKEND", "")
    if chosen:
        return str(chosen)
    return (
        "dsn"
        if (config.getoption("netplus_dsn") or os.environ.get("NETPLUS_TEST_DSN"))
        else ("embedded")
    )


@pytest.fixture(scope="session")
def netplus_server(pytestconfig: pytest.Config) -> Iterator[TestServer]:
    """The session's PostgreSQL server, on the chosen backend (see the module docstring)."""
    backend = _backend(pytestconfig)
    bin_dir = os.environ.get("NETPLUS_TEST_PG_BIN")
    try:
        with test_server(
            backend,
            dsn=pytestconfig.getoption("netplus_dsn") or os.environ.get("NETPLUS_TEST_DSN"),
            image=os.environ.get("NETPLUS_TEST_IMAGE"),
            bin_dir=Path(bin_dir) if bin_dir else None,
        ) as server:
            _note_server(server)
            yield server
    except TestServerError as exc:
        pytest.exit(f"netplus-db test server ({backend}): {exc}", returncode=4)


def _note_server(server: TestServer) -> None:
    """Append `<backend> <version>` to the file NETPLUS_TEST_REPORT names, if any: a CI script
    learns which servers its runs used (each pytest-xdist worker has its own session)."""
    report = os.environ.get("NETPLUS_TEST_REPORT")
    if report:
        with open(report, "a", encoding="utf-8") as out:
            out.write(f"{server.kind} {server.version}\n")


@pytest.fixture(scope="session")
def netplus_template(netplus_server: TestServer, pytestconfig: pytest.Config) -> str:
    """A database migrated to the newest version (seeded when asked), cloned by each test; or
    the existing database `--netplus-template` / NETPLUS_TEST_TEMPLATE names."""
    from netplus_db.migrate import Migrator

    given = pytestconfig.getoption("netplus_template") or os.environ.get("NETPLUS_TEST_TEMPLATE")
    if given:
        return str(given)

    name = fresh_name("template")
    target = netplus_server.database(name)
    migrations = pytestconfig.getini("netplus_migrations")
    Migrator(target, Path(migrations) if migrations else None).up()
    if pytestconfig.getoption("netplus_seed") or pytestconfig.getini("netplus_seed"):
        from netplus_db.ops.seed import seed_database

        seed_database(target, allow_demo_accounts=True, report=lambda _: None)
    return name


@pytest.fixture
def netplus_target(netplus_server: TestServer, netplus_template: str) -> Iterator[Target]:
    """A migrated database of this test's own (a clone of the template), dropped afterwards."""
    target = netplus_server.database(fresh_name())
    create_database(target, template=netplus_template)
    yield target
    drop_database(target)


@pytest.fixture
def netplus_database(netplus_target: Target) -> Iterator[Database]:
    """A pooled `Database` on this test's database, closed afterwards."""
    with Database(netplus_target, min_size=1, max_size=4) as db:
        yield db


@pytest.fixture
def netplus_async_database(netplus_target: Target) -> AsyncDatabase:
    """An `AsyncDatabase` on this test's database, not yet opened: `async with` it."""
    return AsyncDatabase(netplus_target, min_size=1, max_size=4)


@pytest.fixture
def netplus_learner(netplus_database: Database) -> Callable[..., User]:
    """A function that registers a learner (unique email and username) and returns it."""

    def make(name: str = "learner", **fields: Any) -> User:
        tag = uuid.uuid4().hex[:8]
        return netplus_database.register(
            email=f"{name}.{tag}@example.test",
            username=f"{name}_{tag}",
            password=fields.pop("password", LEARNER_PASSWORD),
            rounds=LEARNER_ROUNDS,
            **fields,
        )

    return make
