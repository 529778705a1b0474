"""The benchmark's scaling part at a tiny size: the mixed workload direct, through PgBouncer
and with a replica, the failover and the cache comparison all report figures, with no error
and no stale read (figures only: speed is never asserted in tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import report, scale_database
from bench.scaling import render, run_scaling
from netplus_db.connection import drop_database
from tests.support.components import missing
from tests.support.server import Server, fresh_name

CALLS = 10


@pytest.mark.slow  # builds a scale database, spawns client processes, starts servers
def test_the_scaling_part_reports_every_figure(server: Server, tmp_path: Path) -> None:
    name = fresh_name("scaling")
    try:
        build = scale_database.ensure(server.admin, users=30, dbname=name, report=lambda m: None)
        result = run_scaling(build.target, processes=2, seconds=2, calls=CALLS, report=print)
    finally:
        drop_database(server.database(name))
    for mode in result.modes:
        if mode.result is None:
            missing("pgbouncer" if mode.name == "PgBouncer" else "replica", mode.skipped)
    assert [m.name for m in result.modes] == ["direct", "PgBouncer", "replica"]
    for mode in result.modes:
        r = mode.result
        assert r is not None
        assert r.errors == {} and r.stale_reads == 0 and r.deadlocks == 0, mode.name
        assert all(i.ok for i in r.invariants), mode.name
        assert r.throughput > 0 and r.transactions["progress.read_back"].n > 0, mode.name
        assert sum(r.reads.values()) > 0, mode.name
    replica_reads = result.modes[2].result.reads if result.modes[2].result else {}
    assert any(server != "primary" for server in replica_reads), "reads reached the replica"
    if result.failover is None:
        missing("replica", result.failover_skipped)
    assert result.failover.seconds >= result.failover.promote_seconds > 0
    assert [c.on.n for c in result.cache] == [CALLS] * 3
    assert [c.off.n for c in result.cache] == [CALLS] * 3
    assert result.cache[0].hit_rate > 0  # pages repeat among a few domains

    section = render(result)
    out = tmp_path / "benchmarks.md"
    out.write_text("# Report\n\n## Mixed workload\n\nkept\n\n## Notes\n\nby hand\n")
    report.splice_scaling(section, out)
    report.splice_scaling(section, out)  # replaced, not added twice
    text = out.read_text()
    assert text.count("## Past one server") == 1 and "kept" in text and "by hand" in text
    assert "| direct |" in text and "| PgBouncer |" in text and "| replica |" in text
    assert "### Failover" in text and "### The cache" in text
