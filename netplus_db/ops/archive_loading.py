"""Reading a backup back: check it, load it into a scratch database, validate it, verify it.

- `prepare()` checks a file before any database is touched: its manifest (when there is one),
  size and sha256, format (pg_dump custom or directory format, or a plain SQL dump, gzipped or
  not), encryption (the whole file is decrypted and authenticated with NETPLUS_BACKUP_KEY: a
  different key or a changed byte is refused here), and fitting client programs.
- `load()` restores it into an empty database, all or nothing: one transaction
  (`--single-transaction --exit-on-error`), or with `jobs` > 1 several pg_restore jobs into
  the scratch database, which is dropped on failure. An encrypted archive is decrypted as a
  stream into pg_restore: it never lies on disk in clear.
- `validate()` compares the restored database with the manifest; `verify()` is all of it in a
  scratch database `<db>__verify_<UTC>` that is always dropped, and proves an archive without
  a manifest too (its row counts are reported, with nothing to compare them against).
"""

from __future__ import annotations

import gzip
import re
import subprocess
import tempfile
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, cast

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from netplus_db.config import Target
from netplus_db.connection import (
    MAINTENANCE_DB,
    connect,
    database_exists,
    ensure_server_started,
    scratch_database,
    server_version,
)
from netplus_db.migrate.migrator import Migrator
from netplus_db.ops import restore_leftovers
from netplus_db.ops.archive_crypto import (
    BackupKey,
    authenticate,
    decrypted_chunks,
    is_encrypted,
    require_key,
)
from netplus_db.ops.archives import (
    CHUNK,
    ArchiveError,
    Kind,
    Manifest,
    archive_digest,
    derived_name,
    manifest_path,
    mark_verified,
)
from netplus_db.ops.backup import migration_version, phase, row_counts
from netplus_db.ops.client_tools import Tool, find_tools
from netplus_db.ops.pg_programs import failure, run_tool, table_in_line
from netplus_db.ops.progress import LiveLine, Meter, TableProgress, counted, human_bytes
from netplus_db.sql import sql_files
from netplus_db.types import Progress

CUSTOM_MAGIC = b"PGDMP"
GZIP_MAGIC = b"\x1f\x8b"
PLAIN_HEADER = b"-- PostgreSQL database dump\n"
PLAIN_FOOTER = b"-- PostgreSQL database dump complete"
PROGRESS_EVERY = 10.0


def _silent(_message: str) -> None:
    pass


class Format(StrEnum):
    """What a backup file turned out to be."""

    CUSTOM = "pg_dump custom format"
    DIRECTORY = "pg_dump directory format"
    GZIP_SQL = "gzipped plain SQL dump"
    PLAIN_SQL = "plain SQL dump"


def sniff_format(path: Path, key: BackupKey | None = None) -> Format:
    """Tell the archive formats and (gzipped) plain SQL dumps apart; ArchiveError otherwise.

    An encrypted file is judged by its decrypted first chunk (`key` is needed for it).
    """
    if path.is_dir():
        if not (path / "toc.dat").is_file():
            raise ArchiveError(path, "a directory, but not a pg_dump directory-format archive")
        return Format.DIRECTORY
    try:
        with path.open("rb") as f:
            head = f.read(256)
    except OSError as exc:
        raise ArchiveError(path, f"cannot read it: {exc.strerror or exc}") from None
    if not head:
        raise ArchiveError(path, "the file is empty")
    if key is not None and is_encrypted(path):
        # decrypted_chunks yields at least one chunk, or raises
        if not next(decrypted_chunks(path, key)).startswith(CUSTOM_MAGIC):
            raise ArchiveError(path, "decrypted, but not a pg_dump custom-format archive")
        return Format.CUSTOM
    if head.startswith(CUSTOM_MAGIC):
        return Format.CUSTOM
    if head.startswith(GZIP_MAGIC):
        if PLAIN_HEADER not in _gunzip_head(path):
            raise ArchiveError(path, "a gzip file, but not of a pg_dump plain SQL dump")
        return Format.GZIP_SQL
    if PLAIN_HEADER in head:
        return Format.PLAIN_SQL
    raise ArchiveError(
        path,
        "not a PostgreSQL backup: expected a pg_dump custom-format archive (starting with "
        "PGDMP), a directory-format one, or a pg_dump plain SQL dump, gzipped or not",
    )


