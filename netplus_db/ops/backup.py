"""Backups: pg_dump archives with a manifest beside them, their cleanup, and their proof.

- `backup()` writes `<db>-<kind>-<UTC>.dump` (pg_dump custom format, mode 0600) to a temporary
  name, fsyncs it and its directory, then renames it; `<archive>.manifest.json` records its
  sha256, size, versions, migration version and the row count of every table of schema public,
  counted in the very snapshot pg_dump reads (`pg_export_snapshot` + `pg_dump --snapshot`).
- `verify()` checks the checksum, then restores into a scratch database and compares the row
  counts with the manifest: a truncated archive can pass `pg_restore --list`; only a real
  restore proves it. The scratch database is dropped whatever happens.
- `cleanup()` deletes archives older than N days but never the newest of a database and kind.

Loading an archive into a scratch database (`prepare`, `stamped_scratch_database`, `load`,
`validate`) lives here because verifying is restoring; `netplus_db.ops.restore` adds the swap.
Passwords travel in the environment (`Target.libpq_env`), never on a command line, and every
tool message shown is passed through `Target.redact`.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import subprocess
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Literal, cast

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
from netplus_db.errors import ClientToolError, NetplusError
from netplus_db.migrate.migrator import Migrator
from netplus_db.ops.client_tools import Tool, find_tool
from netplus_db.sql import sql_files
from netplus_db.types import Progress

Kind = Literal["full", "schema", "data"]
KINDS: tuple[Kind, ...] = ("full", "schema", "data")

DEFAULT_DIR = Path("backups")
MANIFEST_SUFFIX = ".manifest.json"
PARTIAL_SUFFIX = ".partial"
ARCHIVE_NAME = re.compile(
    r"^(?P<database>.+)-(?P<kind>full|schema|data)-(?P<stamp>\d{8}T\d{6}Z)(?:-\d+)?\.dump$"
)
LEDGER_SCHEMA = "netplus"

CUSTOM_MAGIC = b"PGDMP"
GZIP_MAGIC = b"\x1f\x8b"
PLAIN_HEADER = b"-- PostgreSQL database dump\n"
PLAIN_FOOTER = b"-- PostgreSQL database dump complete"
MAX_IDENTIFIER = 63  # bytes; PostgreSQL silently truncates longer names
CHUNK = 1 << 20
PROGRESS_EVERY = 10.0  # seconds between "still running" lines


def _silent(_message: str) -> None:
    pass


# --- errors -----------------------------------------------------------------------------------


class BackupError(NetplusError):
    """A backup, verification, restore or cleanup could not be done; nothing was replaced."""


class ArchiveError(BackupError):
    """A backup file is unusable (foreign, truncated, corrupted, or not what its manifest says)."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


# --- names and places -------------------------------------------------------------------------


def backup_dir(option: Path | None = None) -> Path:
    """Where archives go: `option` (`--dir`), else `$BACKUP_DIR`, else `./backups`."""
    if option is not None:
        return option
    return Path(os.environ.get("BACKUP_DIR") or DEFAULT_DIR)


def utc_stamp(when: datetime) -> str:
    """`20261122T031500Z`: a UTC time as archive and database names carry it."""
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def archive_name(database: str, kind: Kind, when: datetime) -> str:
    """`<database>-<kind>-<UTC>.dump`."""
    return f"{database}-{kind}-{utc_stamp(when)}.dump"


def derived_name(database: str, tag: str, when: datetime) -> str:
    """`<database>__<tag>_<UTC>`, the database part shortened to fit PostgreSQL's 63 bytes.

    Three bytes stay free for the `_N` a clash with an existing name adds.
    """
    suffix = f"__{tag}_{utc_stamp(when)}"
    room = MAX_IDENTIFIER - len(suffix.encode()) - 3
    head = database.encode()[:room].decode(errors="ignore")
    return head + suffix


def manifest_path(archive: Path) -> Path:
    """`<archive>.manifest.json`, beside the archive."""
    return archive.with_name(archive.name + MANIFEST_SUFFIX)


