"""`python -m bench ...` (`make bench`): benchmarks that report numbers beside a baseline.

The suite lives outside the wheel and uses netplus_db like any client; the target is chosen
as the `netplus-db` command chooses it (`--dsn`, DATABASE_URL, DB_*, else embedded).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from netplus_db.cli.context import CONTEXT, CliContext, pass_cli_context
from netplus_db.config import load_env_file

# --- bench ------------------------------------------------------------------------------------


@click.group(context_settings=CONTEXT)
@click.option("--dsn", envvar="NETPLUS_DSN", metavar="DSN", help="Connection string or URL.")
@click.pass_context
def bench(ctx: click.Context, dsn: str | None) -> None:
    """Benchmarks that print numbers beside a baseline."""
    load_env_file()
    ctx.obj = CliContext(dsn, None)


@bench.command(name="migrate", context_settings=CONTEXT)
@click.option("--runs", default=5, show_default=True, type=click.IntRange(min=1))
@pass_cli_context
def bench_migrate(env: CliContext, runs: int) -> None:
    """Time `migrate up` on an empty database beside psql applying the same SQL.

    Each run uses a scratch database (bench_migrate, bench_psql) on the target's server,
    dropped afterwards. Reports min / median / max in milliseconds.
    """
    from bench.baselines import migrate_up

    timings = migrate_up(env.target(), env.migrations_dir, runs)
    click.echo(f"{'what':<48} {'min ms':>8} {'median':>8} {'max ms':>8}")
    for timing in timings:
        click.echo(timing.row())


@bench.command(name="queries", context_settings=CONTEXT)
@click.option("--calls", default=2000, show_default=True, type=click.IntRange(min=10))
@click.option(
    "--rounds",
    default=7,
    show_default=True,
    type=click.IntRange(min=1),
    help="Calls each way = CALLS x ROUNDS.",
)
@pass_cli_context
def bench_queries(env: CliContext, calls: int, rounds: int) -> None:
    """The library's overhead per call beside raw psycopg running the same SQL.

    Both run on one autocommit connection to a scratch database (`<db>__bench__querygen`,
    dropped afterwards), taking turns call by call; each figure is the median time per
    call, in microseconds (medians: a stall of the machine does not move them). The
    target: at most 30 us of overhead per call.
    """
    from bench.baselines import query_overhead

    results = query_overhead(env.target(), calls, rounds)
    click.echo(f"{'query':<40} {'raw us':>10} {'netplus us':>10} {'overhead':>10}")
    for result in results:
        click.echo(result.row())


@bench.command(name="backup", context_settings=CONTEXT)
@click.option("--runs", default=3, show_default=True, type=click.IntRange(min=1))
@pass_cli_context
def bench_backup(env: CliContext, runs: int) -> None:
    """Time `backup full` and `restore` beside plain pg_dump -Fc and pg_restore.

    The target database is only read; restores go to scratch databases, dropped afterwards.
    Reports min / median / max in milliseconds.
    """
    from bench.baselines import backup_restore

    timings = backup_restore(env.target(), runs)
    click.echo(f"{'what':<48} {'min ms':>8} {'median':>8} {'max ms':>8}")
    for timing in timings:
        click.echo(timing.row())


@bench.command(name="suite", context_settings=CONTEXT)
@click.option(
    "--scale",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Thousands of synthetic users in the benchmark database (100: the spec's scale).",
)
@click.option("--users", type=click.IntRange(min=1), hidden=True, help="Exact user count.")
@click.option(
    "--iterations",
    type=click.IntRange(min=1),
    help="Timed calls per class and way [default: 500, 2000 from --scale 10].",
)
@click.option(
    "--submit-iterations",
    type=click.IntRange(min=1),
    help="Timed 90-answer submits per way [default: 50, 200 from --scale 10].",
)
@click.option("--warmup", default=50, show_default=True, type=click.IntRange(min=0))
@click.option("--mixed-seconds", default=60.0, show_default=True, type=click.FloatRange(min=1))
@click.option("--processes", default=4, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--only",
    "only",
    help="Comma-separated query classes: login, dashboard, component_list, progress_update,"
    " assessment_submit, analytics.",
)
@click.option(
    "--skip",
    multiple=True,
    type=click.Choice(["pgbench", "plans", "mixed", "extras", "backup"]),
    help="Leave a part out (repeatable).",
)
@click.option("--rebuild", is_flag=True, help="Build the benchmark database again.")
@click.option("--dbname", help="Benchmark database name [default: netplus_bench_s<SCALE>].")
@click.option("--seed", "random_seed", default=42, show_default=True, type=int)
@click.option(
    "--output",
    default="docs/benchmarks.md",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the report ('-': nowhere).",
)
@click.option("--allow-demo-accounts", is_flag=True, help="Seed a non-local server too.")
@pass_cli_context
def bench_suite(
    env: CliContext,
    scale: int,
    users: int | None,
    iterations: int | None,
    submit_iterations: int | None,
    warmup: int,
    mixed_seconds: float,
    processes: int,
    only: str | None,
    skip: tuple[str, ...],
    rebuild: bool,
    dbname: str | None,
    random_seed: int,
    output: Path,
    allow_demo_accounts: bool,
) -> None:
    """The benchmark suite at N thousand users against the spec's query targets.

    Builds (or reuses) `netplus_bench_s<SCALE>` on the target's server: migrated, seeded,
    SCALE x 1000 synthetic learners. Then, for each query class of the spec (login lookup,
    dashboard, component list, progress update, 90-answer submit, analytics), times calls
    through netplus_db, through raw psycopg running the same SQL, and through pgbench -M
    prepared; checks every statement's plan; runs the mixed workload (PROCESSES clients for
    MIXED-SECONDS, then invariants); times migrate up, seeding, the materialized-view refresh,
    backup and restore. Writes the report (default docs/benchmarks.md).

    \b
    Examples:
      netplus-db bench suite                      # quick: 1,000 users
      netplus-db bench suite --scale 100          # the spec's 100,000 users (~5 min build)
      netplus-db bench suite --only dashboard --skip mixed --skip extras --output -
    """
    from bench import report
    from bench.suite import SuiteConfig, run_suite

    big = (users or scale * 1000) >= 10_000
    shown = " ".join(sys.argv[1:]) if sys.argv[1:] else "bench suite"
    config = SuiteConfig(
        scale=scale,
        users=users,
        iterations=iterations or (2000 if big else 500),
        submit_iterations=submit_iterations or (200 if big else 50),
        warmup=warmup,
        mixed_seconds=mixed_seconds,
        processes=processes,
        random_seed=random_seed,
        classes=tuple(c.strip() for c in only.split(",") if c.strip()) if only else None,
        skip=frozenset(skip),
        rebuild=rebuild,
        dbname=dbname,
        allow_demo_accounts=allow_demo_accounts,
        command=f"netplus-db {shown}",
    )
    result = run_suite(env.target(), config, report=lambda m: click.echo(m, err=True))
    if str(output) != "-":
        report.write(result, output)
        click.echo(f"report written to {output}", err=True)
    for r in result.classes:
        q = r.query_class
        click.echo(
            f"{q.title:<36} p95 {r.api.p95_ms:8.3f} ms (target {q.target_ms:g})"
            f" {'ok' if r.meets_target else 'MISSED'}; overhead {r.overhead_us:+6.0f} us"
            f" {_overhead_word(r.meets_overhead)}"
        )
    if result.mixed is not None:
        m = result.mixed
        click.echo(
            f"mixed: {m.throughput:,.0f} tx/s, errors {sum(m.errors.values())},"
            f" deadlocks {m.deadlocks}, invariants {'hold' if m.ok else 'BROKEN'}"
        )


def _overhead_word(meets: bool | None) -> str:
    return "unresolved" if meets is None else "ok" if meets else "MISSED"
