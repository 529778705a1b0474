"""What every command shares: the resolved global options and click settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from netplus_db.config import Target, resolve_target
from netplus_db.connection import ensure_server_started
from netplus_db.migrate.migrator import Migrator, default_migrations_dir

MIN_SERVER = 140000

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class CliContext:
    """What the global options resolved to, shared by every subcommand."""

    def __init__(self, dsn: str | None, migrations_dir: Path | None) -> None:
        self.dsn = dsn
        self.migrations_dir = migrations_dir or default_migrations_dir()
        self._target: Target | None = None

    def target(self, announce: bool = True) -> Target:
        """Resolve the target once (starting the embedded server if it is the one) and say it."""
        if self._target is None:
            self._target = ensure_server_started(resolve_target(self.dsn))
            if announce:
                click.echo(f"Target: {self._target.describe()}", err=True)
        return self._target

    def migrator(self, **kwargs: Any) -> Migrator:
        """A Migrator on the target, reporting progress on stderr."""
        return Migrator(
            self.target(), self.migrations_dir, report=lambda m: click.echo(m, err=True), **kwargs
        )


pass_cli_context = click.make_pass_decorator(CliContext)
