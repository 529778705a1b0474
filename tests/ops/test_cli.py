"""The `netplus-db` command as a DBA runs it: a real process, real exit codes, real output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from netplus_db.config import Target
from netplus_db.connection import connect, drop_database
from netplus_db.ops import embedded
from tests.support.server import MIGRATIONS, Server, fresh_name

pytestmark = pytest.mark.slow  # every test runs `netplus-db` as a subprocess

PASSWORD = "S3cr3t-Pw"


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DB_", "PG")) and k not in ("DATABASE_URL", "NETPLUS_DSN")
    }
    env.update(extra)
    return env


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netplus_db", *args],
        capture_output=True,
        text=True,
        env=env or clean_env(),
        cwd=cwd,
        input=stdin,
        timeout=120,
        check=False,
    )


def with_password(target: Target) -> str:
    """The target's conninfo plus a password the trust-auth test server ignores."""
    return f"{target.conninfo} password={PASSWORD}"


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["migrate"],
        ["migrate", "up"],
        ["migrate", "down"],
        ["migrate", "status"],
        ["migrate", "validate"],
        ["migrate", "new"],
        ["migrate", "reset"],
        ["migrate", "history"],
        ["migrate", "lint"],
        ["migrate", "baseline"],
        ["wait"],
        ["embedded"],
        ["embedded", "status"],
        ["doctor"],
        ["schema", "dump"],
        ["schema", "erd"],
        ["schema", "privileges"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage: " in result.stdout and len(result.stdout.splitlines()) > 4


def test_schema_privileges_check_passes_on_the_committed_matrix_and_fails_on_a_stale_one(
    db: Target, tmp_path: Path
) -> None:
    committed = Path(__file__).resolve().parents[2] / "schema" / "privileges.md"
    ok = run("--dsn", db.conninfo, "schema", "privileges", "--check", "--output", str(committed))
    assert ok.returncode == 0, ok.stderr
    stale = tmp_path / "privileges.md"
    stale.write_text(committed.read_text().replace("| SD(IU) |", "| SIUD |", 1))
    refused = run("--dsn", db.conninfo, "schema", "privileges", "--check", "--output", str(stale))
    assert refused.returncode == 1 and "is stale" in refused.stderr
    written = run("--dsn", db.conninfo, "schema", "privileges", "--output", str(stale))
    assert written.returncode == 0 and stale.read_text() == committed.read_text()


def test_the_target_is_announced_and_the_password_never_printed(db: Target) -> None:
    result = run("--dsn", with_password(db), "migrate", "status")
    assert result.returncode == 0, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith("Target: ") and f"database {db.dbname}" in first
    assert "password=***" in first
    assert PASSWORD not in result.stdout + result.stderr


def test_an_unreachable_server_is_a_clear_error_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/nowhere"
    for args in (["migrate", "up"], ["doctor"]):
        result = run("--dsn", url, *args)
        assert result.returncode == 1
        out = result.stdout + result.stderr
        assert "127.0.0.1" in out and "port 1" in out
        assert PASSWORD not in out
    env = clean_env(DB_HOST="127.0.0.1", DB_PORT="1", DB_PASSWORD=PASSWORD)
    result = run("migrate", "status", env=env)
    assert result.returncode == 1 and PASSWORD not in result.stdout + result.stderr
    assert "from DB_* variables" in result.stderr


def test_status_json_and_validate(db: Target, tmp_path: Path) -> None:
    result = run("--dsn", db.conninfo, "migrate", "status", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["items"]
    assert {r["state"] for r in rows} == {"applied"}
    assert [r["version"] for r in rows] == sorted(r["version"] for r in rows)
    ok = run("--dsn", db.conninfo, "migrate", "validate")
    assert ok.returncode == 0 and "valid" in ok.stderr

    edited = tmp_path / "m"
    edited.mkdir()
    for path in MIGRATIONS.glob("*.sql"):
        (edited / path.name).write_text(path.read_text())
    first = sorted(edited.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- an innocent-looking edit\n")
    bad = run("--dsn", db.conninfo, "--migrations-dir", str(edited), "migrate", "validate")
    assert bad.returncode == 1
    assert f"{first}:" in bad.stderr and "edited after it was applied" in bad.stderr
    up = run("--dsn", db.conninfo, "--migrations-dir", str(edited), "migrate", "up")
    assert up.returncode == 1 and "edited after it was applied" in up.stderr
    status = run("--dsn", db.conninfo, "--migrations-dir", str(edited), "migrate", "status")
    assert status.returncode == 1 and "checksum_mismatch" in status.stdout


def test_reset_asks_first_and_then_rebuilds(db: Target) -> None:
    with connect(db, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO achievements (achievement_type, code, name, rarity)"
            " VALUES ('badge', 'kept-until-reset', 'Kept', 'common')"
        )
    refused = run("--dsn", db.conninfo, "migrate", "reset", stdin="")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    with connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM achievements").fetchone() == (1,)
    done = run("--dsn", db.conninfo, "migrate", "reset", "--yes")
    assert done.returncode == 0, done.stderr
    assert f"dropped database {db.dbname}" in done.stderr
    with connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM achievements").fetchone() == (0,)


def test_doctor_reports_version_and_migrations(db: Target) -> None:
    result = run("--dsn", db.conninfo, "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "reachable:  yes" in result.stdout
    assert "ok (15+ required)" in result.stdout
    assert "0 pending" in result.stdout


def test_new_creates_the_next_migration_file(tmp_path: Path) -> None:
    (tmp_path / "0001_first.sql").write_text("-- migrate:up\nSELECT 1;\n-- migrate:down\n")
    result = run("--migrations-dir", str(tmp_path), "migrate", "new", "add widgets")
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).name == "0002_add_widgets.sql"


def test_with_nothing_configured_the_embedded_server_starts_on_demand(tmp_path: Path) -> None:
    env = clean_env(NETPLUS_HOME=str(tmp_path / "home"))
    try:
        status = run("embedded", "status", env=env)
        assert status.returncode == 3 and "stopped" in status.stdout
        up = run("migrate", "up", env=env, cwd=tmp_path)
        assert up.returncode == 0, up.stderr
        assert "(from embedded)" in up.stderr.splitlines()[0]
        assert "note: no database configured" in up.stderr
        assert f"data in {tmp_path / 'home' / 'pgdata'} (first use" in up.stderr
        assert "created database network_plus_learning" in up.stderr
        running = run("embedded", "status", env=env)
        assert running.returncode == 0 and "conninfo: host=" in running.stdout
        conninfo = running.stdout.split("conninfo: ", 1)[1].splitlines()[0]
        psql = subprocess.run(
            [
                str(Path(running.stdout.split("psql:     ")[1].split(" '")[0])),
                conninfo,
                "-Atc",
                "SELECT count(*) FROM netplus.schema_migrations",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert psql.returncode == 0, psql.stderr
        assert int(psql.stdout) == len(list(MIGRATIONS.glob("*.sql")))
        sized = subprocess.run(
            [
                psql.args[0],
                conninfo,
                "-Atc",
                "SELECT pg_size_bytes(current_setting('shared_buffers'))",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        wanted = embedded.memory_settings()["shared_buffers"]  # a new home is sized once
        assert int(sized.stdout) == int(wanted.removesuffix("MB")) * 1024 * 1024, sized.stderr
        again = run("migrate", "up", env=env)
        assert again.returncode == 0 and "up to date" in again.stderr
    finally:  # stop it whatever happened; an assertion above stays the reported failure
        stopped = run("embedded", "stop", env=env)
    assert stopped.stdout.strip() == "stopped", stopped.stderr
    assert run("embedded", "status", env=env).returncode == 3


def test_global_options_may_follow_the_subcommand(db: Target) -> None:
    result = run("migrate", "status", "--dsn", db.conninfo, "--connect-timeout", "5")
    assert result.returncode == 0, result.stderr
    assert f"database {db.dbname}" in result.stderr.splitlines()[0]
    assert "(from --dsn)" in result.stderr.splitlines()[0]
    nested = run("backup", "--dsn", db.conninfo, "--help")
    assert nested.returncode == 0 and "--dsn" in nested.stdout


def test_netplus_dsn_is_named_as_the_source(db: Target) -> None:
    result = run("migrate", "status", env=clean_env(NETPLUS_DSN=db.conninfo))
    assert result.returncode == 0, result.stderr
    assert "(from NETPLUS_DSN)" in result.stderr.splitlines()[0]


def test_dotenv_is_named_and_the_shell_beats_it(db: Target, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"DATABASE_URL={db.with_dbname('from_dotenv').conninfo}\n")
    from_file = run("migrate", "status", cwd=tmp_path)
    assert "(from DATABASE_URL in .env)" in from_file.stderr.splitlines()[0]
    assert "database from_dotenv does not exist" in from_file.stderr
    shell = run("migrate", "status", env=clean_env(DB_NAME=db.dbname), cwd=tmp_path)
    assert shell.returncode == 0, shell.stderr
    first = shell.stderr.splitlines()[0]
    assert f"database {db.dbname}" in first
    assert "DATABASE_URL in .env, DB_NAME from the environment" in first


def test_a_misspelt_variable_is_pointed_out(tmp_path: Path) -> None:
    env = clean_env(DATABSE_URL="postgresql://x@h/db", NETPLUS_HOME=str(tmp_path / "h"))
    result = run("migrate", "up", "--dry-run", env=env, cwd=tmp_path)
    assert "variable DATABSE_URL is set but netplus-db does not read it" in result.stderr
    assert "did you mean DATABASE_URL?" in result.stderr
    assert "note: no database configured" in result.stderr


def test_a_bad_option_fails_before_any_server_starts(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = clean_env(NETPLUS_HOME=str(home))
    for args in (
        ["migrate", "up", "--lock-timeout", "abc"],
        ["migrate", "down", "--lock-timeout", "5 parsecs"],
        ["--connect-timeout", "0", "migrate", "status"],
        ["migrate", "status", "--connect-timeout", "soon"],
    ):
        result = run(*args, env=env, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert "Invalid value" in result.stderr
    assert "is not a duration" in run("migrate", "up", "--lock-timeout", "abc", env=env).stderr
    assert not home.exists()


def test_missing_database_is_named_by_status_and_doctor_and_up_says_it_creates_it(
    server: Server,
) -> None:
    target = server.database(fresh_name("misspelt"))
    status = run("--dsn", target.conninfo, "migrate", "status")
    assert status.returncode == 1
    assert f"database {target.dbname} does not exist" in status.stderr
    doctor = run("--dsn", target.conninfo, "doctor")
    assert doctor.returncode == 1
    assert f"database {target.dbname} does not exist" in doctor.stdout
    try:
        up = run("--dsn", target.conninfo, "migrate", "up", "--to", "1")
        assert up.returncode == 0, up.stderr
        assert f"created database {target.dbname}: it did not exist" in up.stderr
    finally:
        drop_database(target)


def test_errors_name_the_target_database_not_only_the_maintenance_one(db: Target) -> None:
    stranger = db.with_params(user="no_such_role_here")
    result = run("--dsn", stranger.conninfo, "migrate", "status")
    assert result.returncode == 1
    assert f"cannot reach database {db.dbname}" in result.stderr
    assert "maintenance database postgres" in result.stderr


def test_status_exit_code_says_pending(db: Target, empty_db: Target) -> None:
    assert run("--dsn", db.conninfo, "migrate", "status", "--exit-code").returncode == 0
    pending = run("--dsn", empty_db.conninfo, "migrate", "status", "--exit-code")
    assert pending.returncode == 3, pending.stderr
    assert run("--dsn", empty_db.conninfo, "migrate", "status").returncode == 0


def test_new_reminds_of_the_changelog_and_the_lint(tmp_path: Path) -> None:
    result = run("--migrations-dir", str(tmp_path), "migrate", "new", "add widgets")
    assert result.returncode == 0, result.stderr
    assert "CHANGELOG.md" in result.stderr and "migrate lint" in result.stderr


def test_schema_output_dash_writes_to_stdout_and_check_names_a_foreign_major(
    db: Target, tmp_path: Path
) -> None:
    result = run("--dsn", db.conninfo, "schema", "dump", "--output", "-", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE public.users" in result.stdout and not (tmp_path / "-").exists()
    old = tmp_path / "schema.sql"
    old.write_text("-- schema/schema.sql: x\n-- Do not edit. Dumped from PostgreSQL 9.\n")
    check = run("--dsn", db.conninfo, "schema", "dump", "--check", "--output", str(old))
    assert check.returncode == 1
    assert "was dumped by PostgreSQL 9; this server is PostgreSQL" in check.stderr
    assert "cannot compare" in check.stderr
    both = run("--dsn", db.conninfo, "schema", "erd", "--check", "--output", "-")
    assert both.returncode == 2


def test_schema_check_finds_the_checkout_files_from_any_directory(
    server: Server, db: Target, tmp_path: Path
) -> None:
    result = run("--dsn", db.conninfo, "schema", "erd", "--check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert str(MIGRATIONS.parent / "schema" / "erd.md") in result.stderr
