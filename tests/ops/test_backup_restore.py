"""Backup, verify and restore against a real PostgreSQL.

A backup restored gives the same row counts and the same per-table content checksums; a
damaged, truncated or foreign file fails verify and restore with a clear message, drops its
scratch database and leaves the existing database untouched. Every database a test creates is
named after the test's own database (`<db>__...`) and dropped in the teardown.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import stat
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from netplus_db.cli.backup import backup as backup_cli
from netplus_db.cli.backup import restore as restore_cli
from netplus_db.cli.context import CliContext
from netplus_db.config import Target
from netplus_db.connection import connect, database_exists
from netplus_db.errors import ClientToolError, UnknownVersion
from netplus_db.ops import archive_loading, client_tools
from netplus_db.ops import backup as backup_module
from netplus_db.ops.archive_loading import verify
from netplus_db.ops.archives import (
    ArchiveError,
    BackupError,
    Manifest,
    archive_name,
    cleanup,
    manifest_path,
)
from netplus_db.ops.backup import (
    backup,
    content_checksums,
    row_counts,
    timed_plain_dump_restore,
)
from netplus_db.ops.client_tools import Tool, find_tool
from netplus_db.ops.progress import human_bytes
from netplus_db.ops.restore import restore
from netplus_db.sql import sql_files
from tests.support.derived_databases import databases
from tests.support.server import MIGRATIONS, Server, fresh_name

pytestmark = pytest.mark.slow  # pg_dump, pg_restore and psql run as subprocesses

PASSWORD = "S3cr3t-Pw"
PASSWORD_HASH = "$2b$12$" + "N" * 53
TRICKY = [
    'it\'s a "quoted" name',
    "100% sure_of %s and %(x)s",
    "ünïcödé ✓ 日本語 🚀",
    "back\\slash\nnew line\ttab",
    "semi; DROP TABLE users; --",
]

# --- helpers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What a database holds: rows per table and a content checksum per table."""

    counts: dict[str, int]
    checksums: dict[str, str]


def snapshot(target: Target) -> Snapshot:
    with connect(target, autocommit=True) as conn:
        return Snapshot(row_counts(conn), content_checksums(conn))


def seed(target: Target) -> None:
    """A few rows in several tables (three with forced row-level security), tricky text."""
    with connect(target, autocommit=True) as conn:
        for n, text in enumerate(TRICKY):
            user_id = _one(
                conn,
                "INSERT INTO users (email, username, password_hash) VALUES (%s, %s, %s)"
                " RETURNING id",
                [f"user{n}@example.test", f"{text[:40]} {n}", PASSWORD_HASH],
            )
            component_id = _one(
                conn,
                "INSERT INTO learning_components (component_type, domain, title, slug,"
                " description, objectives, content) VALUES ('lesson', 'Networking', %s, %s, %s,"
                " %s, %s::jsonb) RETURNING id",
                [text, f"lesson-{n}", text * 2, [text, "OSI"], json.dumps({"body": text})],
            )
            conn.execute(
                "INSERT INTO user_progress (user_id, component_id) VALUES (%s, %s)",
                [user_id, component_id],
            )
            conn.execute("INSERT INTO learning_streaks (user_id) VALUES (%s)", [user_id])
            conn.execute(
                "INSERT INTO user_activity_logs (user_id, activity_type, metadata)"
                " VALUES (%s, 'login', %s::jsonb)",
                [user_id, json.dumps({"note": text})],
            )
        add_marker(conn, "marker")


def add_marker(conn: psycopg.Connection[Any], name: str) -> None:
    conn.execute(
        "INSERT INTO performance_metrics (metric_type, metric_name, metric_value, tags)"
        " VALUES ('database', %s, 1.5, %s::jsonb)",
        [name, json.dumps({"why": "it's 100%"})],
    )


def has_marker(target: Target, name: str) -> bool:
    with connect(target, autocommit=True) as conn:
        found = _one(
            conn, "SELECT count(*) FROM performance_metrics WHERE metric_name = %s", [name]
        )
    return bool(found == 1)


def _one(conn: psycopg.Connection[Any], query: Any, params: list[Any]) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


# The first and last lines pg_dump writes in a plain SQL dump.
PLAIN_HEAD = b"--\n-- PostgreSQL database dump\n--\n"
PLAIN_FOOT = b"-- PostgreSQL database dump complete\n"


def lines() -> tuple[list[str], Any]:
    seen: list[str] = []
    return seen, seen.append


@pytest.fixture
def seeded(db: Target, derived: None) -> Target:
    seed(db)
    return db


@pytest.fixture
def full(seeded: Target, tmp_path: Path) -> Path:
    """A full backup of the seeded database."""
    return backup(seeded, "full", tmp_path / "backups").path


# --- backup -----------------------------------------------------------------------------------


