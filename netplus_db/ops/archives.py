"""Backup archives on disk: their names, their manifests, listing them and pruning them.

An archive is `<database>-<kind>-<UTC>.dump` (pg_dump custom format, maybe encrypted) or
`<database>-<kind>-<UTC>.dir` (pg_dump directory format), with `<archive>.manifest.json`
beside it. Its age is the UTC time in its name: copying a file (which gives it a new
modification time) does not make an old backup new.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from netplus_db.errors import NetplusError
from netplus_db.ops.processes import process_alive

Kind = Literal["full", "schema", "data"]
KINDS: tuple[Kind, ...] = ("full", "schema", "data")
ArchiveFormat = Literal["custom", "directory"]
FORMATS: tuple[ArchiveFormat, ...] = ("custom", "directory")

DEFAULT_DIR = Path("backups")
MANIFEST_SUFFIX = ".manifest.json"
PARTIAL_SUFFIX = ".partial"
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
ARCHIVE_NAME = re.compile(
    r"^(?P<database>.+)-(?P<kind>full|schema|data)-(?P<stamp>\d{8}T\d{6}Z)(?:-\d+)?"
    r"\.(?P<ext>dump|dir)$"
)
PARTIAL_NAME = re.compile(r"^(?P<archive>.+)\.(?P<pid>\d+)\.partial$")
MAX_IDENTIFIER = 63  # bytes; PostgreSQL silently truncates longer names
CHUNK = 1 << 20


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
    return when.astimezone(UTC).strftime(STAMP_FORMAT)


def parse_stamp(stamp: str) -> datetime:
    """The UTC time of a `20261122T031500Z` stamp."""
    return datetime.strptime(stamp, STAMP_FORMAT).replace(tzinfo=UTC)


def archive_name(database: str, kind: Kind, when: datetime, fmt: ArchiveFormat = "custom") -> str:
    """`<database>-<kind>-<UTC>.dump` (custom format) or `.dir` (directory format)."""
    return f"{database}-{kind}-{utc_stamp(when)}.{'dir' if fmt == 'directory' else 'dump'}"


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


def free_path(directory: Path, name: str) -> Path:
    """`directory/name`, or `name` with `-2`, `-3`... before the extension when it is taken."""
    path = directory / name
    stem, dot, ext = name.rpartition(".")
    counter = 2
    while path.exists() or manifest_path(path).exists():
        path = directory / f"{stem}-{counter}{dot}{ext}"
        counter += 1
    return path


# --- the manifest -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    """What a backup holds and how to check it; written as JSON beside the archive.

    `encryption` says how the archive is encrypted (algorithm, chunk size, key id), never
    the key. `table_bytes` (sizes on disk when dumped) weighs progress while restoring.
    """

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
    compression: str | None = None
    encryption: dict[str, Any] | None = None
    table_bytes: dict[str, int] | None = None
    verified_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pg_dump_major(self) -> int | None:
        """The major version of the pg_dump that wrote the archive, when recorded."""
        found = re.match(r"(\d+)", self.pg_dump_version)
        return int(found.group(1)) if found else None

    @property
    def encrypted(self) -> bool:
        """Whether the archive is encrypted at rest."""
        return self.encryption is not None

    def to_json(self) -> str:
        """The manifest as indented JSON with sorted keys."""
        data = asdict(self)
        if not data["extra"]:
            del data["extra"]
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """Parse a manifest file; ArchiveError naming it when it is malformed."""
        known = {f.name for f in fields(cls)}
        try:
            data = json.loads(path.read_text("utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
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
    if m.format not in FORMATS:
        return f"unknown format {m.format!r}"
    if not re.fullmatch(r"[0-9a-f]{64}", str(m.sha256)):
        return "sha256 is not 64 hex digits"
    if not isinstance(m.size, int) or m.size < 0:
        return "size is not a byte count"
    if m.row_counts is not None and not all(isinstance(v, int) for v in m.row_counts.values()):
        return "row_counts must map table names to integers"
    if m.encryption is not None and not isinstance(m.encryption, dict):
        return "encryption must be an object"
    return None


def write_manifest(manifest: Manifest, archive: Path) -> Path:
    """Write `<archive>.manifest.json` durably (temporary name, fsync, rename); mode 0600."""
    path = manifest_path(archive)
    partial = path.with_name(f"{path.name}.{os.getpid()}{PARTIAL_SUFFIX}")
    create_private(partial)
    try:
        partial.write_text(manifest.to_json(), "utf-8")
        fsync_file(partial)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def mark_verified(archive: Path, manifest: Manifest, when: datetime) -> Manifest:
    """Record in the manifest that the archive was proven by a real restore at `when`."""
    updated = replace(manifest, verified_at=when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    write_manifest(updated, archive)
    return updated


# --- files ------------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def archive_digest(path: Path) -> tuple[str, int]:
    """(sha256, bytes) of an archive: of the file, or for a directory-format archive of the
    sorted list of its files' names and sha256 sums, and their total size."""
    if not path.is_dir():
        return sha256_file(path), path.stat().st_size
    digest = hashlib.sha256()
    total = 0
    for member in sorted(p for p in path.iterdir() if p.is_file()):
        digest.update(f"{member.name}\0{sha256_file(member)}\n".encode())
        total += member.stat().st_size
    return digest.hexdigest(), total


