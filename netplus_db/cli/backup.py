"""`netplus-db backup ...` and `netplus-db restore ...`: archives, their proof, their return,
and what interrupted restores leave behind.

Every command takes `--json` (one document on stdout, the shape of `netplus_db.cli.output`);
progress and questions go to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from netplus_db.cli.context import CONTEXT, CliContext, pass_cli_context
from netplus_db.cli.output import Document, document, finish, json_option, say
from netplus_db.connection import database_exists
from netplus_db.ops import restore_leftovers
from netplus_db.ops.archive_crypto import KEY_VARIABLE, require_key
from netplus_db.ops.archive_loading import Verified, verify
from netplus_db.ops.archives import (
    FORMATS,
    BackupError,
    Kind,
    backup_dir,
    cleanup,
    list_backups,
)
from netplus_db.ops.backup import MAX_JOBS, DumpOptions
from netplus_db.ops.backup import backup as take_backup
from netplus_db.ops.progress import LiveLine, human_bytes, terminal_line
from netplus_db.ops.restore import describe_sessions
from netplus_db.ops.restore import restore as restore_backup

F = TypeVar("F", bound=Callable[..., Any])


def _report(message: str) -> None:
    click.echo(message, err=True)


def _live() -> LiveLine | None:
    """A live progress line on stderr when it is a terminal; None for a pipe or file."""
    return terminal_line(sys.stderr)


def _dir_option(f: Any) -> Any:
    return click.option(
        "--dir",
        "directory",
        type=click.Path(file_okay=False, path_type=Path),
        help="Where the archives are (default: $BACKUP_DIR, else ./backups).",
    )(f)


def _jobs_option(what: str) -> Callable[[F], F]:
    return click.option(
        "--jobs",
        "-j",
        default=1,
        show_default=True,
        type=click.IntRange(1, MAX_JOBS),
        metavar="N",
        help=what,
    )


def _at_terminal() -> bool:
    return sys.stdin.isatty()


# --- backup -----------------------------------------------------------------------------------


@click.group(context_settings=CONTEXT)
def backup() -> None:
    """Take, list, prove and prune backups (pg_dump archives, with a manifest beside each).

    \b
    Archives are named <database>-<kind>-<UTC>.dump (custom format, mode 0600) or .dir
    (directory format, dumped by --jobs N in parallel); <archive>.manifest.json holds its
    sha256, size, format, compression, encryption (never the key), server and pg_dump
    versions, migration version, row counts and sizes per table, and when it was last
    verified. Data backups need a superuser or a BYPASSRLS role (row-level security is
    forced on the user-owned tables). An archive's age is the time in its name.

    \b
    Encryption at rest (--encrypt): AES-256-GCM with the key in NETPLUS_BACKUP_KEY,
    32 random bytes in base64. Make one, and keep it apart from the backups:
      export NETPLUS_BACKUP_KEY="$(openssl rand -base64 32)"
    verify and restore decrypt with the same variable.

    \b
    Examples:
      netplus-db backup full                     into $BACKUP_DIR (default ./backups)
      netplus-db backup full --format directory --jobs 4 --compress gzip:6
      netplus-db backup full --encrypt           needs NETPLUS_BACKUP_KEY
      netplus-db backup list --json
      netplus-db backup verify backups/network_plus_learning-full-20261122T031500Z.dump
      netplus-db backup cleanup --keep-days 14 --keep-last 3 --dry-run
      netplus-db restore backups/network_plus_learning-full-20261122T031500Z.dump
    """


def _take_options(f: Any) -> Any:
    for decorator in reversed(
        [
            _dir_option,
            click.option(
                "--format",
                "fmt",
                type=click.Choice(FORMATS),
                default="custom",
                show_default=True,
                help="custom: one file; directory: one file per table, needed for --jobs.",
            ),
            _jobs_option("Parallel pg_dump jobs (with --format directory)."),
            click.option(
                "--compress",
                metavar="METHOD[:LEVEL]",
                help="As pg_dump takes it: gzip:6, zstd:3, lz4, none, or a gzip level 0-9 "
                "(default: pg_dump's, gzip). Refused when this pg_dump lacks the method.",
            ),
            click.option(
                "--encrypt",
                is_flag=True,
                help=f"Encrypt the archive (AES-256-GCM) with the key in {KEY_VARIABLE}.",
            ),
            json_option,
        ]
    ):
        f = decorator(f)
    return f


def _take(
    env: CliContext,
    kind: Kind,
    directory: Path | None,
    fmt: str,
    jobs: int,
    compress: str | None,
    encrypt: bool,
) -> None:
    doc = document()
    key = require_key("--encrypt") if encrypt else None
    options = DumpOptions(format=fmt, jobs=jobs, compress=compress, key=key)  # type: ignore[arg-type]
    options.check()
    target = env.target()
    taken = take_backup(
        target, kind, backup_dir(directory), options=options, report=_report, live=_live()
    )
    doc.summary = {"file": str(taken.path), "kind": kind, "size": taken.manifest.size}
    doc.items.append({"file": str(taken.path), **_manifest_json(taken.manifest)})
    say(str(taken.path))
    finish(doc, "ok")


def _manifest_json(manifest: Any) -> dict[str, Any]:
    return {
        "kind": manifest.kind,
        "database": manifest.database,
        "format": manifest.format,
        "compression": manifest.compression,
        "encrypted": manifest.encrypted,
        "sha256": manifest.sha256,
        "size": manifest.size,
        "migration_version": manifest.migration_version,
        "row_counts": manifest.row_counts,
        "created_at": manifest.created_at,
        "verified_at": manifest.verified_at,
    }


@backup.command(name="full", context_settings=CONTEXT)
@_take_options
@pass_cli_context
def backup_full(env: CliContext, /, **options: Any) -> None:
    """Schema and data of the whole database (the migration ledger included).

    Prints the archive's path on stdout; progress (rate and ETA when it runs more than a
    few seconds) goes to stderr.

    \b
    Examples:
      netplus-db backup full
      netplus-db backup full --dir /srv/backups --format directory --jobs 4
      NETPLUS_BACKUP_KEY=... netplus-db backup full --encrypt --compress gzip:9
    """
    _take(env, "full", **_take_args(options))


@backup.command(name="schema", context_settings=CONTEXT)
@_take_options
@pass_cli_context
def backup_schema(env: CliContext, /, **options: Any) -> None:
    """Schema only, with the migration ledger's version (and its rows).

    \b
    Example:
      netplus-db backup schema --dir /srv/backups
    """
    _take(env, "schema", **_take_args(options))


@backup.command(name="data", context_settings=CONTEXT)
@_take_options
@pass_cli_context
def backup_data(env: CliContext, /, **options: Any) -> None:
    """Data only, without the migration ledger.

    A restore rebuilds the schema by migrating to the manifest's migration version, then
    loads the rows.

    \b
    Example:
      netplus-db backup data --compress gzip:9
    """
    _take(env, "data", **_take_args(options))


def _take_args(options: dict[str, Any]) -> dict[str, Any]:
    names = ("directory", "fmt", "jobs", "compress", "encrypt")
    return {name: options[name] for name in names}


@backup.command(name="list", context_settings=CONTEXT)
@_dir_option
@json_option
def backup_list(directory: Path | None, as_json: bool) -> None:
    """List the archives in the backup directory, oldest first.

    Shows database, kind, age (from the time in the name), size, format, whether it is
    encrypted, and when `backup verify` last proved it.

    \b
    Examples:
      netplus-db backup list
      netplus-db backup list --dir /srv/backups --json
    """
    doc = document()
    where = backup_dir(directory)
    now = datetime.now(UTC)
    found = list_backups(where)
    doc.items = [info.as_json(now) for info in found]
    doc.summary = {"directory": str(where), "archives": len(found)}
    for info in found:
        verified = f"verified {info.verified_at}" if info.verified_at else "never verified"
        sealed = {True: "encrypted", False: "clear", None: "?"}[info.encrypted]
        note = f" (manifest: {info.manifest_problem})" if info.manifest_problem else ""
        note = note or ("" if info.manifest else " (no manifest)")
        say(
            f"{info.path.name}  {info.database} {info.kind} {info.format} "
            f"{info.age_days(now):.1f}d {human_bytes(info.size)} {sealed} {verified}{note}"
        )
    _report(f"{len(found)} archive(s) in {where}")
    finish(doc, "ok")


@backup.command(name="cleanup", context_settings=CONTEXT)
@_dir_option
@click.option(
    "--keep-days",
    default=7.0,
    show_default=True,
    type=click.FloatRange(min=0),
    metavar="N",
    help="Delete archives older than N days (by the time in their name).",
)
@click.option(
    "--keep-last",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    metavar="N",
    help="Always keep the newest N archives of each database and kind, however old.",
)
@click.option("--dry-run", is_flag=True, help="Say what would be deleted; delete nothing.")
@json_option
def backup_cleanup(
    directory: Path | None, keep_days: float, keep_last: int, dry_run: bool, as_json: bool
) -> None:
    """Delete archives (and their manifests) older than N days, keeping the newest ones.

    Age is the UTC time in the archive's name, not the file's modification time: a copied
    old archive is still old. The newest --keep-last archives of each database and kind are
    kept however old. Only files named like netplus-db archives are considered, plus
    `.partial` files an interrupted backup left behind.

    \b
    Examples:
      netplus-db backup cleanup --keep-days 14 --dry-run
      netplus-db backup cleanup --keep-days 30 --keep-last 5 --json
    """
    doc = document()
    where = backup_dir(directory)
    items = cleanup(where, keep_days, keep_last=keep_last, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    for item in items:
        say(f"{verb if item.deleted else 'kept'} {item.path.name} ({item.reason})")
    gone = sum(1 for item in items if item.deleted)
    doc.items = [item.as_json() for item in items]
    doc.summary = {
        "directory": str(where),
        "dry_run": dry_run,
        "deleted": gone,
        "kept": len(items) - gone,
    }
    _report(f"{verb} {gone}, kept {len(items) - gone} in {where}")
    finish(doc, "ok")


@backup.command(name="verify", context_settings=CONTEXT)
@click.argument("file", type=click.Path(path_type=Path))
@_jobs_option("Parallel pg_restore jobs (not for encrypted archives or SQL dumps).")
@json_option
@pass_cli_context
def backup_verify(env: CliContext, file: Path, jobs: int, as_json: bool) -> None:
    """Prove FILE restores: checksum against its manifest, decryption, a real restore into a
    scratch database <db>__verify_<UTC> (always dropped), then row counts per table.

    Exits 0 only when everything matches, and records the time in the manifest (see
    `backup list`). A truncated archive can pass `pg_restore --list`; only a real restore
    proves it. A file without a manifest (a plain `pg_dump -Fc` archive) is restored and its
    row counts reported, with nothing to compare them against.

    \b
    Examples:
      netplus-db backup verify backups/network_plus_learning-full-20261122T031500Z.dump
      netplus-db backup verify backups/network_plus_learning-full-20261122T031500Z.dir -j 4
      netplus-db backup verify /tmp/plain.dump --json
    """
    doc = document()
    done = verify(
        env.target(),
        file,
        migrations_dir=env.migrations_dir,
        jobs=jobs,
        report=_report,
        live=_live(),
    )
    doc.summary = _verified_json(done)
    doc.items = [{"table": t, "rows": n} for t, n in sorted(done.row_counts.items())]
    say(f"ok: {file} restores; {_checked(done)}")
    finish(doc, "ok")


def _verified_json(done: Verified) -> dict[str, Any]:
    return {
        "file": str(done.path),
        "kind": done.kind,
        "compared_with_manifest": done.compared,
        "tables": len(done.row_counts),
        "rows": sum(done.row_counts.values()),
        "verified_at": done.manifest.verified_at if done.manifest else None,
    }


def _checked(done: Verified) -> str:
    rows = sum(done.row_counts.values())
    if not done.compared:
        return (
            f"no manifest, so nothing to compare against: {len(done.row_counts)} tables, "
            f"{rows} rows restored"
        )
    assert done.manifest is not None
    if done.manifest.row_counts is None:
        return f"schema at migration version {done.manifest.migration_version}"
    return f"row counts of {len(done.row_counts)} tables ({rows} rows) match its manifest"


# --- restore ----------------------------------------------------------------------------------


class _RestoreGroup(click.Group):
    """`restore FILE ...` runs the restore; `restore list` and `restore cleanup` the rest."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Route anything that is not `list`, `cleanup` or help to the hidden `file` command."""
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["file", *args]
        return super().parse_args(ctx, args)


