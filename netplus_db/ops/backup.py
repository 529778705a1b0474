"""Taking backups: pg_dump archives with a manifest beside them.

`backup()` writes `<db>-<kind>-<UTC>.dump` (custom format) or `.dir` (directory format, dumped
by N parallel jobs) to a temporary `.partial` name, fsyncs it and its directory, then renames
it; `<archive>.manifest.json` records its sha256, size, format, compression, encryption (never
the key), versions, migration version, the row count of every table of schema public and the
size of every table, read in the very snapshot pg_dump dumps (`pg_export_snapshot` +
`pg_dump --snapshot`). An encrypted archive is encrypted as pg_dump writes it: the clear
archive never touches the disk.

Reading archives back (verify, restore) is `netplus_db.ops.archive_loading`; names, manifests,
listing and retention are `netplus_db.ops.archives`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from netplus_db.config import Target
from netplus_db.connection import (
    MAINTENANCE_DB,
    connect,
    ensure_server_started,
    scratch_database,
    server_version,
)
from netplus_db.errors import ClientToolError
from netplus_db.ops.archive_crypto import BackupKey, EncryptingWriter, encryption_record
from netplus_db.ops.archives import (
    KINDS,
    PARTIAL_SUFFIX,
    ArchiveFormat,
    BackupError,
    Kind,
    Manifest,
    archive_digest,
    archive_name,
    create_private,
    derived_name,
    free_path,
    fsync_dir,
    fsync_file,
    write_manifest,
)
from netplus_db.ops.client_tools import Tool, find_tools
from netplus_db.ops.pg_programs import (
    compression_args,
    failure,
    run_tool,
    table_in_line,
)
from netplus_db.ops.progress import LiveLine, Meter, TableProgress
from netplus_db.sql import sql_files
from netplus_db.types import Progress

LEDGER_SCHEMA = "netplus"
MAX_JOBS = 64


def _silent(_message: str) -> None:
    pass


@contextmanager
def phase(report: Progress, label: str) -> Iterator[None]:
    """Progress `label (1.23s)` when the block finishes without an error."""
    started = time.perf_counter()
    yield
    report(f"{label} ({time.perf_counter() - started:.2f}s)")


# --- what the database holds ------------------------------------------------------------------


def _table_query(template: str, table: str) -> sql.Composed:
    return sql.SQL(template).format(table=sql.Identifier("public", table))


def row_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Rows per table of schema public; errors rather than undercounts under row security."""
    q = sql_files()
    q.backup.no_row_security(conn)
    counts: dict[str, int] = {}
    for (table,) in q.backup.public_tables(conn):
        row = conn.execute(_table_query(q.backup.row_count_template.sql, table)).fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def content_checksums(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """md5 of every table of schema public, over its rows as text in a fixed order."""
    q = sql_files()
    q.backup.no_row_security(conn)
    sums: dict[str, str] = {}
    for (table,) in q.backup.public_tables(conn):
        row = conn.execute(_table_query(q.backup.content_checksum_template.sql, table)).fetchone()
        sums[table] = str(row[0]) if row else ""
    return sums


def table_sizes(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Bytes on disk per table of the user schemas, keyed `schema.table`."""
    return {str(name): int(size) for name, size in sql_files().backup.table_sizes(conn)}


def migration_version(conn: psycopg.Connection[Any]) -> int | None:
    """The newest applied migration, or None without a ledger (or with an empty one)."""
    q = sql_files()
    if not q.ledger.exists(conn):
        return None
    version = q.backup.migration_version(conn)
    return None if version is None else int(version)


def check_can_dump(conn: psycopg.Connection[Any], kind: Kind) -> None:
    """Refuse, before pg_dump runs, a data backup that row-level security would break."""
    if kind == "schema":
        return
    role, superuser, bypassrls = sql_files().server.whoami(conn)
    if superuser or bypassrls:
        return
    protected = list(sql_files().backup.row_security_tables(conn))
    if not protected:
        return
    forced = sum(1 for _name, force in protected if force)
    names = ", ".join(name for name, _force in protected[:4])
    more = f" and {len(protected) - 4} more" if len(protected) > 4 else ""
    raise BackupError(
        f"role {role} can not take a {kind} backup: it is neither a superuser nor BYPASSRLS, "
        f"and row-level security is enabled on {len(protected)} table(s) ({names}{more}; "
        f"forced on the owner for {forced}), so pg_dump would refuse to read them. Back up as "
        "a superuser, or as a role with BYPASSRLS (ALTER ROLE <role> BYPASSRLS)."
    )


# --- options ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DumpOptions:
    """How an archive is written: format, parallel jobs, compression, encryption key."""

    format: ArchiveFormat = "custom"
    jobs: int = 1
    compress: str | None = None
    key: BackupKey | None = None

    def check(self) -> None:
        """BackupError for a combination pg_dump or we cannot do."""
        if self.format not in ("custom", "directory"):
            raise BackupError(f"unknown format {self.format!r}: use custom or directory")
        if not 1 <= self.jobs <= MAX_JOBS:
            raise BackupError(f"--jobs must be between 1 and {MAX_JOBS} (got {self.jobs})")
        if self.jobs > 1 and self.format != "directory":
            raise BackupError(
                f"--jobs {self.jobs} needs --format directory: pg_dump dumps in parallel only "
                "into a directory-format archive"
            )
        if self.key is not None and self.format != "custom":
            raise BackupError(
                "--encrypt works with --format custom only: the archive is encrypted as "
                "pg_dump streams it, so it never lies on disk in clear"
            )


# --- backup -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backup:
    """An archive written by `backup()` and its manifest."""

    path: Path
    manifest: Manifest


@dataclass(frozen=True)
class _Snapshot:
    """What was read in the transaction whose snapshot pg_dump imports."""

    snapshot: str
    server_version: str
    server_major: int
    migration_version: int | None
    row_counts: dict[str, int] | None
    table_bytes: dict[str, int]
    data_schemas: list[str]


def dump_args(kind: Kind, data_schemas: list[str]) -> list[str]:
    """pg_dump's options for a kind of backup.

    A schema backup keeps the migration ledger's rows (it leaves out the data of every other
    schema), so the restored database knows its migration version. A data backup leaves the
    ledger out: a restore rebuilds schema and ledger by migrating to the manifest's version.
    """
    if kind == "schema":
        return [f"--exclude-table-data={_pattern(name)}.*" for name in data_schemas]
    if kind == "data":
        return ["--data-only", f"--exclude-schema={_pattern(LEDGER_SCHEMA)}"]
    return []


def _pattern(name: str) -> str:
    """A schema name as a literal pg_dump pattern (double-quoted: no wildcards, exact case)."""
    return '"' + name.replace('"', '""') + '"'


def backup(
    target: Target,
    kind: Kind,
    directory: Path,
    *,
    options: DumpOptions | None = None,
    report: Progress = _silent,
    live: LiveLine | None = None,
    now: datetime | None = None,
) -> Backup:
    """Take a `kind` backup of the target database into `directory`; returns archive + manifest.

    Row counts and migration version are read in the snapshot pg_dump dumps, so a verify
    compares like with like even while the application writes. Progress with rate and ETA
    goes to `report` (a line per 10 %) or `live` (a terminal line) once it runs a few seconds.
    """
    if kind not in KINDS:
        raise BackupError(f"unknown backup kind {kind!r}: use one of {', '.join(KINDS)}")
    opts = options or DumpOptions()
    opts.check()
    target = ensure_server_started(target)
    when = now or datetime.now(UTC)
    _writable_dir(directory)
    with connect(target) as conn:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        state = _open_snapshot(conn, kind, report)
        pg_dump = find_tools(["pg_dump"], state.server_major)["pg_dump"]
        compress = compression_args(opts.compress, pg_dump)
        name = archive_name(target.dbname, kind, when, opts.format)
        label = f"pg_dump --format={opts.format}"
        jobs = f", {opts.jobs} jobs" if opts.jobs > 1 else ""
        with phase(report, f"{label} ({kind}{jobs}) of {target.dbname}"):
            args = [*compress, *dump_args(kind, state.data_schemas)]
            if opts.format == "directory":
                args.append(f"--jobs={opts.jobs}")
            weights = {} if kind == "schema" else state.table_bytes
            meter = Meter("pg_dump", float(sum(weights.values())), report, live)
            progress = TableProgress(meter, {k: float(v) for k, v in weights.items()}, 0.0)
            dumped = _dump(pg_dump, target, args, state.snapshot, directory, name, opts, progress)
    path, digest, size = dumped
    manifest = Manifest(
        file=path.name,
        kind=kind,
        database=target.dbname,
        sha256=digest,
        size=size,
        server_version=state.server_version,
        pg_dump_version=pg_dump.version,
        migration_version=state.migration_version,
        row_counts=state.row_counts,
        created_at=when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        format=opts.format,
        compression=opts.compress,
        encryption=None if opts.key is None else encryption_record(opts.key),
        table_bytes=state.table_bytes,
    )
    report(f"wrote {write_manifest(manifest, path).name}: {size} bytes, sha256 {digest[:12]}…")
    return Backup(path, manifest)


def _writable_dir(directory: Path) -> None:
    """Create the backup directory (0700) if needed; BackupError when it cannot be written."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create backup directory {directory}: {exc.strerror}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise BackupError(f"cannot write to backup directory {directory}")


def _open_snapshot(conn: psycopg.Connection[Any], kind: Kind, report: Progress) -> _Snapshot:
    """Export the transaction's snapshot and read, in it, what the manifest records."""
    num, text = server_version(conn)
    check_can_dump(conn, kind)
    snapshot = str(sql_files().backup.export_snapshot(conn))
    with phase(report, "snapshot exported, migration version and row counts read"):
        version = migration_version(conn)
        counts = None if kind == "schema" else row_counts(conn)
        sizes = table_sizes(conn)
    schemas = [str(name) for (name,) in sql_files().backup.data_schemas(conn)]
    return _Snapshot(snapshot, text, num // 10000, version, counts, sizes, schemas)


def _dump(
    tool: Tool,
    target: Target,
    extra_args: list[str],
    snapshot: str,
    directory: Path,
    name: str,
    opts: DumpOptions,
    progress: TableProgress,
) -> tuple[Path, str, int]:
    """pg_dump into `<name>.<pid>.partial` (0600/0700), fsync it, rename it, fsync the
    directory; returns (archive, sha256, size)."""
    partial = directory / f"{name}.{os.getpid()}{PARTIAL_SUFFIX}"
    args = [
        str(tool.path),
        "--no-password",
        "--verbose",
        f"--format={opts.format}",
        f"--snapshot={snapshot}",
        *extra_args,
    ]

    def on_line(line: str) -> None:
        table = table_in_line(line)
        if table is not None:
            progress.table_started(table)

    digest: tuple[str, int] | None = None
    try:
        if opts.format == "custom":
            create_private(partial)
        if opts.key is not None:
            with partial.open("wb") as sink:
                writer = EncryptingWriter(sink, opts.key)
                result = run_tool(
                    args, target, "pg_dump", _silent, on_line=on_line, on_stdout=writer.write
                )
                if result.returncode == 0:
                    writer.close()
            digest = (writer.sha256.hexdigest(), writer.written)
        else:
            result = run_tool(
                [*args, f"--file={partial}"], target, "pg_dump", _silent, on_line=on_line
            )
        if result.returncode != 0:
            raise BackupError(f"backup of {target.dbname} failed: {failure(result)}")
        progress.finished()
        _make_private_and_durable(partial)
        path = free_path(directory, name)
        os.replace(partial, path)
    except BaseException:
        _remove(partial)
        raise
    fsync_dir(directory)
    return (path, *(digest or archive_digest(path)))


def _make_private_and_durable(path: Path) -> None:
    if path.is_dir():
        os.chmod(path, 0o700)
        for member in path.iterdir():
            os.chmod(member, 0o600)
            fsync_file(member)
        fsync_dir(path)
    else:
        os.chmod(path, 0o600)
        fsync_file(path)


def _remove(path: Path) -> None:
    if path.is_dir():
        for member in path.iterdir():
            member.unlink(missing_ok=True)
        path.rmdir()
    else:
        path.unlink(missing_ok=True)


# --- baseline for benchmarks ------------------------------------------------------------------


def timed_plain_dump_restore(target: Target, workdir: Path) -> dict[str, float]:
    """Seconds plain `pg_dump -Fc` and `pg_restore` take on the target database: the baseline
    a benchmark prints beside `backup` and `verify`. Restores into a scratch database
    `<db>__bench_<UTC>` on the same server, dropped afterwards.
    """
    target = ensure_server_started(target)
    with connect(target.with_dbname(MAINTENANCE_DB), autocommit=True) as conn:
        major = server_version(conn)[0] // 10000
    tools = find_tools(["pg_dump", "pg_restore"], major)
    archive = workdir / f"{target.dbname}-baseline.dump"
    started = time.perf_counter()
    _check_run([str(tools["pg_dump"].path), "--no-password", "-Fc", f"--file={archive}"], target)
    dumped = time.perf_counter()
    name = derived_name(target.dbname, "bench", datetime.now(UTC))
    with scratch_database(target, name, template="template0", keep_existing=True) as scratch:
        restore_started = time.perf_counter()
        _check_run(
            [
                str(tools["pg_restore"].path),
                "--no-password",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={make_conninfo('', dbname=scratch.dbname)}",
                str(archive),
            ],
            scratch,
        )
        restored = time.perf_counter()
    size = archive.stat().st_size
    archive.unlink()
    return {
        "pg_dump_seconds": dumped - started,
        "pg_restore_seconds": restored - restore_started,
        "archive_bytes": float(size),
    }


def _check_run(args: list[str], target: Target) -> None:
    result = run_tool(args, target, Path(args[0]).name, _silent)
    if result.returncode != 0:
        raise ClientToolError(failure(result))
