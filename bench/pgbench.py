"""pgbench `-M prepared` running the library's own SQL: the server's floor, with no Python.

`command` turns a named query (`querylayer.query(area, name)`) into a pgbench SQL command: its
`%(name)s` placeholders become pgbench variables `:name` (or another variable, or a literal
NULL: pgbench cannot bind a NULL parameter, and a NULL literal is what a custom plan sees
anyway). Each transaction first draws its ids from the `netplus_bench` sample tables (one
indexed lookup, reported apart), then runs the class's statements as the library does.

Latencies come from pgbench's per-transaction log (`-l`: the end time of every transaction of
the one client), percentiles from the sorted samples like the Python runners'; per-statement
means from `-r`.
"""

from __future__ import annotations

import itertools
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.stats import Summary, summarize
from netplus_db.config import Target
from netplus_db.errors import NetplusError
from netplus_db.ops.client_tools import find_tool
from netplus_db.querylayer import SqlQuery

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_LOG_LINE = re.compile(r"^\d+ (\d+) \d+ \d+ (\d+) (\d+)")
_STATEMENT = re.compile(r"^\s+(\d+\.\d+)\s+(?:\d+\s+)?(\S.*)$")


class PgbenchError(NetplusError):
    """pgbench failed (its message says where)."""


@dataclass(frozen=True)
class Script:
    """One pgbench script file and its weight among the class's scripts."""

    name: str
    text: str
    weight: int = 1


@dataclass(frozen=True)
class PgbenchResult:
    """Latencies of the measured transactions, per-statement means, and what was run."""

    summary: Summary
    statements: list[tuple[float, str]]  # mean ms per command (all scripts), from -r
    lookup_ms: float  # mean ms of the sampled-id lookups (netplus_bench.*), inside the latency
    command_line: str
    scripts: dict[str, str]


def command(
    q: SqlQuery, values: Mapping[str, str] | None = None, *, gset: str | None = None
) -> str:
    """The query as a pgbench command: `:param` for each placeholder unless `values` maps the
    parameter to another pgbench value (`:var`, `NULL`); ends with `;` or `\\gset [prefix]`."""
    values = dict(values or {})
    unknown = set(values) - q.parameter_set
    if unknown:
        raise ValueError(f"{q.area}.{q.name} has no parameter(s) {', '.join(sorted(unknown))}")
    text = q.raw_sql.strip().rstrip(";").rstrip()
    text = _PLACEHOLDER.sub(lambda m: values.get(m[1], ":" + m[1]), text)
    if gset is None:
        return text + ";"
    return text + (f" \\gset {gset}" if gset else " \\gset")


def run(
    target: Target,
    scripts: Sequence[Script],
    *,
    transactions: int,
    warmup: int,
    defines: Mapping[str, str],
    workdir: Path,
    server_major: int,
) -> PgbenchResult:
    """Run pgbench (one client, `-M prepared`) for `warmup + transactions` transactions and
    summarise the last `transactions` of them."""
    tool = find_tool("pgbench", server_major)
    workdir.mkdir(parents=True, exist_ok=True)
    for old in workdir.glob("txn.*"):
        old.unlink()
    args = [
        str(tool.path),
        "--no-vacuum",
        "--protocol=prepared",
        "--client=1",
        "--jobs=1",
        f"--transactions={warmup + transactions}",
        "--report-per-command",
        "--log",
        f"--log-prefix={workdir / 'txn'}",
    ]
    texts: dict[str, str] = {}
    for script in scripts:
        path = workdir / f"{script.name}.sql"
        path.write_text(script.text + "\n", "utf-8")
        texts[script.name] = script.text
        args.append(f"--file={path}@{script.weight}")
    for key, value in defines.items():
        args.append(f"--define={key}={value}")
    result = subprocess.run(
        args, env=target.libpq_env(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        detail = target.redact((result.stderr or result.stdout).strip())[-3000:]
        raise PgbenchError(f"pgbench failed (exit {result.returncode}): {detail}")
    samples = _log_latencies(workdir, warmup)
    statements = _statement_means(result.stdout)
    lookups = [ms for ms, text in statements if "netplus_bench." in text]
    shown = " ".join(a if " " not in a else repr(a) for a in args[1:])
    return PgbenchResult(
        summarize(samples),
        statements,
        sum(lookups) / len(scripts) if lookups else 0.0,
        f"pgbench {shown}",
        texts,
    )


def _log_latencies(workdir: Path, warmup: int) -> list[int]:
    """Transaction latencies in nanoseconds, in transaction order, warm-up dropped.

    One client runs its transactions back to back, so a transaction's latency is the time
    from the end of the one before to its own end (the log's epoch seconds and microseconds).
    pgbench's own `time` field is not used: pgbench refreshes its clock only when it waits,
    and on a machine whose CPUs never idle it logs 0 for transactions that took tens of
    microseconds.
    """
    ends: list[tuple[int, int]] = []
    for log in sorted(workdir.glob("txn.*")):
        for line in log.read_text().splitlines():
            found = _LOG_LINE.match(line)
            if found:
                ends.append((int(found[1]), int(found[2]) * 1_000_000 + int(found[3])))
    ends.sort()
    latencies = [(b[1] - a[1]) * 1000 for a, b in itertools.pairwise(ends)]
    return latencies[max(0, warmup - 1) :]


def _statement_means(stdout: str) -> list[tuple[float, str]]:
    """(mean ms, command) of every command, from pgbench's per-command report."""
    out: list[tuple[float, str]] = []
    inside = False
    for line in stdout.splitlines():
        if "statement latencies" in line:
            inside = True
            continue
        if inside:
            found = _STATEMENT.match(line)
            if found:
                out.append((float(found[1]), found[2].strip()))
            else:
                inside = False
    return out