@click.group(
    cls=_RestoreGroup,
    context_settings=CONTEXT,
    subcommand_metavar="FILE [OPTIONS] | list | cleanup",
)
def restore() -> None:
    """Restore a backup FILE, safely; list and remove what restores leave behind.

    \b
    `restore FILE` loads FILE into a fresh scratch database <db>__restore_<UTC>, validates
    it, shows the sessions connected to the target and asks, then swaps it in by renaming,
    in one transaction: the target never refuses connections, and a restore killed at any
    step leaves it with either the old or the new data. The replaced database is kept as
    <db>__old_<UTC> unless --drop-old.

    \b
    FILE is a `netplus-db backup` archive (custom or directory format, encrypted or not) or
    a plain SQL dump, gzipped or not (`pg_dump db | gzip > backup.sql.gz`).

    \b
    Options of `restore FILE` (all of them: netplus-db restore FILE --help):
      --target DB   replace DB instead of the target's database
      --yes         do not ask (needed without a terminal; the sessions ended are still shown)
      --drop-old    drop the replaced database instead of keeping it
      --jobs N      parallel pg_restore (custom or directory archives, not encrypted ones)
      --backup      take and verify a full backup of the live database first (into --dir)
      --json        one JSON document on stdout

    \b
    Examples:
      netplus-db restore backups/network_plus_learning-full-20261122T031500Z.dump
      netplus-db restore backups/network_plus_learning-full-20261122T031500Z.dir --jobs 4
      netplus-db restore /path/to/backup.sql.gz --target network_plus_learning --yes
      netplus-db restore backups/x.dump --backup --yes --json    back up the live one first
      netplus-db restore list                    scratch and replaced databases
      netplus-db restore cleanup --older-than 7d --dry-run
    """


