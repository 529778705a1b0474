"""`python -m bench partitions` as Markdown: the retention comparison and the conversion."""

from __future__ import annotations

from bench.partitions import ConversionRun, PartitionsResult, RetentionComparison
from bench.writer import WriterWindow


def render(result: PartitionsResult) -> str:
    """The result as Markdown (a section a person can paste into docs/benchmarks.md)."""
    m = result.machine
    out = [
        f"## Partitioning and retention ({result.users:,} scale users)",
        "",
        f"`python -m bench partitions` on clones of `{result.source}`, PostgreSQL"
        f" {result.server_version}, {m.get('cpu', '?')}, {m.get('cores', '?')} cores,"
        f" {m.get('memory', '?')}; {result.started_at:%Y-%m-%d %H:%M} UTC,"
        f" {result.seconds / 60:.1f} min. A writer logged one activity entry every 2 ms on its"
        " own connection throughout each step (its longest insert is the longest an"
        " application waited).",
        "",
    ]
    if result.retention is not None:
        out += retention_lines(result.retention)
    if result.conversion is not None:
        out += conversion_lines(result.conversion)
    return "\n".join(out)


def retention_lines(r: RetentionComparison) -> list[str]:
    """The DELETE beside the product's retention, as a table."""
    d, k = r.delete, r.retention
    return [
        f"### Removing the activity logs older than {r.cutoff:%Y-%m-%d %H:%M} UTC (90 days)",
        "",
        f"Activity logs from {r.oldest:%Y-%m-%d} to {r.newest:%Y-%m-%d %H:%M} (rows logged"
        " since the build included), re-partitioned"
        f" into {r.months} monthly partitions for the comparison ({r.setup_seconds:.0f} s); the"
        " plain table is the same rows with the same indexes. now() is the scale data's"
        f' "today", {r.today:%Y-%m-%d} (the scale load\'s fixed anchor date, which every scale'
        " row precedes); the cutoff is 90 days before it.",
        "",
        "| | DELETE ... WHERE created_at < cutoff (plain table) | detach + archive + verify +"
        " drop (monthly partitions) |",
        "|---|---:|---:|",
        f"| rows before | {d.rows_before:,} | {k.rows_before:,} |",
        f"| rows removed | {d.rows_removed:,} | {k.rows_removed:,}"
        f" ({k.partitions_dropped} partitions, {k.detach}) |",
        f"| elapsed | {_s(d.seconds)} (then VACUUM {_s(d.vacuum_seconds)}) | {_s(k.seconds)} |",
        f"| WAL written | {_mib(d.wal_bytes)} (then VACUUM {_mib(d.vacuum_wal_bytes)})"
        f" | {_mib(k.wal_bytes)} |",
        f"| writer during it | {_writer(d.writer)} (VACUUM: {_writer(d.vacuum_writer)})"
        f" | {_writer(k.writer)} |",
        f"| size before | {d.size_before.cell()} | {k.size_before.cell()},"
        f" {k.partitions_before} partitions |",
        f"| size after | {d.size_after_delete.cell()} after the DELETE;"
        f" {d.size_after_vacuum.cell()} after VACUUM | {k.size_after.cell()},"
        f" {k.size_after.tables} partitions; archives {_mib(k.archive_bytes)} |",
        f"| rows conserved | {'yes' if d.conserved else 'NO'} | {'yes' if k.conserved else 'NO'}"
        f" (rows newer than the cutoff: {k.newer_before:,} before, {k.newer_after:,}"
        " after, the writer's included) |",
        "",
    ]


def conversion_lines(c: ConversionRun) -> list[str]:
    """The conversion migration, down then up, as a table."""
    up, down = c.up_writer, c.down_writer
    return [
        f"### The conversion migration ({c.version:04d}) on a populated database",
        "",
        "| step | elapsed | writer during it |",
        "|---|---:|---|",
        f"| `migrate down` to {c.before_version:04d} (plain tables, rows copied back)"
        f" | {_s(c.down_seconds)} | {_writer(down)} |",
        f"| VACUUM (ANALYZE) of the plain tables | {_s(c.vacuum_seconds)} | (not running) |",
        f"| `migrate up` to {c.version:04d} ({_mib(c.up_wal_bytes)} of WAL)"
        f" | {_s(c.up_seconds)} | {_writer(up)}; {up.waits_over_100ms} insert(s) waited over"
        f" 100 ms; the longest began {up.longest_at_s:.1f} s into the migration |",
        "",
        f"Rows and checksums of both history tables identical before, after down and after up:"
        f" {'yes' if c.conserved else 'NO'} (the writer's {c.writer_rows:,} rows all there:"
        f" {'yes' if c.writer_rows == c.writer_committed else 'NO'}).",
        "",
    ]


def _writer(w: WriterWindow) -> str:
    return f"{w.inserts:,} inserts, {w.failures} failed, longest {w.longest_s * 1000:,.0f} ms"


def _s(seconds: float) -> str:
    return f"{seconds:,.2f} s" if seconds < 100 else f"{seconds:,.0f} s"


def _mib(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"
