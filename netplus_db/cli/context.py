"""What every command shares: the resolved global options and click settings.

The global options (`--dsn`, `--connect-timeout`, `--wait`, `--wait-timeout`) are accepted
before the subcommand and after it (`netplus-db migrate status --dsn ...`): `main.py` adds
`GLOBAL_OPTIONS` to every subcommand, each storing its value here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from netplus_db.cli import output
from netplus_db.config import SOURCE_EMBEDDED, Target, resolve_target
from netplus_db.connection import ensure_server_started, wait_for_server
from netplus_db.migrate.files import duration_problem
from netplus_db.migrate.migrator import Migrator, default_migrations_dir

DEFAULT_WAIT_TIMEOUT = 60.0

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class CliContext:
    """What the global options resolved to, shared by every subcommand."""

    def __init__(
        self,
        dsn: str | None,
        migrations_dir: Path | None,
        *,
        connect_timeout: int | None = None,
        wait: bool = False,
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> None:
        self.dsn = dsn
        self.migrations_dir = migrations_dir or default_migrations_dir()
        self.connect_timeout = connect_timeout
        self.wait = wait
        self.wait_timeout = wait_timeout
        self._target: Target | None = None

    def resolved(self) -> Target:
        """The target as configured, with `--connect-timeout` applied; nothing is started."""
        target = resolve_target(self.dsn)
        if self.connect_timeout is not None:
            target = target.with_params(connect_timeout=str(self.connect_timeout))
        return target

    def target(self, announce: bool = True) -> Target:
        """Resolve the target once (starting the embedded server if it is the one), say it,
        and with `--wait` wait for its server to accept connections."""
        if self._target is None:
            target = self.resolved()
            doc = output.document()
            doc.target = target.as_json()
            if announce:
                click.echo(f"Target: {target.describe()}", err=True)
            for warning in target.warnings:
                click.echo(f"warning: {warning}", err=True)
            if target.source == SOURCE_EMBEDDED:
                announce_embedded(target)
            target = ensure_server_started(target)
            if self.wait:
                waited = wait_for_server(target, self.wait_timeout, report=_stderr)
                if waited >= 1:
                    click.echo(f"the server answered after {waited:.1f} s", err=True)
            self._target = target
        return self._target

    def migrator(self, **kwargs: Any) -> Migrator:
        """A Migrator on the target, reporting progress on stderr."""
        return Migrator(self.target(), self.migrations_dir, report=_stderr, **kwargs)


def announce_embedded(target: Target) -> None:
    """Say, on stderr, that nothing was configured and where the embedded server's data is."""
    from netplus_db.ops import embedded

    home = target.embedded_home or Path()
    state = embedded.status(home)
    first = "" if state.initialised else " (first use: it is created now)"
    click.echo(
        "note: no database configured (--dsn, NETPLUS_DSN, DATABASE_URL or DB_HOST/DB_PORT/"
        f"DB_USER/DB_PASSWORD): using the embedded PostgreSQL, data in {state.data_dir}{first}; "
        "NETPLUS_HOME moves it",
        err=True,
    )


def _stderr(message: str) -> None:
    click.echo(message, err=True)


class Duration(click.ParamType):  # type: ignore[type-arg]
    """A PostgreSQL duration (5s, 500ms, 2min), checked before anything connects."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """The value as given, or a usage error naming the option and the value."""
        text = str(value).strip()
        problem = duration_problem(text)
        if problem:
            self.fail(problem, param, ctx)
        return text


def _setter(attribute: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def store(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        if value is None or value is False:
            return value
        obj = ctx.find_object(CliContext)
        if obj is not None:
            setattr(obj, attribute, value)
        return value

    return store


def global_options() -> list[click.Option]:
    """The global options, as new click options that store into the CliContext; main.py puts
    them on every subcommand so they may follow it."""
    return [
        click.Option(
            ["--dsn"],
            metavar="DSN",
            expose_value=False,
            callback=_setter("dsn"),
            help="Connection string or URL of the target (global option; also accepted here).",
        ),
        click.Option(
            ["--connect-timeout"],
            type=click.IntRange(min=1),
            metavar="SECONDS",
            expose_value=False,
            callback=_setter("connect_timeout"),
            help="Give up on a server that does not accept the connection within SECONDS "
            "(default: PGCONNECT_TIMEOUT, else 10).",
        ),
        click.Option(
            ["--wait"],
            is_flag=True,
            expose_value=False,
            callback=_setter("wait"),
            help="Wait for the server to accept connections first (see --wait-timeout).",
        ),
        click.Option(
            ["--wait-timeout"],
            type=click.FloatRange(min=0),
            metavar="SECONDS",
            expose_value=False,
            callback=_setter("wait_timeout"),
            help=f"How long --wait waits (default {DEFAULT_WAIT_TIMEOUT:g}).",
        ),
    ]


pass_cli_context = click.make_pass_decorator(CliContext)


def runner_options(f: Any) -> Any:
    """The migration runner's --lock-wait and --lock-timeout, for every command that runs it."""
    f = click.option(
        "--lock-wait",
        type=click.FloatRange(min=0),
        default=60.0,
        show_default=True,
        metavar="SECONDS",
        help="How long to wait for another runner to finish.",
    )(f)
    f = click.option(
        "--lock-timeout",
        type=Duration(),
        default="10s",
        show_default=True,
        metavar="DURATION",
        help="How long DDL may wait for a table lock held by another transaction "
        "(a migration's `lock_timeout:` marker option overrides it).",
    )(f)
    return f
