"""`netplus-db bench ...`: benchmarks that report numbers beside a baseline."""

from __future__ import annotations

import click

from netplus_db.commands import CONTEXT, Env, pass_env

# --- bench ------------------------------------------------------------------------------------


@click.group(context_settings=CONTEXT)
def bench() -> None:
    """Benchmarks that print numbers beside a baseline."""


@bench.command(name="migrate", context_settings=CONTEXT)
@click.option("--runs", default=5, show_default=True, type=click.IntRange(min=1))
@pass_env
def bench_migrate(env: Env, runs: int) -> None:
    """Time `migrate up` on an empty database beside psql applying the same SQL.

    Each run uses a scratch database (bench_migrate, bench_psql) on the target's server,
    dropped afterwards. Reports min / median / max in milliseconds.
    """
    from netplus_db.benchmarks import migrate_up

    timings = migrate_up(env.target(), env.migrations_dir, runs)
    click.echo(f"{'what':<48} {'min ms':>8} {'median':>8} {'max ms':>8}")
    for timing in timings:
        click.echo(timing.row())


@bench.command(name="queries", context_settings=CONTEXT)
@click.option("--calls", default=2000, show_default=True, type=click.IntRange(min=10))
@click.option("--rounds", default=7, show_default=True, type=click.IntRange(min=1))
@pass_env
def bench_queries(env: Env, calls: int, rounds: int) -> None:
    """The library's overhead per call beside raw psycopg running the same SQL.

    Both run on one autocommit connection to a scratch database (`<db>__bench__querygen`,
    dropped afterwards), interleaved in rounds; each figure is the median round's mean
    time per call, in microseconds. The target: at most 30 us of overhead per call.
    """
    from netplus_db.benchmarks import query_overhead

    results = query_overhead(env.target(), calls, rounds)
    click.echo(f"{'query':<36} {'raw us':>10} {'netplus us':>10} {'overhead':>10}")
    for result in results:
        click.echo(result.row())


@bench.command(name="backup", context_settings=CONTEXT)
@click.option("--runs", default=3, show_default=True, type=click.IntRange(min=1))
@pass_env
def bench_backup(env: Env, runs: int) -> None:
    """Time `backup full` and `restore` beside plain pg_dump -Fc and pg_restore.

    The target database is only read; restores go to scratch databases, dropped afterwards.
    Reports min / median / max in milliseconds.
    """
    from netplus_db.benchmarks import backup_restore

    timings = backup_restore(env.target(), runs)
    click.echo(f"{'what':<48} {'min ms':>8} {'median':>8} {'max ms':>8}")
    for timing in timings:
        click.echo(timing.row())
