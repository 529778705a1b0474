"""Archive formats, parallel jobs, compression, encryption at rest, archives without a manifest.

Against a real PostgreSQL: a directory-format backup taken and restored by two jobs, a
compressed one, an encrypted one, each restores to identical row counts and content
checksums; a wrong key, a changed byte or a cut file is refused before any database is
touched; a plain `pg_dump -Fc` file verifies with its counts reported.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from netplus_db.cli.backup import backup as backup_cli
from netplus_db.cli.context import CliContext
from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.ops import archive_crypto, archive_loading
from netplus_db.ops.archive_crypto import (
    CHUNK_SIZE,
    KEY_VARIABLE,
    BackupKeyError,
    EncryptingWriter,
    decrypted_chunks,
    key_from_env,
)
from netplus_db.ops.archive_loading import verify
from netplus_db.ops.archives import ArchiveError, BackupError, Manifest, manifest_path
from netplus_db.ops.backup import DumpOptions, backup, row_counts
from netplus_db.ops.client_tools import find_tool
from netplus_db.ops.pg_programs import compression_args
from netplus_db.ops.progress import Meter, human_bytes
from netplus_db.ops.restore import restore
from tests.ops.test_backup_restore import seed, snapshot
from tests.support.derived_databases import databases
from tests.support.server import MIGRATIONS, Server

pytestmark = pytest.mark.slow

KEY = base64.b64encode(bytes(range(32))).decode()
OTHER_KEY = base64.b64encode(bytes(range(1, 33))).decode()


@pytest.fixture
def seeded(db: Target, derived: None) -> Target:
    seed(db)
    return db


def _env(db: Target) -> CliContext:
    return CliContext(db.conninfo, MIGRATIONS)


def _copy(db: Target) -> Target:
    return db.with_dbname(db.dbname + "__copy")


# --- directory format and jobs ----------------------------------------------------------------


def test_a_directory_backup_with_two_jobs_restores_identically(
    seeded: Target, tmp_path: Path
) -> None:
    taken = backup(seeded, "full", tmp_path, options=DumpOptions(format="directory", jobs=2))
    path = taken.path
    assert path.is_dir() and path.name.endswith(".dir") and (path / "toc.dat").is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in path.iterdir())
    assert taken.manifest.format == "directory" and taken.manifest.row_counts
    said: list[str] = []
    proven = verify(seeded, path, jobs=2, report=said.append)
    assert proven.compared and proven.row_counts == taken.manifest.row_counts
    assert any(re.fullmatch(r"pg_restore into \S+__verify_\w+, 2 jobs \(.+s\)", x) for x in said)
    assert not any(x.startswith("note: --jobs") for x in said)
    restore(_copy(seeded), path, jobs=2)
    assert snapshot(_copy(seeded)) == snapshot(seeded)


def test_a_changed_file_in_a_directory_archive_is_refused(seeded: Target, tmp_path: Path) -> None:
    path = backup(seeded, "full", tmp_path, options=DumpOptions(format="directory")).path
    member = next(p for p in sorted(path.iterdir()) if p.name != "toc.dat")
    member.write_bytes(member.read_bytes() + b"x")
    with pytest.raises(ArchiveError, match="the archive is truncated or was changed"):
        verify(seeded, path)


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (DumpOptions(jobs=2), "--jobs 2 needs --format directory"),
        (DumpOptions(format="directory", jobs=0), "--jobs must be between 1 and 64"),
        (DumpOptions(format="tar"), "unknown format 'tar'"),  # type: ignore[arg-type]
        (DumpOptions(compress="brotli"), "--compress 'brotli': use METHOD"),
        (DumpOptions(compress="gzip:12"), "gzip levels are 1 to 9"),
    ],
)
def test_impossible_dump_options_are_refused_before_anything_is_written(
    seeded: Target, tmp_path: Path, options: DumpOptions, problem: str
) -> None:
    with pytest.raises(BackupError, match=problem):
        backup(seeded, "full", tmp_path, options=options)
    assert list(tmp_path.iterdir()) == []


# --- compression ------------------------------------------------------------------------------


def test_a_gzip_9_backup_restores_and_records_its_compression(
    seeded: Target, tmp_path: Path
) -> None:
    taken = backup(seeded, "full", tmp_path, options=DumpOptions(compress="gzip:9"))
    assert taken.manifest.compression == "gzip:9"
    restore(_copy(seeded), taken.path)
    assert snapshot(_copy(seeded)) == snapshot(seeded)


@pytest.mark.parametrize("method", ["zstd", "lz4:3"])
def test_a_method_this_pg_dump_lacks_is_refused_clearly(server: Server, method: str) -> None:
    tool = find_tool("pg_dump", server.major)
    try:
        args = compression_args(method, tool)
    except BackupError as exc:
        assert str(tool.path) in str(exc) and "gzip" in str(exc)
        assert method in str(exc)
    else:  # a build with the method passes it through unchanged
        assert args == [f"--compress={method}"]


def test_pg_dump_before_16_gets_a_gzip_level(server: Server) -> None:
    tool = find_tool("pg_dump", server.major)
    old = type(tool)(tool.path, 15)
    assert compression_args("gzip:6", old) == ["--compress=6"]
    assert compression_args("none", old) == ["--compress=0"]
    assert compression_args("gzip", old) == ["--compress=6"]
    with pytest.raises(BackupError, match="compresses with gzip only"):
        compression_args("zstd:3", old)


# --- encryption -------------------------------------------------------------------------------


def test_an_encrypted_backup_round_trips_and_never_holds_the_key(
    seeded: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    result = CliRunner().invoke(
        backup_cli,
        ["full", "--encrypt", "--json", "--dir", str(tmp_path)],
        obj=_env(seeded),
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    path = Path(doc["items"][0]["file"])
    assert doc["items"][0]["encrypted"] is True
    data = path.read_bytes()
    assert data.startswith(archive_crypto.MAGIC) and b"PGDMP" not in data
    assert b"user0@example.test" not in data
    manifest = json.loads(manifest_path(path).read_text())
    assert manifest["encryption"]["algorithm"] == "AES-256-GCM"
    assert manifest["encryption"]["key_id"] == key_from_env({KEY_VARIABLE: KEY}).key_id  # type: ignore[union-attr]
    assert KEY not in manifest_path(path).read_text() + result.output
    monkeypatch.setattr(archive_loading, "Meter", EagerMeter)
    piped: list[str] = []
    assert verify(seeded, path, report=piped.append).compared
    assert f"{path.name}: pg_dump custom format, encrypted, full backup" in piped
    # Decrypted on the fly into pg_restore's standard input, its progress still table by table.
    passed = [int(m.group(1)) // 10 for m in (re.fullmatch(PERCENT, x) for x in piped) if m]
    assert len(passed) > 2 and passed == sorted(set(passed)) and passed[-1] == 10
    said: list[str] = []
    restore(_copy(seeded), path, jobs=2, report=said.append)  # jobs fall back to one stream
    assert f"note: --jobs 2 ignored: {path.name} is decrypted as one stream" in said
    assert any(re.fullmatch(r"pg_restore into \S+ \(.+s\)", x) for x in said)
    assert snapshot(_copy(seeded)) == snapshot(seeded)


@pytest.fixture
def encrypted(seeded: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    key = key_from_env()
    return backup(seeded, "full", tmp_path, options=DumpOptions(key=key)).path


def test_a_wrong_key_is_refused_before_any_database_is_touched(
    encrypted: Path, seeded: Target, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, OTHER_KEY)
    with pytest.raises(ArchiveError, match="encrypted with a different key") as caught:
        restore(seeded, encrypted)
    assert OTHER_KEY not in str(caught.value) and KEY not in str(caught.value)
    monkeypatch.delenv(KEY_VARIABLE)
    with pytest.raises(BackupKeyError, match=f"needs the key in {KEY_VARIABLE}"):
        verify(seeded, encrypted)
    assert databases(server, seeded) == []
    # A key handed over (as a secret store would) instead of read from the environment.
    assert verify(seeded, encrypted, key=key_from_env({KEY_VARIABLE: KEY})).compared
    assert databases(server, seeded) == []


@pytest.mark.parametrize("with_manifest", [True, False], ids=["manifest", "no-manifest"])
def test_a_tampered_encrypted_archive_is_refused(
    encrypted: Path, seeded: Target, server: Server, with_manifest: bool
) -> None:
    before = snapshot(seeded)
    data = bytearray(encrypted.read_bytes())
    data[len(data) // 2] ^= 0x01
    encrypted.write_bytes(bytes(data))
    if not with_manifest:
        manifest_path(encrypted).unlink()
    problem = "sha256 is .* says" if with_manifest else "authentication failed at byte"
    with pytest.raises(ArchiveError, match=problem):
        restore(seeded, encrypted)
    assert snapshot(seeded) == before and databases(server, seeded) == []


def test_encrypt_needs_a_key_and_the_custom_format(seeded: Target, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != KEY_VARIABLE}
    result = CliRunner().invoke(
        backup_cli,
        ["full", "--encrypt", "--dir", str(tmp_path)],
        env=env | {KEY_VARIABLE: ""},
        obj=_env(seeded),
    )
    assert result.exit_code == 1 and isinstance(result.exception, BackupKeyError)
    assert "openssl rand -base64 32" in str(result.exception)
    key = key_from_env({KEY_VARIABLE: KEY})
    with pytest.raises(BackupError, match="--encrypt works with --format custom only"):
        backup(seeded, "full", tmp_path, options=DumpOptions(format="directory", key=key))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [("not base64 !!", "is not base64"), (base64.b64encode(b"short").decode(), "holds 5 bytes")],
)
def test_a_malformed_key_is_refused_without_showing_it(value: str, problem: str) -> None:
    with pytest.raises(BackupKeyError, match=problem) as caught:
        key_from_env({KEY_VARIABLE: value})
    assert value not in str(caught.value)


def _sealed(plain: bytes) -> bytes:
    sink = io.BytesIO()
    writer = EncryptingWriter(sink, key_from_env({KEY_VARIABLE: KEY}))  # type: ignore[arg-type]
    for start in range(0, len(plain), 300_000):
        writer.write(plain[start : start + 300_000])
    writer.close()
    return sink.getvalue()


def test_streamed_encryption_round_trips_across_chunks_and_detects_cuts(tmp_path: Path) -> None:
    key = key_from_env({KEY_VARIABLE: KEY})
    assert key is not None
    plain = os.urandom(2 * CHUNK_SIZE + 12345)
    path = tmp_path / "sealed"
    path.write_bytes(_sealed(plain))
    chunks = list(decrypted_chunks(path, key))
    assert b"".join(chunks) == plain and len(chunks) == 3
    whole = path.read_bytes()
    header, sealed_chunk = archive_crypto.HEADER_SIZE, CHUNK_SIZE + archive_crypto.TAG
    cut = tmp_path / "cut"
    cut.write_bytes(whole[: header + 2 * sealed_chunk])  # cut exactly at a chunk boundary
    with pytest.raises(ArchiveError, match="authentication failed"):
        b"".join(decrypted_chunks(cut, key))
    swapped = tmp_path / "swapped"
    first, second = (
        whole[header + i * sealed_chunk : header + (i + 1) * sealed_chunk] for i in (0, 1)
    )
    swapped.write_bytes(whole[:header] + second + first + whole[header + 2 * sealed_chunk :])
    with pytest.raises(ArchiveError, match="authentication failed at byte"):
        b"".join(decrypted_chunks(swapped, key))
    exact = tmp_path / "exact"
    exact.write_bytes(_sealed(b"y" * CHUNK_SIZE))
    assert b"".join(decrypted_chunks(exact, key)) == b"y" * CHUNK_SIZE


# --- archives without a manifest --------------------------------------------------------------


def test_a_plain_pg_dump_custom_file_verifies_with_nothing_to_compare(
    seeded: Target, server: Server, tmp_path: Path
) -> None:
    path = tmp_path / "plain.dump"
    pg_dump = find_tool("pg_dump", server.major).path
    subprocess.run(
        [pg_dump, "-Fc", f"--file={path}"], env=seeded.libpq_env(), check=True, timeout=60
    )
    proven = verify(seeded, path, migrations_dir=MIGRATIONS)
    assert not proven.compared and proven.manifest is None
    with connect(seeded, autocommit=True) as conn:
        assert proven.row_counts == row_counts(conn)
    result = CliRunner().invoke(backup_cli, ["verify", str(path), "--json"], obj=_env(seeded))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["summary"]["compared_with_manifest"] is False
    assert {"table": "users", "rows": 5} in doc["items"]
    assert "nothing to compare against" in result.stderr
    assert not manifest_path(path).exists() and databases(server, seeded) == []


@pytest.mark.parametrize(
    ("flag", "kind"), [("--schema-only", "schema"), ("--data-only", "data"), (None, "full")]
)
def test_an_archive_without_a_manifest_is_told_apart_by_its_table_of_contents(
    seeded: Target, server: Server, tmp_path: Path, flag: str | None, kind: str
) -> None:
    path = tmp_path / f"{kind}.dump"
    pg_dump = find_tool("pg_dump", server.major).path
    args = [str(pg_dump), "-Fc", f"--file={path}", *([flag] if flag else [])]
    subprocess.run(args, env=seeded.libpq_env(), check=True, timeout=60)
    said: list[str] = []
    if kind == "data":  # nothing says which schema version its rows belong to
        with pytest.raises(ArchiveError) as caught:
            verify(seeded, path, report=said.append)
        assert str(caught.value) == (
            f"{path}: a data-only backup needs its manifest's migration version to rebuild the "
            "schema it belongs to; restore it from a full backup instead"
        )
    else:
        proven = verify(seeded, path, report=said.append, migrations_dir=MIGRATIONS)
        assert proven.kind == kind and f"{path.name}: pg_dump custom format, {kind} backup" in said
        assert proven.row_counts and any(proven.row_counts.values()) == (kind == "full")
    assert said[0] == (
        f"warning: {path} has no manifest ({path.name}.manifest.json): its checksum and row "
        "counts cannot be checked"
    )
    assert databases(server, seeded) == []


# --- restore progress -------------------------------------------------------------------------


class EagerMeter(Meter):
    """A Meter that reports from the start: a test restore is over before the quiet seconds."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs, quiet_for=0.0)