@restore.command(name="file", hidden=True, context_settings=CONTEXT)
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--target", "target_db", metavar="DB", help="Database to replace (default: the target's)."
)
@click.option(
    "--yes",
    is_flag=True,
    help="Do not ask before replacing an existing database (its sessions are still listed).",
)
@click.option("--drop-old", is_flag=True, help="Drop the replaced database instead of keeping it.")
@click.option("--no-owner", is_flag=True, help="Make the restoring role own every object.")
@_jobs_option("Parallel pg_restore jobs (custom or directory archives, not encrypted ones).")
@click.option(
    "--backup",
    "backup_first",
    is_flag=True,
    help="First take a full backup of the live target (into --dir) and verify it.",
)
@_dir_option
@json_option
@pass_cli_context
def restore_file(
    env: CliContext,
    file: Path,
    target_db: str | None,
    yes: bool,
    drop_old: bool,
    no_owner: bool,
    jobs: int,
    backup_first: bool,
    directory: Path | None,
    as_json: bool,
) -> None:
    """Restore FILE into a fresh scratch database, validate it, then swap it in by rename.

    \b
    Examples:
      netplus-db restore backups/network_plus_learning-full-20261122T031500Z.dump
      netplus-db restore /path/to/backup.sql.gz --target network_plus_learning --yes
    """
    doc = document()
    target = env.target()
    if target_db:
        target = target.with_dbname(target_db)
        doc.target = {**(doc.target or {}), "database": target_db}
    if not yes and not _at_terminal() and database_exists(target):
        raise click.UsageError(
            f"restore replaces database {target.dbname} and ends its sessions; pass --yes "
            "when not at a terminal"
        )

    def ask(question: str) -> bool:
        _report(question)
        return yes or click.confirm("Go ahead?", abort=True, err=True)

    done = restore_backup(
        target,
        file,
        drop_old=drop_old,
        no_owner=no_owner,
        confirm=ask,
        migrations_dir=env.migrations_dir,
        jobs=jobs,
        backup_first=backup_dir(directory) if backup_first else None,
        report=_report,
        live=_live(),
    )
    doc.summary = {
        "file": str(file),
        "database": done.database,
        "kind": done.kind,
        "previous": done.previous,
        "dropped_previous": done.dropped_previous,
        "sessions_ended": done.sessions_ended,
        "backup_first": str(done.safety_backup.path) if done.safety_backup else None,
    }
    doc.items = [group.as_json() for group in done.sessions]
    kept = "dropped" if done.dropped_previous else "kept"
    previous = f"; previous database {kept}: {done.previous}" if done.previous else ""
    ended = f"; ended {describe_sessions(done.sessions)}" if done.sessions else ""
    say(f"restored {file} into {done.database}{previous}{ended}")
    finish(doc, "ok")


