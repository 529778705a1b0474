"""`migrate baseline`: adopt a database built from this schema without the runner.

A database made by hand (psql -f schema/schema.sql, a restore without the ledger, another
tool) has the schema but no ledger, so `migrate up` would try to create everything again.
Baseline compares its schema with a scratch database migrated to the same version on the
same server (pg_dump --schema-only of schema public, normalised by `schema_docs`), and only
when they match records those migrations as applied, each with a `baseline` event.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from netplus_db.config import Target
from netplus_db.connection import catalog_connection, database_exists, scratch_database
from netplus_db.errors import MigrationStateError, NetplusError, UnknownVersion
from netplus_db.migrate.migrator import MigrationRun, Migrator
from netplus_db.ops.schema_docs import HEADER_LINES, dump_schema
from netplus_db.sql import sql_files
from netplus_db.types import Progress

MAX_DIFF_LINES = 40


class SchemaMismatch(NetplusError):
    """The database's schema is not the one the migrations build; `diff` shows how."""

    def __init__(self, message: str, diff: list[str]) -> None:
        self.diff = diff
        super().__init__(message)


@dataclass(frozen=True)
class Comparison:
    """The result of comparing a database's schema with the migrations' at one version."""

    version: int
    matches: bool
    diff: list[str]
    added: int
    removed: int


def compare(target: Target, migrations_dir: Path, version: int, *, report: Progress) -> Comparison:
    """Diff the target's schema public against a scratch database migrated to `version`."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = f"{target.dbname[:30]}__baseline_{stamp}"
    with scratch_database(target, base, keep_existing=True) as scratch:
        report(f"migrating scratch database {scratch.dbname} to version {version}")
        Migrator(scratch, migrations_dir).up(to=version)
        expected = _body(dump_schema(scratch))
    actual = _body(dump_schema(target))
    diff = list(
        difflib.unified_diff(
            expected, actual, f"migrations up to {version}", f"database {target.dbname}", n=1
        )
    )
    added = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in diff if line.startswith("-") and not line.startswith("---"))
    return Comparison(version, not diff, diff, added, removed)


def baseline(
    target: Target, migrations_dir: Path, *, to: int | None = None, report: Progress
) -> list[MigrationRun]:
    """Mark every migration up to `to` (default: the newest file) as applied, after proving
    the schema matches; SchemaMismatch with a diff summary when it does not."""
    migrator = Migrator(target, migrations_dir, report=report)
    files = migrator.migrations()
    if not files:
        raise MigrationStateError(f"no migration files in {migrations_dir}")
    version = files[-1].version if to is None else to
    if version not in {m.version for m in files}:
        raise UnknownVersion(f"--to {version}: no migration file has version {version}")
    if not database_exists(target):
        raise MigrationStateError(f"database {target.dbname} does not exist: nothing to baseline")
    with catalog_connection(target) as conn:
        q = sql_files().ledger
        if q.exists(conn) and q.applied_migrations(conn):
            raise MigrationStateError(
                f"database {target.dbname} already has a migration ledger with applied "
                "migrations; `migrate status` shows them, baseline is for a database without"
            )
    result = compare(target, migrations_dir, version, report=report)
    if not result.matches:
        shown = result.diff[:MAX_DIFF_LINES]
        more = len(result.diff) - len(shown)
        detail = "\n".join(f"  {line.rstrip()}" for line in shown)
        tail = f"\n  ... {more} more diff lines" if more > 0 else ""
        raise SchemaMismatch(
            f"database {target.dbname} does not match the schema of migrations up to "
            f"{version}: {result.removed} line(s) of the expected schema missing or different, "
            f"{result.added} line(s) not in it (pg_dump --schema-only of schema public); "
            f"nothing was recorded. First differences:\n{detail}{tail}",
            result.diff,
        )
    report(f"schema of {target.dbname} matches migrations up to {version}")
    return migrator.mark_applied([m for m in files if m.version <= version])


def _body(dump: str) -> list[str]:
    """The dump without its header comment (which names the server major only)."""
    return [line + "\n" for line in dump.splitlines()[HEADER_LINES:]]