def _gunzip_head(path: Path) -> bytes:
    try:
        with gzip.open(path) as f:
            return f.read(4096)
    except (OSError, EOFError, zlib.error) as exc:
        raise ArchiveError(path, f"the gzip data is corrupted or truncated: {exc}") from None


def check_checksum(path: Path, manifest: Manifest) -> None:
    """Compare size and sha256 with the manifest; ArchiveError naming the file on a mismatch."""
    digest, size = archive_digest(path)
    where = manifest_path(path).name
    if size != manifest.size:
        raise ArchiveError(
            path,
            f"size is {size} bytes but {where} says {manifest.size}: the archive is truncated "
            "or was changed after the backup",
        )
    if digest != manifest.sha256:
        raise ArchiveError(
            path,
            f"sha256 is {digest} but {where} says {manifest.sha256}: the archive is corrupted "
            "or was changed after the backup",
        )


@dataclass(frozen=True)
class Prepared:
    """A backup file checked and understood, with the client program that loads it."""

    path: Path
    format: Format
    kind: Kind
    manifest: Manifest | None
    tool: Tool
    server_major: int
    superuser: bool
    key: BackupKey | None = None
    table_count: int = 0  # TABLE DATA entries, when the manifest does not weigh them

    @property
    def encrypted(self) -> bool:
        """Whether the file is decrypted on its way into pg_restore."""
        return self.key is not None

    def chunks(self) -> Iterable[bytes]:
        """The archive's (decrypted) bytes, for a program's standard input."""
        assert self.key is not None
        return decrypted_chunks(self.path, self.key)


def prepare(
    target: Target,
    path: Path,
    report: Progress,
    *,
    key: BackupKey | None = None,
    require_manifest: bool = False,
) -> Prepared:
    """Check a backup file before any database is touched: manifest, checksum, encryption,
    format, tools (see the module docstring)."""
    if not path.exists():
        raise ArchiveError(path, "no such file")
    manifest = _manifest_for(path, report, require_manifest)
    if manifest is not None:
        with phase(report, f"sha256 of {path.name} matches its manifest"):
            check_checksum(path, manifest)
    encrypted = path.is_file() and is_encrypted(path)
    if manifest is not None and manifest.encrypted != encrypted:
        said = "encrypted" if manifest.encrypted else "not encrypted"
        raise ArchiveError(path, f"its manifest says it is {said}, but it is the other way round")
    if encrypted:
        key = key or require_key(f"{path} is encrypted: reading it")
        with phase(report, f"{path.name} decrypted and authenticated (AES-256-GCM)"):
            authenticate(path, key)
    else:
        key = None
    fmt = sniff_format(path, key)
    with connect(target.with_dbname(MAINTENANCE_DB)) as conn:
        major = server_version(conn)[0] // 10000
        superuser = bool(sql_files().server.whoami(conn)[1])
    tables = 0
    if fmt in (Format.CUSTOM, Format.DIRECTORY):
        wanted = max(major, (manifest.pg_dump_major if manifest else None) or major)
        tool = find_tools(["pg_restore"], wanted)["pg_restore"]
        listed, tables = _archive_kind(tool, target, path, key, report)
        kind = manifest.kind if manifest else listed
    else:
        tool = find_tools(["psql"], major)["psql"]
        kind = manifest.kind if manifest else "full"
    if kind == "data" and (manifest is None or manifest.migration_version is None):
        raise ArchiveError(
            path,
            "a data-only backup needs its manifest's migration version to rebuild the schema "
            "it belongs to; restore it from a full backup instead",
        )
    sealed = ", encrypted" if key else ""
    report(f"{path.name}: {fmt.value}{sealed}, {kind} backup")
    return Prepared(path, fmt, kind, manifest, tool, major, superuser, key, tables)


def _manifest_for(path: Path, report: Progress, required: bool) -> Manifest | None:
    where = manifest_path(path)
    if where.is_file():
        return Manifest.read(where)
    if required:
        raise ArchiveError(path, f"has no manifest ({where.name}): nothing to verify it against")
    report(
        f"warning: {path} has no manifest ({where.name}): its checksum and row counts "
        "cannot be checked"
    )
    return None


