"""`netplus-db doctor`: is the target reachable, recent enough and sanely migrated?"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from netplus_db.cli.context import CONTEXT, MIN_SERVER, CliContext, pass_cli_context
from netplus_db.config import SOURCE_EMBEDDED, resolve_target
from netplus_db.connection import connect, ensure_server_started, server_version
from netplus_db.errors import NetplusError
from netplus_db.migrate.migrator import Migrator, State
from netplus_db.ops import embedded

# --- doctor -----------------------------------------------------------------------------------


@click.command(context_settings=CONTEXT)
@pass_cli_context
def doctor(env: CliContext) -> None:
    """Check the target: reachable, PostgreSQL 14 or newer, migrations in a sane state.

    Exits 0 when all is well, 1 otherwise; every line says what was found.
    """
    ok = True
    target = resolve_target(env.dsn)
    click.echo(f"target:     {target.describe()}")
    try:
        target = ensure_server_started(target)
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
