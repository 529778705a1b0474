"""Progress lines of long backups and restores: quiet at first, then rate and ETA; a terminal
gets a live line, a pipe a line per 10 %. A fake clock drives the time."""

from __future__ import annotations

from netplus_db.ops.pg_programs import table_in_line
from netplus_db.ops.progress import Meter, TableProgress, human_bytes, human_duration


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_pipe_gets_a_line_per_ten_percent_with_rate_and_eta() -> None:
    clock = Clock()
    lines: list[str] = []
    meter = Meter("pg_restore", 1_000_000_000, lines.append, clock=clock)
    clock.now += 1
    meter.update(150_000_000)  # within the quiet first seconds: nothing
    assert lines == []
    clock.now += 4  # 5 s in
    meter.update(250_000_000)
    assert lines == ["pg_restore: 25% (250 MB of 1.0 GB, 50.0 MB/s, ETA 0:15)"]
    meter.update(260_000_000)  # same tenth: no new line
    clock.now += 5
    meter.update(1_000_000_000)
    assert len(lines) == 2 and lines[1].startswith("pg_restore: 100% ") and "ETA 0:00" in lines[1]


def test_a_terminal_gets_a_live_line_and_its_end() -> None:
    clock = Clock()
    lines: list[str] = []
    live: list[str | None] = []
    meter = Meter("pg_dump", 100, lines.append, live.append, clock=clock)
    clock.now += 4
    meter.update(40)
    meter.update(41)  # refreshed at most twice a second
    clock.now += 1
    meter.update(50)
    meter.finish()
    assert lines == [] and live[:2] == [
        "pg_dump: 40% (40 B of 100 B, 10 B/s, ETA 0:06)",
        "pg_dump: 50% (50 B of 100 B, 10 B/s, ETA 0:05)",
    ]
    assert live[-1] is None


def test_a_quick_operation_shows_nothing() -> None:
    clock = Clock()
    lines: list[str] = []
    live: list[str | None] = []
    meter = Meter("pg_dump", 100, lines.append, live.append, clock=clock)
    meter.update(100)
    meter.finish()
    assert lines == [] and live == []


def test_tables_weigh_progress_by_their_size() -> None:
    clock = Clock()
    lines: list[str] = []
    meter = Meter("pg_restore", 1000, lines.append, clock=clock)
    tables = TableProgress(meter, {"public.big": 900.0, "public.small": 100.0}, 0.0)
    clock.now += 10
    tables.table_started("public.big")
    assert meter.done == 0
    tables.table_started("public.small")
    assert meter.done == 900 and lines[-1].startswith("pg_restore: 90%")
    tables.finished()
    assert meter.done == 1000


def test_verbose_lines_name_the_tables_of_dump_and_restore() -> None:
    assert table_in_line('pg_dump: dumping contents of table "public.users"') == "public.users"
    assert table_in_line('pg_restore: processing data for table "s.c"') == "s.c"
    assert table_in_line("pg_restore: creating TABLE public.users") is None


def test_human_units() -> None:
    assert [human_bytes(n) for n in (12, 1500, 2_500_000, 3.2e9)] == [
        "12 B",
        "1.5 kB",
        "2.5 MB",
        "3.2 GB",
    ]
    assert [human_duration(s) for s in (5, 750, 3723)] == ["0:05", "12:30", "1:02:03"]
