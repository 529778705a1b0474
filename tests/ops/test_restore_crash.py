"""A restore killed at any step leaves the target usable, and its leftovers listed and cleaned.

Each test runs `netplus-db restore FILE --yes` in a subprocess that pauses at one step
(NETPLUS_RESTORE_PAUSE_AT=load|validate|swap, waiting on a file), kills it there with SIGKILL
or SIGTERM, then proves with a real connection that the target accepts connections and holds
either the old or the new data (row counts and content checksums), and that what the kill
left is listed by `restore list` and removed by `restore cleanup`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from netplus_db.cli.backup import restore as restore_cli
from netplus_db.cli.context import CliContext
from netplus_db.config import Target
from netplus_db.connection import connect, create_database
from netplus_db.ops import restore_leftovers
from netplus_db.ops.archives import derived_name
from netplus_db.ops.backup import backup
from netplus_db.ops.restore import restore
from tests.ops.test_backup_restore import add_marker, has_marker, seed, snapshot
from tests.support.derived_databases import databases
from tests.support.server import MIGRATIONS, Server

pytestmark = pytest.mark.slow  # subprocesses killed mid-restore

PAUSE_WAIT = 90.0


@pytest.fixture
def archive(db: Target, derived: None, tmp_path: Path) -> Path:
    """A full backup of the seeded database; the database then gets a row the backup lacks."""
    seed(db)
    taken = backup(db, "full", tmp_path / "backups").path
    with connect(db, autocommit=True) as conn:
        add_marker(conn, "after the backup")
    return taken


def _env(db: Target) -> CliContext:
    return CliContext(db.conninfo, MIGRATIONS)


def _start_restore(db: Target, archive: Path, step: str, pause: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "DB_", "DATABASE"))}
    env.update(NETPLUS_RESTORE_PAUSE_AT=step, NETPLUS_RESTORE_PAUSE_FILE=str(pause))
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "netplus_db",
            "--dsn",
            db.conninfo,
            "restore",
            str(archive),
            "--yes",
        ],
        env=env,
        cwd=pause.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for_pause(proc: subprocess.Popen[bytes], pause: Path) -> None:
    deadline = time.monotonic() + PAUSE_WAIT
    while not pause.exists():
        if proc.poll() is not None:
            _out, err = proc.communicate()
            pytest.fail(f"restore ended before its pause (exit {proc.returncode}): {err!r}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("restore never reached its pause point")
        time.sleep(0.05)


def _connects_with(db: Target) -> tuple[bool, Any]:
    """(True when the database holds the pre-restore data, its snapshot) over a fresh
    connection, retried while the killed session's transaction is being rolled back."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return has_marker(db, "after the backup"), snapshot(db)
        except (psycopg.OperationalError, Exception) as exc:
            if time.monotonic() > deadline:
                raise AssertionError(f"{db.dbname} refuses connections: {exc}") from None
            time.sleep(0.1)


def _list(db: Target) -> list[dict[str, Any]]:
    result = CliRunner().invoke(
        restore_cli, ["list", "--json", "--target", db.dbname], obj=_env(db)
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["result"] == "ok" and doc["errors"] == []
    items: list[dict[str, Any]] = doc["items"]
    return items


@pytest.mark.parametrize("step", ["load", "validate", "swap"])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_restore_killed_at_any_step_leaves_the_target_usable(
    archive: Path, server: Server, db: Target, tmp_path: Path, step: str, sig: int
) -> None:
    old_data = snapshot(db)
    pause = tmp_path / f"pause-{step}"
    proc = _start_restore(db, archive, step, pause)
    _wait_for_pause(proc, pause)
    if step == "swap":  # the target was renamed away inside the still open transaction
        with connect(server.admin, autocommit=True) as conn:
            named = conn.execute(
                "SELECT count(*) FROM pg_database WHERE datname = %s", [db.dbname]
            ).fetchone()
        assert named == (1,)  # others still see it: nothing is committed
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=60)
    if sig == signal.SIGTERM:
        assert proc.returncode == 1, err
        assert b"stopped by SIGTERM: it cleaned up after itself" in err
    else:
        assert proc.returncode == -signal.SIGKILL

    has_old_rows, now_data = _connects_with(db)
    assert has_old_rows and now_data == old_data  # the old data, whole
    with connect(server.admin, autocommit=True) as conn:
        allowed = conn.execute(
            "SELECT datallowconn FROM pg_database WHERE datname = %s", [db.dbname]
        ).fetchone()
    assert allowed == (True,)

    left = _list(db)
    if sig == signal.SIGTERM:
        assert left == []  # the handler dropped the scratch database
        assert databases(server, db, "restore") == []
        return
    assert [(i["role"], i["state"], i["source"]) for i in left] == [
        ("restore", "abandoned", str(archive))
    ]
    assert left[0]["database"].startswith(f"{db.dbname}__restore_")
    cleaned = CliRunner().invoke(
        restore_cli, ["cleanup", "--yes", "--json", "--target", db.dbname], obj=_env(db)
    )
    assert cleaned.exit_code == 0, cleaned.output
    doc = json.loads(cleaned.stdout)
    assert doc["summary"]["dropped"] == 1 and doc["items"][0]["dropped"] is True
    assert _list(db) == [] and databases(server, db, "restore") == []


