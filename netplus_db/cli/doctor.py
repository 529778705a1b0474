"""`netplus-db doctor`: is the target reachable, recent enough and sanely migrated?"""

from __future__ import annotations

from pathlib import Path

import click

from netplus_db.cli import output
from netplus_db.cli.context import (
    CONTEXT,
    CliContext,
    announce_embedded,
    pass_cli_context,
)
from netplus_db.config import SOURCE_EMBEDDED
from netplus_db.connection import (
    MIN_SERVER_VERSION,
    catalog_connection,
    database_exists,
    ensure_server_started,
    require_supported_server,
    server_version,
)
from netplus_db.errors import NetplusError, UnsupportedServer
from netplus_db.migrate.migrator import Migrator, State
from netplus_db.ops import embedded

# --- doctor -----------------------------------------------------------------------------------


@click.command(context_settings=CONTEXT)
@output.json_option
@pass_cli_context
def doctor(env: CliContext, as_json: bool) -> None:
    """Check the target: reachable, PostgreSQL 15 or newer, database present, migrations in a
    sane state.

    Exits 0 when all is well, 1 otherwise; every line says what was found. Each connection
    gives up after --connect-timeout seconds (default 10).

    \b
    Examples:
      netplus-db doctor
      netplus-db doctor --json | jq .result
      netplus-db --connect-timeout 3 doctor --dsn postgresql://dba@db.internal/netplus
    """
    doc = output.document()
    target = env.resolved()
    doc.target = target.as_json()
    ok = True

    def check(name: str, passed: bool, detail: str) -> None:
        nonlocal ok
        ok &= passed
        doc.items.append({"check": name, "ok": passed, "detail": detail})
        if not passed:
            doc.error(f"{name}: {detail}", name)
        output.say(f"{name + ':':<11} {detail}")

    output.say(f"target:     {target.describe()}")
    for warning in target.warnings:
        output.say(f"warning:    {warning}")
    if target.source == SOURCE_EMBEDDED:
        announce_embedded(target)
    try:
        target = ensure_server_started(target)
        with catalog_connection(target, maintenance=True) as conn:
            num, text = server_version(conn)
    except NetplusError as exc:
        check("reachable", False, f"no — {exc}")
        output.finish(doc, "error")
        return
    check("reachable", True, "yes")
    try:
        require_supported_server(num, text)
    except UnsupportedServer as exc:
        check("server", False, f"TOO OLD: {exc}")
    else:
        check("server", True, f"PostgreSQL {text} — ok ({MIN_SERVER_VERSION // 10000}+ required)")
    if target.source == SOURCE_EMBEDDED:
        output.say(f"embedded:   data in {embedded.data_dir(target.embedded_home or Path())}")
    if not database_exists(target):
        check(
            "database",
            False,
            f"database {target.dbname} does not exist on this server "
            "(`netplus-db migrate up` creates it; check the name if it should exist)",
        )
        output.finish(doc, "missing_database")
        return
    check("database", True, f"{target.dbname} exists")
    migrator = Migrator(target, env.migrations_dir)
    try:
        statuses = migrator.status()
    except NetplusError as exc:
        check("migrations", False, f"cannot read — {exc}")
        output.finish(doc, "error")
        return
    applied = sum(1 for s in statuses if s.applied)
    pending = [s for s in statuses if s.state is State.PENDING]
    problems = migrator._problems(statuses)
    doc.summary = {"applied": applied, "pending": len(pending), "problems": len(problems)}
    check(
        "migrations",
        not problems,
        f"{applied} applied, {len(pending)} pending ({env.migrations_dir})",
    )
    for problem in problems:
        doc.error(str(problem), type(problem).__name__)
        output.say(f"problem:    {problem}")
    output.finish(doc, "ok" if ok else "error")
