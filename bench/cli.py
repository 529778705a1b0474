"""`python -m bench ...` (`make bench`): benchmarks that report numbers beside a baseline.

The suite lives outside the wheel and uses netplus_db like any client; the target is chosen
as the `netplus-db` command chooses it (`--dsn`, DATABASE_URL, DB_*, else embedded).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from netplus_db.cli.context import CONTEXT, CliContext, pass_cli_context
from netplus_db.config import load_env_file

if TYPE_CHECKING:
    from bench.operations import TimedRuns
    from bench.scaling import ScalingResult

# --- bench ------------------------------------------------------------------------------------


@click.group(context_settings=CONTEXT)
@click.option("--dsn", envvar="NETPLUS_DSN", metavar="DSN", help="Connection string or URL.")
@click.pass_context
def bench(ctx: click.Context, dsn: str | None) -> None:
    """Benchmarks that print numbers beside a baseline."""
    load_env_file()
    ctx.obj = CliContext(dsn, None)


def _count_option(
    name: str, default: int, minimum: int = 1, help_text: str | None = None
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """An integer option with its default shown and a lower bound."""
    return click.option(
        name, default=default, show_default=True, type=click.IntRange(min=minimum), help=help_text
    )


def _print_runs(timed: list[TimedRuns]) -> None:
    click.echo(f"{'what':<48} {'min ms':>8} {'median':>8} {'max ms':>8}")
    for runs in timed:
        click.echo(runs.row())


@bench.command(name="migrate", context_settings=CONTEXT)
@_count_option("--runs", 5)
@pass_cli_context
def bench_migrate(env: CliContext, runs: int) -> None:
    """Time `migrate up` on an empty database beside psql applying the same SQL.

    Each run uses a scratch database (bench_migrate, bench_psql) on the target's server,
    dropped afterwards. Reports min / median / max in milliseconds.
    """
    from bench.operations import migrate_up

    _print_runs(migrate_up(env.target(), env.migrations_dir, runs))


@bench.command(name="queries", context_settings=CONTEXT)
@_count_option("--calls", 300, 10, "Calls each way per round.")
@_count_option("--rounds", 7, 1, "Calls each way = CALLS x ROUNDS.")
@pass_cli_context
def bench_queries(env: CliContext, calls: int, rounds: int) -> None:
    """The library's overhead per call, and where it goes, beside raw psycopg.

    The suite's breakdown (bench/overhead.py) on a scratch database (`<db>__bench__querygen`:
    migrated, one learner registered, dropped afterwards): an empty round trip, the pool's
    borrow, a transaction through `as_user`, one statement through the query layer, and
    typed rows, each beside its baseline on the same connection, taking turns call by call;
    each figure is the median time per call in microseconds (medians: a stall of the machine
    does not move them). The budget: at most 30 us of overhead per call.
    """
    from bench.overhead import breakdown, scratch_subject

    with scratch_subject(env.target()) as subject:
        parts = breakdown(subject, calls, rounds)
    click.echo(f"{'part':<76} {'netplus us':>10} {'base us':>10} {'overhead':>10}  (baseline)")
    for part in parts:
        click.echo(part.row())


@bench.command(name="backup", context_settings=CONTEXT)
@_count_option("--runs", 3)
@pass_cli_context
def bench_backup(env: CliContext, runs: int) -> None:
    """Time `backup full` and `restore` beside plain pg_dump and pg_restore.

    Custom format beside `pg_dump -Fc` / `pg_restore --single-transaction`, then directory
    format with `--jobs 2` beside `pg_dump -Fd -j 2` / `pg_restore -j 2`. The target database
    is only read; restores go to scratch databases, dropped afterwards. Reports min / median /
    max in milliseconds.
    """
    from bench.operations import backup_restore

    _print_runs(backup_restore(env.target(), runs))


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
@_count_option("--warmup", 50, 0)
@click.option("--mixed-seconds", default=60.0, show_default=True, type=click.FloatRange(min=1))
@click.option(
    "--scaling-seconds",
    default=20.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="Each mixed-workload run of the scaling part (direct, PgBouncer, replica).",
)
@_count_option("--processes", 4)
@click.option(
    "--only",
    "only",
    help="Comma-separated query classes: login, dashboard, component_list, progress_update,"
    " assessment_submit, analytics, readiness, dashboard_readiness, review_queue.",
)
@click.option(
    "--skip",
    multiple=True,
    type=click.Choice(["pgbench", "plans", "reads", "mixed", "scaling", "extras", "backup"]),
    help="Leave a part out (repeatable).",
)
@click.option("--rebuild", is_flag=True, help="Build the benchmark database again.")
@click.option("--dbname", help="Benchmark database name [default: netplus_bench_s<SCALE>].")
@click.option(
    "--keep-version",
    is_flag=True,
    help="Reuse the database at its migration version (apply no pending migration): e.g. a"
    " clone migrated down, to compare versions.",
)
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
    scaling_seconds: float,
    processes: int,
    only: str | None,
    skip: tuple[str, ...],
    rebuild: bool,
    dbname: str | None,
    keep_version: bool,
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
      python -m bench suite                       # quick: 1,000 users
      python -m bench suite --scale 100           # the spec's 100,000 users (~5 min build)
      python -m bench suite --only dashboard --skip mixed --skip extras --output -
    """
    from bench import report
    from bench.suite import SuiteConfig, run_suite

    big = (users or scale * 1000) >= 10_000
    shown = " ".join(sys.argv[1:]) if sys.argv[1:] else "suite"
    config = SuiteConfig(
        scale=scale,
        users=users,
        iterations=iterations or (2000 if big else 500),
        submit_iterations=submit_iterations or (200 if big else 50),
        warmup=warmup,
        mixed_seconds=mixed_seconds,
        scaling_seconds=scaling_seconds,
        processes=processes,
        random_seed=random_seed,
        classes=tuple(c.strip() for c in only.split(",") if c.strip()) if only else None,
        skip=frozenset(skip),
        rebuild=rebuild,
        dbname=dbname,
        keep_version=keep_version,
        allow_demo_accounts=allow_demo_accounts,
        command=f"python -m bench {shown}",
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
    if result.scaling is not None:
        _echo_scaling(result.scaling)


@bench.command(name="scaling", context_settings=CONTEXT)
@click.option("--scale", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--users", type=click.IntRange(min=1), hidden=True, help="Exact user count.")
@click.option("--seconds", default=20.0, show_default=True, type=click.FloatRange(min=1))
@_count_option("--processes", 4)
@_count_option("--calls", 300, 10, "Cache comparison: timed calls per read and way.")
@click.option("--dbname", help="Benchmark database name [default: netplus_bench_s<SCALE>].")
@click.option("--seed", "random_seed", default=42, show_default=True, type=int)
@click.option(
    "--output",
    default="docs/benchmarks.md",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Report whose 'Past one server' section is replaced ('-': print it).",
)
@click.option("--allow-demo-accounts", is_flag=True, help="Seed a non-local server too.")
@pass_cli_context
def bench_scaling(
    env: CliContext,
    scale: int,
    users: int | None,
    seconds: float,
    processes: int,
    calls: int,
    dbname: str | None,
    random_seed: int,
    output: Path,
    allow_demo_accounts: bool,
) -> None:
    """Past one server: the mixed workload direct, through PgBouncer and with a replica.

    On the benchmark database (built or reused as `suite` does): the mixed workload (a)
    direct, (b) through a PgBouncer of its own in transaction pooling, (c) with its reads on
    a streaming standby of the server (transactions/s, p95 per transaction, errors and stale
    reads, both must be 0); the failover time of a scratch primary/standby pair; the component
    list and dashboard with the cache on and off. Exit status 1 when an error or a stale read
    was seen.
    """
    from bench import report, scale_database
    from bench.scaling import render, run_scaling

    build = scale_database.ensure(
        env.target(),
        users=users or scale * 1000,
        random_seed=random_seed,
        dbname=dbname,
        allow_demo_accounts=allow_demo_accounts,
        report=lambda m: click.echo(m, err=True),
    )
    result = run_scaling(
        build.target,
        processes=processes,
        seconds=seconds,
        calls=calls,
        random_seed=random_seed,
        report=lambda m: click.echo(m, err=True),
    )
    section = render(result)
    if str(output) == "-":
        click.echo(section)
    else:
        report.splice_scaling(section, output)
        click.echo(f"section written to {output}", err=True)
    _echo_scaling(result)
    if not result.ok:
        sys.exit(1)


def _echo_scaling(result: ScalingResult) -> None:
    for m in result.modes:
        if m.result is None:
            click.echo(f"scaling {m.name}: skipped ({m.skipped})")
            continue
        r = m.result
        click.echo(
            f"scaling {m.name}: {r.throughput:,.0f} tx/s, errors {sum(r.errors.values())},"
            f" stale reads {r.stale_reads}"
        )
    if result.failover is not None:
        click.echo(f"failover: {result.failover.seconds:.2f} s to the first write")
    for c in result.cache:
        click.echo(f"{c.what}: p95 {c.on.p95_ms:.3f} ms cached, {c.off.p95_ms:.3f} ms not")


def _overhead_word(meets: bool | None) -> str:
    return "unresolved" if meets is None else "ok" if meets else "MISSED"


@bench.command(name="partitions", context_settings=CONTEXT)
@click.option(
    "--scale",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Thousands of synthetic users in the benchmark database (100: the spec's scale).",
)
@click.option("--users", type=click.IntRange(min=1), hidden=True, help="Exact user count.")
@click.option("--dbname", help="Benchmark database name [default: netplus_bench_s<SCALE>].")
@click.option(
    "--only",
    type=click.Choice(["retention", "conversion"]),
    help="Run one of the two parts.",
)
@click.option(
    "--clone-wait",
    default=600.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds to keep trying to clone a database someone is connected to.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON document.")
@click.option(
    "--output",
    default="-",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the Markdown section ('-': standard output).",
)
@click.option("--seed", "random_seed", default=42, show_default=True, type=int)
@pass_cli_context
def bench_partitions(
    env: CliContext,
    scale: int,
    users: int | None,
    dbname: str | None,
    only: str | None,
    clone_wait: float,
    as_json: bool,
    output: Path,
    random_seed: int,
) -> None:
    """Retention by DELETE beside retention by partition, and the conversion migration.

    Works on scratch clones (CREATE DATABASE ... TEMPLATE) of the scale database
    `netplus_bench_s<SCALE>` (built first when it is missing, like the suite's; an existing
    one is only read), each dropped when its part ends; a writer logs activity every 2 ms on
    its own connection throughout.

    \b
    retention:  the activity logs re-partitioned by month in the clone, then those older than
                90 days removed by the spec's DELETE (then VACUUM) from a plain copy, and by
                `maintain monthly`'s retention (detach, archive, verify, drop) from the
                partitions: time, WAL bytes, the writer's longest wait, sizes after.
    conversion: `migrate down` to plain tables, then the timed `migrate up` to the
                partitioned ones: time, inserts, failures, the longest wait (the swap).

    \b
    Examples:
      python -m bench partitions --scale 100
      python -m bench partitions --only retention --json
    """
    import json

    from bench import partitions, partitions_report
    from bench import scale_database as database
    from netplus_db.connection import database_exists

    def say(message: str) -> None:
        click.echo(message, err=True)

    count = users or scale * 1000
    source = env.target().with_dbname(dbname or database.database_name(count))
    if not database_exists(source) or partitions.recorded_build(source) != (count, random_seed):
        database.ensure(
            env.target(), users=count, random_seed=random_seed, dbname=source.dbname, report=say
        )
    parts = (only,) if only else ("retention", "conversion")
    result = partitions.run_partitions(
        source,
        users=count,
        random_seed=random_seed,
        parts=parts,
        report=say,
        clone_wait_s=clone_wait,
    )
    text = json.dumps(result.as_json(), indent=2) if as_json else partitions_report.render(result)
    if str(output) == "-":
        click.echo(text)
    else:
        output.write_text(text + "\n", "utf-8")
        say(f"written to {output}")
