"""`netplus-db demo`: what `make demo` runs."""

from __future__ import annotations

import click

from netplus_db.cli.context import CONTEXT, CliContext, pass_cli_context


@click.command(context_settings=CONTEXT)
@pass_cli_context
def demo(env: CliContext) -> None:
    """Migrate, seed, play one scripted learner through a lesson and a quiz, show the result.

    With nothing configured this runs on the embedded PostgreSQL (started on demand). It is
    safe to run again: the seed is idempotent and the learner simply takes the quiz again.
    """
    from netplus_db.ops.demo import run_demo

    run_demo(env.target(announce=False), report=click.echo)
