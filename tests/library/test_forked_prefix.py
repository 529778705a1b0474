"""A process forked after import (as a mutation tool runs each mutant's tests) names its
databases with its own pid, so siblings sharing one server never drop each other's."""

from __future__ import annotations

import os

import pytest

from netplus_db.testing import fresh_name, servers


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_process_takes_its_own_database_prefix() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its prefix and a fresh name, then leave at once
        os.close(read)
        os.write(write, f"{servers.PREFIX} {fresh_name('x')}".encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        prefix, name = pipe.read().split()
    os.waitpid(pid, 0)
    assert prefix == f"npt_{pid}_" and name.startswith(prefix)
    assert f"npt_{os.getpid()}_" == servers.PREFIX and fresh_name("x").startswith(servers.PREFIX)