# --- the manifest -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    """What a backup holds and how to check it; written as JSON beside the archive."""

    file: str
    kind: Kind
    database: str
    sha256: str
    size: int
    server_version: str
    pg_dump_version: str
    migration_version: int | None
    row_counts: dict[str, int] | None
    created_at: str
    format: str = "custom"

    @property
    def pg_dump_major(self) -> int | None:
        """The major version of the pg_dump that wrote the archive, when recorded."""
        found = re.match(r"(\d+)", self.pg_dump_version)
        return int(found.group(1)) if found else None

    def to_json(self) -> str:
        """The manifest as indented JSON with sorted keys."""
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """Parse a manifest file; ArchiveError naming it when it is malformed."""
        known = {f.name for f in fields(cls)}
        try:
            data = json.loads(path.read_text("utf-8"))
            manifest = cls(**{k: v for k, v in data.items() if k in known})
        except (OSError, ValueError, TypeError) as exc:
            raise ArchiveError(path, f"malformed manifest: {exc}") from None
        problem = _manifest_problem(manifest)
        if problem:
            raise ArchiveError(path, f"malformed manifest: {problem}")
        return manifest


def _manifest_problem(m: Manifest) -> str | None:
    if m.kind not in KINDS:
        return f"unknown kind {m.kind!r}"
    if not re.fullmatch(r"[0-9a-f]{64}", str(m.sha256)):
        return "sha256 is not 64 hex digits"
    if not isinstance(m.size, int) or m.size < 0:
        return "size is not a byte count"
    if m.row_counts is not None and not all(isinstance(v, int) for v in m.row_counts.values()):
        return "row_counts must map table names to integers"
    return None


def write_manifest(manifest: Manifest, archive: Path) -> Path:
    """Write `<archive>.manifest.json` durably (temporary name, fsync, rename); mode 0600."""
    path = manifest_path(archive)
    partial = path.with_name(path.name + PARTIAL_SUFFIX)
    _create_private(partial)
    try:
        partial.write_text(manifest.to_json(), "utf-8")
        _fsync_file(partial)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


# --- files ------------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _create_private(path: Path) -> None:
    """Create an empty file readable by its owner only; fail if it exists."""
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _free_path(directory: Path, name: str) -> Path:
    """`directory/name`, or `name` with `-2`, `-3`... before `.dump` when it is taken."""
    path = directory / name
    counter = 2
    while path.exists():
        path = directory / f"{name.removesuffix('.dump')}-{counter}.dump"
        counter += 1
    return path


@contextmanager
def phase(report: Progress, label: str) -> Iterator[None]:
    """Progress `label (1.23s)` when the block finishes without an error."""
    started = time.perf_counter()
    yield
    report(f"{label} ({time.perf_counter() - started:.2f}s)")


# --- client programs --------------------------------------------------------------------------


def client_tools(names: list[str], server_major: int) -> dict[str, Tool]:
    """The client programs fitting a server; one ClientToolError naming every missing one."""
    found: dict[str, Tool] = {}
    problems: list[str] = []
    for name in names:
        try:
            found[name] = find_tool(name, server_major)
        except ClientToolError as exc:
            problems.append(str(exc))
    if problems:
        raise ClientToolError("; ".join(problems))
    return found


