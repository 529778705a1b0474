"""Benchmarks that report numbers beside a baseline (never timed assertions in tests)."""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from netplus_db.config import Target
from netplus_db.connection import connect, create_database, drop_database, ready, server_version
from netplus_db.migration_file import load_directory
from netplus_db.pgtools import find_tool
from netplus_db.runner import Migrator


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of repeated runs of one thing."""

    label: str
    seconds: list[float]

    def row(self) -> str:
        """`label  min  median  max` in milliseconds."""
        s = self.seconds
        return (
            f"{self.label:<44} {min(s) * 1000:>8.1f} {statistics.median(s) * 1000:>8.1f}"
            f" {max(s) * 1000:>8.1f}"
        )


def migrate_up(target: Target, migrations_dir: Path, runs: int = 5) -> list[Timing]:
    """Time `migrate up` on an empty database beside psql applying the same up sections.

    The baseline is psql running every up section in one transaction (`psql -1 -f`): the
    server's own cost of the DDL, with no runner, no ledger, no lock and no validation.
    """
    target = ready(target)
    with connect(target.with_dbname("postgres"), autocommit=True) as conn:
        major = server_version(conn)[0] // 10000
    psql = find_tool("psql", major)
    script = "\n".join(m.up.sql for m in load_directory(migrations_dir))
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    ours = _repeat(runs, target, "bench_migrate", lambda t: Migrator(t, migrations_dir).up())

    def baseline(t: Target) -> None:
        subprocess.run(
            [str(psql.path), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f", f.name],
            env=t.libpq_env(),
            check=True,
            capture_output=True,
        )

    raw = _repeat(runs, target, "bench_psql", baseline)
    Path(f.name).unlink()
    files = len(load_directory(migrations_dir))
    return [
        Timing(f"netplus-db migrate up ({files} migrations)", ours),
        Timing("psql -1 -f <every up section> (baseline)", raw),
    ]


def _repeat(
    runs: int, target: Target, name: str, action: Callable[[Target], object]
) -> list[float]:
    seconds: list[float] = []
    for _ in range(runs):
        scratch = target.with_dbname(name)
        drop_database(scratch)
        create_database(scratch)
        started = time.perf_counter()
        action(scratch)
        seconds.append(time.perf_counter() - started)
        drop_database(scratch)
    return seconds
