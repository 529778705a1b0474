"""The `netplus-db` command: the root group, global options, and the entry point.

Each command group lives in its own module under `netplus_db/cli/`. Every command that
touches a database first prints which one (password redacted) on stderr.
Exit codes: 0 success, 1 a failure netplus-db explains, 2 a usage error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

import click
import psycopg

from netplus_db.cli.backup import backup, restore
from netplus_db.cli.context import CONTEXT, CliContext
from netplus_db.cli.demo import demo
from netplus_db.cli.doctor import doctor
from netplus_db.cli.embedded import embedded_group
from netplus_db.cli.migrate import migrate
from netplus_db.cli.queries import queries
from netplus_db.cli.schema import schema
from netplus_db.cli.seed import seed
from netplus_db.config import load_env_file, redact
from netplus_db.errors import NetplusError


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
    ctx.obj = CliContext(dsn, migrations_dir)


for command in (
    migrate,
    embedded_group,
    doctor,
    schema,
    queries,
    seed,
    backup,
    restore,
    demo,
):
    cli.add_command(command)


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
