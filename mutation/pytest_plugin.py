"""pytest plugin for mutmut's runs (`-p mutation.pytest_plugin`): a mutant's likely killers
first, and no garbage collector walking the heap each mutant inherits.

mutmut hands each mutant the tests that reach its function in no set order and stops it at
the first failure (`-x`). Where those tests restore real archives, a mutant killed by one
check could first sit through a minute of others. Two records order them instead:

- each test that fails (kills a mutant) is appended to `mutation-kills.txt`: the mutants of
  one function tend to die to the same few tests;
- mutmut's own `mutmut-stats.json` holds each test's duration.

Tests run by their seconds per kill so far (seconds / (kills + 1/2): Smith's rule for the
least expected time to the first failure), so a test that kills often and quickly goes first,
one that kills often but slowly after the quick ones, and one that has not killed yet by its
duration alone; tests mutmut never timed go last.

Both files are in the working directory of mutmut's runs (its `mutants/`). Without them
(mutmut's first, timing run) the order is left alone.

mutmut forks each mutant's process from one that has imported and collected everything.
pytest collects garbage twice as it ends, walking every inherited object and so copying
every page of the heap into the child: a fifth of a second a mutant. Freezing what was
inherited (`gc.freeze()`, as CPython advises after a fork) leaves the collector only the
mutant's own objects.

A property test that fails has killed its mutant: which example did it is of no interest, so
hypothesis does not shrink it (a profile without the shrink phase, loaded before the tests'
own settings are made, which inherit it).
"""

from __future__ import annotations

import gc
import json
import os
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import Phase, settings

STATS = Path("mutmut-stats.json")
KILLS = Path("mutation-kills.txt")


def durations(stats: Path = STATS) -> dict[str, float]:
    """Each test's recorded duration in seconds by node id; empty before mutmut has timed them."""
    try:
        recorded = json.loads(stats.read_text("utf-8")).get("duration_by_test", {})
    except FileNotFoundError:
        return {}
    return {str(node): float(seconds) for node, seconds in recorded.items()}


def kills(record: Path = KILLS) -> Counter[str]:
    """How many mutants each test has killed so far, by node id."""
    try:
        return Counter(line for line in record.read_text("utf-8").splitlines() if line)
    except FileNotFoundError:
        return Counter()


def record_kill(nodeid: str, record: Path = KILLS) -> None:
    """Append one kill; a single short O_APPEND write, so forked siblings never interleave."""
    fd = os.open(record, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{nodeid}\n".encode())
    finally:
        os.close(fd)


def likely_killers_first(
    items: list[pytest.Item], seconds: dict[str, float], killed: Counter[str]
) -> None:
    """Sort `items` in place by seconds per kill (untimed tests last); ties keep their order."""

    def cost(item: pytest.Item) -> float:
        return seconds.get(item.nodeid, float("inf")) / (killed[item.nodeid] + 0.5)

    items.sort(key=cost)


def pytest_configure() -> None:
    """pytest's hook, first thing in a run: freeze what the process inherited, and stop
    hypothesis from shrinking the example that killed a mutant."""
    gc.freeze()
    settings.register_profile("mutation", phases=[p for p in Phase if p is not Phase.shrink])
    settings.load_profile("mutation")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """pytest's hook: reorder the collected tests once mutmut has timed them."""
    seconds = durations()
    if seconds:
        likely_killers_first(items, seconds, kills())


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """pytest's hook: a failing test (in any phase) has killed this run's mutant."""
    if report.failed and STATS.is_file():  # mutmut has timed the tests: a mutant's run
        record_kill(report.nodeid)