def test_full_backup_is_private_and_its_manifest_true(
    seeded: Target, server: Server, tmp_path: Path
) -> None:
    seen, report = lines()
    taken = backup(seeded, "full", tmp_path / "backups", report=report)
    path = taken.path
    assert path.parent == tmp_path / "backups"
    assert path.name.startswith(f"{seeded.dbname}-full-") and path.name.endswith("Z.dump")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(manifest_path(path).stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"PGDMP")
    assert sorted(p.name for p in path.parent.iterdir()) == [
        path.name,
        f"{path.name}.manifest.json",
    ]

    data = json.loads(manifest_path(path).read_text())
    assert data["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert data["size"] == path.stat().st_size
    assert (data["kind"], data["database"], data["file"]) == ("full", seeded.dbname, path.name)
    assert data["server_version"] == server.version
    assert data["pg_dump_version"].startswith(f"{server.major}.")
    with connect(seeded, autocommit=True) as conn:
        assert data["migration_version"] == _one(
            conn, "SELECT max(version) FROM netplus.schema_migrations", []
        )
        assert data["row_counts"] == row_counts(conn)
    assert data["row_counts"]["users"] == len(TRICKY)
    assert data["created_at"].endswith("Z") and data["created_at"][:4].isdigit()
    assert Manifest.read(manifest_path(path)) == taken.manifest
    assert any(line.startswith("pg_dump") and line.endswith("s)") for line in seen)


def test_backup_then_restore_gives_identical_rows_and_content(
    full: Path, server: Server, db: Target
) -> None:
    before = snapshot(db)
    with connect(db, autocommit=True) as conn:
        add_marker(conn, "written after the backup")
    done = restore(db, full)
    assert snapshot(db) == before
    assert not has_marker(db, "written after the backup")
    assert done.previous is not None and done.previous.startswith(f"{db.dbname}__old_")
    assert databases(server, db) == [done.previous]  # no scratch database left
    assert has_marker(db.with_dbname(done.previous), "written after the backup")


def test_drop_old_removes_the_previous_database(full: Path, server: Server, db: Target) -> None:
    done = restore(db, full, drop_old=True)
    assert done.dropped_previous and done.previous
    assert databases(server, db) == []


def test_restore_into_a_missing_database_takes_its_name(
    full: Path, server: Server, db: Target
) -> None:
    new = db.with_dbname(db.dbname + "__new")
    done = restore(new, full)
    assert done.previous is None
    assert snapshot(new) == snapshot(db)
    assert databases(server, db) == [new.dbname]


def test_verify_restores_into_a_recorded_scratch_database_it_drops(
    full: Path, server: Server, db: Target
) -> None:
    """verify's scratch database is `<db>__verify_<UTC>`, its comment says what it is and
    which file it came from (a crash leaves it recognisable), and it is gone afterwards."""
    comments: list[dict[str, Any]] = []
    said: list[str] = []

    def report(line: str) -> None:
        said.append(line)
        if line.startswith("created scratch database "):
            name = line.removeprefix("created scratch database ")
            with connect(server.admin, autocommit=True) as conn:
                text = _one(
                    conn,
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
                    " WHERE datname = %s",
                    [name],
                )
            comments.append({"name": name, **json.loads(text)})

    proven = verify(db, full, report=report)
    assert proven.compared and proven.kind == "full"
    [made] = comments
    assert re.fullmatch(rf"{re.escape(db.dbname)}__verify_\d{{8}}T\d{{6}}Z", made["name"])
    assert (made["target"], made["source"]) == (db.dbname, str(full))
    assert made["netplus-db"] == "verify"
    assert any(re.fullmatch(rf"validated {made['name']} \(\d+\.\d\ds\)", line) for line in said)
    # One job, one transaction: the phase line says no more.
    assert any(re.fullmatch(rf"pg_restore into {made['name']} \(.+s\)", line) for line in said)
    assert databases(server, db) == []


def test_verify_ignores_owners_the_server_lacks(db: Target, server: Server, tmp_path: Path) -> None:
    """An archive whose tables belong to a role this server does not have still verifies:
    verify restores with --no-owner (a restore keeps owners, and names the missing role)."""
    role = fresh_name("gone_role")
    with connect(server.admin, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
    with connect(db, autocommit=True) as conn:
        conn.execute(
            sql.SQL(
                "CREATE TABLE owned_elsewhere (i int); ALTER TABLE owned_elsewhere OWNER TO {}"
            ).format(sql.Identifier(role))
        )
    archive = backup(db, "full", tmp_path).path
    with connect(db, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
    with connect(server.admin, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    proven = verify(db, archive)
    assert proven.row_counts["owned_elsewhere"] == 0
    with pytest.raises(ArchiveError, match=f'role "{role}" does not exist'):
        restore(db.with_dbname(db.dbname + "__kept_owners"), archive)
    assert databases(server, db) == []


@pytest.mark.parametrize("kind", ["data", "schema"])
def test_data_and_schema_backups_verify_and_restore(
    seeded: Target, server: Server, tmp_path: Path, kind: Any
) -> None:
    with connect(seeded, autocommit=True) as conn:  # a row for the weekly progress view
        conn.execute("UPDATE user_progress SET status = 'in_progress'")
    taken = backup(seeded, kind, tmp_path)
    verify(seeded, taken.path, migrations_dir=MIGRATIONS)
    if kind == "data":
        # The schema a data backup is loaded into is built from the migrations it is given.
        elsewhere = tmp_path / "no-migrations"
        elsewhere.mkdir()
        version = taken.manifest.migration_version
        with pytest.raises(UnknownVersion, match=f"^--to {version}: no migration file has"):
            verify(seeded, taken.path, migrations_dir=elsewhere)
        assert databases(server, seeded) == []
    new = seeded.with_dbname(seeded.dbname + "__new")
    said, report = lines()
    restore(new, taken.path, migrations_dir=MIGRATIONS, report=report)
    restored, original = snapshot(new), snapshot(seeded)
    refreshed = [x for x in said if re.fullmatch(r"materialized views refreshed \(.+s\)", x)]
    assert len(refreshed) == (kind == "data")
    if kind == "data":
        with connect(new, autocommit=True) as conn:
            # Built by the migrations over empty tables, refreshed after the data came.
            assert _one(conn, "SELECT count(*) FROM mv_weekly_domain_progress", []) == 1
    if kind == "data":
        assert taken.manifest.row_counts == original.counts
        assert restored == original
    else:
        assert taken.manifest.row_counts is None
        assert set(restored.counts) == set(original.counts)
        assert not any(restored.counts.values())
    with connect(new, autocommit=True) as conn:
        version = _one(conn, "SELECT max(version) FROM netplus.schema_migrations", [])
    assert version == taken.manifest.migration_version
    assert databases(server, seeded) == [new.dbname]


def test_backup_refuses_a_role_that_row_security_would_stop(
    db: Target, server: Server, tmp_path: Path
) -> None:
    role = fresh_name("plain_role")
    with connect(server.admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        as_role = Target({**db.params, "user": role}, db.source)
        with pytest.raises(BackupError, match=r"superuser.*BYPASSRLS") as caught:
            backup(as_role, "full", tmp_path)
        assert "user_progress" in str(caught.value) or "more" in str(caught.value)
        assert list(tmp_path.iterdir()) == []
    finally:
        with connect(server.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_missing_or_too_old_client_tools_are_named(
    db: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_tools, "candidates", lambda name: (Tool(Path(f"/old/{name}"), 9),))
    with pytest.raises(ClientToolError, match=r"pg_dump is too old .*/old/pg_dump \(9\)"):
        backup(db, "full", tmp_path)
    monkeypatch.setattr(client_tools, "candidates", lambda name: ())
    with pytest.raises(ClientToolError, match="pg_dump was not found"):
        backup(db, "full", tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- damaged and foreign files ----------------------------------------------------------------


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])


def _flip_a_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))


def _assert_untouched(db: Target, server: Server, before: Snapshot) -> None:
    assert snapshot(db) == before
    assert has_marker(db, "marker")
    assert databases(server, db) == []  # the scratch database was dropped


@pytest.mark.parametrize("damage", [_truncate, _flip_a_bit], ids=["truncated", "bit-flipped"])
def test_a_damaged_archive_fails_verify_and_restore(
    full: Path, server: Server, db: Target, damage: Any
) -> None:
    before = snapshot(db)
    damage(full)
    with pytest.raises(ArchiveError, match=r"size is .* says|sha256 is .* says") as caught:
        verify(db, full)
    assert str(full) in str(caught.value)
    manifest = re.escape(manifest_path(full).name)
    if damage is _truncate:
        assert re.fullmatch(
            rf"{re.escape(str(full))}: size is \d+ bytes but {manifest} says \d+: the archive is "
            "truncated or was changed after the backup",
            str(caught.value),
        )
    else:
        assert re.fullmatch(
            rf"{re.escape(str(full))}: sha256 is [0-9a-f]{{64}} but {manifest} says [0-9a-f]{{64}}:"
            " the archive is corrupted or was changed after the backup",
            str(caught.value),
        )
    with pytest.raises(ArchiveError, match=r"truncated|corrupted"):
        restore(db, full)
    _assert_untouched(db, server, before)


def _more_users(data: dict[str, Any]) -> str:
    data["row_counts"]["users"] += 1
    return r"table users has 5 rows, manifest says 6"


def _a_table_it_never_had(data: dict[str, Any]) -> str:
    data["row_counts"]["ghosts"] = 0
    return r"table ghosts is missing"


def _an_older_ledger(data: dict[str, Any]) -> str:
    data["migration_version"] -= 1
    return r"migration version \d+, manifest says \d+"


def _two_at_once(data: dict[str, Any]) -> str:
    _more_users(data)
    _a_table_it_never_had(data)
    return r"table ghosts is missing; table users has 5 rows, manifest says 6"


@pytest.mark.parametrize(
    "disagree",
    [_more_users, _a_table_it_never_had, _an_older_ledger, _two_at_once],
    ids=["row-count", "missing-table", "ledger", "two-at-once"],
)
def test_an_archive_whose_manifest_disagrees_is_refused_and_the_target_untouched(
    full: Path, server: Server, db: Target, disagree: Any
) -> None:
    """The archive is intact (checksum and size match): only its restored content differs
    from what the manifest says it holds, and only the comparison after loading can tell."""
    before = snapshot(db)
    where = manifest_path(full)
    data = json.loads(where.read_text("utf-8"))
    problem = disagree(data)
    where.write_text(json.dumps(data), "utf-8")
    seen, report = lines()
    with pytest.raises(ArchiveError) as verified:
        verify(db, full, report=report)
    assert re.fullmatch(
        f"{re.escape(str(full))}: the restored database does not match the backup: {problem}",
        str(verified.value),
    )
    assert not any(line.startswith("validated ") for line in seen)  # it was not
    with pytest.raises(ArchiveError, match=problem):
        restore(db, full)
    _assert_untouched(db, server, before)


def test_an_archive_without_the_ledger_its_manifest_promises_is_refused(
    full: Path, seeded: Target, server: Server, tmp_path: Path
) -> None:
    """A dump without schema netplus, passed off with a full backup's manifest: the rows
    match, but the migration ledger the manifest's version speaks of is not there."""
    public_only = tmp_path / "public-only.dump"
    pg_dump = find_tool("pg_dump", server.major).path
    subprocess.run(
        [pg_dump, "-Fc", "--exclude-schema=netplus", f"--file={public_only}"],
        env=seeded.libpq_env(),
        check=True,
        timeout=60,
    )
    data = json.loads(manifest_path(full).read_text("utf-8"))
    assert data["migration_version"]
    data.update(
        sha256=hashlib.sha256(public_only.read_bytes()).hexdigest(),
        size=public_only.stat().st_size,
    )
    manifest_path(public_only).write_text(json.dumps(data), "utf-8")
    with pytest.raises(ArchiveError) as caught:
        verify(seeded, public_only)
    assert str(caught.value) == (
        f"{public_only}: the restored database does not match the backup: "
        "no migration ledger (netplus.schema_migrations) in the restored database"
    )
    assert databases(server, seeded) == []


def test_an_archive_its_manifest_calls_encrypted_is_refused_by_name(
    full: Path, db: Target, server: Server
) -> None:
    where = manifest_path(full)
    data = json.loads(where.read_text("utf-8"))
    data["encryption"] = {"algorithm": "AES-256-GCM", "key_id": "0" * 16}
    where.write_text(json.dumps(data), "utf-8")
    with pytest.raises(ArchiveError) as caught:
        verify(db, full)
    assert str(caught.value) == (
        f"{full}: its manifest says it is encrypted, but it is the other way round"
    )
    assert databases(server, db) == []


def test_a_truncated_archive_passing_list_fails_the_real_restore(
    full: Path, server: Server, db: Target
) -> None:
    """The manifest is rewritten to match, as if the file was cut before it was checksummed."""
    before = snapshot(db)
    pg_restore = find_tool("pg_restore", server.major).path
    whole = full.read_bytes()
    for fraction in (0.67, 0.8, 0.9, 0.95, 0.98, 0.99):
        full.write_bytes(whole[: int(len(whole) * fraction)])
        listed = subprocess.run([pg_restore, "--list", full], capture_output=True, check=False)
        if listed.returncode == 0:
            break  # the table of contents is whole: pg_restore --list proves nothing
    assert listed.returncode == 0, "no cut of the archive kept its table of contents"
    manifest = json.loads(manifest_path(full).read_text())
    manifest.update(sha256=hashlib.sha256(full.read_bytes()).hexdigest(), size=full.stat().st_size)
    manifest_path(full).write_text(json.dumps(manifest))
    failed = rf"^{re.escape(str(full))}: restore failed, nothing was kept: pg_restore failed"
    with pytest.raises(ArchiveError, match=failed):
        verify(db, full)
    with pytest.raises(ArchiveError, match=failed):
        restore(db, full)
    manifest_path(full).unlink()
    seen, report = lines()
    with pytest.raises(ArchiveError, match="restore failed"):
        restore(db, full, report=report)
    assert any("has no manifest" in line for line in seen)
    _assert_untouched(db, server, before)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"hello, this is a shopping list\nmilk\n", "not a PostgreSQL backup"),
        (bytes(range(256)) * 40, "not a PostgreSQL backup"),
        (gzip.compress(b"SELECT 1;\n"), "a gzip file, but not of a pg_dump plain SQL dump"),
        (b"PGDMP\x01\x0e\x00garbage" * 10, "not a readable pg_dump archive"),
        (b"", "the file is empty"),
        (b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4, "the gzip data is corrupted or truncated"),
        (
            PLAIN_HEAD + b"CREATE TABLE t (i int);\nSELECT 1/0;\n" + PLAIN_FOOT,
            r"^[^:]+: restore failed, nothing was kept: psql failed \(exit 3\): "
            r"psql:<stdin>:\d+: ERROR:  division by zero",
        ),
        # psql stops at the error and stops reading: its message, not the broken pipe's.
        (
            PLAIN_HEAD + b"SELECT 1/0;\n" + b"SELECT 1;\n" * 200_000 + PLAIN_FOOT,
            r"psql failed \(exit 3\): psql:<stdin>:\d+: ERROR:  division by zero",
        ),
        # A dump that makes psql quit early (exit status 0) has not been restored.
        (
            PLAIN_HEAD + b"\\q\n" + b"SELECT 1;\n" * 200_000 + PLAIN_FOOT,
            r"psql failed \(exit 0\): it stopped reading before the end of the file$",
        ),
    ],
    ids=[
        "text",
        "random",
        "gzip-text",
        "fake-magic",
        "empty",
        "corrupt-gzip",
        "failing-sql",
        "failing-sql-early",
        "quits-early",
    ],
)
def test_a_foreign_file_is_refused_with_a_clear_message(
    seeded: Target, server: Server, tmp_path: Path, content: bytes, problem: str
) -> None:
    before = snapshot(seeded)
    path = tmp_path / "backup.dump"
    path.write_bytes(content)
    with pytest.raises(ArchiveError, match=problem) as caught:
        restore(seeded, path)
    assert str(caught.value).startswith(f"{path}: ")
    _assert_untouched(seeded, server, before)


