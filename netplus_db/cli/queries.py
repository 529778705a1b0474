"""`netplus-db queries ...`: typed Python generated from queries/*.sql, and its check."""

from __future__ import annotations

import sys

import click

from netplus_db.cli.context import CONTEXT, CliContext, pass_cli_context
from netplus_db.ops.codegen import GENERATED_DIR, generate, stale, write


@click.group(context_settings=CONTEXT)
def queries() -> None:
    """Generate and check the typed query modules (netplus_db/generated/).

    Each named query of queries/*.sql is prepared against a freshly migrated scratch
    database on the target's server (`<db>__querygen`, dropped afterwards); PostgreSQL
    describes its parameters and result columns, and one typed module per .sql file is
    written: a named tuple per result shape, keyword-only sync and async methods. The CHECK
    constraints that list a column's values become the enumerations of `enums.py`.

    \b
    Examples:
      netplus-db queries gen      after editing queries/*.sql or adding a migration
      netplus-db queries check    in CI: exit 1 when the generated code is stale
    """


@queries.command(name="gen", context_settings=CONTEXT)
@pass_cli_context
def gen(env: CliContext) -> None:
    """Regenerate netplus_db/generated/ from queries/*.sql."""
    changed = write(generate(env.target()))
    for path in changed:
        click.echo(f"wrote {path}", err=True)
    click.echo(f"{len(changed)} file(s) changed in {GENERATED_DIR}", err=True)


@queries.command(name="check", context_settings=CONTEXT)
@pass_cli_context
def check(env: CliContext) -> None:
    """Fail (exit 1) on a query that does not prepare or fit its marker, or stale generated code.

    Every problem names the .sql file and line of the query.
    """
    files = generate(env.target())
    outdated = stale(files)
    for path in outdated:
        click.echo(f"error: {path} is stale: run `netplus-db queries gen`", err=True)
    if outdated:
        sys.exit(1)
    click.echo(f"ok: {len(files)} generated file(s) up to date", err=True)
