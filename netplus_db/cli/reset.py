"""`netplus-db migrate reset`: drop, recreate and migrate a database, with every safeguard."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from netplus_db.cli.context import CONTEXT, CliContext, pass_cli_context, runner_options
from netplus_db.connection import (
    Session,
    catalog_connection,
    create_database,
    database_exists,
    drop_database,
    sessions_on,
)
from netplus_db.sql import sql_files


@click.command(context_settings=CONTEXT)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--force",
    is_flag=True,
    help="Also reset a database that has no migration ledger (not made by netplus-db).",
)
@click.option(
    "--backup",
    "take_backup",
    is_flag=True,
    help="First take a full backup and verify it by a test restore; reset only if it passes.",
)
@click.option(
    "--backup-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where --backup writes (default: $BACKUP_DIR, else ./backups).",
)
@runner_options
@pass_cli_context
def reset(
    env: CliContext,
    yes: bool,
    force: bool,
    take_backup: bool,
    backup_dir: Path | None,
    lock_wait: float,
    lock_timeout: str,
) -> None:
    """Drop the database, create it again, and apply every migration. Destroys all data.

    Asks first, naming the database and the sessions that will be ended; without a terminal
    it refuses unless --yes. A database with no migration ledger was not made by netplus-db
    and is refused unless --force. --backup takes a full backup and proves it by a test
    restore before anything is dropped. The sessions ended are reported (who, which
    application).

    \b
    Examples:
      netplus-db migrate reset
      netplus-db migrate reset --backup --yes
    """
    migrator = env.migrator(lock_wait_seconds=lock_wait, ddl_lock_timeout=lock_timeout)
    target = migrator.target
    migrator.migrations()  # every file parses, before anything is dropped
    exists = database_exists(target)
    if exists:
        with catalog_connection(target) as conn:
            has_ledger = bool(sql_files().ledger.exists(conn))
            tables = int(sql_files().ledger.public_tables(conn))
        if not has_ledger and not force:
            raise click.UsageError(
                f"database {target.dbname} has no migration ledger (netplus.schema_migrations) "
                f"and {tables} table(s): it was not made by netplus-db, and reset would drop "
                "it. Nothing was done; pass --force if it really is to be dropped"
            )
        sessions = sessions_on(target)
        if not yes:
            if not sys.stdin.isatty():
                raise click.UsageError(
                    f"reset drops database {target.dbname} with all its data; nothing was "
                    "done. Pass --yes when not at a terminal"
                )
            ended = f"; {_sessions(sessions)} will be ended" if sessions else ""
            click.confirm(
                f"Drop database {target.dbname!r} on {target.host} ({tables} table(s)) with "
                f"all its data{ended}, then migrate?",
                abort=True,
                err=True,
            )
        if take_backup:
            _backup_first(env, backup_dir)
        sessions = sessions_on(target)
        if drop_database(target):
            click.echo(f"dropped database {target.dbname}", err=True)
        if sessions:
            click.echo(f"ended {_sessions(sessions)}", err=True)
            for session in sessions:
                click.echo(f"  {session.describe()}", err=True)
    create_database(target)
    steps = migrator.up()
    click.echo(f"applied {len(steps)} migration(s)", err=True)


def _sessions(sessions: list[Session]) -> str:
    who = sorted({f"{s.user} ({s.application or 'no application name'})" for s in sessions})
    return f"{len(sessions)} session(s) of {', '.join(who)}"


def _backup_first(env: CliContext, directory: Path | None) -> None:
    """A full backup, proven by a test restore, before anything is dropped."""
    from netplus_db.ops.archive_loading import verify
    from netplus_db.ops.archives import backup_dir
    from netplus_db.ops.backup import backup

    def report(message: str) -> None:
        click.echo(message, err=True)

    target = env.target()
    taken = backup(target, "full", backup_dir(directory), report=report)
    verify(target, taken.path, migrations_dir=env.migrations_dir, report=report)
    click.echo(f"backup verified: {taken.path}", err=True)