def _archive_kind(
    tool: Tool, target: Target, path: Path, key: BackupKey | None, report: Progress
) -> tuple[Kind, int]:
    """(full, schema or data; number of TABLE DATA entries) from the archive's table of
    contents (`pg_restore --list`)."""
    args = [str(tool.path), "--list"] + ([] if key else [str(path)])
    chunks = decrypted_chunks(path, key) if key else None
    result = run_tool(args, target, tool.path.name, report, capture=True, stdin_chunks=chunks)
    if result.returncode != 0:
        raise ArchiveError(path, f"not a readable pg_dump archive: {failure(result)}")
    found = re.findall(r"^\d+; \d+ \d+ (TABLE DATA|TABLE) ", result.stdout, re.M)
    entries = set(found)
    count = found.count("TABLE DATA")
    if entries == {"TABLE DATA"}:
        return "data", count
    return ("schema" if "TABLE DATA" not in entries else "full"), count


# --- loading into a scratch database ----------------------------------------------------------


@contextmanager
def stamped_scratch_database(
    target: Target, tag: restore_leftovers.Role, when: datetime, report: Progress, source: Path
) -> Iterator[Target]:
    """A new empty database `<db>__<tag>_<UTC>` (from template0), recorded in its comment as
    what it is, and dropped when the block ends (a restore that renamed it away leaves
    nothing to drop)."""
    base = derived_name(target.dbname, tag, when)
    with scratch_database(target, base, template="template0", keep_existing=True) as scratch:
        with connect(target.with_dbname(MAINTENANCE_DB), autocommit=True) as conn:
            restore_leftovers.record(conn, scratch.dbname, tag, target.dbname, str(source))
        report(f"created scratch database {scratch.dbname}")
        yield scratch
        if database_exists(scratch):  # a restore renamed it into place: nothing to drop
            report(f"dropping scratch database {scratch.dbname}")


def load(
    prepared: Prepared,
    scratch: Target,
    report: Progress,
    *,
    no_owner: bool,
    migrations_dir: Path | None = None,
    jobs: int,
    live: LiveLine | None = None,
) -> None:
    """Restore a prepared backup into an empty database, all or nothing."""
    if prepared.kind == "data":
        assert prepared.manifest is not None and prepared.manifest.migration_version is not None
        version = prepared.manifest.migration_version
        with phase(report, f"schema rebuilt by migrating {scratch.dbname} to version {version}"):
            Migrator(scratch, migrations_dir).up(to=version)
            _empty_migrated_rows(scratch)
    if jobs > 1 and (
        prepared.encrypted or prepared.format not in (Format.CUSTOM, Format.DIRECTORY)
    ):
        why = "is decrypted as one stream" if prepared.encrypted else "is SQL for psql"
        report(f"note: --jobs {jobs} ignored: {prepared.path.name} {why}")
        jobs = 1
    many = f", {jobs} jobs" if jobs > 1 else ""
    with phase(report, f"{prepared.tool.path.name} into {scratch.dbname}{many}"):
        if prepared.format in (Format.CUSTOM, Format.DIRECTORY):
            _pg_restore(prepared, scratch, report, no_owner=no_owner, jobs=jobs, live=live)
        else:
            _psql_restore(prepared, scratch, report)
    if prepared.kind == "data":
        with phase(report, "materialized views refreshed"):
            refresh_materialized_views(scratch)


def _empty_migrated_rows(scratch: Target) -> None:
    """Empty the tables a migration filled (reference rows): the data backup holds them as
    they were, and loading them beside the migration's copy would be a duplicate key."""
    with connect(scratch) as conn, conn.transaction():
        names = [name for (name,) in sql_files().backup.public_tables(conn)]
        # equivalent for mutation testing: SQL keywords in any case; public is the only schema
        # on the path
        tables = [sql.Identifier("public", name) for name in names]  # pragma: no mutate
        probe = sql.SQL("SELECT 1 FROM {} LIMIT 1")  # pragma: no mutate
        truncate = sql.SQL("TRUNCATE {} CASCADE")  # pragma: no mutate
        filled = [table for table in tables if conn.execute(probe.format(table)).fetchone()]
        if filled:
            conn.execute(truncate.format(sql.SQL(", ").join(filled)))


def refresh_materialized_views(target: Target) -> None:
    """REFRESH every materialized view of schema public, in one transaction."""
    with connect(target) as conn, conn.transaction():
        for (view,) in list(sql_files().backup.materialized_views(conn)):
            # equivalent for mutation testing: SQL keywords in any case; public is the only schema
            # on the path
            name = sql.Identifier("public", view)  # pragma: no mutate
            conn.execute(sql.SQL("REFRESH MATERIALIZED VIEW {}").format(name))  # pragma: no mutate


