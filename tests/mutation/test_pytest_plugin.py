"""The pytest plugin for mutmut's runs (likely killers first), run as mutmut runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from mutation import pytest_plugin

REPO = Path(__file__).resolve().parents[2]

TESTS = """
import os
def test_slow(): pass
def test_unknown(): pass
def test_quick(): pass
def test_middling(): assert not os.environ.get("MUTANT")
"""


def run_order(directory: Path, mutant: bool = False) -> list[str]:
    """The test names in the order pytest ran them in `directory`, with the plugin loaded
    (with `mutant`, test_middling fails, as a test that kills a mutant does)."""
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-v",
            "-p",
            "mutation.pytest_plugin",
            "-p",
            "no:cacheprovider",
            "--rootdir=.",
            "test_sample.py",
        ],
        cwd=directory,
        env={
            "PYTHONPATH": str(REPO),
            "PATH": "/usr/bin:/bin",
            **({"MUTANT": "1"} if mutant else {}),
        },
        capture_output=True,
        text=True,
    )
    assert ran.returncode == (1 if mutant else 0), ran.stdout + ran.stderr
    return [
        line.split("::")[1].split()[0]
        for line in ran.stdout.splitlines()
        if line.startswith("test_sample.py::") and (" PASSED" in line or " FAILED" in line)
    ]


def timed(directory: Path, **seconds: float) -> None:
    """Write mutmut's stats file with these tests' durations."""
    recorded = {f"test_sample.py::test_{name}": s for name, s in seconds.items()}
    (directory / "mutmut-stats.json").write_text(json.dumps({"duration_by_test": recorded}))


@pytest.mark.slow
def test_timed_tests_run_quickest_first_and_a_killer_by_its_seconds_per_kill(
    tmp_path: Path,
) -> None:
    """Before any kill, by duration; after middling's one kill its 0.5 s count as 0.33 s a
    kill, less than quick's 0.2 s with none (0.4): it goes first."""
    (tmp_path / "test_sample.py").write_text(TESTS, "utf-8")
    timed(tmp_path, slow=9.0, quick=0.2, middling=0.5)
    assert run_order(tmp_path) == ["test_quick", "test_middling", "test_slow", "test_unknown"]
    assert not (tmp_path / "mutation-kills.txt").exists()
    run_order(tmp_path, mutant=True)
    killed = (tmp_path / "mutation-kills.txt").read_text()
    assert killed == "test_sample.py::test_middling\n"
    assert run_order(tmp_path) == ["test_middling", "test_quick", "test_slow", "test_unknown"]


@pytest.mark.slow
def test_before_mutmut_has_timed_the_tests_nothing_moves_and_no_kill_is_kept(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_sample.py").write_text(TESTS, "utf-8")
    assert run_order(tmp_path) == ["test_slow", "test_unknown", "test_quick", "test_middling"]
    run_order(tmp_path, mutant=True)
    assert not (tmp_path / "mutation-kills.txt").exists()


def passes_with_the_plugin(directory: Path, test: str) -> None:
    """`test` (a test module's text) passes when pytest runs it with the plugin loaded."""
    (directory / "test_sample.py").write_text(test, "utf-8")
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "mutation.pytest_plugin", "test_sample.py"],
        cwd=directory,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr


@pytest.mark.slow
def test_what_the_run_inherited_is_frozen_out_of_the_collectors_way(tmp_path: Path) -> None:
    passes_with_the_plugin(
        tmp_path, "import gc\ndef test_frozen(): assert gc.get_freeze_count() > 1000\n"
    )


@pytest.mark.slow
def test_a_property_test_that_kills_a_mutant_is_not_shrunk(tmp_path: Path) -> None:
    """The tests' own settings, made after the plugin has configured the run, inherit its
    profile: every phase but shrinking."""
    passes_with_the_plugin(
        tmp_path,
        "from hypothesis import Phase, settings\n"
        "def test_profile():\n"
        "    own = settings(max_examples=5)\n"
        "    assert Phase.shrink not in own.phases and Phase.generate in own.phases\n",
    )


def test_the_records_read_back(tmp_path: Path) -> None:
    stats, record = tmp_path / "mutmut-stats.json", tmp_path / "kills.txt"
    assert pytest_plugin.durations(stats) == {} and pytest_plugin.kills(record) == {}
    stats.write_text(
        json.dumps({"tests_by_mangled_function_name": {}, "duration_by_test": {"a::b": 2}})
    )
    assert pytest_plugin.durations(stats) == {"a::b": 2.0}
    for node in ("a::b", "a::c", "a::b"):
        pytest_plugin.record_kill(node, record)
    assert pytest_plugin.kills(record) == {"a::b": 2, "a::c": 1}


def test_a_quick_test_that_never_killed_still_runs_before_a_slow_killer() -> None:
    class Item:
        def __init__(self, nodeid: str) -> None:
            self.nodeid = nodeid

    items = [Item(n) for n in ("slow_killer", "untimed", "instant", "quick_killer")]
    seconds = {"slow_killer": 1.8, "instant": 0.001, "quick_killer": 0.02}
    killed = Counter({"slow_killer": 128, "quick_killer": 30})
    pytest_plugin.likely_killers_first(items, seconds, killed)  # type: ignore[arg-type]
    assert [i.nodeid for i in items] == ["quick_killer", "instant", "slow_killer", "untimed"]
