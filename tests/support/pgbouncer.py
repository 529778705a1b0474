"""PgBouncer in front of the session's test server: Debian's program, our own processes.

`pgbouncer_transaction` and `pgbouncer_session` (session scope) are PgBouncers in transaction
and session pooling modes, each on its own loopback port with its own configuration, forwarding
every database of the test server; `bouncer_target(bouncer, db)` reaches a test's database
through one. Missing pgbouncer skips, or fails under NETPLUS_TEST_REQUIRE=pgbouncer.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from netplus_db.config import Target
from netplus_db.errors import NetplusError
from netplus_db.ops import pgbouncer
from netplus_db.testing import TestServer

from .components import missing

# Server connections per database and user: fewer than the clients the tests run, so
# transactions of different clients share server connections, as in production.
POOL_SIZE = 3


def _start(server: TestServer, mode: str) -> Iterator[pgbouncer.PgBouncer]:
    try:
        manager = pgbouncer.running(server.admin, pool_mode=mode, pool_size=POOL_SIZE)
        bouncer = manager.__enter__()
    except NetplusError as exc:
        missing("pgbouncer", str(exc))
    try:
        yield bouncer
    finally:
        manager.__exit__(None, None, None)


@pytest.fixture(scope="session")
def pgbouncer_transaction(server: TestServer) -> Iterator[pgbouncer.PgBouncer]:
    """A PgBouncer in transaction pooling mode in front of the test server."""
    yield from _start(server, "transaction")


@pytest.fixture(scope="session")
def pgbouncer_session(server: TestServer) -> Iterator[pgbouncer.PgBouncer]:
    """A PgBouncer in session pooling mode in front of the test server."""
    yield from _start(server, "session")


def bouncer_target(bouncer: pgbouncer.PgBouncer, db: Target) -> Target:
    """The test's database `db`, reached through `bouncer`."""
    return bouncer.target(db.dbname)
