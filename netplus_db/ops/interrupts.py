"""Signals and pause points for operations that must clean up after themselves.

Inside `signals_interrupt()`, SIGTERM and SIGHUP raise `Terminated` (a KeyboardInterrupt, as
Ctrl-C raises), so `finally` blocks and context managers run: a restore stopped by a service
manager drops its scratch database and rolls its swap back. A second signal during that
cleanup is ignored. SIGKILL cannot be caught: what it leaves is recorded and listed instead
(`netplus_db.ops.restore_leftovers`).

`pause_point()` lets a test stop a restore at an exact step and kill it there:
`NETPLUS_RESTORE_PAUSE_AT=load|validate|swap` with `NETPLUS_RESTORE_PAUSE_FILE=PATH` makes the
process create PATH when it reaches that step and wait until PATH is deleted (at most two
minutes). Unset, it does nothing.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from netplus_db.types import Progress

PAUSE_AT = "NETPLUS_RESTORE_PAUSE_AT"
PAUSE_FILE = "NETPLUS_RESTORE_PAUSE_FILE"
PAUSE_STEPS = ("load", "validate", "swap")
PAUSE_LIMIT = 120.0  # seconds
CAUGHT = (signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """The process was asked to stop by a signal; cleanup runs as for Ctrl-C."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")


def _raise(signum: int, _frame: FrameType | None) -> None:
    for caught in CAUGHT:
        signal.signal(caught, signal.SIG_IGN)  # let the cleanup finish
    raise Terminated(signum)


@contextmanager
def signals_interrupt() -> Iterator[None]:
    """During the block, SIGTERM and SIGHUP raise Terminated (main thread only; elsewhere the
    block runs unchanged). The previous handlers come back when it ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in CAUGHT}
    for s in CAUGHT:
        signal.signal(s, _raise)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def pause_point(step: str, report: Progress) -> None:
    """Wait here when NETPLUS_RESTORE_PAUSE_AT names `step` (see the module docstring)."""
    if os.environ.get(PAUSE_AT) != step:
        return
    marker = os.environ.get(PAUSE_FILE)
    if not marker:
        return
    path = Path(marker)
    path.write_text(f"{os.getpid()}\n")
    report(f"paused at {step} (pid {os.getpid()}) until {path} is deleted")
    deadline = time.monotonic() + PAUSE_LIMIT
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