def _restore_meter(prepared: Prepared, report: Progress, live: LiveLine | None) -> TableProgress:
    weights = (prepared.manifest.table_bytes if prepared.manifest else None) or {}
    if weights:
        meter = Meter("pg_restore", float(sum(weights.values())), report, live)
        return TableProgress(meter, {k: float(v) for k, v in weights.items()}, 0.0)
    count = float(prepared.table_count)
    tables = Meter("pg_restore", count, report, live, amount=counted("tables"))
    return TableProgress(tables, {}, 1.0)


def _pg_restore(
    prepared: Prepared,
    scratch: Target,
    report: Progress,
    *,
    no_owner: bool,
    jobs: int,
    live: LiveLine | None,
) -> None:
    args = [
        str(prepared.tool.path),
        "--no-password",
        "--verbose",
        "--exit-on-error",
        # equivalent for mutation testing: the tool's environment (PGDATABASE) names the same
        # database
        f"--dbname={make_conninfo(dbname=scratch.dbname)}",  # pragma: no mutate
    ]
    # -j cannot be combined with --single-transaction; the scratch database, dropped on any
    # failure, keeps the restore all-or-nothing then.
    args.append(f"--jobs={jobs}" if jobs > 1 else "--single-transaction")
    if no_owner:
        args.append("--no-owner")
    if prepared.kind == "data":
        args.append("--data-only")
        if prepared.superuser:
            args.append("--disable-triggers")
    progress = _restore_meter(prepared, report, live)

    def on_line(line: str) -> None:
        table = table_in_line(line)
        if table is not None:
            progress.table_started(table)

    if prepared.encrypted:
        result = run_tool(
            args,
            scratch,
            prepared.tool.path.name,
            report,
            on_line=on_line,
            stdin_chunks=prepared.chunks(),
        )
    else:
        result = run_tool(
            [*args, str(prepared.path)], scratch, prepared.tool.path.name, report, on_line=on_line
        )
    if result.returncode != 0:
        raise ArchiveError(prepared.path, f"restore failed, nothing was kept: {failure(result)}")
    progress.finished()


def _psql_restore(prepared: Prepared, scratch: Target, report: Progress) -> None:
    """Stream the (decompressed) SQL into psql; kill it, so nothing commits, if the file fails."""
    args = [
        str(prepared.tool.path),
        "-X",
        "-q",
        "--no-password",
        "-v",
        "ON_ERROR_STOP=1",
        "--single-transaction",
        "-f",
        "-",
    ]
    with tempfile.TemporaryFile() as err:
        with subprocess.Popen(
            args,
            env=scratch.libpq_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=err,
            # equivalent for mutation testing: a buffered pipe delivers the same bytes, and its
            # writes to a psql that stopped reading fail as a raw one's do
            bufsize=0,  # pragma: no mutate
        ) as proc:
            stdin = cast(IO[bytes], proc.stdin)
            try:
                complete = _feed(prepared.path, stdin, report)
            except BaseException:
                proc.kill()
                raise
            stdin.close()
            proc.wait()
        err.seek(0)
        message = scratch.redact(err.read().decode(errors="replace")).strip()
    if proc.returncode == 0 and not complete:
        message = "it stopped reading before the end of the file"
    if proc.returncode != 0 or not complete:
        raise ArchiveError(
            prepared.path,
            f"restore failed, nothing was kept: psql failed (exit {proc.returncode}): {message}",
        )


def _feed(path: Path, sink: IO[bytes], report: Progress) -> bool:
    """Copy the SQL to psql; False when psql stopped reading (at an error) before the end.

    A file without pg_dump's closing line is a truncated one: ArchiveError.
    """
    # equivalent for mutation testing: a seed without pg_dump's closing line cannot make one
    tail = b""  # pragma: no mutate
    fed = 0
    last = started = time.perf_counter()
    try:
        for chunk in _sql_chunks(path):
            _write_all(sink, chunk)
            tail = (tail + chunk)[-4096:]
            fed += len(chunk)
            # equivalent for mutation testing: a clock read twice is never exactly PROGRESS_EVERY
            # apart
            if time.perf_counter() - last > PROGRESS_EVERY:  # pragma: no mutate
                last = time.perf_counter()
                report(f"psql: {human_bytes(fed)} of SQL fed ({last - started:.0f}s)")
    except BrokenPipeError:
        return False  # psql stopped; its exit status and message tell why
    if PLAIN_FOOTER not in tail:
        raise ArchiveError(path, "the SQL dump is truncated: pg_dump's closing line is missing")
    return True


