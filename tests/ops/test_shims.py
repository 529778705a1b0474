"""The spec's script names (bin/*.sh) run the CLI with the spec's arguments and variables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from netplus_db.config import Target
from tests.support.server import REPO

pytestmark = pytest.mark.slow  # every test runs the bin/ shims as subprocesses

BIN = REPO / "bin"


def spec_env(target: Target, **extra: str) -> dict[str, str]:
    """The spec's variables (DB_HOST, DB_PORT, DB_NAME, DB_USER) naming the target."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DB_", "PG")) and k not in ("DATABASE_URL", "NETPLUS_DSN")
    }
    env.update(DB_HOST=target.host, DB_PORT=target.port, DB_NAME=target.dbname, DB_USER=target.user)
    # A checkout without .venv: bin/netplus-db runs $PYTHON, here the interpreter of this test
    # run (any venv with the package and its dependencies).
    env["PYTHON"] = sys.executable
    env.update(extra)
    return env


def run(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


@pytest.mark.parametrize("script", ["migrate.sh", "backup.sh", "restore.sh"])
def test_a_missing_or_unknown_argument_prints_usage(script: str, empty_db: Target) -> None:
    result = run(script, env=spec_env(empty_db))
    assert result.returncode == 2 and "usage:" in result.stderr


@pytest.mark.parametrize(
    ("script", "command"),
    [
        ("migrate.sh", "migrate"),
        ("backup.sh", "backup"),
        ("restore.sh", "restore"),
        ("seed.sh", "seed"),
    ],
)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_explains_the_script_and_exits_0(
    script: str, command: str, flag: str, empty_db: Target
) -> None:
    result = run(script, flag, env=spec_env(empty_db))
    assert result.returncode == 0, result.stderr
    assert f"Usage: netplus-db {command}" in result.stdout
    assert "Examples:" in result.stdout


def test_migrate_sh_up_and_down_with_the_spec_variables(empty_db: Target) -> None:
    env = spec_env(empty_db)
    up = run("migrate.sh", "up", env=env)
    assert up.returncode == 0, up.stderr
    assert "(from DB_* variables)" in up.stderr and "applied 0001_foundation" in up.stderr
    down = run("migrate.sh", "down", env=env)
    assert down.returncode == 0 and "rolled back 1 migration(s)" in down.stderr
    assert run("migrate.sh", "status", env=env).returncode == 0


def test_backup_sh_and_restore_sh_round_trip(db: Target, tmp_path: Path) -> None:
    env = spec_env(db, BACKUP_DIR=str(tmp_path))
    backup = run("backup.sh", "full", env=env)
    assert backup.returncode == 0, backup.stderr
    [archive] = [p for p in tmp_path.iterdir() if p.suffix == ".dump"]
    restore = run("restore.sh", str(archive), "--yes", "--drop-old", env=env)
    assert restore.returncode == 0, restore.stderr
    cleanup = run("backup.sh", "cleanup", env=env)
    assert cleanup.returncode == 0 and archive.exists()  # the newest is always kept


def test_bin_netplus_db_runs_from_the_checkout(empty_db: Target) -> None:
    result = run("netplus-db", "--dsn", empty_db.conninfo, "doctor", env=spec_env(empty_db))
    assert result.returncode == 0, result.stderr  # pending migrations are reported, not failed
    assert "reachable:  yes" in result.stdout


def test_seed_sh_seeds_and_adds_scale_data(db: Target) -> None:
    env = spec_env(db)
    first = run("seed.sh", "--scale", "1", env=env)
    assert first.returncode == 0, first.stderr
    assert "question_bank" in first.stdout + first.stderr
    assert "1,000" in first.stdout + first.stderr  # the scale users
    again = run("seed.sh", env=env)
    assert again.returncode == 0, again.stderr
    assert "inserted 0, updated 0" in again.stdout + again.stderr
