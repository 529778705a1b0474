"""`netplus-db schema ...`: schema/schema.sql, schema/erd.md and schema/privileges.md from the
live database."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from netplus_db.cli.context import CONTEXT, CliContext, pass_cli_context
from netplus_db.ops.schema_docs import (
    ERD_FILE,
    PRIVILEGES_FILE,
    SCHEMA_FILE,
    dump_schema,
    erd_markdown,
    privileges_markdown,
    write,
)

# --- schema -----------------------------------------------------------------------------------


@click.group(context_settings=CONTEXT)
def schema() -> None:
    """Generate schema/schema.sql, schema/erd.md and schema/privileges.md from the migrated
    target database."""


@schema.command(name="dump", context_settings=CONTEXT)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=SCHEMA_FILE,
    show_default=True,
)
@click.option("--check", is_flag=True, help="Do not write; exit 1 if the file differs.")
@pass_cli_context
def schema_dump(env: CliContext, output: Path, check: bool) -> None:
    """Write a deterministic schema-only dump of schema public (pg_dump --schema-only)."""
    _generated(output, dump_schema(env.target()), check)


@schema.command(name="erd", context_settings=CONTEXT)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), default=ERD_FILE, show_default=True
)
@click.option("--check", is_flag=True, help="Do not write; exit 1 if the file differs.")
@pass_cli_context
def schema_erd(env: CliContext, output: Path, check: bool) -> None:
    """Write a Mermaid ERD generated from the live catalog."""
    _generated(output, erd_markdown(env.target()), check)


@schema.command(name="privileges", context_settings=CONTEXT)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=PRIVILEGES_FILE,
    show_default=True,
)
@click.option("--check", is_flag=True, help="Do not write; exit 1 if the file differs.")
@pass_cli_context
def schema_privileges(env: CliContext, output: Path, check: bool) -> None:
    """Write the privilege matrix: every table, column and function against each role."""
    _generated(output, privileges_markdown(env.target()), check)


def _generated(output: Path, text: str, check: bool) -> None:
    if check:
        current = output.read_text() if output.exists() else ""
        if current != text:
            click.echo(f"{output} is stale: regenerate it with `make schema`", err=True)
            sys.exit(1)
        click.echo(f"{output} is up to date", err=True)
        return
    click.echo(f"{'wrote' if write(output, text) else 'unchanged'} {output}", err=True)
