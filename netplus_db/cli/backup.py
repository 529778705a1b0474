"""`netplus-db backup ...` and `netplus-db restore FILE`: archives, their proof, their return."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from netplus_db.cli.context import CONTEXT, CliContext, pass_cli_context
from netplus_db.connection import database_exists
from netplus_db.ops.backup import (
    Kind,
    backup_dir,
    cleanup,
    verify,
)
from netplus_db.ops.backup import (
    backup as take_backup,
)
from netplus_db.ops.restore import restore as restore_backup


def _report(message: str) -> None:
    click.echo(message, err=True)


def _dir_option(f: Any) -> Any:
    return click.option(
        "--dir",
        "directory",
        type=click.Path(file_okay=False, path_type=Path),
        help="Where the archives are (default: $BACKUP_DIR, else ./backups).",
    )(f)


# --- backup -----------------------------------------------------------------------------------


@click.group(context_settings=CONTEXT)
def backup() -> None:
    """Take, prove and prune backups (pg_dump custom format, with a manifest beside each).

    \b
    Archives are named <database>-<kind>-<UTC>.dump (mode 0600); <archive>.manifest.json holds
    its sha256, size, server and pg_dump versions, migration version and row counts per table.
    Data backups need a superuser or a BYPASSRLS role (row-level security is forced on the
    user-owned tables).

    \b
    Examples:
      netplus-db backup full                     into $BACKUP_DIR (default ./backups)
      netplus-db backup verify backups/network_plus_learning-full-20261122T031500Z.dump
      netplus-db backup cleanup --keep-days 14 --dry-run
      netplus-db restore backups/network_plus_learning-full-20261122T031500Z.dump
    """


def _take(env: CliContext, kind: Kind, directory: Path | None) -> None:
    target = env.target()
    taken = take_backup(target, kind, backup_dir(directory), report=_report)
    click.echo(str(taken.path))


@backup.command(name="full", context_settings=CONTEXT)
@_dir_option
@pass_cli_context
def backup_full(env: CliContext, directory: Path | None) -> None:
    """Schema and data of the whole database (the migration ledger included).

    Prints the archive's path on stdout; progress goes to stderr.
    """
    _take(env, "full", directory)


@backup.command(name="schema", context_settings=CONTEXT)
@_dir_option
@pass_cli_context
def backup_schema(env: CliContext, directory: Path | None) -> None:
    """Schema only (pg_dump --schema-only), with the migration ledger's version."""
    _take(env, "schema", directory)


@backup.command(name="data", context_settings=CONTEXT)
@_dir_option
@pass_cli_context
def backup_data(env: CliContext, directory: Path | None) -> None:
    """Data only, without the migration ledger.

    A restore rebuilds the schema by migrating to the manifest's migration version, then
    loads the rows.
    """
    _take(env, "data", directory)


@backup.command(name="cleanup", context_settings=CONTEXT)
@_dir_option
@click.option(
    "--keep-days",
    default=7,
    show_default=True,
    type=click.IntRange(min=0),
    metavar="N",
    help="Delete archives older than N days.",
)
@click.option("--dry-run", is_flag=True, help="Say what would be deleted; delete nothing.")
def backup_cleanup(directory: Path | None, keep_days: int, dry_run: bool) -> None:
    """Delete archives (and their manifests) older than N days.

    The newest archive of each database and kind is always kept, however old. Only files
    named like netplus-db archives are considered, plus `.partial` files an interrupted
    backup left behind.
    """
    where = backup_dir(directory)
    items = cleanup(where, keep_days, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    for item in items:
        click.echo(f"{verb if item.deleted else 'kept'} {item.path.name} ({item.reason})")
    gone = sum(1 for item in items if item.deleted)
    click.echo(f"{verb} {gone}, kept {len(items) - gone} in {where}", err=True)


@backup.command(name="verify", context_settings=CONTEXT)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_cli_context
def backup_verify(env: CliContext, file: Path) -> None:
    """Prove FILE restores: checksum against its manifest, a real restore into a scratch
    database <db>__verify_<UTC> (always dropped), then row counts per table.

    Exits 0 only when everything matches. A truncated archive can pass `pg_restore --list`;
    only a real restore proves it.
    """
    manifest = verify(env.target(), file, migrations_dir=env.migrations_dir, report=_report)
    if manifest.row_counts is None:
        checked = f"schema at migration version {manifest.migration_version}"
    else:
        checked = f"row counts of {len(manifest.row_counts)} tables match its manifest"
    click.echo(f"ok: {file} restores; {checked}")


# --- restore ----------------------------------------------------------------------------------


@click.command(context_settings=CONTEXT)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--target", "target_db", metavar="DB", help="Database to replace (default: the target's)."
)
@click.option("--yes", is_flag=True, help="Do not ask before replacing an existing database.")
@click.option("--drop-old", is_flag=True, help="Drop the replaced database instead of keeping it.")
@click.option("--no-owner", is_flag=True, help="Make the restoring role own every object.")
@pass_cli_context
def restore(
    env: CliContext, file: Path, target_db: str | None, yes: bool, drop_old: bool, no_owner: bool
) -> None:
    """Restore FILE into a fresh scratch database, validate it, then swap it in by rename.

    FILE is a `netplus-db backup` archive or a plain SQL dump, gzipped or not
    (`pg_dump db | gzip > backup.sql.gz`). Its checksum is checked when a manifest is beside
    it. Any failure leaves the current database untouched. The replaced database is kept as
    <db>__old_<UTC> unless --drop-old.

    \b
    Examples:
      netplus-db restore backups/network_plus_learning-full-20261122T031500Z.dump
      netplus-db restore /path/to/backup.sql.gz --target network_plus_learning --yes
    """
    target = env.target()
    if target_db:
        target = target.with_dbname(target_db)
    if not yes and not sys.stdin.isatty() and database_exists(target):
        raise click.UsageError(
            f"restore replaces database {target.dbname}; pass --yes when not at a terminal"
        )

    def ask(question: str) -> bool:
        return yes or click.confirm(question, abort=True, err=True)

    done = restore_backup(
        target,
        file,
        drop_old=drop_old,
        no_owner=no_owner,
        confirm=ask,
        migrations_dir=env.migrations_dir,
        report=_report,
    )
    kept = "dropped" if done.dropped_previous else "kept"
    previous = f"; previous database {kept}: {done.previous}" if done.previous else ""
    click.echo(f"restored {file} into {done.database}{previous}")
