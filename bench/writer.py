"""An application writer: a thread that logs one activity entry every few milliseconds on its
own connection, as a backend would, and keeps when each insert started and how long it waited.

A lock taken by a migration or a maintenance step shows up as an insert that waits; an insert
that fails is kept with its error. `window(start, end)` tells, for any stretch of the run, how
many inserts were made, how many failed and the longest wait (and when it began).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from bench.sql import partitions_sql
from netplus_db.config import Target
from netplus_db.connection import connect

WRITER_ACTIVITY = "bench-writer"


@dataclass(frozen=True)
class WriterWindow:
    """What the writer saw during one stretch of time (seconds on `time.perf_counter`)."""

    inserts: int
    failures: int
    longest_s: float
    longest_at_s: float  # when the longest insert began, from the start of the stretch
    waits_over_100ms: int
    errors: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The figures, for JSON (milliseconds)."""
        return {
            "inserts": self.inserts,
            "failures": self.failures,
            "longest_wait_ms": round(self.longest_s * 1000, 1),
            "longest_wait_at_s": round(self.longest_at_s, 2),
            "waits_over_100ms": self.waits_over_100ms,
            "errors": list(self.errors[:5]),
        }

    def cell(self) -> str:
        """`inserts, failures, longest wait` as a report cell."""
        return (
            f"{self.inserts:,} inserts, {self.failures} failed, longest wait"
            f" {self.longest_s * 1000:,.0f} ms"
        )


class Writer(threading.Thread):
    """Inserts an activity entry into `table` (autocommit, one statement each) every
    `interval_s` until `stop()`; started by `start()`, or as a context manager."""

    def __init__(
        self, target: Target, table: str = "user_activity_logs", interval_s: float = 0.002
    ) -> None:
        super().__init__(daemon=True, name=f"writer:{table}")
        self.target = target
        self.table = table
        self.interval_s = interval_s
        # (began, waited seconds, error or None), one per insert, in order
        self.samples: list[tuple[float, float, str | None]] = []
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    def __enter__(self) -> Writer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start writing; returns once the writer's connection is open."""
        super().start()
        self._ready.wait()
        if self._failure is not None:
            raise self._failure

    def stop(self) -> None:
        """Stop writing and wait for the thread."""
        self._stopping.set()
        self.join()

    def run(self) -> None:
        """The writer's loop (the thread's body)."""
        statement = sql.SQL(partitions_sql().writer_insert_template.sql).format(
            table=sql.Identifier("public", self.table)
        )
        params = {"activity_type": WRITER_ACTIVITY}
        try:
            conn = connect(self.target, autocommit=True)
        except BaseException as exc:  # reported by start()
            self._failure = exc
            self._ready.set()
            return
        with conn:
            self._ready.set()
            while not self._stopping.is_set():
                began = time.perf_counter()
                error: str | None = None
                try:
                    conn.execute(statement, params)
                except psycopg.Error as exc:
                    error = str(exc).strip()
                self.samples.append((began, time.perf_counter() - began, error))
                time.sleep(self.interval_s)

    @property
    def committed(self) -> int:
        """Inserts that succeeded, over the whole run."""
        return sum(1 for _, _, error in self.samples if error is None)

    def window(self, start: float, end: float) -> WriterWindow:
        """The inserts that were under way at any moment between `start` and `end`."""
        seen = [s for s in list(self.samples) if s[0] <= end and s[0] + s[1] >= start]
        longest = max(seen, key=lambda s: s[1], default=(start, 0.0, None))
        errors = tuple(e for _, _, e in seen if e is not None)
        return WriterWindow(
            inserts=sum(1 for s in seen if s[2] is None),
            failures=len(errors),
            longest_s=longest[1],
            longest_at_s=max(0.0, longest[0] - start),
            waits_over_100ms=sum(1 for s in seen if s[1] > 0.1),
            errors=errors,
        )
