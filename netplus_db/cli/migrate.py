"""`netplus-db migrate ...`: apply, roll back, inspect, lint and adopt migrations."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from netplus_db.cli import output
from netplus_db.cli.context import (
    CONTEXT,
    CliContext,
    Duration,
    pass_cli_context,
    runner_options,
)
from netplus_db.cli.reset import reset
from netplus_db.errors import MigrationFileError, MigrationSetError
from netplus_db.migrate.files import load_directory, new_file, parse_file
from netplus_db.migrate.lint import LINT_AFTER_VERSION, lint
from netplus_db.migrate.migrator import State
from netplus_db.ops.baseline import baseline as run_baseline

# Exit code of `status --exit-code` when migrations are pending (1 stays "a problem").
EXIT_PENDING = 3

# --- migrate ----------------------------------------------------------------------------------


@click.group(context_settings=CONTEXT)
def migrate() -> None:
    """Apply, roll back, inspect, lint and adopt the versioned SQL migrations.

    Each file migrations/NNNN_name.sql has a `-- migrate:up` and a `-- migrate:down` section.
    Each migration, its ledger row (netplus.schema_migrations) and its event
    (netplus.schema_migration_events: who, from where, when) commit in one transaction; one
    runner at a time per database (advisory lock); DDL waits at most --lock-timeout for a
    table lock. Files that are malformed, edited after being applied, deleted, or older than
    the newest applied one stop every command before anything runs.

    \b
    Examples:
      netplus-db migrate status --exit-code     exit 3 when something is pending
      netplus-db migrate up --json              apply, one JSON document on stdout
      netplus-db migrate down --to 0 --yes      roll back everything (asks without --yes)
      netplus-db migrate history                every apply and rollback, who and when
      netplus-db migrate lint                   online-safety lint of the new migrations
      netplus-db migrate baseline               adopt a database built from this schema
    """


@migrate.command(context_settings=CONTEXT)
@click.option("--to", "to", type=int, metavar="VERSION", help="Stop after this version.")
@click.option("--dry-run", is_flag=True, help="List what would be applied; change nothing.")
@click.option(
    "--allow-out-of-order",
    is_flag=True,
    help="Apply a pending migration even if a newer one is already applied.",
)
@runner_options
@output.json_option
@pass_cli_context
def up(
    env: CliContext,
    to: int | None,
    dry_run: bool,
    allow_out_of_order: bool,
    lock_wait: float,
    lock_timeout: str,
    as_json: bool,
) -> None:
    """Apply pending migrations, oldest first; creates the database if it is missing (and
    says so).

    \b
    Examples:
      netplus-db migrate up
      netplus-db migrate up --to 3 --dry-run
      netplus-db --wait migrate up --lock-timeout 3s --json
    """
    doc = output.document()
    steps = env.migrator(
        allow_out_of_order=allow_out_of_order,
        lock_wait_seconds=lock_wait,
        ddl_lock_timeout=lock_timeout,
    ).up(to=to, dry_run=dry_run)
    verb = "would apply" if dry_run else "applied"
    click.echo(f"{verb} {len(steps)} migration(s)", err=True)
    doc.items = [s.as_json() for s in steps]
    doc.summary = {"applied": 0 if dry_run else len(steps), "dry_run": dry_run}
    output.finish(doc, "ok")


@migrate.command(context_settings=CONTEXT)
@click.option("--steps", type=click.IntRange(min=1), metavar="N", help="Roll back N migrations.")
@click.option(
    "--to",
    "to",
    type=click.IntRange(min=0),
    metavar="VERSION",
    help="Roll back every one newer than VERSION (0: all).",
)
@click.option("--dry-run", is_flag=True, help="List what would be rolled back; change nothing.")
@click.option("--yes", is_flag=True, help="Do not ask before rolling back more than one migration.")
@runner_options
@output.json_option
@pass_cli_context
def down(
    env: CliContext,
    steps: int | None,
    to: int | None,
    dry_run: bool,
    yes: bool,
    lock_wait: float,
    lock_timeout: str,
    as_json: bool,
) -> None:
    """Roll back applied migrations, newest first (default: one).

    Runs each migration's down SQL as it was when applied (kept in the ledger), in one
    transaction with the removal of its ledger row. Rolling back more than one migration,
    or to 0, destroys tables and their data: it asks first, and without a terminal it
    refuses unless --yes is given.

    \b
    Examples:
      netplus-db migrate down
      netplus-db migrate down --steps 3 --dry-run
      netplus-db migrate down --to 0 --yes      roll back everything
    """
    if steps is not None and to is not None:
        raise click.UsageError("give --steps or --to, not both")
    doc = output.document()
    migrator = env.migrator(lock_wait_seconds=lock_wait, ddl_lock_timeout=lock_timeout)
    if not dry_run and not yes:
        plan = migrator.plan_down(steps=steps, to=to)
        if len(plan) > 1 or (to == 0 and plan):
            names = ", ".join(f"{a.version:04d}_{a.name}" for a in plan)
            question = (
                f"Roll back {len(plan)} migration(s) of database {migrator.target.dbname} on "
                f"{migrator.target.host} ({names})? Their tables and data are dropped."
            )
            if not sys.stdin.isatty():
                raise click.UsageError(
                    f"down would roll back {len(plan)} migrations ({names}) of database "
                    f"{migrator.target.dbname}, dropping their data; nothing was done. Pass "
                    "--yes when not at a terminal (--dry-run shows the plan)"
                )
            click.confirm(question, abort=True, err=True)
    done = migrator.down(steps=steps, to=to, dry_run=dry_run)
    verb = "would roll back" if dry_run else "rolled back"
    click.echo(f"{verb} {len(done)} migration(s)", err=True)
    doc.items = [s.as_json() for s in done]
    doc.summary = {"rolled_back": 0 if dry_run else len(done), "dry_run": dry_run}
    output.finish(doc, "ok")


@migrate.command(context_settings=CONTEXT)
@click.option(
    "--exit-code",
    is_flag=True,
    help=f"Exit {EXIT_PENDING} when migrations are pending (for scripts and CI).",
)
@output.json_option
@pass_cli_context
def status(env: CliContext, exit_code: bool, as_json: bool) -> None:
    """Show every migration: applied, pending, edited, missing or out of order.

    Exits 1 when a migration is edited, missing or out of order, or the database does not
    exist; with --exit-code, 3 when all is sane but migrations are pending.

    \b
    Examples:
      netplus-db migrate status
      netplus-db migrate status --exit-code || netplus-db migrate up
      netplus-db migrate status --json | jq '.summary'
    """
    doc = output.document()
    migrator = env.migrator()
    exists = migrator.database_exists()
    statuses = migrator.status()
    pending = sum(1 for s in statuses if s.state is State.PENDING)
    applied = sum(1 for s in statuses if s.applied)
    problems = migrator._problems(statuses)
    doc.items = [s.as_json() for s in statuses]
    doc.summary = {
        "database_exists": exists,
        "applied": applied,
        "pending": pending,
        "problems": len(problems),
        "newest_applied": max((s.version for s in statuses if s.applied), default=None),
    }
    for problem in problems:
        doc.error(str(problem), type(problem).__name__)
    if not as_json:
        click.echo(f"{'version':>7}  {'state':<18} {'applied at (UTC)':<20} name")
        for s in statuses:
            when = f"{s.applied.applied_at:%Y-%m-%d %H:%M:%S}" if s.applied else ""
            click.echo(f"{s.version:>7}  {s.state.value:<18} {when:<20} {s.name}")
    click.echo(f"{applied} applied, {pending} pending", err=True)
    if not exists:
        message = (
            f"database {migrator.target.dbname} does not exist on host {migrator.target.host} "
            f"port {migrator.target.port}; `migrate up` creates it (check the name if it "
            "should exist)"
        )
        click.echo(f"error: {message}", err=True)
        doc.error(message, "MissingDatabase")
        output.finish(doc, "missing_database")
    if problems:
        output.finish(doc, "error")
    if pending:
        output.finish(doc, "pending", code=EXIT_PENDING if exit_code else 0)
    output.finish(doc, "ok")


@migrate.command(context_settings=CONTEXT)
@click.option(
    "--allow-out-of-order", is_flag=True, help="Do not count out-of-order files as errors."
)
@output.json_option
@pass_cli_context
def validate(env: CliContext, allow_out_of_order: bool, as_json: bool) -> None:
    """Check every file parses and matches what the database applied; exit 1 otherwise.

    \b
    Examples:
      netplus-db migrate validate
      netplus-db migrate validate --json
    """
    doc = output.document()
    migrator = env.migrator(allow_out_of_order=allow_out_of_order)
    problems = migrator.problems()
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
        doc.error(str(problem), type(problem).__name__)
    count = len(migrator.migrations())
    doc.summary = {"files": count, "problems": len(problems)}
    if problems:
        output.finish(doc, "error")
    click.echo(f"ok: {count} migration file(s) valid", err=True)
    output.finish(doc, "ok")


@migrate.command(context_settings=CONTEXT)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    metavar="N",
    help="Show the newest N events.",
)
@output.json_option
@pass_cli_context
def history(env: CliContext, limit: int, as_json: bool) -> None:
    """Every apply, rollback and baseline: when, which migration, who (database role, session
    role, OS user), from where (client address, host, application), how long, checksum.

    Rows a ledger held before the event history existed show as `imported`.

    \b
    Examples:
      netplus-db migrate history
      netplus-db migrate history --limit 20 --json
    """
    doc = output.document()
    events = env.migrator().history(limit)
    doc.items = [e.as_json() for e in events]
    doc.summary = {"events": len(events)}
    if not as_json:
        click.echo(
            f"{'when (UTC)':<19}  {'action':<8} {'version':>7}  {'name':<28} {'ms':>7}  who / from"
        )
        for e in events:
            ms = "" if e.duration_ms is None else str(e.duration_ms)
            who = e.db_user
            if e.session_user and e.session_user != e.db_user:
                who += f" (session {e.session_user})"
            if e.os_user:
                who += f", {e.os_user}@{e.client_hostname}"
            if e.client_addr:
                who += f" via {e.client_addr}"
            if e.application_name:
                who += f" [{e.application_name}]"
            click.echo(
                f"{e.happened_at:%Y-%m-%d %H:%M:%S}  {e.action:<8} {e.version:>7}  "
                f"{e.name[:28]:<28} {ms:>7}  {who}"
            )
    click.echo(f"{len(events)} event(s)", err=True)
    output.finish(doc, "ok")


@migrate.command(context_settings=CONTEXT)
@click.argument("name")
@pass_cli_context
def new(env: CliContext, name: str) -> None:
    """Create migrations/NNNN_NAME.sql with the next version and both section markers.

    Prints the new file's path on stdout. Then: write the up and down SQL, add the change to
    CHANGELOG.md (the spec's version-control rule), and run `netplus-db migrate lint`.

    \b
    Example:
      netplus-db migrate new add_user_timezone
    """
    try:
        path = new_file(env.migrations_dir, name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    click.echo(str(path))
    click.echo(
        f"next: write its up and down SQL, add an entry for {path.stem} to CHANGELOG.md, and "
        f"check it with `netplus-db migrate lint {path}` (docs/migrations.md has the "
        "online-safe patterns)",
        err=True,
    )


@migrate.command(context_settings=CONTEXT)
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--from",
    "from_version",
    type=click.IntRange(min=0),
    metavar="VERSION",
    help=f"Lint the migrations from VERSION on (default: those after {LINT_AFTER_VERSION:04d}).",
)
@click.option("--to", "to_version", type=click.IntRange(min=0), metavar="VERSION")
@click.option("--all", "all_files", is_flag=True, help="Lint every migration, old ones too.")
@click.option(
    "--lock-timeout",
    type=Duration(),
    default="10s",
    show_default=True,
    metavar="DURATION",
    help="The lock_timeout the runner will set (what `migrate up --lock-timeout` uses).",
)
@output.json_option
@pass_cli_context
def lint_command(
    env: CliContext,
    files: tuple[Path, ...],
    from_version: int | None,
    to_version: int | None,
    all_files: bool,
    lock_timeout: str,
    as_json: bool,
) -> None:
    """Check migrations are safe to run on a live database (squawk, as our runner runs them).

    Each up section is linted as it runs: in one transaction unless `transaction:false`,
    with the runner's lock_timeout. It enforces the spec's rules for modifying existing
    tables (never drop a column, add columns nullable first, add constraints NOT VALID then
    VALIDATE), CONCURRENTLY for indexes on existing tables, and no transaction locking more
    than 10 existing tables. Exits 1 when anything is found. docs/migrations.md shows the
    safe patterns. Needs no database.

    \b
    Examples:
      netplus-db migrate lint                       every migration after 0011
      netplus-db migrate lint migrations/0012_x.sql
      netplus-db migrate lint --from 12 --to 14 --json
    """
    doc = output.document()
    if files and (from_version is not None or to_version is not None or all_files):
        raise click.UsageError("give FILES or --from/--to/--all, not both")
    try:
        if files:
            migrations = [parse_file(path) for path in files]
        else:
            first = 0 if all_files else LINT_AFTER_VERSION + 1
            if from_version is not None:
                first = from_version
            migrations = [
                m
                for m in load_directory(env.migrations_dir)
                if m.version >= first and (to_version is None or m.version <= to_version)
            ]
    except MigrationFileError as exc:
        output.abort(doc, str(exc), type(exc).__name__)
    except MigrationSetError as exc:
        output.abort(doc, str(exc), type(exc).__name__)
    findings = lint(migrations, default_lock_timeout=lock_timeout)
    for finding in findings:
        click.echo(finding.describe(), err=True)
    doc.items = [f.as_json() for f in findings]
    doc.summary = {"files": len(migrations), "findings": len(findings)}
    names = ", ".join(m.path.name for m in migrations) or "none"
    if findings:
        click.echo(f"{len(findings)} finding(s) in {len(migrations)} file(s): {names}", err=True)
        output.finish(doc, "error")
    click.echo(f"ok: {len(migrations)} file(s) linted clean: {names}", err=True)
    output.finish(doc, "ok")


migrate.add_command(lint_command, name="lint")


@migrate.command(context_settings=CONTEXT)
@click.option(
    "--to",
    "to",
    type=int,
    metavar="VERSION",
    help="The version the database is at (default: the newest file).",
)
@output.json_option
@pass_cli_context
def baseline(env: CliContext, to: int | None, as_json: bool) -> None:
    """Adopt an existing database built from this schema without the runner: mark the
    migrations up to VERSION as applied, after proving its schema matches.

    A scratch database on the same server is migrated to VERSION and both schemas are
    compared (pg_dump --schema-only of schema public); on any difference nothing is
    recorded and a summary of the diff is shown. Refuses a database whose ledger already
    has applied migrations. Each migration gets a `baseline` event in `migrate history`.

    \b
    Examples:
      netplus-db migrate baseline
      netplus-db migrate baseline --to 11 --json
    """
    doc = output.document()
    target = env.target()
    runs = run_baseline(target, env.migrations_dir, to=to, report=lambda m: click.echo(m, err=True))
    click.echo(f"baselined {len(runs)} migration(s)", err=True)
    doc.items = [r.as_json() for r in runs]
    doc.summary = {"baselined": len(runs)}
    output.finish(doc, "ok")


migrate.add_command(reset)
