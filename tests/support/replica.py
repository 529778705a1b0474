"""A streaming standby of the session's test server, and a primary/standby pair of our own for
failover: built with pg_basebackup -R and pg_ctl of the server's own major (the embedded 18's
programs, Debian's /usr/lib/postgresql/15/bin, NETPLUS_PG_BIN's). Missing programs or a primary
refusing replication skip, or fail under NETPLUS_TEST_REQUIRE=replica."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.errors import NetplusError
from netplus_db.migrate import Migrator
from netplus_db.ops import standby
from netplus_db.sql import sql_files
from netplus_db.testing import TestServer

from .components import missing

CATCH_UP_TIMEOUT = 60.0  # seconds: a bound on a wait, never an assertion about speed


def caught_up(replica: standby.LocalServer, primary: Target) -> None:
    """Wait until `replica` has replayed everything `primary` has written so far."""
    with connect(primary, autocommit=True) as conn:
        wanted = int(sql_files().replica.commit_position(conn))
    deadline = time.monotonic() + CATCH_UP_TIMEOUT
    with connect(replica.target(), autocommit=True) as conn:
        while int(sql_files().replica.status(conn)[1]) < wanted:
            if time.monotonic() > deadline:
                raise AssertionError(f"the standby did not catch up within {CATCH_UP_TIMEOUT} s")
            time.sleep(0.01)


def received(replica: standby.Standby, primary: Target) -> None:
    """Wait until `replica` has received (not necessarily replayed) all `primary` wrote."""
    with connect(primary, autocommit=True) as conn:
        wanted = int(sql_files().replica.commit_position(conn))
    deadline = time.monotonic() + CATCH_UP_TIMEOUT
    while replica.received() < wanted:
        if time.monotonic() > deadline:
            raise AssertionError(f"the standby did not receive WAL within {CATCH_UP_TIMEOUT} s")
        time.sleep(0.01)


# The test servers run with synchronous_commit off: a commit's WAL then reaches a standby up
# to three wal_writer_delay later, and every read-your-writes read would wait for it. The
# routing tests' pools commit synchronously, as a production primary does.
SYNC_COMMIT: dict[str, Any] = {"kwargs": {"options": "-c synchronous_commit=on"}}


def _bin_dir(major: int) -> str:
    try:
        return str(standby.server_bin_dir(major))
    except NetplusError as exc:
        missing("replica", str(exc))


@pytest.fixture(scope="session")
def replica(server: TestServer) -> Iterator[standby.Standby]:
    """A hot standby streaming from the session's server (all its databases)."""
    bin_dir = Path(_bin_dir(server.major))
    try:
        manager = standby.streaming(server.admin, bin_dir)
        built = manager.__enter__()
    except NetplusError as exc:
        missing("replica", f"{exc} (the primary must allow replication connections)")
    try:
        yield built
    finally:
        manager.__exit__(None, None, None)


@pytest.fixture
def replica_of_db(replica: standby.Standby, db: Target) -> Target:
    """This test's database on the session's standby (waited for until it is there)."""
    caught_up(replica, db)
    return replica.target(db.dbname)


class Pair:
    """A primary of our own, migrated, and its streaming standby."""

    def __init__(self, primary: standby.LocalServer, replica: standby.Standby) -> None:
        self.primary = primary
        self.replica = replica
        self.dbname = "netplus"

    def multi_host(self) -> str:
        """The database on whichever of the two accepts writes (libpq's multi-host form)."""
        return (
            f"host=127.0.0.1,127.0.0.1 port={self.primary.port},{self.replica.port} "
            f"user=postgres dbname={self.dbname} target_session_attrs=read-write connect_timeout=2"
        )


@pytest.fixture
def failover_pair(server: TestServer) -> Iterator[Pair]:
    """A migrated primary of our own (same major as the session's server) and a standby of
    it: a test may kill the primary and promote the standby."""
    bin_dir = Path(_bin_dir(server.major))
    with ExitStack() as stack:
        try:
            primary = stack.enter_context(standby.primary_of_our_own(bin_dir))
            Migrator(primary.target("netplus")).up()
            replica = stack.enter_context(standby.streaming(primary.target(), bin_dir))
            caught_up(replica, primary.target("netplus"))
        except NetplusError as exc:
            missing("replica", str(exc))
        yield Pair(primary, replica)
