"""`netplus-db maintain ...`: the spec's maintenance routine (daily, weekly, monthly, report),
the partitions ahead, retention by partition and its archives."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from netplus_db.cli.context import CONTEXT, CliContext, Duration, pass_cli_context
from netplus_db.cli.output import document, finish, json_option, say
from netplus_db.config import Target
from netplus_db.ops import maintenance as m

F = TypeVar("F", bound=Callable[..., Any])

ARCHIVE_DIR_VARIABLE = "NETPLUS_ARCHIVE_DIR"
DEFAULT_ARCHIVE_DIR = Path("archives") / "partitions"


@click.group(context_settings=CONTEXT)
def maintain() -> None:
    """The spec's maintenance routine on the configured database.

    \b
      daily    partitions ahead, refresh the materialized views, slow queries
               (pg_stat_statements), rows in the default partitions, idle transactions
      weekly   ANALYZE; sessions older than 30 days leave (whole months)
      monthly  VACUUM (ANALYZE); activity logs older than 90 days leave; unused indexes
      report   read only: partitions, what retention would drop, sizes, unused indexes,
               slow queries, idle transactions, dead rows
    Retention detaches a month's partition, writes it to <archive-dir>/<partition>.csv.gz with
    a manifest (rows, sha256), reads the archive back to check it, then drops the partition;
    rows are never deleted one by one, and a partition holding a row newer than the cutoff is
    never dropped. `archive-load` puts an archive back.

    \b
    Examples:
      netplus-db maintain daily
      netplus-db maintain weekly --dry-run
      netplus-db maintain monthly --activity-days 180 --archive-dir /srv/archives --json
      netplus-db maintain report
      netplus-db maintain archive-load archives/partitions/user_activity_logs_p2026_01.manifest.json
    """


def _routine_options(f: F) -> F:
    options = [
        click.option("--dry-run", is_flag=True, help="Say what would be done; change nothing."),
        click.option(
            "--sessions-days",
            type=click.IntRange(min=1),
            default=30,
            show_default=True,
            metavar="DAYS",
            help="Keep learning_sessions this many days (whole months older leave).",
        ),
        click.option(
            "--activity-days",
            type=click.IntRange(min=1),
            default=90,
            show_default=True,
            metavar="DAYS",
            help="Keep user_activity_logs this many days (whole months older leave).",
        ),
        click.option(
            "--months-ahead",
            type=click.IntRange(0, 120),
            default=3,
            show_default=True,
            metavar="N",
            help="Create the partitions of this month and N months ahead.",
        ),
        click.option(
            "--archive-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help=f"Where retention writes its archives (default: ${ARCHIVE_DIR_VARIABLE}, else "
            f"./{DEFAULT_ARCHIVE_DIR}).",
        ),
        click.option(
            "--idle-seconds",
            type=click.IntRange(min=0),
            default=300,
            show_default=True,
            metavar="S",
            help="Report sessions idle in a transaction for longer than S seconds.",
        ),
        click.option(
            "--lock-timeout",
            type=Duration(),
            default="5s",
            show_default=True,
            help="How long a partition's DETACH waits for its lock before giving up.",
        ),
        json_option,
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _options(
    dry_run: bool,
    sessions_days: int,
    activity_days: int,
    months_ahead: int,
    archive_dir: Path | None,
    idle_seconds: int,
    lock_timeout: str,
) -> m.Options:
    directory = archive_dir or Path(os.environ.get(ARCHIVE_DIR_VARIABLE) or DEFAULT_ARCHIVE_DIR)
    return m.Options(
        dry_run=dry_run,
        retention=m.Retention(sessions_days, activity_days),
        months_ahead=months_ahead,
        archive_dir=directory,
        idle_seconds=idle_seconds,
        lock_timeout=lock_timeout,
    )


yes_option = click.option(
    "--yes",
    is_flag=True,
    help="Drop the partitions retention names without asking (needed without a terminal,"
    " e.g. from cron; they are archived and verified first either way).",
)


def _confirm_drops(target: Target, options: m.Options, tables: tuple[str, ...]) -> None:
    """Ask before retention drops partitions; refuse without a terminal (pass --yes there)."""
    doomed = m.partitions_to_drop(target, options.retention, tables, options.now)
    if not doomed:
        return
    names = ", ".join(
        f"{d.partition.name} ({d.rows if d.rows is not None else '?'} rows)" for d in doomed
    )
    what = (
        f"retention detaches, archives to {options.archive_dir} and then drops"
        f" {len(doomed)} partition(s): {names}"
    )
    if not sys.stdin.isatty():
        raise click.UsageError(
            f"{what}; pass --yes when not at a terminal, or --dry-run to see the plan"
        )
    click.confirm(f"{what}. Go ahead?", abort=True, err=True)


def _run(
    env: CliContext,
    name: str,
    routine: Callable[[Target, m.Options], list[m.Step]],
    confirm_tables: tuple[str, ...] = (),
    yes: bool = False,
    **kw: Any,
) -> None:
    kw.pop("as_json", None)
    options = _options(**kw)
    doc = document()
    target = env.target()
    if confirm_tables and not options.dry_run and not yes:
        _confirm_drops(target, options, confirm_tables)
    steps = routine(target, options)
    doc.items = [s.as_json() for s in steps]
    doc.summary = {"routine": name, "dry_run": options.dry_run, **m.summary(steps)}
    say(f"maintain {name}{' (dry run: nothing changed)' if options.dry_run else ''}")
    for line in m.lines(steps):
        say(line)
    failed = [s for s in steps if s.status == "failed"]
    for s in failed:
        doc.error(s.message, "MaintenanceError")
    finish(doc, "error" if failed else "ok")


@maintain.command(context_settings=CONTEXT)
@_routine_options
@pass_cli_context
def daily(env: CliContext, /, **kw: Any) -> None:
    """Partitions ahead, refresh the views, slow queries, default partitions, idle transactions.

    \b
    Examples:
      netplus-db maintain daily
      netplus-db maintain daily --dry-run --json
    """
    _run(env, "daily", m.daily, **kw)


@maintain.command(context_settings=CONTEXT)
@_routine_options
@yes_option
@pass_cli_context
def weekly(env: CliContext, /, **kw: Any) -> None:
    """ANALYZE; learning sessions older than --sessions-days leave, a whole month at a time.

    Names the partitions it would drop and asks first; without a terminal (cron) it refuses
    unless --yes is given.

    \b
    Examples:
      netplus-db maintain weekly --dry-run
      netplus-db maintain weekly --archive-dir /srv/netplus/archives
      netplus-db maintain weekly --yes --json      from cron
    """
    _run(env, "weekly", m.weekly, m.WEEKLY_RETENTION, **kw)


@maintain.command(context_settings=CONTEXT)
@_routine_options
@yes_option
@pass_cli_context
def monthly(env: CliContext, /, **kw: Any) -> None:
    """VACUUM (ANALYZE); activity logs older than --activity-days leave; unused indexes.

    Names the partitions it would drop and asks first; without a terminal (cron) it refuses
    unless --yes is given.

    \b
    Examples:
      netplus-db maintain monthly --dry-run
      netplus-db maintain monthly --activity-days 180 --yes --json
    """
    _run(env, "monthly", m.monthly, m.MONTHLY_RETENTION, **kw)


@maintain.command(context_settings=CONTEXT)
@_routine_options
@pass_cli_context
def report(env: CliContext, /, **kw: Any) -> None:
    """Read only: what the DBA reads on Monday (changes nothing, --dry-run or not).

    \b
    Examples:
      netplus-db maintain report
      netplus-db maintain report --json > report.json
    """
    _run(env, "report", m.report, **kw)


@maintain.command("archive-verify", context_settings=CONTEXT)
@click.argument("manifest", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@json_option
def archive_verify(manifest: Path, as_json: bool) -> None:
    """Read an archive back and check it against its manifest (rows, sha256); no database.

    \b
    Example:
      cd archives/partitions
      netplus-db maintain archive-verify learning_sessions_p2026_01.manifest.json
    """
    doc = document()
    check = m.verify_archive(manifest)
    doc.summary = {"rows": check.rows, "sha256": check.sha256, "table": check.table}
    say(f"{check.data_file}: {check.rows} row(s) of {check.table}, sha256 as the manifest says")
    finish(doc, "ok")


@maintain.command("archive-load", context_settings=CONTEXT)
@click.argument("manifest", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@json_option
@pass_cli_context
def archive_load(env: CliContext, manifest: Path, as_json: bool) -> None:
    """Load an archived partition back into its table (checked first; one transaction).

    The month's partition is created again when no partition covers it. Retention drops it
    again on its next run if it is still older than the cutoff: load into a database (or keep
    the retention longer) where you mean to read it.

    \b
    Example:
      netplus-db maintain archive-load archives/partitions/user_activity_logs_p2026_01.manifest.json
    """
    doc = document()
    loaded = m.load_archive(env.target(), manifest)
    doc.summary = loaded
    created = (
        f", partition {loaded['created_partition']} created" if loaded["created_partition"] else ""
    )
    same = (
        "the rows of its range match the archive's checksum"
        if loaded["checksum_matches"]
        else ("the range now holds other rows too (checksum differs from the archive's)")
    )
    say(f"loaded {loaded['rows']} row(s) into {loaded['table']}{created}; {same}")
    finish(doc, "ok")
