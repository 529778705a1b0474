"""The edges of reading a backup back: where a format is recognised, what `prepare` says a
file is, how psql's messages and progress read, and which restores are one transaction.

Against a real PostgreSQL where a database is needed; `sniff_format` needs none.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import re
import subprocess
from pathlib import Path

import pytest
from psycopg import sql

from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.errors import ClientToolError
from netplus_db.ops import archive_loading
from netplus_db.ops.archive_crypto import KEY_VARIABLE, EncryptingWriter, key_from_env
from netplus_db.ops.archive_loading import Format, Prepared, prepare, sniff_format, verify
from netplus_db.ops.archives import ArchiveError, Manifest, write_manifest
from netplus_db.ops.backup import DumpOptions, backup
from netplus_db.ops.client_tools import Tool, find_tool
from netplus_db.ops.restore import restore
from tests.ops.test_backup_formats import PERCENT, EagerMeter
from tests.ops.test_backup_restore import seed
from tests.support.derived_databases import databases
from tests.support.server import Server, fresh_name

pytestmark = pytest.mark.slow  # psql and pg_restore run as subprocesses

KEY = base64.b64encode(bytes(range(32))).decode()
PLAIN_HEAD = b"--\n-- PostgreSQL database dump\n--\n"
PLAIN_FOOT = b"-- PostgreSQL database dump complete\n"
HEADER_LINE = b"-- PostgreSQL database dump\n"
NOT_A_BACKUP = (
    "not a PostgreSQL backup: expected a pg_dump custom-format archive (starting with PGDMP),"
    " a directory-format one, or a pg_dump plain SQL dump, gzipped or not"
)


@pytest.fixture
def seeded(db: Target, derived: None) -> Target:
    seed(db)
    return db


def _sealed(path: Path, plain: bytes) -> Path:
    sink = io.BytesIO()
    writer = EncryptingWriter(sink, key_from_env({KEY_VARIABLE: KEY}))  # type: ignore[arg-type]
    writer.write(plain)
    writer.close()
    path.write_bytes(sink.getvalue())
    return path


def _manifest(path: Path, **changes: object) -> None:
    """A manifest that matches the file's bytes, with `changes` to its fields."""
    data = path.read_bytes()
    fields: dict[str, object] = {
        "file": path.name,
        "kind": "full",
        "database": "db",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "server_version": "17.0",
        "pg_dump_version": "17.0",
        "migration_version": None,
        "row_counts": None,
        "created_at": "2026-11-22T03:15:00Z",
    }
    write_manifest(Manifest(**{**fields, **changes}), path)  # type: ignore[arg-type]


# --- recognising a format ---------------------------------------------------------------------


def test_a_plain_dump_is_known_by_its_header_within_the_first_256_bytes(tmp_path: Path) -> None:
    within, beyond = tmp_path / "within.sql", tmp_path / "beyond.sql"
    within.write_bytes(b"-" * (256 - len(HEADER_LINE)) + HEADER_LINE)
    beyond.write_bytes(b"-" * (257 - len(HEADER_LINE)) + HEADER_LINE + b"SELECT 1;\n")
    assert sniff_format(within) is Format.PLAIN_SQL
    with pytest.raises(ArchiveError) as caught:
        sniff_format(beyond)
    assert str(caught.value) == f"{beyond}: {NOT_A_BACKUP}"


def test_a_gzipped_dump_is_known_by_its_header_within_the_first_4096_bytes(
    tmp_path: Path,
) -> None:
    within, beyond = tmp_path / "within.sql.gz", tmp_path / "beyond.sql.gz"
    within.write_bytes(gzip.compress(b"-" * (4096 - len(HEADER_LINE)) + HEADER_LINE))
    beyond.write_bytes(gzip.compress(b"-" * (4097 - len(HEADER_LINE)) + HEADER_LINE))
    assert sniff_format(within) is Format.GZIP_SQL
    with pytest.raises(ArchiveError) as caught:
        sniff_format(beyond)
    assert str(caught.value) == f"{beyond}: a gzip file, but not of a pg_dump plain SQL dump"


