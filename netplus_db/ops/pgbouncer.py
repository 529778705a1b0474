"""A PgBouncer process of our own in front of a PostgreSQL server (for tests and benchmarks).

Debian's package (`apt-get install pgbouncer`) is used as a program only: each instance gets
its own directory, configuration file and loopback port, authenticates clients by trust (the
users named in its own auth file) and reaches the server as the same user, through its Unix
socket or TCP. The system service is never touched.

    with pgbouncer.running(server_target, pool_mode="transaction") as bouncer:
        Database(bouncer.target("mydb"), pgbouncer=True)
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from netplus_db.config import Target, resolve_target
from netplus_db.ops.local_processes import (
    LocalProcessError,
    as_user,
    free_port,
    give_to,
    server_user,
)

POOL_MODES = ("session", "transaction", "statement")
START_TIMEOUT = 10.0


@dataclass(frozen=True)
class PgBouncer:
    """A running PgBouncer: where it listens and what it forwards to."""

    port: int
    pool_mode: str
    version: tuple[int, int]
    server: Target
    directory: Path

    def target(self, dbname: str) -> Target:
        """A target for database `dbname` of the server, reached through this PgBouncer."""
        dsn = f"host=127.0.0.1 port={self.port} user={self.server.user} dbname={dbname}"
        return resolve_target(dsn)

    @property
    def log(self) -> str:
        """PgBouncer's log so far (for a failing test's message)."""
        path = self.directory / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""


def program() -> Path:
    """The pgbouncer program (Debian's package puts it in /usr/sbin)."""
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/usr/bin")
    if not found:
        raise LocalProcessError(
            "pgbouncer is not installed: apt-get install -y pgbouncer (Debian's package)"
        )
    return Path(found)


def version() -> tuple[int, int]:
    """(major, minor) of the installed PgBouncer, e.g. (1, 18)."""
    out = subprocess.run(
        [str(program()), "--version"], capture_output=True, text=True, check=False
    ).stdout
    found = re.search(r"PgBouncer (\d+)\.(\d+)", out)
    if not found:
        raise LocalProcessError(f"cannot tell the PgBouncer version from {out.strip()!r}")
    return int(found.group(1)), int(found.group(2))


def supports_prepared_statements() -> bool:
    """Whether PgBouncer tracks protocol-level prepared statements in transaction pooling
    (1.21 and newer, with `max_prepared_statements` > 0)."""
    return version() >= (1, 21)


def config_text(
    server: Target, *, port: int, pool_mode: str, directory: Path, pool_size: int
) -> str:
    """pgbouncer.ini for an instance: every database of `server` (`*`), trust for the users in
    its own auth file, `options` ignored (netplus-db's tools send statement_timeout in it)."""
    host = server.host if server.host != "local socket" else "/var/run/postgresql"
    prepared = "max_prepared_statements = 100\n" if supports_prepared_statements() else ""
    return (
        "[databases]\n"
        f"* = host={host} port={server.port}\n"
        "[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {directory / 'users.txt'}\n"
        f"pool_mode = {pool_mode}\n"
        f"default_pool_size = {pool_size}\n"
        "max_client_conn = 500\n"
        "server_idle_timeout = 300\n"
        "ignore_startup_parameters = options,extra_float_digits\n"
        f"logfile = {directory / 'pgbouncer.log'}\n"
        f"pidfile = {directory / 'pgbouncer.pid'}\n"
        f"admin_users = {server.user}\n"
        f"{prepared}"
    )


@contextmanager
def running(
    server: Target, *, pool_mode: str = "transaction", pool_size: int = 4
) -> Iterator[PgBouncer]:
    """Start a PgBouncer in front of `server` (any database of it) for the block; stopped and
    its directory removed afterwards, also on failure."""
    if pool_mode not in POOL_MODES:
        raise ValueError(f"pool_mode must be one of {', '.join(POOL_MODES)}, not {pool_mode!r}")
    binary = program()
    user = server_user(server.host)
    directory = Path(tempfile.mkdtemp(prefix="netplus-pgbouncer-"))
    directory.chmod(0o755)
    port = free_port()
    ini = directory / "pgbouncer.ini"
    ini.write_text(
        config_text(
            server, port=port, pool_mode=pool_mode, directory=directory, pool_size=pool_size
        )
    )
    (directory / "users.txt").write_text(f'"{server.user}" ""\n')
    give_to(user, directory)
    process = subprocess.Popen(
        as_user(user, [str(binary), str(ini)]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    bouncer = PgBouncer(port, pool_mode, version(), server, directory)
    try:
        _wait_ready(bouncer, server, process)
        yield bouncer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
        shutil.rmtree(directory, ignore_errors=True)


def _wait_ready(bouncer: PgBouncer, server: Target, process: subprocess.Popen[bytes]) -> None:
    """Poll until a client gets through to the server's maintenance database."""
    deadline = time.monotonic() + START_TIMEOUT
    last = ""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise LocalProcessError(
                f"pgbouncer exited with status {process.returncode}: {err.strip()}\n"
                f"{bouncer.log[-2000:]}"
            )
        try:
            dsn = bouncer.target("postgres").conninfo
            with psycopg.connect(dsn, connect_timeout=2, autocommit=True) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.Error as exc:
            last = str(exc)
            time.sleep(0.1)
    raise LocalProcessError(
        f"pgbouncer on port {bouncer.port} did not let a client through to {server.describe()}"
        f" within {START_TIMEOUT:g} s: {last}\n{bouncer.log[-2000:]}"
    )
