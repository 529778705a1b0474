"""`netplus-db embedded ...`: the embedded PostgreSQL."""

from __future__ import annotations

import os
import sys

import click

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
