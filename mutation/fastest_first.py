"""pytest plugin for mutmut's runs (`-p mutation.fastest_first`): a mutant's tests, fastest first.

mutmut hands each mutant the tests that reach its function in no set order and stops it at
the first failure (`-x`). Where those tests restore real archives, a mutant killed by a quick
check could first sit through a minute of slow ones. mutmut records each test's duration in
`mutmut-stats.json` (in the working directory of its runs); this orders the collected tests
by it, unknown ones last, so a killed mutant is killed as early as its quickest killer allows.
Without the file (mutmut's first, timing run) the order is left alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

STATS = Path("mutmut-stats.json")


def durations(stats: Path = STATS) -> dict[str, float]:
    """Each test's recorded duration in seconds by node id; empty before mutmut has timed them."""
    try:
        recorded = json.loads(stats.read_text("utf-8")).get("duration_by_test", {})
    except FileNotFoundError:
        return {}
    return {str(node): float(seconds) for node, seconds in recorded.items()}


def fastest_first(items: list[pytest.Item], seconds: dict[str, float]) -> None:
    """Sort `items` in place by recorded duration; ties and unknown tests keep their order."""
    items.sort(key=lambda item: seconds.get(item.nodeid, float("inf")))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """pytest's hook: reorder the collected tests when mutmut's durations are there."""
    seconds = durations()
    if seconds:
        fastest_first(items, seconds)
