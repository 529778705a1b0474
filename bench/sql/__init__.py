"""The benchmark suite's own SQL: `bench.sql` (samples, metadata, invariants, statistics) and
`partitions.sql` (the partitioning and retention benchmarks)."""

from __future__ import annotations

from pathlib import Path

from netplus_db.sql import SqlArea, sql_folder


def bench_sql() -> SqlArea:
    """The queries of `bench.sql`, by name: `bench_sql().meta_get(conn)`."""
    return sql_folder(Path(__file__).parent).bench


def partitions_sql() -> SqlArea:
    """The queries of `partitions.sql` (the partitioning and retention benchmarks)."""
    return sql_folder(Path(__file__).parent).partitions
