"""Policy, privilege and search_path mutants of the migrated schema, each run against the
schema/security tests in a database of its own.

For every row-level security policy, its USING and its WITH CHECK are replaced in turn by
`true` (`ALTER POLICY`); for every role that holds privileges on a relation, they are dropped
(`REVOKE ALL`) and widened to all (`GRANT ALL`), and app_user and readonly are granted all on
the relations they may not touch; every EXECUTE a role holds on a function is revoked, and
app_user is granted EXECUTE on every function it may not run; every role's USAGE on schema
public is revoked; every SECURITY DEFINER function loses its pinned search_path
(`ALTER FUNCTION ... RESET search_path`).

Each mutant is applied to a clone of a freshly migrated template; pytest then runs the test
files that guard that kind of mutant with `--netplus-template` naming the clone and `-x` (the
first failure kills it). A mutant whose tests all pass survived. Exit status 1 when any did.

    python -m mutation.sql                      # embedded PostgreSQL 18
    NETPLUS_TEST_DSN=postgresql://postgres@127.0.0.1:5432/postgres python -m mutation.sql
    python -m mutation.sql --only policy --jobs 2 --report docs/mutation-sql.txt
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from netplus_db.config import Target, resolve_target
from netplus_db.connection import connect, create_database, drop_database
from netplus_db.migrate import Migrator
from netplus_db.testing.servers import test_server

REPO = Path(__file__).resolve().parent.parent
ROLES = ("app_user", "readonly", "admin", "content_editor")
LEARNER_ROLES = ("app_user", "readonly")  # granted all where they hold nothing, too
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
# The tests that guard each kind of mutant, the quickest killers first.
TESTS = {
    "policy": [
        "tests/schema/test_rls_and_roles.py",
        "tests/schema/test_least_privilege.py",
        "tests/schema/test_audit_trail.py",
    ],
    "grant": [
        "tests/schema/test_least_privilege.py",
        "tests/schema/test_rls_and_roles.py",
        "tests/schema/test_audit_trail.py",
        "tests/schema/test_functions.py",
        "tests/schema/test_role_duties.py",
    ],
    "search_path": ["tests/schema/test_least_privilege.py"],
}
PREFIX = "mutsql_"
PYTEST = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
NO_TESTS = 5  # pytest's exit status when a selection is empty


@dataclass(frozen=True)
class Mutant:
    """One change to the migrated schema: its kind, a name, and the statement that makes it."""

    kind: str
    name: str
    statement: sql.SQL | sql.Composed
    focus: str  # the table or function it touches: the tests named after it run first


@dataclass(frozen=True)
class Outcome:
    """What the tests did to a mutant."""

    mutant: Mutant
    status: str  # killed | survived | error
    seconds: float
    detail: str


def policy_mutants(conn: psycopg.Connection[Any]) -> Iterator[Mutant]:
    """USING and WITH CHECK of every policy replaced in turn by true (where not true already)."""
    rows = conn.execute(
        "SELECT tablename, policyname, qual, with_check FROM pg_policies"
        " WHERE schemaname = 'public' ORDER BY tablename, policyname"
    ).fetchall()
    for table, policy, using, check in rows:
        for clause, expression in (("USING", using), ("WITH CHECK", check)):
            if expression is None or expression == "true":
                continue  # absent, or true already: no mutant
            yield Mutant(
                "policy",
                f"{policy}: {clause} (true)",
                sql.SQL("ALTER POLICY {} ON {} " + clause + " (true)").format(
                    sql.Identifier(policy), sql.Identifier(table)
                ),
                table,
            )


def grant_mutants(conn: psycopg.Connection[Any]) -> Iterator[Mutant]:
    """Relation privileges dropped and widened, EXECUTE dropped (and widened for app_user),
    USAGE on schema public dropped."""
    relations = [
        name
        for (name,) in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            " AND relkind IN ('r', 'v', 'm') ORDER BY relname"
        ).fetchall()
    ]
    for relation in relations:
        for role in ROLES:
            held = _held(conn, role, relation)
            ident = (sql.Identifier(relation), sql.Identifier(role))
            if held:
                yield Mutant(
                    "grant",
                    f"{role} on {relation}: REVOKE ALL",
                    sql.SQL("REVOKE ALL ON {} FROM {}").format(*ident),
                    relation,
                )
            if len(held) < len(TABLE_PRIVILEGES) and (held or role in LEARNER_ROLES):
                yield Mutant(
                    "grant",
                    f"{role} on {relation}: GRANT ALL",
                    sql.SQL("GRANT ALL ON {} TO {}").format(*ident),
                    relation,
                )
    functions = conn.execute(
        "SELECT p.oid::regprocedure::text, p.oid, p.proname FROM pg_proc p"
        " WHERE p.pronamespace = 'public'::regnamespace AND p.prorettype <> 'trigger'::regtype"
        " ORDER BY 1"
    ).fetchall()
    for signature, oid, function in functions:
        public = _public_executes(conn, oid)
        for role in ROLES:
            may = conn.execute(
                "SELECT has_function_privilege(%s, %s::oid, 'EXECUTE')", [role, oid]
            ).fetchone()
            assert may is not None
            if may[0] and not public:
                yield Mutant(
                    "grant",
                    f"{role} on {signature}: REVOKE EXECUTE",
                    sql.SQL("REVOKE EXECUTE ON FUNCTION " + signature + " FROM {}").format(
                        sql.Identifier(role)
                    ),
                    function,
                )
            if not may[0] and role == "app_user":
                yield Mutant(
                    "grant",
                    f"{role} on {signature}: GRANT EXECUTE",
                    sql.SQL("GRANT EXECUTE ON FUNCTION " + signature + " TO {}").format(
                        sql.Identifier(role)
                    ),
                    function,
                )
    for role in ROLES:
        yield Mutant(
            "grant",
            f"{role} on schema public: REVOKE USAGE",
            sql.SQL("REVOKE USAGE ON SCHEMA public FROM {}").format(sql.Identifier(role)),
            role,
        )


def _held(conn: psycopg.Connection[Any], role: str, relation: str) -> list[str]:
    """The table privileges `role` holds on `relation`, on the table or on any column."""
    found = []
    for privilege in TABLE_PRIVILEGES:
        row = conn.execute(
            "SELECT has_table_privilege(%(r)s, %(t)s, %(p)s)"
            " OR (%(p)s IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')"
            "     AND has_any_column_privilege(%(r)s, %(t)s, %(p)s))",
            {"r": role, "t": f"public.{relation}", "p": privilege},
        ).fetchone()
        if row and row[0]:
            found.append(privilege)
    return found


def _public_executes(conn: psycopg.Connection[Any], oid: int) -> bool:
    row = conn.execute(
        "SELECT p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a"
        " WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') FROM pg_proc p WHERE p.oid = %s",
        [oid],
    ).fetchone()
    return bool(row and row[0])


def search_path_mutants(conn: psycopg.Connection[Any]) -> Iterator[Mutant]:
    """Every SECURITY DEFINER function without its pinned search_path."""
    for signature, function in conn.execute(
        "SELECT p.oid::regprocedure::text, p.proname FROM pg_proc p"
        " WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef ORDER BY 1"
    ).fetchall():
        yield Mutant(
            "search_path",
            f"{signature}: RESET search_path",
            sql.SQL("ALTER FUNCTION " + signature + " RESET search_path"),
            function,
        )


MAKERS = {"policy": policy_mutants, "grant": grant_mutants, "search_path": search_path_mutants}


def run_mutant(admin: Target, template: str, number: int, mutant: Mutant) -> Outcome:
    """Clone the template, apply the mutant, run its tests against the clone; drop it."""
    started = time.perf_counter()
    name = f"{PREFIX}{os.getpid()}_{number}"
    target = admin.with_dbname(name)
    create_database(target, template=template)
    try:
        with connect(target, autocommit=True) as conn:
            conn.execute(mutant.statement)
        env = {
            **os.environ,
            "NETPLUS_TEST_BACKEND": "dsn",
            "NETPLUS_TEST_DSN": admin.conninfo,
            "NETPLUS_TEST_TEMPLATE": name,
        }
        # First the tests named after the object it touches (quick); the whole files only when
        # those pass or select nothing.
        for selection in (["-k", mutant.focus], []):
            done = _pytest([*selection, *TESTS[mutant.kind]], env)
            if done.returncode not in (0, NO_TESTS):
                break
    finally:
        drop_database(target)
    seconds = time.perf_counter() - started
    if done.returncode == 0:
        return Outcome(mutant, "survived", seconds, "")
    if done.returncode == 1:
        failed = [line for line in done.stdout.splitlines() if line.startswith("FAILED ")]
        return Outcome(mutant, "killed", seconds, failed[0][7:] if failed else "")
    return Outcome(mutant, "error", seconds, (done.stdout + done.stderr)[-2000:])


RUNNING: set[subprocess.Popen[str]] = set()  # ended when the harness is stopped
STOPPING = threading.Event()


def _pytest(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run pytest in the checkout (tracked in RUNNING, so a stop can end it)."""
    if STOPPING.is_set():
        raise KeyboardInterrupt("stopping")
    with subprocess.Popen(
        [*PYTEST, *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        RUNNING.add(proc)
        try:
            out, err = proc.communicate(timeout=1800)
        finally:
            RUNNING.discard(proc)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@contextmanager
def server() -> Iterator[Target]:
    """NETPLUS_TEST_DSN's server when set, else an embedded PostgreSQL for this run."""
    dsn = os.environ.get("NETPLUS_TEST_DSN")
    if dsn:
        yield resolve_target(dsn)
        return
    with test_server("embedded") as started:
        yield started.admin


def main(argv: list[str] | None = None) -> int:
    """Make every mutant, run its tests, print the survivors; 1 if any survived or erred."""
    parser = argparse.ArgumentParser(prog="python -m mutation.sql", description=__doc__)
    parser.add_argument("--only", choices=sorted(MAKERS), action="append", help="kinds to run")
    parser.add_argument("--match", default="", help="only the mutants whose name contains this")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--report", type=Path, help="also write the summary to this file")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupted)  # clean up (databases, server) when stopped
    started = time.perf_counter()
    with server() as admin:
        template = f"{PREFIX}{os.getpid()}_template"
        target = admin.with_dbname(template)
        create_database(target)
        try:
            Migrator(target).up()
            with connect(target, autocommit=True) as conn:
                mutants = [
                    m
                    for kind in args.only or sorted(MAKERS)
                    for m in MAKERS[kind](conn)
                    if args.match in m.name
                ]
            print(f"{len(mutants)} mutants", flush=True)
            pool = ThreadPoolExecutor(max_workers=max(1, args.jobs))
            futures = [
                pool.submit(run_mutant, admin, template, n, m) for n, m in enumerate(mutants)
            ]
            outcomes = []
            try:
                for future in futures:
                    outcome = future.result()
                    outcomes.append(outcome)
                    print(
                        f"{outcome.status:8} {outcome.seconds:5.1f}s  {outcome.mutant.kind:11}"
                        f" {outcome.mutant.name}  {outcome.detail[:160]}",
                        flush=True,
                    )
            finally:
                STOPPING.set()
                pool.shutdown(wait=False, cancel_futures=True)
                for proc in list(RUNNING):
                    proc.terminate()
                pool.shutdown(wait=True)
        finally:
            drop_database(target)
    summary = _summary(outcomes, time.perf_counter() - started)
    print(summary)
    if args.report:
        args.report.write_text(summary + "\n", "utf-8")
    return 0 if all(o.status == "killed" for o in outcomes) else 1


def _interrupted(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _summary(outcomes: list[Outcome], seconds: float) -> str:
    lines = ["", "kind         mutants  killed  survived  error"]
    for kind in sorted({o.mutant.kind for o in outcomes}):
        mine = [o for o in outcomes if o.mutant.kind == kind]
        counts = [sum(o.status == s for o in mine) for s in ("killed", "survived", "error")]
        lines.append(f"{kind:12} {len(mine):7} {counts[0]:7} {counts[1]:9} {counts[2]:6}")
    lines.append(f"in {seconds / 60:.1f} min")
    lines += [
        f"SURVIVED {o.mutant.kind}: {o.mutant.name}" for o in outcomes if o.status == "survived"
    ]
    lines += [
        f"ERROR {o.mutant.kind}: {o.mutant.name}\n{o.detail}"
        for o in outcomes
        if o.status == "error"
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
