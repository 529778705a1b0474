"""`python -m bench`: each benchmark command prints numbers beside its baseline."""

from __future__ import annotations

import subprocess
import sys

import pytest

from netplus_db.config import Target
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
