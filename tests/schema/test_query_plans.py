"""The planner can use the intended index of every hot-path statement (no timing).

A small benchmark database (migrated, seeded catalog, 200 synthetic learners: enough that the
planner prefers the user-leading indexes to a skip scan of a covering one) is built;
each query class's library call then runs once with `enable_seqscan = off` and auto_explain
capturing the plan of every statement it executes, function bodies included. Each class must
have used the index meant for it. The plan walker itself is checked on a synthetic plan.
"""

from __future__ import annotations

from collections.abc import Iterator
from random import Random

import pytest

from bench.plans import (
    EXPECTED,
    Node,
    PlanCheck,
    StatementPlan,
    auto_explain_available,
    check_plans,
)
from bench.query_classes import ADMIN_ROLE, Context, load_samples
from bench.scale_database import Build, ensure
from netplus_db.connection import connect, drop_database
from netplus_db.database import Database
from tests.support.server import Server, fresh_name


@pytest.fixture
def bench_db(server: Server) -> Iterator[Build]:
    """A small benchmark database of this test's own, on a server that has auto_explain."""
    if not auto_explain_available(server.admin):
        pytest.skip(f"this server ({server.version}) is built without auto_explain")
    build = ensure(server.admin, users=200, dbname=fresh_name("plans"), report=lambda _: None)
    yield build
    drop_database(build.target)


def test_every_hot_path_statement_can_use_its_intended_index(bench_db: Build) -> None:
    target = bench_db.target
    with connect(target, autocommit=True) as conn:
        samples = load_samples(conn)
    with (
        Database(target, min_size=1, max_size=1) as db,
        Database(target, min_size=1, max_size=1, app_role=ADMIN_ROLE) as admin,
    ):
        ctx = Context(target, samples, db, admin, Random(3))
        checks = check_plans(ctx, force_index=True)
    by_label = {c.label: c for c in checks}
    assert set(by_label) == set(EXPECTED)
    for check in checks:
        assert check.statements, f"{check.label}: no plan was captured"
        assert not check.missing, (
            f"{check.label}: the planner did not use {check.missing};"
            f" it used {sorted(check.indexes)}"
        )
        assert check.ok
    # Function bodies are planned too: the dashboard's summary and the login look-up.
    dashboard = " ".join(s.query_text for s in by_label["dashboard"].statements)
    assert "FROM user_progress" in dashboard and "learning_streaks" in dashboard
    login = " ".join(s.query_text for s in by_label["login"].statements)
    assert "lower(u.email)" in login


def test_a_sequential_scan_on_a_large_table_is_reported() -> None:
    plan = StatementPlan(
        "SELECT * FROM user_progress WHERE status = $1",
        [Node("Seq Scan", "user_progress", None), Node("Index Scan", "users", "users_pkey")],
    )
    small = StatementPlan("SELECT * FROM achievements", [Node("Seq Scan", "achievements", None)])
    check = PlanCheck("x", [plan, small], {"user_progress": 1_000_000}, (("users_pkey",),))
    assert check.seq_scans == [
        "user_progress (1,000,000 rows): SELECT * FROM user_progress WHERE status = $1"
    ]
    assert not check.ok
    assert check.indexes == {"users_pkey"}
    fine = PlanCheck("y", [small], {"user_progress": 1_000_000}, (("users_pkey",),), forced=True)
    assert fine.missing == ["users_pkey"]
    assert not fine.ok