PERCENT = r"pg_restore: (\d+)% \((.+) of (.+), .+/s, ETA .+\)"


def test_restore_progress_weighs_tables_by_the_manifests_bytes_or_counts_them(
    seeded: Target, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line per tenth on a pipe, a live line on a terminal (ended by None), each with the
    amount done of the total: the manifest's table bytes when it has them, else a count of
    the archive's tables."""
    monkeypatch.setattr(archive_loading, "Meter", EagerMeter)
    full = backup(seeded, "full", tmp_path / "backups").path
    weights = Manifest.read(manifest_path(full)).table_bytes
    assert weights, "a full backup's manifest weighs its tables"
    total = human_bytes(sum(weights.values()))
    piped: list[str] = []
    verify(seeded, full, report=piped.append, migrations_dir=MIGRATIONS)
    tenths = [m for m in (re.fullmatch(PERCENT, line) for line in piped) if m]
    assert tenths and tenths[-1].group(1) == "100" and tenths[-1].group(3) == total
    # Lines as the tables go by (the first table alone may pass several tenths), not only at
    # the end: a tenth at most once each, in order.
    passed = [int(m.group(1)) // 10 for m in tenths]
    assert len(passed) > 2 and passed == sorted(set(passed))

    shown: list[str | None] = []
    verify(seeded, full, live=shown.append, migrations_dir=MIGRATIONS)
    assert shown and shown[-1] is None and re.fullmatch(PERCENT, str(shown[-2]))
    assert str(shown[-2]).startswith("pg_restore: 100% ")

    plain = tmp_path / "plain.dump"
    pg_dump = find_tool("pg_dump", server.major).path
    subprocess.run(
        [pg_dump, "-Fc", f"--file={plain}"], env=seeded.libpq_env(), check=True, timeout=60
    )
    counted_lines: list[str] = []
    verify(seeded, plain, report=counted_lines.append, migrations_dir=MIGRATIONS)
    last = [m for m in (re.fullmatch(PERCENT, line) for line in counted_lines) if m][-1]
    with connect(seeded, autocommit=True) as conn:
        tables = len(row_counts(conn))
    assert last.group(1) == "100" and last.group(3) == f"{tables:,} tables"
    # Each table pg_restore starts counts one: a line as each tenth is passed, the count whole.
    counted = [m for m in (re.fullmatch(PERCENT, line) for line in counted_lines) if m]
    assert [int(m.group(1)) // 10 for m in counted] == list(range(1, 11))
    done = [int(m.group(2).removesuffix(" tables")) for m in counted]
    assert done == sorted(set(done)) and done[-1] == tables
    shown.clear()
    verify(seeded, plain, live=shown.append, migrations_dir=MIGRATIONS)
    assert shown[-1] is None and str(shown[-2]).startswith(f"pg_restore: 100% ({tables} tables")
