"""`netplus-db wait`: block until the target's server accepts connections (dbmate's `wait`)."""

from __future__ import annotations

import click

from netplus_db.cli import output
from netplus_db.cli.context import CONTEXT, DEFAULT_WAIT_TIMEOUT, CliContext, pass_cli_context
from netplus_db.connection import ensure_server_started, wait_for_server
from netplus_db.errors import NetplusError


@click.command(context_settings=CONTEXT)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=DEFAULT_WAIT_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="Give up after SECONDS.",
)
@output.json_option
@pass_cli_context
def wait(env: CliContext, timeout: float, as_json: bool) -> None:
    """Wait until the target's server accepts connections; exit 1 if it does not in time.

    For scripts and containers that start the database and the application together. Each
    attempt is bounded by --connect-timeout; refused connections and "the database system is
    starting up" are retried every half second. The database itself need not exist yet
    (`migrate up` creates it).

    \b
    Examples:
      netplus-db wait --timeout 30 && netplus-db migrate up
      netplus-db --wait --wait-timeout 30 migrate up       the same, in one command
      netplus-db wait --json
    """
    doc = output.document()
    target = env.resolved()
    doc.target = target.as_json()
    click.echo(f"Target: {target.describe()}", err=True)
    try:
        waited = wait_for_server(
            ensure_server_started(target), timeout, report=lambda m: click.echo(m, err=True)
        )
    except NetplusError as exc:
        doc.summary = {"timeout_seconds": timeout}
        output.abort(doc, str(exc), type(exc).__name__)
    doc.summary = {"waited_seconds": round(waited, 3), "timeout_seconds": timeout}
    click.echo(f"ready: the server accepted a connection after {waited:.1f} s", err=True)
    output.finish(doc, "ok")
