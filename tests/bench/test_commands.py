"""`python -m bench`: each benchmark command prints numbers beside its baseline."""

from __future__ import annotations

import subprocess
import sys

import pytest

from netplus_db.config import Target
from netplus_db.connection import connect
from tests.support.server import REPO


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bench ARGS` from the checkout, as `make bench` does."""
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
def test_the_benchmark_commands_report_numbers_beside_a_baseline(db: Target) -> None:
    migrate = bench("--dsn", db.conninfo, "migrate", "--runs", "1")
    assert migrate.returncode == 0, migrate.stderr
    assert "netplus-db migrate up" in migrate.stdout and "(baseline)" in migrate.stdout
    queries = bench("--dsn", db.conninfo, "queries", "--calls", "20", "--rounds", "1")
    assert queries.returncode == 0, queries.stderr
    parts = queries.stdout.splitlines()[1:]
    assert len(parts) == 6
    assert parts[3].startswith("one statement through the query layer (dashboard_summary)")
    assert parts[5].startswith("50 rows as typed rows (list_activity")
    assert all("(" in line.split("  ")[-1] for line in parts[1:])  # beside a named baseline
    backup = bench("--dsn", db.conninfo, "backup", "--runs", "1")
    assert backup.returncode == 0, backup.stderr
    assert "pg_dump -Fc (baseline)" in backup.stdout and "netplus-db restore" in backup.stdout


@pytest.mark.slow
def test_bench_backup_times_parallel_jobs_beside_pg_dump_and_pg_restore(db: Target) -> None:
    """Custom format beside pg_dump -Fc / pg_restore, directory format with --jobs 2 beside
    pg_dump -Fd -j 2 / pg_restore -j 2; each line with min, median and max in milliseconds."""
    result = bench("--dsn", db.conninfo, "backup", "--runs", "1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    labels = [
        "netplus-db backup full",
        "pg_dump -Fc (baseline)",
        "netplus-db restore (scratch, validate, rename)",
        "pg_restore --single-transaction (baseline)",
        "netplus-db backup full --format directory -j 2",
        "pg_dump -Fd -j 2 (baseline)",
        "netplus-db restore -j 2 (directory archive)",
        "pg_restore -j 2 (baseline)",
    ]
    assert lines[0].split() == ["what", "min", "ms", "median", "max", "ms"]
    assert [line[:48].rstrip() for line in lines[1:]] == labels
    for line in lines[1:]:
        numbers = [float(n) for n in line[48:].split()]
        assert len(numbers) == 3 and 0 < numbers[0] <= numbers[1] <= numbers[2], line
    with connect(db.with_dbname("postgres"), autocommit=True) as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{db.dbname}\\_\\_%"]
        ).fetchall()
    assert left == []  # every scratch database dropped
