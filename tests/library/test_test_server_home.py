"""Where the testing plugin's throw-away servers keep their files: in memory when the machine
has a roomy tmpfs, where NETPLUS_TEST_TMPDIR says when it is set, else the temporary directory."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from netplus_db.connection import connect
from netplus_db.testing import TestServer, servers
from netplus_db.testing.servers import TestServerError, scratch_home


def test_the_variable_names_the_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETPLUS_TEST_TMPDIR", str(tmp_path))
    home = scratch_home()
    assert home.parent == tmp_path and home.name.startswith("netplus-test-")
    assert home.is_dir() and list(home.iterdir()) == []


def test_a_variable_naming_no_directory_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere"
    monkeypatch.setenv("NETPLUS_TEST_TMPDIR", str(missing))
    with pytest.raises(TestServerError, match=f"NETPLUS_TEST_TMPDIR={missing} is not a directory"):
        scratch_home()
    assert not missing.exists()


def test_without_a_tmpfs_the_temporary_directory_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory that is not a tmpfs mount point (here pytest's own) is not taken."""
    monkeypatch.delenv("NETPLUS_TEST_TMPDIR", raising=False)
    monkeypatch.setattr(servers, "RAM_DIR", tmp_path)
    home = scratch_home()
    try:
        assert home.parent == Path(tempfile.gettempdir())
    finally:
        shutil.rmtree(home)


def test_a_tmpfs_without_room_is_not_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    if not servers._roomy_tmpfs(Path("/dev/shm")):
        pytest.skip("no roomy tmpfs at /dev/shm on this machine")
    monkeypatch.setattr(servers, "RAM_DIR_MIN_FREE", 1 << 60)  # more than any machine has
    assert not servers._roomy_tmpfs(Path("/dev/shm"))
    assert not servers._roomy_tmpfs(Path("/proc"))  # not a tmpfs at all


def test_the_sessions_server_keeps_its_data_in_memory_when_it_can(server: TestServer) -> None:
    """The embedded and binaries backends start their server in scratch_home(); the docker
    backend's container keeps its data directory on a tmpfs."""
    if server.kind not in ("embedded", "binaries", "docker"):
        pytest.skip(f"the {server.kind} backend's server is not started by the tests")
    with connect(server.admin) as conn:
        row = conn.execute("SHOW data_directory").fetchone()
    assert row is not None
    data = Path(row[0])
    if server.kind == "docker":
        assert data == Path(servers.DOCKER_PGDATA)
    elif servers._roomy_tmpfs(servers.RAM_DIR):
        assert servers.RAM_DIR in data.parents
    else:
        assert Path(tempfile.gettempdir()) in data.parents
