"""The benchmark suite runs end to end at a tiny scale and writes its report (no timing is
asserted: speed is reported by `netplus-db bench suite`, never checked in tests)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bench import plans, report
from bench.library_reads import READS
from bench.query_classes import CLASSES
from bench.sql import bench_sql
from bench.suite import SuiteConfig, run_suite
from netplus_db.connection import connect, drop_database
from tests.support.server import Server, fresh_name


@pytest.mark.slow  # builds a scale database; the mixed workload spawns processes
def test_the_suite_runs_end_to_end_and_writes_a_report(server: Server, tmp_path: Path) -> None:
    name = fresh_name("suite")
    config = SuiteConfig(
        users=30,
        iterations=6,
        submit_iterations=2,
        warmup=2,
        rounds=2,
        mixed_seconds=2,
        processes=2,
        operation_runs=1,
        bcrypt_runs=1,
        overhead_calls=3,
        overhead_rounds=1,
        dbname=name,
        command="python -m bench suite --users 30",
        skip=frozenset({"scaling"}),  # tests/bench/test_scaling.py runs it on its own
    )
    messages: list[str] = []
    try:
        result = run_suite(server.admin, config, report=messages.append)
        again = run_suite(
            server.admin,
            replace(
                config,
                iterations=3,
                submit_iterations=1,
                warmup=1,
                overhead_calls=2,
                classes=("dashboard",),
                skip=frozenset({"plans", "mixed", "scaling", "extras"}),
            ),
            report=messages.append,
        )
        with connect(result.build.target, autocommit=True) as conn:
            attempts = conn.execute(
                "SELECT count(*) FROM assessment_attempts WHERE status = 'completed'"
                " AND completed_at > now() - interval '1 hour'"
            ).fetchone()
            queued = bench_sql().meta_get(conn)
    finally:
        drop_database(server.database(name))

    assert not result.build.reused and again.build.reused
    assert queued is not None and queued[0] == 30
    assert [r.query_class.key for r in result.classes] == [c.key for c in CLASSES]
    for r in result.classes:
        expected = 2 if r.query_class.heavy else 6
        assert r.api.n == r.raw.n == expected, r.query_class.key
        assert r.pgbench is not None and r.pgbench.summary.n == expected, r.query_class.key
        assert r.pgbench.statements, r.query_class.key
        # the library's overhead: paired turns on one argument, or the submit's same-learner pairs
        assert r.overhead is not None
        assert r.overhead.pairs == (2 if r.query_class.heavy else 50), r.query_class.key
    # submits through the library, raw psycopg and pgbench, each after its warm-up
    assert attempts is not None and attempts[0] >= 3 * (2 + 2)
    # the library reads: each timed through the library and raw, with real rows behind them
    assert [f"{r.read.area}.{r.read.name}" for r in result.reads] == [
        f"{read.area}.{read.name}" for read in READS
    ]
    assert all(r.api.n == r.raw.n == 6 for r in result.reads)
    assert [r.api.n for r in again.reads] == [3] * len(READS)
    assert len(result.overhead_parts) == 6 and "typed rows" in result.overhead_parts[-1].label
    assert result.bcrypt[0][0].startswith("bcrypt.checkpw, cost 12")
    if plans.auto_explain_available(server.admin):
        assert result.plans and all(p.statements for p in result.plans)
    else:  # pgserver's PostgreSQL 16 is built without it: said, not failed
        assert result.plans == [] and any("without auto_explain" in m for m in messages)
    mixed = result.mixed
    assert mixed is not None
    assert mixed.errors == {} and mixed.deadlocks == 0 and mixed.server_deadlocks == 0
    assert mixed.total_transactions > 0
    assert all(i.ok for i in mixed.invariants), [i.violations for i in mixed.invariants]
    labels = [e.label for e in result.operations]
    assert any("migrate up" in label for label in labels)
    assert any(label.startswith("netplus-db seed") for label in labels)
    assert any("refresh_analytics_views" in label for label in labels)
    assert any("pg_restore" in label for label in labels)
    assert [r.query_class.key for r in again.classes] == ["dashboard"]

    out = tmp_path / "docs" / "benchmarks.md"
    out.parent.mkdir()
    out.write_text("old\n<!-- notes:begin -->\nkept by hand\n<!-- notes:end -->\n")
    report.write(result, out)
    text = out.read_text()
    assert "| query class | spec target |" in text
    for r in result.classes:
        assert f"| {r.query_class.title} |" in text
    assert "## Mixed workload" in text and "## Also reported" in text
    assert "## Library reads" in text and "| `achievements.leaderboard` |" in text
    assert ("## Plans" in text) == bool(result.plans)
    assert "overhead ok (" in text or "overhead MISSED (" in text
    assert "kept by hand" in text and "python -m bench suite --users 30" in text
    assert "Machine:" in text and "Scale: 30 synthetic users" in text