_target_db_option = click.option(
    "--target",
    "target_db",
    metavar="DB",
    help="Only those of database DB (default: every database on the server).",
)


@restore.command(name="list", context_settings=CONTEXT)
@_target_db_option
@json_option
@pass_cli_context
def restore_list(env: CliContext, target_db: str | None, as_json: bool) -> None:
    """List the scratch and replaced databases restores and verifies left on the server.

    \b
    <db>__restore_<UTC>, <db>__verify_<UTC>: scratch databases. "running" while their
      restore runs; "abandoned" when it was killed: they hold a full copy of the data.
    <db>__old_<UTC>: a database a restore replaced, kept for rollback.
    Age comes from the time in the name.

    \b
    Examples:
      netplus-db restore list
      netplus-db restore list --target network_plus_learning --json
    """
    doc = document()
    server = env.target()
    now = datetime.now(UTC)
    found = restore_leftovers.list_leftovers(server, target_db)
    doc.items = [item.as_json(now) for item in found]
    doc.summary = {
        "databases": len(found),
        "abandoned": sum(1 for item in found if item.state == "abandoned"),
        "bytes": sum(item.bytes for item in found),
    }
    for item in found:
        days = item.age(now).total_seconds() / 86400
        source = f" from {item.source}" if item.source else ""
        say(
            f"{item.name}  {item.role} of {item.target}, {item.state}, {days:.1f}d, "
            f"{human_bytes(item.bytes)}, {item.sessions} session(s){source}"
        )
    _report(f"{len(found)} scratch or replaced database(s)")
    finish(doc, "ok")