def create_private(path: Path) -> None:
    """Create an empty file readable by its owner only; fail if it exists."""
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def fsync_file(path: Path) -> None:
    """Flush a file's data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (a rename in it) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_archive(path: Path) -> None:
    """Delete an archive (file or directory) and its manifest."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
    manifest_path(path).unlink(missing_ok=True)


# --- listing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveInfo:
    """One archive in a backup directory, as `backup list` shows it."""

    path: Path
    database: str
    kind: Kind
    created: datetime  # from the name
    size: int
    format: ArchiveFormat
    manifest: Manifest | None
    manifest_problem: str | None

    @property
    def encrypted(self) -> bool | None:
        """Whether it is encrypted (None when there is no readable manifest to say)."""
        return None if self.manifest is None else self.manifest.encrypted

    @property
    def verified_at(self) -> str | None:
        """When `backup verify` last proved it, if ever."""
        return None if self.manifest is None else self.manifest.verified_at

    def age_days(self, now: datetime) -> float:
        """Days since the time in its name (negative for a name in the future)."""
        return (now - self.created).total_seconds() / 86400

    def as_json(self, now: datetime) -> dict[str, Any]:
        """The archive as a JSON object."""
        return {
            "file": str(self.path),
            "database": self.database,
            "kind": self.kind,
            "format": self.format,
            "created_at": self.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "age_days": round(self.age_days(now), 3),
            "size": self.size,
            "encrypted": self.encrypted,
            "compression": None if self.manifest is None else self.manifest.compression,
            "verified_at": self.verified_at,
            "manifest": self.manifest is not None,
            "manifest_problem": self.manifest_problem,
        }


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir() if p.is_file())
    return path.stat().st_size


def list_backups(directory: Path) -> list[ArchiveInfo]:
    """The archives named like ours in a directory, oldest first by the time in their name."""
    if not directory.is_dir():
        return []
    found: list[ArchiveInfo] = []
    for path in directory.iterdir():
        match = ARCHIVE_NAME.match(path.name)
        if match is None or (path.is_dir() != (match["ext"] == "dir")) or path.is_symlink():
            continue
        try:
            created = parse_stamp(match["stamp"])
        except ValueError:
            continue  # 20240100T...: not a time, not one of ours
        manifest, problem = None, None
        if manifest_path(path).is_file():
            try:
                manifest = Manifest.read(manifest_path(path))
            except ArchiveError as exc:
                problem = exc.problem
        found.append(
            ArchiveInfo(
                path=path,
                database=match["database"],
                kind=match["kind"],  # type: ignore[arg-type]
                created=created,
                size=_size(path),
                format="directory" if match["ext"] == "dir" else "custom",
                manifest=manifest,
                manifest_problem=problem,
            )
        )
    return sorted(found, key=lambda a: (a.created, a.path.name))


# --- retention --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CleanupItem:
    """One file cleanup looked at, what it did (or would do) and why."""

    path: Path
    deleted: bool
    reason: str

    def as_json(self) -> dict[str, Any]:
        """The decision as a JSON object."""
        return {"file": str(self.path), "deleted": self.deleted, "reason": self.reason}


def cleanup(
    directory: Path,
    keep_days: float = 7,
    *,
    keep_last: int = 1,
    dry_run: bool = False,
    now: datetime | None = None,
) -> list[CleanupItem]:
    """Delete archives (and manifests) older than `keep_days` by the time in their name,
    except the newest `keep_last` of each database and kind (at least one is always kept);
    also `.partial` files of crashed backups. `dry_run` deletes nothing.
    """
    if keep_days < 0:
        raise BackupError(f"--keep-days must not be negative (got {keep_days})")
    if keep_last < 1:
        raise BackupError(
            f"--keep-last must be at least 1 (got {keep_last}): the newest backup of each "
            "database and kind is always kept"
        )
    moment = now or datetime.now(UTC)
    cutoff = moment.timestamp() - keep_days * 86400
    archives = list_backups(directory)
    series: dict[tuple[str, str], list[ArchiveInfo]] = {}
    for info in archives:
        series.setdefault((info.database, info.kind), []).append(info)
    newest = {a.path for group in series.values() for a in group[-keep_last:]}
    items: list[CleanupItem] = []
    for info in archives:
        age = f"{info.age_days(moment):.1f} days old"
        if info.path in newest:
            rank = "the newest" if keep_last == 1 else f"one of the newest {keep_last}"
            items.append(CleanupItem(info.path, False, f"{age}, {rank} of its database and kind"))
        else:
            items.append(CleanupItem(info.path, info.created.timestamp() < cutoff, age))
    stale = _stale_partials(directory, cutoff)
    items += [CleanupItem(p, True, "left by an interrupted backup") for p in stale]
    if not dry_run:
        for item in items:
            if item.deleted:
                remove_archive(item.path)
    return items


def _stale_partials(directory: Path, cutoff: float) -> list[Path]:
    """`.partial` files and directories older than the cutoff, or older than an hour when the
    process named in them is gone; never one a live backup wrote to within the hour."""
    if not directory.is_dir():
        return []
    hour_ago = time.time() - 3600
    stale = []
    for path in directory.glob(f"*{PARTIAL_SUFFIX}"):
        match = PARTIAL_NAME.match(path.name)
        alive = match is not None and process_alive(int(match["pid"]))
        mtime = path.stat().st_mtime
        if alive and mtime > hour_ago:
            continue  # a backup still writing it
        if mtime < cutoff or (not alive and mtime < hour_ago):
            stale.append(path)
    return sorted(stale)
