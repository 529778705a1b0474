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
    dumped_from,
    erd_markdown,
    privileges_markdown,
    write,
)

STDOUT = Path("-")

# --- schema -----------------------------------------------------------------------------------


@click.group(context_settings=CONTEXT)
def schema() -> None:
    """Generate schema/schema.sql, schema/erd.md and schema/privileges.md from the migrated
    target database.

    The default files are the checkout's schema/ folder, wherever the command runs from;
    `--output -` writes to stdout.

    \b
    Examples:
      netplus-db schema dump                 regenerate schema/schema.sql
      netplus-db schema dump --check         exit 1 when it is stale
      netplus-db schema privileges --check   exit 1 when the privilege matrix is stale
      netplus-db schema dump --output -      print the dump
    """


@schema.command(name="dump", context_settings=CONTEXT)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=SCHEMA_FILE,
    show_default=True,
    help="Where to write (- for stdout).",
)
@click.option("--check", is_flag=True, help="Do not write; exit 1 if the file differs.")
@pass_cli_context
def schema_dump(env: CliContext, output: Path, check: bool) -> None:
    """Write a deterministic schema-only dump of schema public (pg_dump --schema-only).

    pg_dump's output differs between PostgreSQL majors, so --check compares only with a
    server of the major the file was dumped from, and says so otherwise.
    """
    _check_options(output, check)
    text = dump_schema(env.target())
    if check and output != STDOUT and output.exists():
        theirs, ours = dumped_from(output.read_text()), dumped_from(text)
        if theirs is not None and ours is not None and theirs != ours:
            click.echo(
                f"{output} was dumped by PostgreSQL {theirs}; this server is PostgreSQL {ours}, "
                f"whose pg_dump writes differently: cannot compare (check it against a "
                f"PostgreSQL {theirs} server)",
                err=True,
            )
            sys.exit(1)
    _generated(output, text, check)


@schema.command(name="erd", context_settings=CONTEXT)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=ERD_FILE,
    show_default=True,
    help="Where to write (- for stdout).",
)
@click.option("--check", is_flag=True, help="Do not write; exit 1 if the file differs.")
@pass_cli_context
def schema_erd(env: CliContext, output: Path, check: bool) -> None:
    """Write a Mermaid ERD generated from the live catalog."""
    _check_options(output, check)
    _generated(output, erd_markdown(env.target()), check)


@schema.command(name="privileges", context_settings=CONTEXT)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=PRIVILEGES_FILE,
    show_default=True,
    help="Where to write (- for stdout).",
)
@click.option("--check", is_flag=True, help="Do not write; exit 1 if the file differs.")
@pass_cli_context
def schema_privileges(env: CliContext, output: Path, check: bool) -> None:
    """Write the privilege matrix: every table, column and function against each role."""
    _check_options(output, check)
    _generated(output, privileges_markdown(env.target()), check)


def _check_options(output: Path, check: bool) -> None:
    if output == STDOUT and check:
        raise click.UsageError("--check compares with a file; it cannot take --output -")


def _generated(output: Path, text: str, check: bool) -> None:
    if output == STDOUT:
        click.echo(text, nl=False)
        return
    if check:
        current = output.read_text() if output.exists() else ""
        if current != text:
            click.echo(f"{output} is stale: regenerate it with `make schema`", err=True)
            sys.exit(1)
        click.echo(f"{output} is up to date", err=True)
        return
    click.echo(f"{'wrote' if write(output, text) else 'unchanged'} {output}", err=True)
