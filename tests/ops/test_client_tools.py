"""Finding client programs that fit a server: NETPLUS_PG_BIN adds directories, searched first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from netplus_db.errors import ClientToolError
from netplus_db.ops import client_tools


@pytest.fixture
def fresh_search() -> Iterator[None]:
    """The candidates are cached per process: forget them before and after."""
    client_tools.candidates.cache_clear()
    yield
    client_tools.candidates.cache_clear()


def fake_pg_dump(directory: Path, version: str) -> Path:
    """A program that answers --version like pg_dump of `version`."""
    directory.mkdir(parents=True)
    program = directory / "pg_dump"
    program.write_text(f"#!/bin/sh\necho 'pg_dump (PostgreSQL) {version}'\n")
    program.chmod(0o755)
    return program


def test_netplus_pg_bin_supplies_the_servers_own_major(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_search: None
) -> None:
    sixteen = fake_pg_dump(tmp_path / "a", "16.2")
    seventeen = fake_pg_dump(tmp_path / "b", "17.1 (Custom 17.1-1)")
    monkeypatch.setenv("NETPLUS_PG_BIN", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    tool = client_tools.find_tool("pg_dump", 16)
    assert (tool.path, tool.major, tool.version) == (sixteen, 16, "16.2")
    found = {t.path: t.version for t in client_tools.candidates("pg_dump")}
    assert found[seventeen] == "17.1 (Custom 17.1-1)"


def test_without_it_a_newer_major_serves_and_an_older_one_never(
    monkeypatch: pytest.MonkeyPatch, fresh_search: None
) -> None:
    monkeypatch.delenv("NETPLUS_PG_BIN", raising=False)
    tool = client_tools.find_tool("pg_dump", 16)
    assert tool.major >= 16
    too_new_a_server = max(t.major for t in client_tools.candidates("pg_dump")) + 1
    with pytest.raises(ClientToolError, match="too old"):
        client_tools.find_tool("pg_dump", too_new_a_server)