@restore.command(name="cleanup", context_settings=CONTEXT)
@click.option(
    "--older-than",
    default="7d",
    show_default=True,
    metavar="AGE",
    help="Drop replaced (__old_) databases older than AGE (7d, 12h, 30m).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be dropped; drop nothing.")
@click.option("--yes", is_flag=True, help="Do not ask before dropping.")
@_target_db_option
@json_option
@pass_cli_context
def restore_cleanup(
    env: CliContext,
    older_than: str,
    dry_run: bool,
    yes: bool,
    target_db: str | None,
    as_json: bool,
) -> None:
    """Drop what interrupted restores left, and replaced databases older than AGE.

    Abandoned scratch databases (<db>__restore_/__verify_<UTC> whose restore is gone) are
    always dropped: they hold a copy of the data and serve nothing. Replaced databases
    (<db>__old_<UTC>) go when older than --older-than. Scratch databases of a running
    restore are never touched. Asks first (refuses without a terminal unless --yes).

    \b
    Examples:
      netplus-db restore cleanup --dry-run
      netplus-db restore cleanup --older-than 30d --yes --json
    """
    doc = document()
    try:
        age = restore_leftovers.parse_age(older_than)
    except BackupError as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from None
    server = env.target()
    now = datetime.now(UTC)
    found = restore_leftovers.list_leftovers(server, target_db)
    plan = restore_leftovers.plan_cleanup(found, age, now)
    doomed = [d for d in plan if d.drop]
    verb = "would drop" if dry_run else "drop"
    for decision in plan:
        say(f"{verb if decision.drop else 'keep'} {decision.leftover.name} ({decision.reason})")
    if doomed and not dry_run and not yes:
        if not _at_terminal():
            raise click.UsageError(
                f"restore cleanup drops {len(doomed)} database(s); pass --yes when not at a "
                "terminal, or --dry-run to see them"
            )
        click.confirm(f"Drop {len(doomed)} database(s)?", abort=True, err=True)
    dropped = [] if dry_run else restore_leftovers.cleanup(server, plan)
    _cleanup_document(doc, plan, dropped, dry_run, now)
    _report(
        f"{'would drop' if dry_run else 'dropped'} "
        f"{len(doomed) if dry_run else len(dropped)}, kept {len(plan) - len(doomed)}"
    )
    finish(doc, "ok")


def _cleanup_document(
    doc: Document,
    plan: list[restore_leftovers.CleanupDecision],
    dropped: list[str],
    dry_run: bool,
    now: datetime,
) -> None:
    doc.items = [{**d.as_json(now), "dropped": d.leftover.name in dropped} for d in plan]
    doc.summary = {
        "dry_run": dry_run,
        "dropped": len(dropped),
        "would_drop": sum(1 for d in plan if d.drop) if dry_run else 0,
        "kept": sum(1 for d in plan if not d.drop),
    }
