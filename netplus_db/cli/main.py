"""The `netplus-db` command: the root group, global options, and the entry point.

Each command group lives in its own module under `netplus_db/cli/`. Every command that
touches a database first prints which one (password redacted) on stderr.
Exit codes: 0 success, 1 a failure netplus-db explains, 2 a usage error.
The global options (--dsn, --connect-timeout, --wait, --wait-timeout) may also follow the
subcommand: `_share_global_options` adds them to every subcommand.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

import click
import psycopg

from netplus_db.cli import output
from netplus_db.cli.backup import backup, restore
from netplus_db.cli.context import CONTEXT, DEFAULT_WAIT_TIMEOUT, CliContext, global_options
from netplus_db.cli.demo import demo
from netplus_db.cli.doctor import doctor
from netplus_db.cli.embedded import embedded_group
from netplus_db.cli.maintain import maintain
from netplus_db.cli.migrate import migrate
from netplus_db.cli.queries import queries
from netplus_db.cli.schema import schema
from netplus_db.cli.seed import seed
from netplus_db.cli.wait import wait
from netplus_db.config import load_env_file, redact
from netplus_db.errors import NetplusError


@click.group(context_settings=CONTEXT)
@click.option(
    "--dsn",
    metavar="DSN",
    help="Connection string or URL. Beats NETPLUS_DSN, DATABASE_URL, then DB_HOST/DB_PORT/"
    "DB_NAME/DB_USER/DB_PASSWORD; with none of them the embedded PostgreSQL is used.",
)
@click.option(
    "--migrations-dir",
    envvar="NETPLUS_MIGRATIONS_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the NNNN_name.sql files are (default: the project's migrations/).",
)
@click.option(
    "--connect-timeout",
    type=click.IntRange(min=1),
    metavar="SECONDS",
    help="Give up on a server that does not accept a connection within SECONDS "
    "(default: PGCONNECT_TIMEOUT, else 10).",
)
@click.option(
    "--wait", is_flag=True, help="Wait for the server to accept connections before the command."
)
@click.option(
    "--wait-timeout",
    type=click.FloatRange(min=0),
    default=DEFAULT_WAIT_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="How long --wait waits.",
)
@click.version_option(package_name="netplus-db")
@click.pass_context
def cli(
    ctx: click.Context,
    dsn: str | None,
    migrations_dir: Path | None,
    connect_timeout: int | None,
    wait: bool,
    wait_timeout: float,
) -> None:
    """Database toolkit of the Network+ learning platform.

    \b
    Where the database is, first match wins:
      --dsn  >  NETPLUS_DSN  >  DATABASE_URL  >  DB_HOST, DB_PORT, DB_USER, DB_PASSWORD (+ DB_NAME)
      >  the embedded PostgreSQL in $NETPLUS_HOME/pgdata (default ./.netplus), started on demand
    A .env file in the working directory is read too, but the shell's variables win over it
    at every level (an exported DB_NAME beats a DATABASE_URL only .env sets). The first line
    on stderr says which target was chosen and from where.

    \b
    Typical session:
      netplus-db doctor                 is the server reachable, recent enough, migrated?
      netplus-db --wait migrate up      wait for a starting server, then migrate
      netplus-db migrate status         what is applied, what is pending
      netplus-db migrate up --dry-run   what would be applied
      netplus-db migrate up             apply it
      netplus-db migrate down           roll back the newest migration
      netplus-db migrate history        who applied or rolled back what, when

    \b
    Global options may also follow the subcommand:
      netplus-db migrate status --dsn postgresql://dba@db.internal/netplus --json
    Every connection gives up after --connect-timeout (default 10 s); with --json a command
    prints one JSON document on stdout, also when it fails.
    """
    load_env_file()
    output.start(False)
    ctx.obj = CliContext(
        dsn,
        migrations_dir,
        connect_timeout=connect_timeout,
        wait=wait,
        wait_timeout=wait_timeout,
    )


for command in (
    migrate,
    embedded_group,
    doctor,
    wait,
    schema,
    queries,
    seed,
    backup,
    restore,
    demo,
    maintain,
):
    cli.add_command(command)


def _share_global_options(group: click.Group) -> None:
    """Give every subcommand (and nested group) the global options, so they may follow it."""
    for command in group.commands.values():
        taken = {name for param in command.params for name in param.opts}
        command.params.extend(option for option in global_options() if not set(option.opts) & taken)
        if isinstance(command, click.Group):
            _share_global_options(command)


_share_global_options(cli)


# --- entry point ------------------------------------------------------------------------------


def main() -> NoReturn:
    """Console entry point: run the CLI, turning known failures into one clear line and exit 1."""
    try:
        code = cli.main(prog_name="netplus-db", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        output.fail("aborted", "Aborted")
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        output.fail(exc.format_message(), type(exc).__name__)
        sys.exit(exc.exit_code)
    except NetplusError as exc:
        click.echo(f"error: {exc}", err=True)
        output.fail(str(exc), type(exc).__name__)
        sys.exit(1)
    except psycopg.Error as exc:
        message = f"database: {_redacted(str(exc))}"
        click.echo(f"error: {message}", err=True)
        output.fail(message, type(exc).__name__)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        output.fail("interrupted", "KeyboardInterrupt")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def _redacted(text: str) -> str:
    return redact(text, os.environ.get("DB_PASSWORD"))