NOT_A_BACKUP = (
    "not a PostgreSQL backup: expected a pg_dump custom-format archive (starting with PGDMP),"
    " a directory-format one, or a pg_dump plain SQL dump, gzipped or not"
)


def test_what_a_file_is_not_is_said_whole(db: Target, tmp_path: Path) -> None:
    """The refusals of `prepare`, before any database is touched, each exactly as said."""
    cases = {
        "text.dump": (b"hello, this is a shopping list\n", NOT_A_BACKUP),
        "text.sql.gz": (
            gzip.compress(b"SELECT 1;\n"),
            "a gzip file, but not of a pg_dump plain SQL dump",
        ),
        "empty.dump": (b"", "the file is empty"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ArchiveError) as caught:
            verify(db, tmp_path / name)
        assert str(caught.value) == f"{tmp_path / name}: {message}"
    folder = tmp_path / "not-an-archive"
    folder.mkdir()
    (folder / "notes.txt").write_text("no toc.dat here")
    missing = tmp_path / "missing.dump"
    for path, message in (
        (folder, "a directory, but not a pg_dump directory-format archive"),
        (missing, "no such file"),
    ):
        with pytest.raises(ArchiveError) as caught:
            verify(db, path)
        assert str(caught.value) == f"{path}: {message}"


# --- plain SQL dumps --------------------------------------------------------------------------


def _plain_gzip_dump(target: Target, server: Server, path: Path) -> None:
    """What `pg_dump db | gzip > backup.sql.gz` makes."""
    pg_dump = find_tool("pg_dump", server.major).path
    result = subprocess.run(
        [pg_dump], env=target.libpq_env(), capture_output=True, check=True, timeout=60
    )
    path.write_bytes(gzip.compress(result.stdout))


def test_a_gzipped_plain_sql_dump_restores(
    seeded: Target,
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "backup.sql.gz"
    _plain_gzip_dump(seeded, server, path)
    before = snapshot(seeded)
    with connect(seeded, autocommit=True) as conn:
        add_marker(conn, "written after the backup")
    # The DBA's own psqlrc is not read into a restore (psql -X).
    psqlrc = tmp_path / "psqlrc"
    psqlrc.write_text("CREATE TABLE psqlrc_ran ();\n")
    monkeypatch.setenv("PSQLRC", str(psqlrc))
    quiet, report = lines()
    restore(seeded, path, drop_old=True, report=report, jobs=2)  # well under 10 s: no lines
    assert not [line for line in quiet if line.startswith("psql: ")]
    assert f"note: --jobs 2 ignored: {path.name} is SQL for psql" in quiet
    monkeypatch.setattr(archive_loading, "PROGRESS_EVERY", -1.0)  # a line for every chunk
    monkeypatch.setattr(archive_loading, "CHUNK", 64 * 1024)  # several chunks to a test dump
    seen, report = lines()
    started = time.perf_counter()
    done = restore(seeded, path, drop_old=True, report=report)
    took = time.perf_counter() - started
    assert done.kind == "full" and done.manifest is None
    assert not [line for line in seen if line.startswith("note: --jobs")]
    assert capfd.readouterr().out == ""  # psql's query results are not this program's output
    fed = [m for m in (re.fullmatch(r"psql: (.+) of SQL fed \((\d+)s\)", x) for x in seen) if m]
    text = gzip.decompress(path.read_bytes())
    chunks = -(-len(text) // (64 * 1024))
    assert chunks > 2 and len(fed) == chunks
    # What was fed so far, chunk by chunk, and the seconds since feeding began.
    assert [m.group(1) for m in fed] == [
        human_bytes(min(n * 64 * 1024, len(text))) for n in range(1, chunks + 1)
    ]
    assert all(int(m.group(2)) <= took + 1 for m in fed)
    assert snapshot(seeded) == before
    with connect(seeded, autocommit=True) as conn:
        assert _one(conn, "SELECT to_regclass('psqlrc_ran') IS NULL", [])
    assert databases(server, seeded) == []


def test_a_truncated_gzipped_sql_dump_is_refused(
    seeded: Target, server: Server, tmp_path: Path
) -> None:
    path = tmp_path / "backup.sql.gz"
    _plain_gzip_dump(seeded, server, path)
    _truncate(path)
    before = snapshot(seeded)
    with pytest.raises(ArchiveError, match=f"^{re.escape(str(path))}: the gzip data is corrupted"):
        restore(seeded, path)
    plain = tmp_path / "backup.sql"
    _plain_gzip_dump(seeded, server, path)
    text = gzip.decompress(path.read_bytes())
    plain.write_bytes(text[: text.index(b"COPY public.users")])
    truncated = f"^{re.escape(str(plain))}: the SQL dump is truncated: pg_dump's closing line"
    with pytest.raises(ArchiveError, match=truncated + " is missing$"):
        restore(seeded, plain)
    _assert_untouched(seeded, server, before)


# --- cleanup ----------------------------------------------------------------------------------


NOW = datetime(2026, 11, 22, 3, 15, tzinfo=UTC)


def _archive(directory: Path, days_old: float, kind: str = "full", db: str = "db") -> Path:
    """A fake archive whose name says it is `days_old` days older than NOW; its file is new."""
    path = directory / archive_name(db, kind, NOW - timedelta(days=days_old))  # type: ignore[arg-type]
    path.write_bytes(b"PGDMP")
    manifest_path(path).write_text("{}")
    return path


def test_cleanup_keeps_the_newest_even_when_all_are_old(tmp_path: Path) -> None:
    old = [_archive(tmp_path, 30 - n) for n in range(3)]
    items = cleanup(tmp_path, keep_days=7, now=NOW)
    assert [(i.path, i.deleted) for i in items] == [
        (old[0], True),
        (old[1], True),
        (old[2], False),
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        old[2].name,
        f"{old[2].name}.manifest.json",
    ]


def test_cleanup_deletes_only_old_ones_and_dry_run_nothing(tmp_path: Path) -> None:
    stale = _archive(tmp_path, 10)
    recent = _archive(tmp_path, 3)
    newest = _archive(tmp_path, 1)
    schema = _archive(tmp_path, 10, kind="schema")  # the newest of its kind
    foreign = tmp_path / "notes-20240101.txt"
    foreign.write_text("not ours")
    os.utime(foreign, (0, 0))
    not_a_time = tmp_path / "db-full-20240100T000000Z.dump"
    not_a_time.write_bytes(b"PGDMP")
    before = sorted(tmp_path.iterdir())

    planned = cleanup(tmp_path, keep_days=7, dry_run=True, now=NOW)
    assert sorted(tmp_path.iterdir()) == before
    assert {i.path for i in planned if i.deleted} == {stale}

    cleanup(tmp_path, keep_days=7, now=NOW)
    assert sorted(tmp_path.iterdir()) == sorted(
        [foreign, not_a_time, *(p for a in (recent, newest, schema) for p in (a, manifest_path(a)))]
    )


def test_cleanup_judges_age_by_the_name_not_the_file_time(tmp_path: Path) -> None:
    """A copied old archive gets a new mtime; it is still old. The real newest is kept."""
    copied_old = _archive(tmp_path, 21)  # written just now: its mtime is new
    real_newest = _archive(tmp_path, 0.5)
    moment = time.time() - 40 * 86400
    os.utime(real_newest, (moment, moment))  # and the newest has an old mtime
    items = {i.path: i for i in cleanup(tmp_path, keep_days=0, dry_run=True, now=NOW)}
    assert items[copied_old].deleted and "21.0 days old" in items[copied_old].reason
    assert not items[real_newest].deleted and "the newest" in items[real_newest].reason


def test_cleanup_keeps_the_last_n_of_each_series(tmp_path: Path) -> None:
    full = [_archive(tmp_path, days) for days in (40, 30, 20, 10)]
    data = [_archive(tmp_path, days, kind="data") for days in (40, 30)]
    other_db = _archive(tmp_path, 50, db="other")
    items = {i.path: i for i in cleanup(tmp_path, keep_days=7, keep_last=3, now=NOW)}
    assert [items[p].deleted for p in full] == [True, False, False, False]
    assert [items[p].deleted for p in data] == [False, False]
    assert not items[other_db].deleted
    assert "one of the newest 3" in items[full[1]].reason
    assert not full[0].exists() and not manifest_path(full[0]).exists()


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [({"keep_days": -1}, "--keep-days must not be negative"), ({"keep_last": 0}, "at least 1")],
)
def test_cleanup_refuses_bad_limits(tmp_path: Path, kwargs: dict[str, Any], problem: str) -> None:
    kept = _archive(tmp_path, 30)
    with pytest.raises(BackupError, match=problem):
        cleanup(tmp_path, now=NOW, **kwargs)
    assert kept.exists()


def test_cleanup_removes_partials_of_dead_backups_only(tmp_path: Path) -> None:
    dead = tmp_path / "db-full-20261120T000000Z.dump.999999999.partial"
    dead.write_bytes(b"PGDMP")
    live = tmp_path / f"db-full-20261120T000000Z.dump.{os.getpid()}.partial"
    live.write_bytes(b"PGDMP")
    moment = time.time() - 2 * 3600
    os.utime(dead, (moment, moment))
    cleanup(tmp_path, keep_days=7)
    assert not dead.exists() and live.exists()


def test_cleanup_command_prints_what_it_deleted_and_kept(tmp_path: Path) -> None:
    old = _archive(tmp_path, 10)
    new = _archive(tmp_path, 9)
    result = CliRunner().invoke(
        backup_cli, ["cleanup", "--keep-days", "7"], env={"BACKUP_DIR": str(tmp_path)}
    )
    assert result.exit_code == 0, result.output
    assert f"deleted {old.name}" in result.stdout
    assert f"kept {new.name}" in result.stdout


def test_cleanup_command_json_is_the_only_stdout(tmp_path: Path) -> None:
    old = _archive(tmp_path, 400)
    new = _archive(tmp_path, 300)
    result = CliRunner().invoke(
        backup_cli,
        ["cleanup", "--keep-days", "7", "--dry-run", "--json", "--dir", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) >= {"target", "result", "items", "errors"} and doc["result"] == "ok"
    assert [(i["file"], i["deleted"]) for i in doc["items"]] == [
        (str(old), True),
        (str(new), False),
    ]
    assert doc["summary"]["dry_run"] is True and old.exists()


@pytest.mark.parametrize(
    ("args", "problem"),
    [(["--keep-days", "-1"], "--keep-days"), (["--keep-last", "0"], "--keep-last")],
)
def test_cleanup_command_refuses_bad_limits(tmp_path: Path, args: list[str], problem: str) -> None:
    kept = _archive(tmp_path, 30)
    result = CliRunner().invoke(backup_cli, ["cleanup", "--dir", str(tmp_path), *args])
    assert result.exit_code == 2 and problem in result.output
    assert kept.exists()


# --- list -------------------------------------------------------------------------------------


def test_backup_list_shows_kind_size_age_and_verification(
    seeded: Target, server: Server, tmp_path: Path
) -> None:
    taken = backup(seeded, "full", tmp_path)
    schema = backup(seeded, "schema", tmp_path)
    foreign = tmp_path / "db-full-20240101T000000Z.dump"
    foreign.write_bytes(b"PGDMP")
    (tmp_path / "readme.txt").write_text("not an archive")
    verify(seeded, taken.path)
    result = CliRunner().invoke(backup_cli, ["list", "--json", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    rows = {Path(i["file"]).name: i for i in doc["items"]}
    assert set(rows) == {taken.path.name, schema.path.name, foreign.name}
    full_row = rows[taken.path.name]
    assert (full_row["kind"], full_row["database"], full_row["format"]) == (
        "full",
        seeded.dbname,
        "custom",
    )
    assert full_row["size"] == taken.path.stat().st_size and full_row["encrypted"] is False
    assert full_row["verified_at"] is not None and 0 <= full_row["age_days"] < 1
    assert rows[schema.path.name]["verified_at"] is None
    assert rows[foreign.name]["manifest"] is False and rows[foreign.name]["age_days"] > 300
    assert Path(doc["items"][0]["file"]).name == foreign.name  # oldest first
    human = CliRunner().invoke(backup_cli, ["list", "--dir", str(tmp_path)])
    assert "never verified" in human.stdout and "(no manifest)" in human.stdout


# --- the commands -----------------------------------------------------------------------------


def _env(target: Target) -> CliContext:
    return CliContext(f"{target.conninfo} password={PASSWORD}", MIGRATIONS)


def test_backup_and_verify_commands_announce_the_target_and_never_the_password(
    seeded: Target, server: Server, tmp_path: Path
) -> None:
    runner = CliRunner()
    made = runner.invoke(backup_cli, ["full"], obj=_env(seeded), env={"BACKUP_DIR": str(tmp_path)})
    assert made.exit_code == 0, made.output
    assert made.stderr.splitlines()[0].startswith("Target: ")
    assert "password=***" in made.stderr.splitlines()[0]
    path = Path(made.stdout.strip())
    assert path.parent == tmp_path and path.is_file()
    checked = runner.invoke(backup_cli, ["verify", str(path)], obj=_env(seeded))
    assert checked.exit_code == 0, checked.output
    assert "ok: " in checked.stdout
    _truncate(path)
    failed = runner.invoke(backup_cli, ["verify", str(path)], obj=_env(seeded))
    assert failed.exit_code == 1 and isinstance(failed.exception, ArchiveError)
    everything = made.output + checked.output + failed.output + str(failed.exception)
    assert PASSWORD not in everything + manifest_path(path).read_text()
    assert databases(server, seeded) == []


def test_restore_refuses_without_yes_when_not_at_a_terminal(
    full: Path, server: Server, db: Target
) -> None:
    before = snapshot(db)
    result = CliRunner().invoke(restore_cli, [str(full)], obj=_env(db))
    assert result.exit_code == 2
    assert "pass --yes when not at a terminal" in result.output
    assert snapshot(db) == before and databases(server, db) == []
    done = CliRunner().invoke(restore_cli, [str(full), "--yes", "--drop-old"], obj=_env(db))
    assert done.exit_code == 0, done.output
    assert f"into {db.dbname}" in done.stdout and PASSWORD not in done.output


def test_restore_command_into_another_database(full: Path, server: Server, db: Target) -> None:
    other = db.dbname + "__copy"
    result = CliRunner().invoke(restore_cli, [str(full), "--target", other], obj=_env(db))
    assert result.exit_code == 0, result.output
    assert database_exists(db.with_dbname(other))
    assert snapshot(db.with_dbname(other)) == snapshot(db)


# --- baseline ---------------------------------------------------------------------------------


def test_timed_plain_dump_restore_times_both(
    seeded: Target, server: Server, tmp_path: Path
) -> None:
    timings = timed_plain_dump_restore(seeded, tmp_path)
    assert timings["pg_dump_seconds"] > 0 and timings["pg_restore_seconds"] > 0
    assert timings["archive_bytes"] > 0
    assert list(tmp_path.iterdir()) == [] and databases(server, seeded) == []


def test_a_failing_pg_dump_leaves_no_file_and_no_password(
    db: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tool's own message is shown, with the password (here echoed by it) redacted."""
    monkeypatch.setattr(backup_module, "dump_args", lambda kind, schemas: [f"--x={PASSWORD}"])
    with_password = Target({**db.params, "password": PASSWORD}, db.source)
    with pytest.raises(BackupError, match=r"pg_dump failed \(exit 1\): .*--x=\*\*\*") as caught:
        backup(with_password, "full", tmp_path)
    assert PASSWORD not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_the_restored_database_keeps_the_previous_owner(
    full: Path, server: Server, db: Target
) -> None:
    role = fresh_name("owner_role")
    with connect(server.admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(db.dbname), sql.Identifier(role)
            )
        )
    try:
        restore(db, full, drop_old=True)
        with connect(server.admin, autocommit=True) as conn:
            assert sql_files().backup.database_owner(conn, datname=db.dbname) == role
    finally:
        with connect(server.admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("ALTER DATABASE {} OWNER TO CURRENT_USER").format(sql.Identifier(db.dbname))
            )
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.mark.parametrize(
    "command",
    [[], ["full"], ["schema"], ["data"], ["list"], ["cleanup"], ["verify"]],
)
def test_every_backup_command_has_help_with_examples(command: list[str]) -> None:
    result = CliRunner().invoke(backup_cli, [*command, "--help"])
    assert result.exit_code == 0 and "Usage: " in result.output
    assert ("Example" in result.output and "--json" in result.output) or command == []


@pytest.mark.parametrize("command", [[], ["list"], ["cleanup"], ["some.dump"]])
def test_every_restore_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(restore_cli, [*command, "--help"])
    assert result.exit_code == 0 and "Usage: " in result.output
    assert "Example" in result.output