def _write_all(sink: IO[bytes], chunk: bytes) -> None:
    """Write every byte to an unbuffered pipe (a raw write may take only part of it)."""
    view = memoryview(chunk)
    while view:
        view = view[sink.write(view) :]


def _sql_chunks(path: Path) -> Iterator[bytes]:
    try:
        with gzip.open(path) if _is_gzip(path) else path.open("rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ArchiveError(path, f"the gzip data is corrupted or truncated: {exc}") from None


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == GZIP_MAGIC


# --- validation -------------------------------------------------------------------------------


def validate(prepared: Prepared, restored: Target, report: Progress) -> dict[str, int]:
    """Check a restored database against the manifest; ArchiveError listing every difference.
    Returns the restored row counts per table of schema public."""
    with phase(report, f"validated {restored.dbname}"), connect(restored) as conn:
        found = row_counts(conn)
        problems = _ledger_problems(conn, prepared) + _count_problems(found, prepared.manifest)
        if problems:  # inside the phase: a database that fails is not reported "validated"
            raise ArchiveError(
                prepared.path,
                "the restored database does not match the backup: " + "; ".join(problems),
            )
    return found


def _ledger_problems(conn: psycopg.Connection[Any], prepared: Prepared) -> list[str]:
    manifest = prepared.manifest
    if manifest is None or manifest.migration_version is None:
        return []  # nothing says there was a ledger
    if not sql_files().ledger.exists(conn):
        return ["no migration ledger (netplus.schema_migrations) in the restored database"]
    found = migration_version(conn)
    if found != manifest.migration_version:
        return [f"migration version {found}, manifest says {manifest.migration_version}"]
    return []


def _count_problems(found: dict[str, int], manifest: Manifest | None) -> list[str]:
    if manifest is None or manifest.row_counts is None:
        return []
    expected = manifest.row_counts
    problems = [f"table {t} is missing" for t in sorted(expected.keys() - found.keys())]
    problems += [f"unexpected table {t}" for t in sorted(found.keys() - expected.keys())]
    problems += [
        f"table {t} has {found[t]} rows, manifest says {expected[t]}"
        for t in sorted(expected.keys() & found.keys())
        if found[t] != expected[t]
    ]
    return problems


# --- verify -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    """What `verify()` proved: the archive restores; its counts match the manifest when
    `compared`, else they were only read (there was no manifest)."""

    path: Path
    manifest: Manifest | None
    kind: Kind
    row_counts: dict[str, int]
    compared: bool


def verify(
    target: Target,
    path: Path,
    *,
    migrations_dir: Path | None = None,
    key: BackupKey | None = None,
    jobs: int = 1,
    report: Progress = _silent,
    live: LiveLine | None = None,
    now: datetime | None = None,
) -> Verified:
    """Prove a backup: checksum, then a real restore into `<db>__verify_<UTC>` (always dropped)
    with `--exit-on-error --no-owner`, then the row counts against the manifest.

    An archive with a manifest that passes is marked verified in it. An archive without one
    (a plain `pg_dump -Fc` file) is restored and its counts reported, with nothing to compare.
    Raises ArchiveError (or ClientToolError) when anything fails.
    """
    target = ensure_server_started(target)
    # equivalent for mutation testing: a naive local time is stamped as the same UTC time
    started = datetime.now(UTC)  # pragma: no mutate
    when = now or started
    prepared = prepare(target, path, report, key=key)
    with stamped_scratch_database(target, "verify", when, report, path) as scratch:
        load(
            prepared,
            scratch,
            report,
            no_owner=True,
            migrations_dir=migrations_dir,
            jobs=jobs,
            live=live,
        )
        counts = validate(prepared, scratch, report)
    manifest = prepared.manifest
    if manifest is not None:
        # equivalent for mutation testing: mark_verified stamps a naive local time in UTC too
        verified_at = datetime.now(UTC)  # pragma: no mutate
        manifest = mark_verified(path, manifest, verified_at)
    else:
        report(f"{path.name} has no manifest: it restores, but there is nothing to compare against")
    return Verified(path, manifest, prepared.kind, counts, manifest is not None)