def tool_version(tool: Tool) -> str:
    """The version a client program reports, e.g. `15.20 (Debian 15.20-0+deb12u1)`."""
    out = subprocess.run(
        [str(tool.path), "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    found = re.search(r"\(PostgreSQL\)\s+(.+)", out)
    return found.group(1).strip() if found else str(tool.major)


def run_tool(
    args: list[str], target: Target, label: str, report: Progress, *, capture: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run a client program with the target's libpq environment, reporting while it runs.

    stderr comes back with the password redacted; stdout only when `capture`.
    """
    started = time.perf_counter()
    out: str | None = None
    err = ""
    with subprocess.Popen(
        args,
        env=target.libpq_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        while True:
            try:
                out, err = proc.communicate(timeout=PROGRESS_EVERY)
                break
            except subprocess.TimeoutExpired:
                report(f"{label}: still running ({time.perf_counter() - started:.0f}s)")
    return subprocess.CompletedProcess(args, proc.returncode, out, target.redact(err or ""))


def _failure(result: subprocess.CompletedProcess[str]) -> str:
    tool = Path(str(result.args[0])).name
    detail = result.stderr.strip() or "no message"
    return f"{tool} failed (exit {result.returncode}): {detail}"


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
    report: Progress = _silent,
    now: datetime | None = None,
) -> Backup:
    """Take a `kind` backup of the target database into `directory`; returns archive + manifest.

    Row counts and migration version are read in the snapshot pg_dump dumps, so a verify
    compares like with like even while the application writes.
    """
    if kind not in KINDS:
        raise BackupError(f"unknown backup kind {kind!r}: use one of {', '.join(KINDS)}")
    target = ensure_server_started(target)
    when = now or datetime.now(UTC)
    _writable_dir(directory)
    with connect(target) as conn:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        state = _open_snapshot(conn, kind, report)
        pg_dump = client_tools(["pg_dump"], state.server_major)["pg_dump"]
        name = archive_name(target.dbname, kind, when)
        with phase(report, f"pg_dump --format=custom ({kind}) of {target.dbname}"):
            args = dump_args(kind, state.data_schemas)
            path = _dump(pg_dump, target, args, state.snapshot, directory, name, report)
    with phase(report, f"sha256 of {path.name}"):
        digest, size = sha256_file(path), path.stat().st_size
    manifest = Manifest(
        file=path.name,
        kind=kind,
        database=target.dbname,
        sha256=digest,
        size=size,
        server_version=state.server_version,
        pg_dump_version=tool_version(pg_dump),
        migration_version=state.migration_version,
        row_counts=state.row_counts,
        created_at=when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
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
    schemas = [str(name) for (name,) in sql_files().backup.data_schemas(conn)]
    return _Snapshot(snapshot, text, num // 10000, version, counts, schemas)


def _dump(
    tool: Tool,
    target: Target,
    kind_args: list[str],
    snapshot: str,
    directory: Path,
    name: str,
    report: Progress,
) -> Path:
    """pg_dump into `<name>.<pid>.partial` (0600), fsync it, rename it, fsync the directory."""
    partial = directory / f"{name}.{os.getpid()}{PARTIAL_SUFFIX}"
    _create_private(partial)
    try:
        args = [
            str(tool.path),
            "--no-password",
            "--format=custom",
            f"--snapshot={snapshot}",
            f"--file={partial}",
        ]
        result = run_tool([*args, *kind_args], target, "pg_dump", report)
        if result.returncode != 0:
            raise BackupError(f"backup of {target.dbname} failed: {_failure(result)}")
        _fsync_file(partial)
        os.chmod(partial, 0o600)
        path = _free_path(directory, name)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _fsync_dir(directory)
    return path


# --- reading an archive back ------------------------------------------------------------------


class Format(StrEnum):
    """What a backup file turned out to be."""

    CUSTOM = "pg_dump custom format"
    GZIP_SQL = "gzipped plain SQL dump"
    PLAIN_SQL = "plain SQL dump"


def sniff_format(path: Path) -> Format:
    """Tell a custom-format archive from a (gzipped) plain SQL dump; ArchiveError otherwise."""
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError as exc:
        raise ArchiveError(path, f"cannot read it: {exc.strerror or exc}") from None
    if not head:
        raise ArchiveError(path, "the file is empty")
    if head.startswith(CUSTOM_MAGIC):
        return Format.CUSTOM
    if head.startswith(GZIP_MAGIC):
        if PLAIN_HEADER not in _gunzip_head(path):
            raise ArchiveError(path, "a gzip file, but not of a pg_dump plain SQL dump")
        return Format.GZIP_SQL
    if PLAIN_HEADER in head[:256]:
        return Format.PLAIN_SQL
    raise ArchiveError(
        path,
        "not a PostgreSQL backup: expected a pg_dump custom-format archive (starting with "
        "PGDMP) or a pg_dump plain SQL dump, gzipped or not",
    )


def _gunzip_head(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as f:
            return f.read(4096)
    except (OSError, EOFError, zlib.error) as exc:
        raise ArchiveError(path, f"the gzip data is corrupted or truncated: {exc}") from None


def check_checksum(path: Path, manifest: Manifest) -> None:
    """Compare size and sha256 with the manifest; ArchiveError naming the file on a mismatch."""
    size = path.stat().st_size
    where = manifest_path(path).name
    if size != manifest.size:
        raise ArchiveError(
            path,
            f"size is {size} bytes but {where} says {manifest.size}: the file is truncated "
            "or was changed after the backup",
        )
    digest = sha256_file(path)
    if digest != manifest.sha256:
        raise ArchiveError(
            path,
            f"sha256 is {digest} but {where} says {manifest.sha256}: the file is corrupted "
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


def prepare(
    target: Target, path: Path, report: Progress, *, require_manifest: bool = False
) -> Prepared:
    """Check a backup file before any database is touched: manifest, checksum, format, tools."""
    if not path.is_file():
        raise ArchiveError(path, "no such file")
    fmt = sniff_format(path)
    manifest = _manifest_for(path, report, require_manifest)
    if manifest is not None:
        with phase(report, f"sha256 of {path.name} matches its manifest"):
            check_checksum(path, manifest)
    with connect(target.with_dbname(MAINTENANCE_DB), autocommit=True) as conn:
        major = server_version(conn)[0] // 10000
        superuser = bool(sql_files().server.whoami(conn)[1])
    if fmt is Format.CUSTOM:
        wanted = max(major, (manifest.pg_dump_major if manifest else None) or major)
        tool = client_tools(["pg_restore"], wanted)["pg_restore"]
        kind = manifest.kind if manifest else _archive_kind(tool, target, path, report)
    else:
        tool = client_tools(["psql"], major)["psql"]
        kind = manifest.kind if manifest else "full"
    if kind == "data" and (manifest is None or manifest.migration_version is None):
        raise ArchiveError(
            path,
            "a data-only backup needs its manifest's migration version to rebuild the schema "
            "it belongs to; restore it from a full backup instead",
        )
    report(f"{path.name}: {fmt.value}, {kind} backup")
    return Prepared(path, fmt, kind, manifest, tool, major, superuser)


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


def _archive_kind(tool: Tool, target: Target, path: Path, report: Progress) -> Kind:
    """full, schema or data, from the archive's table of contents (`pg_restore --list`)."""
    result = run_tool(
        [str(tool.path), "--list", str(path)], target, "pg_restore", report, capture=True
    )
    if result.returncode != 0:
        raise ArchiveError(path, f"not a readable pg_dump archive: {_failure(result)}")
    entries = set(re.findall(r"^\d+; \d+ \d+ (TABLE DATA|TABLE) ", result.stdout or "", re.M))
    if entries == {"TABLE DATA"}:
        return "data"
    return "schema" if "TABLE DATA" not in entries else "full"


# --- loading into a scratch database ----------------------------------------------------------


@contextmanager
def stamped_scratch_database(
    target: Target, tag: str, when: datetime, report: Progress
) -> Iterator[Target]:
    """A new empty database `<db>__<tag>_<UTC>` (from template0), dropped when the block ends.

    A restore that renamed it away leaves nothing to drop.
    """
    base = derived_name(target.dbname, tag, when)
    with scratch_database(target, base, template="template0", keep_existing=True) as scratch:
        report(f"created scratch database {scratch.dbname}")
        yield scratch
        report(f"dropping scratch database {scratch.dbname}")


def load(
    prepared: Prepared,
    scratch: Target,
    report: Progress,
    *,
    no_owner: bool = False,
    migrations_dir: Path | None = None,
) -> None:
    """Restore a prepared backup into an empty database, all or nothing (one transaction)."""
    if prepared.kind == "data":
        assert prepared.manifest is not None and prepared.manifest.migration_version is not None
        version = prepared.manifest.migration_version
        with phase(report, f"schema rebuilt by migrating {scratch.dbname} to version {version}"):
            Migrator(scratch, migrations_dir).up(to=version)
    label = f"{prepared.tool.path.name} into {scratch.dbname}"
    with phase(report, label):
        if prepared.format is Format.CUSTOM:
            _pg_restore(prepared, scratch, report, no_owner=no_owner)
        else:
            _psql_restore(prepared, scratch, report)
    if prepared.kind == "data":
        with phase(report, "materialized views refreshed"):
            refresh_materialized_views(scratch)


def refresh_materialized_views(target: Target) -> None:
    """REFRESH every materialized view of schema public, in one transaction."""
    with connect(target) as conn, conn.transaction():
        for (view,) in list(sql_files().backup.materialized_views(conn)):
            conn.execute(
                sql.SQL("REFRESH MATERIALIZED VIEW {}").format(sql.Identifier("public", view))
            )


def _pg_restore(prepared: Prepared, scratch: Target, report: Progress, *, no_owner: bool) -> None:
    args = [
        str(prepared.tool.path),
        "--no-password",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={make_conninfo('', dbname=scratch.dbname)}",
    ]
    if no_owner:
        args.append("--no-owner")
    if prepared.kind == "data":
        args.append("--data-only")
        if prepared.superuser:
            args.append("--disable-triggers")
    result = run_tool([*args, str(prepared.path)], scratch, "pg_restore", report)
    if result.returncode != 0:
        raise ArchiveError(prepared.path, f"restore failed, nothing was kept: {_failure(result)}")


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
            bufsize=0,
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
        message = scratch.redact(err.read().decode("utf-8", "replace")).strip()
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
    tail = b""
    fed = 0
    last = started = time.perf_counter()
    try:
        for chunk in _sql_chunks(path):
            _write_all(sink, chunk)
            tail = (tail + chunk)[-4096:]
            fed += len(chunk)
            if time.perf_counter() - last > PROGRESS_EVERY:
                last = time.perf_counter()
                report(f"psql: {fed / 1e6:.0f} MB of SQL fed ({last - started:.0f}s)")
    except BrokenPipeError:
        return False  # psql stopped; its exit status and message tell why
    if PLAIN_FOOTER not in tail:
        raise ArchiveError(path, "the SQL dump is truncated: pg_dump's closing line is missing")
    return True


def _write_all(sink: IO[bytes], chunk: bytes) -> None:
    """Write every byte to an unbuffered pipe (a raw write may take only part of it)."""
    view = memoryview(chunk)
    while view:
        view = view[sink.write(view) or 0 :]


def _sql_chunks(path: Path) -> Iterator[bytes]:
    try:
        with gzip.open(path, "rb") if _is_gzip(path) else path.open("rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ArchiveError(path, f"the gzip data is corrupted or truncated: {exc}") from None


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == GZIP_MAGIC


# --- validation -------------------------------------------------------------------------------


def validate(prepared: Prepared, restored: Target, report: Progress) -> None:
    """Check a restored database against the manifest; ArchiveError listing every difference."""
    with phase(report, f"validated {restored.dbname}"), connect(restored, autocommit=True) as conn:
        problems = _ledger_problems(conn, prepared) + _count_problems(conn, prepared.manifest)
    if problems:
        raise ArchiveError(
            prepared.path,
            "the restored database does not match the backup: " + "; ".join(problems),
        )


def _ledger_problems(conn: psycopg.Connection[Any], prepared: Prepared) -> list[str]:
    manifest = prepared.manifest
    if manifest is not None and manifest.migration_version is None:
        return []  # the database backed up had no ledger either
    if not sql_files().ledger.exists(conn):
        return ["no migration ledger (netplus.schema_migrations) in the restored database"]
    found = migration_version(conn)
    if manifest is not None and found != manifest.migration_version:
        return [f"migration version {found}, manifest says {manifest.migration_version}"]
    return []


def _count_problems(conn: psycopg.Connection[Any], manifest: Manifest | None) -> list[str]:
    if manifest is None or manifest.row_counts is None:
        return []
    found = row_counts(conn)
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


def verify(
    target: Target,
    path: Path,
    *,
    migrations_dir: Path | None = None,
    report: Progress = _silent,
    now: datetime | None = None,
) -> Manifest:
    """Prove a backup: checksum, then a real restore into `<db>__verify_<UTC>` (always dropped)
    with `pg_restore --single-transaction --exit-on-error --no-owner`, then the row counts.

    Returns the manifest when everything matches; raises ArchiveError (or ClientToolError)
    otherwise.
    """
    target = ensure_server_started(target)
    prepared = prepare(target, path, report, require_manifest=True)
    with stamped_scratch_database(target, "verify", now or datetime.now(UTC), report) as scratch:
        load(prepared, scratch, report, no_owner=True, migrations_dir=migrations_dir)
        validate(prepared, scratch, report)
    assert prepared.manifest is not None
    return prepared.manifest


# --- cleanup ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CleanupItem:
    """One file cleanup looked at, what it did (or would do) and why."""

    path: Path
    deleted: bool
    reason: str


def list_archives(directory: Path) -> list[Path]:
    """The archives named like ours in a directory, oldest first (by modification time)."""
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir() if p.is_file() and ARCHIVE_NAME.match(p.name)]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def cleanup(
    directory: Path, keep_days: float = 7, *, dry_run: bool = False, now: float | None = None
) -> list[CleanupItem]:
    """Delete archives (and manifests) older than `keep_days`, never the newest of a database
    and kind; also stale `.partial` files a crashed backup left. `dry_run` deletes nothing.
    """
    if keep_days < 0:
        raise BackupError("--keep-days must not be negative")
    moment = time.time() if now is None else now
    cutoff = moment - keep_days * 86400
    archives = list_archives(directory)
    newest = _newest_per_series(archives)
    items: list[CleanupItem] = []
    for path in archives:
        mtime = path.stat().st_mtime
        age = f"{(moment - mtime) / 86400:.1f} days old"
        if path in newest:
            items.append(CleanupItem(path, False, f"{age}, the newest of its database and kind"))
        else:
            items.append(CleanupItem(path, mtime < cutoff, age))
    stale = _stale_partials(directory, cutoff)
    items += [CleanupItem(p, True, "left by an interrupted backup") for p in stale]
    if not dry_run:
        for item in items:
            if item.deleted:
                _delete_with_manifest(item.path)
    return items


def _newest_per_series(archives: list[Path]) -> set[Path]:
    """The newest archive of each database and kind (archives come oldest first)."""
    newest: dict[tuple[str, str], Path] = {}
    for path in archives:
        found = ARCHIVE_NAME.match(path.name)
        assert found is not None
        newest[(found["database"], found["kind"])] = path
    return set(newest.values())


def _stale_partials(directory: Path, cutoff: float) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.glob(f"*{PARTIAL_SUFFIX}")
        if p.is_file() and p.stat().st_mtime < cutoff
    )


def _delete_with_manifest(path: Path) -> None:
    path.unlink(missing_ok=True)
    manifest_path(path).unlink(missing_ok=True)


# --- baseline for benchmarks ------------------------------------------------------------------


def timed_plain_dump_restore(target: Target, workdir: Path) -> dict[str, float]:
    """Seconds plain `pg_dump -Fc` and `pg_restore` take on the target database: the baseline
    a benchmark prints beside `backup` and `verify`. Restores into a scratch database
    `<db>__bench_<UTC>` on the same server, dropped afterwards.
    """
    target = ensure_server_started(target)
    with connect(target.with_dbname(MAINTENANCE_DB), autocommit=True) as conn:
        major = server_version(conn)[0] // 10000
    tools = client_tools(["pg_dump", "pg_restore"], major)
    archive = workdir / f"{target.dbname}-baseline.dump"
    started = time.perf_counter()
    _check_run([str(tools["pg_dump"].path), "--no-password", "-Fc", f"--file={archive}"], target)
    dumped = time.perf_counter()
    with stamped_scratch_database(target, "bench", datetime.now(UTC), _silent) as scratch:
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
        raise ClientToolError(_failure(result))
