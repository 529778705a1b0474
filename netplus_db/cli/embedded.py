"""`netplus-db embedded ...`: the embedded PostgreSQL."""

from __future__ import annotations

import os

import click

from netplus_db.cli import output
from netplus_db.cli.context import CONTEXT
from netplus_db.config import DEFAULT_DBNAME, embedded_home
from netplus_db.ops import embedded

# --- embedded ---------------------------------------------------------------------------------


@click.group(name="embedded", context_settings=CONTEXT)
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
@output.json_option
def embedded_status(as_json: bool) -> None:
    """Say whether the embedded server runs, and how to connect to it with psql.

    Exits 0 when it runs, 3 when it is stopped (like `pg_ctl status`).

    \b
    Examples:
      netplus-db embedded status
      netplus-db embedded status --json | jq -r '.summary.uri'
    """
    doc = output.document()
    state = embedded.status(embedded_home())
    dbname = _embedded_dbname()
    doc.summary = {
        "running": state.running,
        "initialised": state.initialised,
        "data_dir": str(state.data_dir),
        "pid": state.pid if state.running else None,
    }
    if not state.running:
        init = "initialised" if state.initialised else "not initialised"
        output.say(f"stopped ({init}); data directory {state.data_dir}")
        output.finish(doc, "stopped", code=3)
        return
    doc.target = {
        "host": str(state.socket_dir),
        "port": str(state.port),
        "database": dbname,
        "user": embedded.SUPERUSER,
        "sslmode": None,
        "source": "embedded",
    }
    psql = f"{embedded.bin_dir() / 'psql'} '{state.conninfo(dbname)}'"
    doc.summary.update(conninfo=state.conninfo(dbname), uri=state.uri(dbname), psql=psql)
    output.say(f"running: pid {state.pid}, data {state.data_dir}")
    output.say(f"conninfo: {state.conninfo(dbname)}")
    output.say(f"uri:      {state.uri(dbname)}")
    output.say(f"psql:     {psql}")
    output.finish(doc, "ok")
