"""The `netplus-db` command: migrations, the embedded server, schema docs and a health check.

Every command that touches a database first prints which one (password redacted) on stderr.
Exit codes: 0 success, 1 a failure netplus-db explains, 2 a usage error.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
import psycopg

from netplus_db import embedded
from netplus_db.config import (
    DEFAULT_DBNAME,
    SOURCE_EMBEDDED,
    Target,
    embedded_home,
    load_env_file,
    redact,
    resolve_target,
)
from netplus_db.connection import connect, create_database, drop_database, ready, server_version
from netplus_db.errors import NetplusError
from netplus_db.migration_file import new_file
from netplus_db.runner import Migrator, State, default_migrations_dir
from netplus_db.schema_docs import ERD_FILE, SCHEMA_FILE, dump_schema, erd_markdown, write

MIN_SERVER = 140000

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Env:
    """What the global options resolved to, shared by every subcommand."""

    def __init__(self, dsn: str | None, migrations_dir: Path | None) -> None:
        self.dsn = dsn
        self.migrations_dir = migrations_dir or default_migrations_dir()
        self._target: Target | None = None

    def target(self, announce: bool = True) -> Target:
        """Resolve the target once (starting the embedded server if it is the one) and say it."""
        if self._target is None:
            self._target = ready(resolve_target(self.dsn))
            if announce:
                click.echo(f"Target: {self._target.describe()}", err=True)
        return self._target

    def migrator(self, **kwargs: Any) -> Migrator:
        """A Migrator on the target, reporting progress on stderr."""
        return Migrator(
            self.target(), self.migrations_dir, report=lambda m: click.echo(m, err=True), **kwargs
        )


pass_env = click.make_pass_decorator(Env)


@click.group(context_settings=CONTEXT)
@click.option(
    "--dsn",
    envvar="NETPLUS_DSN",
    metavar="DSN",
    help="Connection string or URL. Beats DATABASE_URL, which beats DB_HOST/DB_PORT/DB_NAME/"
    "DB_USER/DB_PASSWORD; with none of them the embedded PostgreSQL is used.",
)
@click.option(
    "--migrations-dir",
    envvar="NETPLUS_MIGRATIONS_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the NNNN_name.sql files are (default: the project's migrations/).",
)
@click.version_option(package_name="netplus-db")
@click.pass_context
def cli(ctx: click.Context, dsn: str | None, migrations_dir: Path | None) -> None:
    """Database toolkit of the Network+ learning platform.

    \b
    Where the database is, first match wins:
      --dsn  >  DATABASE_URL  >  DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD
      >  the embedded PostgreSQL in $NETPLUS_HOME/pgdata (default ./.netplus), started on demand
    A .env file in the working directory is read; variables already set win.

    \b
    Typical session:
      netplus-db doctor                 is the server reachable, recent enough, migrated?
      netplus-db migrate status         what is applied, what is pending
      netplus-db migrate up --dry-run   what would be applied
      netplus-db migrate up             apply it
      netplus-db migrate down           roll back the newest migration
    """
    load_env_file()
    ctx.obj = Env(dsn, migrations_dir)


# --- migrate ----------------------------------------------------------------------------------


@cli.group(context_settings=CONTEXT)
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
@pass_env
def up(
    env: Env,
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
@pass_env
def down(
    env: Env,
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
@pass_env
def status(env: Env, as_json: bool) -> None:
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
@pass_env
def validate(env: Env, allow_out_of_order: bool) -> None:
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
@pass_env
def new(env: Env, name: str) -> None:
    """Create migrations/NNNN_NAME.sql with the next version and both section markers."""
    try:
        path = new_file(env.migrations_dir, name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    click.echo(str(path))


@migrate.command(context_settings=CONTEXT)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_runner_options
@pass_env
def reset(env: Env, yes: bool, lock_wait: float, lock_timeout: str) -> None:
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


# --- embedded ---------------------------------------------------------------------------------


@cli.group(name="embedded", context_settings=CONTEXT)
def embedded_group() -> None:
    """Manage the embedded PostgreSQL (used when no database is configured).

    Its data lives in $NETPLUS_HOME/pgdata (default ./.netplus/pgdata); it listens on a Unix
    socket only and keeps running between commands until `netplus-db embedded stop`.
    """


def _embedded_dbname() -> str:
    return os.environ.get("DB_NAME") or DEFAULT_DBNAME


@embedded_group.command(name="start", context_settings=CONTEXT)
def embedded_start() -> None:
    """Start the embedded server (initialising its data directory on first use)."""
    state = embedded.start(embedded_home())
    click.echo(f"running: pid {state.pid}, data {state.data_dir}")
    click.echo(f"conninfo: {state.conninfo(_embedded_dbname())}")


@embedded_group.command(name="stop", context_settings=CONTEXT)
def embedded_stop() -> None:
    """Stop the embedded server (fast shutdown: open sessions are disconnected)."""
    click.echo("stopped" if embedded.stop(embedded_home()) else "not running")


@embedded_group.command(name="status", context_settings=CONTEXT)
def embedded_status() -> None:
    """Say whether the embedded server runs, and how to connect to it with psql."""
    state = embedded.status(embedded_home())
    if not state.running:
        init = "initialised" if state.initialised else "not initialised"
        click.echo(f"stopped ({init}); data directory {state.data_dir}")
        sys.exit(3)
    dbname = _embedded_dbname()
    click.echo(f"running: pid {state.pid}, data {state.data_dir}")
    click.echo(f"conninfo: {state.conninfo(dbname)}")
    click.echo(f"uri:      {state.uri(dbname)}")
    click.echo(f"psql:     {embedded.bin_dir() / 'psql'} '{state.conninfo(dbname)}'")


# --- doctor -----------------------------------------------------------------------------------


@cli.command(context_settings=CONTEXT)
@pass_env
def doctor(env: Env) -> None:
    """Check the target: reachable, PostgreSQL 14 or newer, migrations in a sane state.

    Exits 0 when all is well, 1 otherwise; every line says what was found.
    """
    ok = True
    target = resolve_target(env.dsn)
    click.echo(f"target:     {target.describe()}")
    try:
        target = ready(target)
        with connect(target.with_dbname("postgres"), autocommit=True, connect_timeout=5) as conn:
            num, text = server_version(conn)
    except NetplusError as exc:
        click.echo(f"reachable:  no — {exc}")
        sys.exit(1)
    click.echo("reachable:  yes")
    supported = num >= MIN_SERVER
    ok &= supported
    verdict = "ok (14+ required)" if supported else "TOO OLD: PostgreSQL 14 or newer is required"
    click.echo(f"server:     PostgreSQL {text} — {verdict}")
    if target.source == SOURCE_EMBEDDED:
        click.echo(f"embedded:   data in {embedded.data_dir(target.embedded_home or Path())}")
    migrator = Migrator(target, env.migrations_dir)
    try:
        statuses = migrator.status()
    except NetplusError as exc:
        click.echo(f"migrations: cannot read — {exc}")
        sys.exit(1)
    applied = sum(1 for s in statuses if s.applied)
    pending = [s for s in statuses if s.state is State.PENDING]
    click.echo(f"migrations: {applied} applied, {len(pending)} pending ({env.migrations_dir})")
    for problem in migrator._problems(statuses):
        ok = False
        click.echo(f"problem:    {problem}")
    sys.exit(0 if ok else 1)


# --- schema -----------------------------------------------------------------------------------


@cli.group(context_settings=CONTEXT)
def schema() -> None:
    """Generate schema/schema.sql and schema/erd.md from the migrated target database."""


@schema.command(name="dump", context_settings=CONTEXT)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=SCHEMA_FILE,
    show_default=True,
)
@click.option("--check", is_flag=True, help="Do not write; exit 1 if the file differs.")
@pass_env
def schema_dump(env: Env, output: Path, check: bool) -> None:
    """Write a deterministic schema-only dump of schema public (pg_dump --schema-only)."""
    _generated(output, dump_schema(env.target()), check)


@schema.command(name="erd", context_settings=CONTEXT)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), default=ERD_FILE, show_default=True
)
@click.option("--check", is_flag=True, help="Do not write; exit 1 if the file differs.")
@pass_env
def schema_erd(env: Env, output: Path, check: bool) -> None:
    """Write a Mermaid ERD generated from the live catalog."""
    _generated(output, erd_markdown(env.target()), check)


def _generated(output: Path, text: str, check: bool) -> None:
    if check:
        current = output.read_text() if output.exists() else ""
        if current != text:
            click.echo(f"{output} is stale: regenerate it with `make schema`", err=True)
            sys.exit(1)
        click.echo(f"{output} is up to date", err=True)
        return
    click.echo(f"{'wrote' if write(output, text) else 'unchanged'} {output}", err=True)


# --- bench ------------------------------------------------------------------------------------


@cli.group(context_settings=CONTEXT)
def bench() -> None:
    """Benchmarks that print numbers beside a baseline."""


@bench.command(name="migrate", context_settings=CONTEXT)
@click.option("--runs", default=5, show_default=True, type=click.IntRange(min=1))
@pass_env
def bench_migrate(env: Env, runs: int) -> None:
    """Time `migrate up` on an empty database beside psql applying the same SQL.

    Each run uses a scratch database (bench_migrate, bench_psql) on the target's server,
    dropped afterwards. Reports min / median / max in milliseconds.
    """
    from netplus_db.benchmarks import migrate_up

    timings = migrate_up(env.target(), env.migrations_dir, runs)
    click.echo(f"{'what':<44} {'min ms':>8} {'median':>8} {'max ms':>8}")
    for timing in timings:
        click.echo(timing.row())


# --- entry point ------------------------------------------------------------------------------


def main() -> NoReturn:
    """Console entry point: run the CLI, turning known failures into one clear line and exit 1."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except NetplusError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except psycopg.Error as exc:
        click.echo(f"error: database: {_redacted(str(exc))}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def _redacted(text: str) -> str:
    return redact(text, os.environ.get("DB_PASSWORD"))
