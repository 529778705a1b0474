"""Progress of long operations with rate and ETA: a live line on a terminal, a line per 10 % else.

Nothing is shown during the first seconds, so quick operations stay quiet. The amount done is
whatever the caller counts (bytes of the tables dumped or restored so far, users loaded...);
`amount` formats it (bytes by default, `counted("users")` for a count).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from netplus_db.types import Progress

QUIET_FOR = 3.0  # seconds before the first progress output
LIVE_EVERY = 0.5  # seconds between live-line refreshes

# Rewrites the terminal's current line with the text; None ends the line.
LiveLine = Callable[[str | None], None]


def human_bytes(count: float) -> str:
    """`1.5 GB`, `320 MB`, `12 kB`: decimal units, three significant digits at most."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(count) < 1000 or unit == "TB":
            return f"{count:.0f} {unit}" if unit == "B" or count >= 100 else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def counted(noun: str) -> Callable[[float], str]:
    """A formatter of counts for `Meter(amount=...)`: `counted("users")(1234)` is `1,234 users`."""

    def show(count: float) -> str:
        return f"{count:,.0f} {noun}"

    return show


def terminal_line(stream: TextIO | None = None) -> LiveLine | None:
    """A live line on `stream` (default stderr) when it is a terminal; None for a pipe or file,
    where a Meter then reports a line per 10 %."""
    out = stream if stream is not None else sys.stderr
    if not getattr(out, "isatty", lambda: False)():
        return None

    def show(text: str | None) -> None:
        out.write("\n" if text is None else f"\r\x1b[K{text}")
        out.flush()

    return show


def human_duration(seconds: float) -> str:
    """`0:05`, `12:30`, `1:02:03`."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


class Meter:
    """Tracks `done` out of `total` for one operation and reports it with rate and ETA."""

    def __init__(
        self,
        label: str,
        total: float,
        report: Progress,
        live: LiveLine | None = None,
        *,
        amount: Callable[[float], str] = human_bytes,
        quiet_for: float = QUIET_FOR,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self._amount = amount
        self.total = max(total, 0.0)
        self.done = 0.0
        self._report = report
        self._live = live
        self._quiet_for = quiet_for
        self._clock = clock
        self._started = clock()
        self._last_live = 0.0
        self._live_shown = False
        self._next_tenth = 1

    def line(self) -> str:
        """`pg_restore: 45% (120 MB of 266 MB, 32 MB/s, ETA 0:05)`."""
        elapsed = max(self._clock() - self._started, 1e-9)
        rate = self.done / elapsed
        show = self._amount
        if self.total <= 0:
            return f"{self.label}: {show(self.done)} ({show(rate)}/s)"
        percent = min(100.0, 100.0 * self.done / self.total)
        eta = "ETA --" if rate <= 0 else f"ETA {human_duration((self.total - self.done) / rate)}"
        return (
            f"{self.label}: {percent:.0f}% ({show(self.done)} of "
            f"{show(self.total)}, {show(rate)}/s, {eta})"
        )

    def update(self, done: float) -> None:
        """Set the amount done so far, reporting when it is time to."""
        self.done = min(max(done, self.done), self.total) if self.total > 0 else max(done, 0)
        now = self._clock()
        if now - self._started < self._quiet_for:
            return
        if self._live is not None:
            if now - self._last_live >= LIVE_EVERY:
                self._last_live = now
                self._live_shown = True
                self._live(self.line())
            return
        if self.total <= 0:
            return
        tenth = int(10 * self.done / self.total)
        if tenth >= self._next_tenth:
            self._next_tenth = tenth + 1
            self._report(self.line())

    def finish(self) -> None:
        """End the live line, if one was shown."""
        if self._live is not None and self._live_shown:
            self._live(self.line())
            self._live(None)
            self._live_shown = False


class TableProgress:
    """Progress from a client program's `--verbose` lines: each table it starts adds its weight
    (bytes when known, else one) to what is done once the next one starts."""

    def __init__(self, meter: Meter, weights: dict[str, float], default_weight: float) -> None:
        self.meter = meter
        self._weights = weights
        self._default = default_weight
        self._started: list[str] = []

    def table_started(self, table: str) -> None:
        """A program line said it began copying `table` (`schema.name`)."""
        self._started.append(table)
        done = sum(self._weights.get(t, self._default) for t in self._started[:-1])
        self.meter.update(done)

    def finished(self) -> None:
        """The program ended: all done."""
        self.meter.update(self.meter.total)
        self.meter.finish()
