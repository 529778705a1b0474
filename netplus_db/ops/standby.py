"""Streaming standbys on this machine, for tests and benchmarks: `pg_basebackup -R` of a running
server with programs of its own major, started on its own port and directory; and a primary of
our own (initdb) when a test must kill one.

    with standby.streaming(primary_target, bin_dir) as replica:
        replica.target("mydb")           # read it
        replica.pause_replay()           # lag on purpose
        replica.promote()                # failover

The primary must accept replication connections from this machine (pg_hba.conf: `local
replication all trust` for a socket, `host replication all 127.0.0.1/32 trust` for TCP) and
have `wal_level` replica or logical (the default) and a free WAL sender.
"""

from __future__ import annotations

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
from netplus_db.ops.client_tools import candidates
from netplus_db.ops.local_processes import (
    LocalProcessError,
    free_port,
    give_to,
    run,
    run_as_user,
    server_user,
)
from netplus_db.sql import sql_files

FAST = "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
READY_TIMEOUT = 60.0


def server_bin_dir(major: int) -> Path:
    """The directory of pg_basebackup and pg_ctl of PostgreSQL `major` (embedded wheel,
    /usr/lib/postgresql/N/bin, NETPLUS_PG_BIN...); LocalProcessError when there is none."""
    for tool in candidates("pg_basebackup"):
        if tool.major == major and (tool.path.parent / "pg_ctl").exists():
            return tool.path.parent
    raise LocalProcessError(
        f"no pg_basebackup and pg_ctl of PostgreSQL {major} here (a standby needs the primary's"
        " major): install its server package or set NETPLUS_PG_BIN"
    )


@dataclass
class LocalServer:
    """A PostgreSQL server this process started: data directory, port, socket directory."""

    bin_dir: Path
    home: Path
    port: int
    user: str | None

    @property
    def data(self) -> Path:
        """The data directory."""
        return self.home / "data"

    def target(self, dbname: str = "postgres") -> Target:
        """A superuser target for one of its databases, over TCP on 127.0.0.1."""
        return resolve_target(f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}")

    def start(self) -> None:
        """Start it (waits until it accepts connections)."""
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1"
            f" -c unix_socket_directories={self.home} -c hot_standby=on {FAST}"
        )
        log = str(self.home / "server.log")
        try:
            pg_ctl = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-o", options]
            run(self.user, [*pg_ctl, "-l", log, "-w", "-t", str(int(READY_TIMEOUT)), "start"])
        except LocalProcessError as exc:
            raise LocalProcessError(f"{exc}\n{self.log}") from None

    def stop(self, mode: str = "fast") -> None:
        """Stop it: `fast`, or `immediate` (as a crash would)."""
        if (self.data / "postmaster.pid").exists():
            run(self.user, [str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", mode, "stop"])

    def kill(self) -> None:
        """SIGKILL the postmaster (a primary dying with no word to anyone), then let its
        children go: `pg_ctl stop -m immediate` cleans what is left."""
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().splitlines()[0])
            subprocess.run(["kill", "-KILL", str(pid)], check=False)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if subprocess.run(["kill", "-0", str(pid)], check=False).returncode != 0:
                    break
                time.sleep(0.05)
            pid_file.unlink(missing_ok=True)

    def promote(self) -> None:
        """Promote a standby to a primary (`pg_ctl promote`, waits until it accepts writes)."""
        run(self.user, [str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-w", "promote"])

    @property
    def log(self) -> str:
        """The server's log (for a failure's message)."""
        path = self.home / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@dataclass
class Standby(LocalServer):
    """A streaming standby of some primary."""

    def pause_replay(self) -> None:
        """Stop replaying WAL (it keeps receiving it): the replica falls behind."""
        with psycopg.connect(self.target().conninfo, autocommit=True) as conn:
            sql_files().replica.pause_replay(conn)

    def resume_replay(self) -> None:
        """Replay again."""
        with psycopg.connect(self.target().conninfo, autocommit=True) as conn:
            sql_files().replica.resume_replay(conn)

    def received(self) -> int:
        """The WAL position it has received (bytes), replayed or not."""
        with psycopg.connect(self.target().conninfo, autocommit=True) as conn:
            return int(sql_files().replica.received(conn) or 0)

    def replayed(self) -> int:
        """The WAL position it has replayed (bytes)."""
        with psycopg.connect(self.target().conninfo, autocommit=True) as conn:
            row = sql_files().replica.status(conn)
            return int(row[1])


def _home(user: str | None) -> Path:
    home = Path(tempfile.mkdtemp(prefix="netplus-standby-"))
    home.chmod(0o755)
    give_to(user, home)
    return home


def _basebackup_conninfo(primary: Target) -> str:
    params = {k: v for k, v in primary.params.items() if k not in {"dbname", "password"}}
    return " ".join(f"{k}={v}" for k, v in params.items())


def _config_files(server: LocalServer) -> None:
    """Debian keeps a cluster's configuration files in /etc, outside the data directory that
    pg_basebackup copies: give the copy PostgreSQL's defaults and trust on loopback."""
    files = {
        "postgresql.conf": "",
        "pg_hba.conf": "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        "local replication all trust\nhost replication all 127.0.0.1/32 trust\n",
        "pg_ident.conf": "",
    }
    for name, text in files.items():
        path = server.data / name
        if not path.exists():
            path.write_text(text)
            give_to(server.user, path)


@contextmanager
def streaming(primary: Target, bin_dir: Path) -> Iterator[Standby]:
    """A hot standby of `primary`'s server, streaming from it, for the block; stopped and
    removed afterwards. `bin_dir` holds pg_basebackup/pg_ctl of the primary's major."""
    user = server_user(primary.host)
    home = _home(user)
    standby = Standby(bin_dir, home, free_port(), user)
    env_password = primary.params.get("password")
    try:
        args = [str(bin_dir / "pg_basebackup"), "-d", _basebackup_conninfo(primary)]
        args += ["-D", str(standby.data), "-R", "-X", "stream", "-c", "fast"]
        if env_password:
            raise LocalProcessError("a standby of a primary that needs a password is not supported")
        run(user, args, timeout=600)
        _config_files(standby)
        standby.start()
        yield standby
    finally:
        try:
            standby.stop("immediate")
        finally:
            shutil.rmtree(home, ignore_errors=True)


@contextmanager
def primary_of_our_own(bin_dir: Path) -> Iterator[LocalServer]:
    """A new server (initdb, trust, replication allowed from 127.0.0.1) we may kill."""
    user = run_as_user()
    home = _home(user)
    server = LocalServer(bin_dir, home, free_port(), user)
    try:
        initdb = [str(bin_dir / "initdb"), "-D", str(server.data), "-U", "postgres", "-A", "trust"]
        run(user, initdb)
        server.start()
        yield server
    finally:
        try:
            server.stop("immediate")
        finally:
            shutil.rmtree(home, ignore_errors=True)