def test_a_restore_after_an_interrupted_one_warns_and_succeeds(
    archive: Path, server: Server, db: Target, tmp_path: Path
) -> None:
    pause = tmp_path / "pause"
    proc = _start_restore(db, archive, "validate", pause)
    _wait_for_pause(proc, pause)
    proc.kill()
    proc.wait(timeout=30)
    seen: list[str] = []
    done = restore(db, archive, report=seen.append)
    assert any("left by interrupted restores" in line for line in seen)
    assert not has_marker(db, "after the backup")  # the new data
    roles = sorted((i["role"], i["state"]) for i in _list(db))
    assert roles == [("old", "kept"), ("restore", "abandoned")]
    assert done.previous is not None and has_marker(
        db.with_dbname(done.previous), "after the backup"
    )


def test_restore_reports_and_ends_the_sessions_it_replaces(
    archive: Path, server: Server, db: Target
) -> None:
    held = psycopg.connect(db.conninfo, autocommit=True, application_name="lesson-api")
    try:
        result = CliRunner().invoke(restore_cli, [str(archive), "--yes", "--json"], obj=_env(db))
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        assert doc["result"] == "ok" and doc["summary"]["sessions_ended"] >= 1
        assert {"role", "application", "client", "sessions"} <= set(doc["items"][0])
        assert [i["application"] for i in doc["items"]] == ["lesson-api"]
        assert "1 session (1 x" in result.stderr and "lesson-api" in result.stderr
        with pytest.raises(psycopg.OperationalError):
            held.execute("SELECT 1")
    finally:
        held.close()
    assert not has_marker(db, "after the backup")


def test_restore_asks_and_a_no_keeps_everything(archive: Path, server: Server, db: Target) -> None:
    before = snapshot(db)
    seen: list[str] = []
    questions: list[str] = []

    def no(question: str) -> bool:
        questions.append(question)
        return False

    with pytest.raises(Exception, match="not confirmed"):
        restore(db, archive, confirm=no, report=seen.append)
    assert "No sessions connected to it will be ended" in questions[0]
    assert snapshot(db) == before and databases(server, db) == []


def test_backup_first_takes_a_verified_backup_of_the_live_target(
    archive: Path, server: Server, db: Target, tmp_path: Path
) -> None:
    done = restore(db, archive, backup_first=tmp_path / "safety")
    assert done.safety_backup is not None and done.safety_backup.compared
    safety = done.safety_backup.path
    assert safety.parent == tmp_path / "safety"
    assert done.safety_backup.manifest is not None and done.safety_backup.manifest.verified_at
    copy = db.with_dbname(db.dbname + "__copy")
    restore(copy, safety)
    assert has_marker(copy, "after the backup")  # the live data, as it was before the restore


def test_restore_cleanup_drops_old_databases_by_age_and_asks(
    server: Server, db: Target, derived: None
) -> None:
    now = datetime.now(UTC)
    old = db.with_dbname(derived_name(db.dbname, "old", now - timedelta(days=10)))
    recent = db.with_dbname(derived_name(db.dbname, "old", now - timedelta(hours=1)))
    for target in (old, recent):
        create_database(target)
        with connect(server.admin, autocommit=True) as conn:
            restore_leftovers.record(conn, target.dbname, "old", db.dbname, None)
    refused = CliRunner().invoke(restore_cli, ["cleanup", "--target", db.dbname], obj=_env(db))
    assert refused.exit_code == 2 and "pass --yes" in refused.output
    dry = CliRunner().invoke(
        restore_cli, ["cleanup", "--dry-run", "--target", db.dbname], obj=_env(db)
    )
    assert dry.exit_code == 0, dry.output
    assert f"would drop {old.dbname}" in dry.stdout and f"keep {recent.dbname}" in dry.stdout
    assert sorted(i["database"] for i in _list(db)) == sorted([old.dbname, recent.dbname])
    done = CliRunner().invoke(
        restore_cli, ["cleanup", "--yes", "--older-than", "2d", "--target", db.dbname], obj=_env(db)
    )
    assert done.exit_code == 0, done.output
    assert [i["database"] for i in _list(db)] == [recent.dbname]


@pytest.mark.parametrize("age", ["soon", "-3d", "7x"])
def test_restore_cleanup_refuses_a_bad_age(db: Target, age: str) -> None:
    result = CliRunner().invoke(restore_cli, ["cleanup", "--older-than", age], obj=_env(db))
    assert result.exit_code == 2 and "--older-than" in result.output