def test_an_unreadable_file_is_said_so_with_the_system_reason(tmp_path: Path) -> None:
    missing = tmp_path / "gone.dump"
    with pytest.raises(ArchiveError) as caught:
        sniff_format(missing)
    assert str(caught.value) == f"{missing}: cannot read it: No such file or directory"


def test_an_encrypted_file_is_judged_by_what_it_decrypts_to(tmp_path: Path) -> None:
    key = key_from_env({KEY_VARIABLE: KEY})
    assert sniff_format(_sealed(tmp_path / "a.dump", b"PGDMP and the rest"), key) is Format.CUSTOM
    sql_inside = _sealed(tmp_path / "b.dump", PLAIN_HEAD + b"SELECT 1;\n" + PLAIN_FOOT)
    with pytest.raises(ArchiveError) as caught:
        sniff_format(sql_inside, key)
    assert str(caught.value) == (
        f"{sql_inside}: decrypted, but not a pg_dump custom-format archive"
    )


# --- what prepare says a file is --------------------------------------------------------------


def test_prepare_tells_the_format_tool_server_and_role_of_a_plain_dump(
    db: Target, server: Server, tmp_path: Path
) -> None:
    path = tmp_path / "tiny.sql"
    path.write_bytes(PLAIN_HEAD + b"SELECT 1;\n" + PLAIN_FOOT)
    said: list[str] = []
    prepared = prepare(db, path, said.append)
    assert (prepared.format, prepared.kind, prepared.tool.path.name) == (
        Format.PLAIN_SQL,
        "full",
        "psql",
    )
    assert prepared.server_major == server.major and prepared.superuser
    assert prepared.table_count == 0 and not prepared.encrypted
    assert said[-1] == "tiny.sql: plain SQL dump, full backup"

    # A role that bypasses row security is still no superuser (--disable-triggers needs one).
    role = fresh_name("rls_role")
    with connect(server.admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN BYPASSRLS").format(sql.Identifier(role)))
    try:
        as_role = Target({**db.params, "user": role}, db.source)
        assert not prepare(as_role, path, said.append).superuser
    finally:
        with connect(server.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_the_manifest_says_the_kind_and_the_pg_restore_needed(
    db: Target, server: Server, tmp_path: Path
) -> None:
    """A manifest's kind is taken over what the file looks like, and an archive written by a
    newer pg_dump than the server's needs a pg_restore that new."""
    plain = tmp_path / "plain.sql"
    plain.write_bytes(PLAIN_HEAD + b"SELECT 1;\n" + PLAIN_FOOT)
    _manifest(plain, kind="schema")
    assert prepare(db, plain, lambda _line: None).kind == "schema"

    archive = tmp_path / "full.dump"
    pg_dump = find_tool("pg_dump", server.major).path
    subprocess.run([pg_dump, "-Fc", f"--file={archive}"], env=db.libpq_env(), check=True)
    _manifest(archive, kind="schema")
    assert prepare(db, archive, lambda _line: None).kind == "schema"
    _manifest(archive, pg_dump_version="99.1")
    with pytest.raises(ClientToolError, match=r"pg_restore is too old for a PostgreSQL 99 server"):
        prepare(db, archive, lambda _line: None)


def test_an_encrypted_archive_its_manifest_calls_plain_is_refused_by_name(
    db: Target, tmp_path: Path
) -> None:
    path = _sealed(tmp_path / "sealed.dump", b"PGDMP and the rest")
    _manifest(path)
    with pytest.raises(ArchiveError) as caught:
        prepare(db, path, lambda _line: None)
    assert str(caught.value) == (
        f"{path}: its manifest says it is not encrypted, but it is the other way round"
    )


# --- psql: messages, progress, the closing line -----------------------------------------------


def test_psql_messages_in_another_encoding_are_shown_not_a_crash(
    db: Target, server: Server, tmp_path: Path
) -> None:
    path = tmp_path / "latin1.sql"
    path.write_bytes(
        PLAIN_HEAD
        + b"SET client_encoding = 'LATIN1';\n"
        + b"DO $$BEGIN RAISE EXCEPTION 'caf\xe9 closed'; END$$;\n"
        + PLAIN_FOOT
    )
    with pytest.raises(ArchiveError) as caught:
        verify(db, path)
    assert "ERROR:  caf\ufffd closed\n" in str(caught.value)
    assert databases(server, db) == []


def test_psql_progress_counts_every_byte_fed(
    db: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive_loading, "PROGRESS_EVERY", -1.0)  # a line for every chunk
    path = tmp_path / "tiny.sql"
    path.write_bytes(PLAIN_HEAD + b"SELECT 1;\n" + PLAIN_FOOT)
    said: list[str] = []
    verify(db, path, report=said.append)
    size = path.stat().st_size
    assert size < 1000  # shown in bytes, not rounded
    assert [x for x in said if x.startswith("psql: ")] == [f"psql: {size} B of SQL fed (0s)"]


def test_the_closing_line_must_be_within_the_last_4096_bytes(db: Target, tmp_path: Path) -> None:
    for room, whole in ((4096, True), (4097, False)):
        path = tmp_path / f"ends-{room}.sql"
        path.write_bytes(
            PLAIN_HEAD + b"SELECT 1;\n" + PLAIN_FOOT + b"\n" * (room - len(PLAIN_FOOT))
        )
        if whole:
            verify(db, path)
            continue
        with pytest.raises(ArchiveError) as caught:
            verify(db, path)
        assert str(caught.value) == (
            f"{path}: the SQL dump is truncated: pg_dump's closing line is missing"
        )


# --- pg_restore: progress weights -------------------------------------------------------------


def test_tables_the_manifest_does_not_weigh_add_nothing_to_the_progress(
    seeded: Target, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = seeded
    monkeypatch.setattr(archive_loading, "Meter", EagerMeter)
    path = tmp_path / "full.dump"
    pg_dump = find_tool("pg_dump", server.major)
    subprocess.run([pg_dump.path, "-Fc", f"--file={path}"], env=db.libpq_env(), check=True)
    # the versions that wrote it: a newer one claimed would pick a newer pg_restore, whose
    # settings (transaction_timeout, 17+) an older server refuses
    _manifest(
        path,
        table_bytes={"public.users": 10},
        server_version=f"{server.major}.0",
        pg_dump_version=f"{pg_dump.major}.0",
    )
    said: list[str] = []
    verify(db, path, report=said.append)
    amounts = [m.group(2, 3) for m in (re.fullmatch(PERCENT, x) for x in said) if m]
    # Nothing before users is done, and it ends at users' ten bytes.
    assert amounts and set(amounts) == {("10 B", "10 B")}


def test_without_weights_each_table_started_counts_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive_loading, "Meter", EagerMeter)
    tool = Tool(Path("/usr/bin/pg_restore"), 17)
    prepared = Prepared(Path("x.dump"), Format.CUSTOM, "full", None, tool, 17, True, None, 10)
    said: list[str] = []
    progress = archive_loading._restore_meter(prepared, said.append, None)
    for n in range(10):
        progress.table_started(f"public.t{n}")
    progress.finished()
    done = [m.group(1, 2) for m in (re.fullmatch(PERCENT, x) for x in said) if m]
    # A table is done when the next one starts; the last when pg_restore ends.
    assert done == [(f"{n}0", f"{n} tables") for n in range(1, 11)]


def _transactions(target: Target) -> int:
    """How many transactions wrote the rows of the seeded tables."""
    with connect(target, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(DISTINCT xmin::text) FROM (SELECT xmin FROM users UNION ALL"
            " SELECT xmin FROM learning_components UNION ALL SELECT xmin FROM user_progress) t"
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_one_job_restores_in_one_transaction_and_two_in_several(
    seeded: Target, server: Server, tmp_path: Path
) -> None:
    db = seeded
    path = backup(db, "full", tmp_path, options=DumpOptions(format="directory")).path
    one, two = db.with_dbname(db.dbname + "__one"), db.with_dbname(db.dbname + "__two")
    restore(one, path)
    restore(two, path, jobs=2)
    assert _transactions(one) == 1
    assert _transactions(two) > 1
    assert sorted(databases(server, db)) == sorted([one.dbname, two.dbname])
