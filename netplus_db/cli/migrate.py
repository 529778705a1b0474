"""`netplus-db migrate ...`: apply, roll back and inspect migrations."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from netplus_db.cli.context import CONTEXT, CliContext, pass_cli_context
from netplus_db.connection import create_database, drop_database
from netplus_db.migrate.files import new_file
from netplus_db.migrate.migrator import State

# --- migrate ----------------------------------------------------------------------------------


@click.group(context_settings=CONTEXT)
def migrate() -> None:
    """Apply, roll back and inspect the versioned SQL migrations.

    Each file migrations/NNNN_name.sql has a `-- migrate:up` and a `-- migrate:down` section.
    Each migration and its ledger row (netplus.schema_migrations) commit in one transaction;
    one runner at a time per database (advisory lock); DDL waits at most --lock-timeout for
    a table lock. Files that are malformed, edited after being applied, deleted, or older than
    the newest applied one stop every command before anything runs.
    """


def _runner_options(f: Any) -> Any:
    f = click.option(
        "--lock-wait",
        default=60.0,
        show_default=True,
        metavar="SECONDS",
        help="How long to wait for another runner to finish.",
    )(f)
    f = click.option(
        "--lock-timeout",
        default="10s",
        show_default=True,
        metavar="DURATION",
        help="How long DDL may wait for a table lock held by another transaction.",
    )(f)
    return f


@migrate.command(context_settings=CONTEXT)
@click.option("--to", "to", type=int, metavar="VERSION", help="Stop after this version.")
@click.option("--dry-run", is_flag=True, help="List what would be applied; change nothing.")
@click.option(
    "--allow-out-of-order",
    is_flag=True,
    help="Apply a pending migration even if a newer one is already applied.",
)
@_runner_options
@pass_cli_context
def up(
    env: CliContext,
    to: int | None,
    dry_run: bool,
    allow_out_of_order: bool,
    lock_wait: float,
    lock_timeout: str,
) -> None:
    """Apply pending migrations, oldest first; creates the database if it is missing.

    \b
    Examples:
      netplus-db migrate up
      netplus-db migrate up --to 3 --dry-run
    """
    steps = env.migrator(
        allow_out_of_order=allow_out_of_order,
        lock_wait_seconds=lock_wait,
        ddl_lock_timeout=lock_timeout,
    ).up(to=to, dry_run=dry_run)
    verb = "would apply" if dry_run else "applied"
    click.echo(f"{verb} {len(steps)} migration(s)", err=True)


@migrate.command(context_settings=CONTEXT)
@click.option("--steps", type=click.IntRange(min=1), metavar="N", help="Roll back N migrations.")
@click.option(
    "--to",
    "to",
    type=int,
    metavar="VERSION",
    help="Roll back every one newer than VERSION (0: all).",
)
@click.option("--dry-run", is_flag=True, help="List what would be rolled back; change nothing.")
@_runner_options
@pass_cli_context
def down(
    env: CliContext,
    steps: int | None,
    to: int | None,
    dry_run: bool,
    lock_wait: float,
    lock_timeout: str,
) -> None:
    """Roll back applied migrations, newest first (default: one).

    Runs each migration's down SQL as it was when applied (kept in the ledger), in one
    transaction with the removal of its ledger row.

    \b
    Examples:
      netplus-db migrate down
      netplus-db migrate down --steps 3
      netplus-db migrate down --to 0      roll back everything
    """
    if steps is not None and to is not None:
        raise click.UsageError("give --steps or --to, not both")
    done = env.migrator(lock_wait_seconds=lock_wait, ddl_lock_timeout=lock_timeout).down(
        steps=steps, to=to, dry_run=dry_run
    )
    verb = "would roll back" if dry_run else "rolled back"
    click.echo(f"{verb} {len(done)} migration(s)", err=True)


@migrate.command(context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@pass_cli_context
def status(env: CliContext, as_json: bool) -> None:
    """Show every migration: applied, pending, edited, missing or out of order.

    Exits 1 when a migration is edited, missing or out of order.
    """
    statuses = env.migrator().status()
    if as_json:
        click.echo(json.dumps([s.as_json() for s in statuses], indent=2))
    else:
        click.echo(f"{'version':>7}  {'state':<18} {'applied at (UTC)':<20} name")
        for s in statuses:
            when = f"{s.applied.applied_at:%Y-%m-%d %H:%M:%S}" if s.applied else ""
            click.echo(f"{s.version:>7}  {s.state.value:<18} {when:<20} {s.name}")
        pending = sum(1 for s in statuses if s.state is State.PENDING)
        applied = sum(1 for s in statuses if s.applied)
        click.echo(f"{applied} applied, {pending} pending", err=True)
    if any(s.state in (State.EDITED, State.MISSING_FILE, State.OUT_OF_ORDER) for s in statuses):
        sys.exit(1)


@migrate.command(context_settings=CONTEXT)
@click.option(
    "--allow-out-of-order", is_flag=True, help="Do not count out-of-order files as errors."
)
@pass_cli_context
def validate(env: CliContext, allow_out_of_order: bool) -> None:
    """Check every file parses and matches what the database applied; exit 1 otherwise."""
    migrator = env.migrator(allow_out_of_order=allow_out_of_order)
    problems = migrator.problems()
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo(f"ok: {len(migrator.migrations())} migration file(s) valid", err=True)


@migrate.command(context_settings=CONTEXT)
@click.argument("name")
@pass_cli_context
def new(env: CliContext, name: str) -> None:
    """Create migrations/NNNN_NAME.sql with the next version and both section markers."""
    try:
        path = new_file(env.migrations_dir, name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    click.echo(str(path))


@migrate.command(context_settings=CONTEXT)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_runner_options
@pass_cli_context
def reset(env: CliContext, yes: bool, lock_wait: float, lock_timeout: str) -> None:
    """Drop the database, create it again, and apply every migration. Destroys all data."""
    target = env.target()
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("reset destroys the database; pass --yes when not at a terminal")
        click.confirm(
            f"Drop database {target.dbname!r} on {target.host} with all its data, then migrate?",
            abort=True,
        )
    env.migrator(lock_wait_seconds=lock_wait, ddl_lock_timeout=lock_timeout).migrations()
    if drop_database(target):
        click.echo(f"dropped database {target.dbname}", err=True)
    create_database(target)
    steps = env.migrator(lock_wait_seconds=lock_wait, ddl_lock_timeout=lock_timeout).up()
    click.echo(f"applied {len(steps)} migration(s)", err=True)
