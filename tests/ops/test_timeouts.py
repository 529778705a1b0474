"""No command hangs: against a server that accepts the connection and never answers, every
command fails within its connect timeout with a clear message, and `wait` gives up in time.

The silent server is a socket on 127.0.0.1 that accepts and then says nothing; the bound
asserted is generous (the alternative to failing in time is hanging for ever).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg_pool
import pytest

from netplus_db import Database
from netplus_db.config import resolve_target
from netplus_db.connection import connect, wait_for_server
from netplus_db.errors import ConnectError, NoConnection
from tests.ops.test_cli import clean_env

pytestmark = pytest.mark.slow  # runs the CLI as subprocesses

GENEROUS = 30.0  # seconds: far above a 3 s timeout, far below "hangs"


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never sends a byte."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.held.append(conn)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/silent_db"

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    try:
        yield server
    finally:
        server.close()


def run_timed(
    *args: str, cwd: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "netplus_db", *args],
        capture_output=True,
        text=True,
        env=clean_env(BACKUP_DIR=str(cwd or Path.cwd())),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    return result, time.monotonic() - started


@pytest.mark.parametrize(
    "command",
    [
        ["migrate", "up"],
        ["migrate", "status"],
        ["doctor"],
        ["seed"],
        ["backup", "full"],
    ],
)
def test_every_command_gives_up_on_a_silent_server(
    silent: SilentServer, command: list[str], tmp_path: Path
) -> None:
    result, elapsed = run_timed(
        "--connect-timeout", "3", "--dsn", silent.url, *command, cwd=tmp_path
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert elapsed < GENEROUS
    out = result.stdout + result.stderr
    assert "timeout expired" in out and "no answer within 3 s" in out, out
    assert f"port {silent.port}" in out and "silent_db" in out


def test_the_default_connect_timeout_bounds_a_command_too(silent: SilentServer) -> None:
    result, elapsed = run_timed("--dsn", silent.url, "migrate", "status")
    assert result.returncode == 1
    assert "no answer within 10 s" in result.stderr
    assert elapsed < GENEROUS + 10


def test_wait_gives_up_after_its_timeout_with_json(silent: SilentServer) -> None:
    result, elapsed = run_timed(
        "--connect-timeout", "2", "wait", "--timeout", "2", "--json", "--dsn", silent.url
    )
    assert result.returncode == 1
    assert elapsed < GENEROUS
    doc = json.loads(result.stdout)
    assert doc["result"] == "error" and doc["target"]["port"] == str(silent.port)
    assert "did not accept a connection within 2 s" in doc["errors"][0]["message"]


def test_the_global_wait_option_gives_up_too(silent: SilentServer) -> None:
    result, elapsed = run_timed(
        "--dsn", silent.url, "--connect-timeout", "2", "--wait", "--wait-timeout", "3", "doctor"
    )
    assert result.returncode == 1 and elapsed < GENEROUS


def test_wait_returns_when_the_server_answers(db: object) -> None:
    from netplus_db.config import Target

    assert isinstance(db, Target)
    result, _ = run_timed("--dsn", db.conninfo, "wait", "--timeout", "10", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["result"] == "ok" and doc["summary"]["waited_seconds"] < 10


def test_wait_for_server_waits_for_a_server_that_starts_late(db: object) -> None:
    """A port that refuses at first and forwards to the real server after 2 s."""
    from netplus_db.config import Target

    assert isinstance(db, Target)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    late = db.with_params(host="127.0.0.1", port=str(port))

    def open_later() -> None:
        time.sleep(2)
        listener.listen(8)
        conn, _ = listener.accept()
        if db.host.startswith("/"):  # the embedded server: a Unix socket
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(f"{db.host}/.s.PGSQL.{db.port}")
        else:
            upstream = socket.create_connection((db.host, int(db.port)))
        for a, b in ((conn, upstream), (upstream, conn)):
            threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    threading.Thread(target=open_later, daemon=True).start()
    messages: list[str] = []
    waited = wait_for_server(late, 20, report=messages.append, interval=0.2)
    assert 1.5 < waited < GENEROUS and messages
    listener.close()


def _pipe(a: socket.socket, b: socket.socket) -> None:
    try:
        while data := a.recv(65536):
            b.sendall(data)
    except OSError:
        pass


def test_connect_honours_pgconnect_timeout_and_names_it(
    silent: SilentServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "2")
    target = resolve_target(silent.url, {})
    assert target.connect_timeout == 2 and target.libpq_env()["PGCONNECT_TIMEOUT"] == "2"
    started = time.monotonic()
    with pytest.raises(ConnectError, match="no answer within 2 s"):
        connect(target)
    assert time.monotonic() - started < GENEROUS


def test_the_library_pool_takes_a_connect_timeout_in_its_kwargs(silent: SilentServer) -> None:
    started = time.monotonic()
    db = Database(resolve_target(silent.url, {}), kwargs={"connect_timeout": 2}, timeout=4)
    try:
        with pytest.raises(psycopg_pool.PoolTimeout) as caught, db.transaction():
            pass
    finally:
        db.pool.close(timeout=1)
    assert time.monotonic() - started < GENEROUS
    # the library's own class, which is still the pool's: retriable, nothing was written
    assert isinstance(caught.value, NoConnection) and caught.value.retriable
