"""The pytest plugin that orders a mutant's tests fastest first, run as mutmut runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mutation import fastest_first

REPO = Path(__file__).resolve().parents[2]

TESTS = """
def test_slow(): pass
def test_unknown(): pass
def test_quick(): pass
def test_middling(): pass
"""


def run_order(directory: Path) -> list[str]:
    """The test names in the order pytest ran them in `directory`, with the plugin loaded."""
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-v",
            "-p",
            "mutation.fastest_first",
            "-p",
            "no:cacheprovider",
            "--rootdir=.",
            "test_sample.py",
        ],
        cwd=directory,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return [line.split("::")[1].split()[0] for line in ran.stdout.splitlines() if " PASSED" in line]


@pytest.mark.slow
def test_tests_run_by_recorded_duration_with_unknown_ones_last(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(TESTS, "utf-8")
    seconds = {"slow": 9.0, "quick": 0.01, "middling": 0.5}
    recorded = {f"test_sample.py::test_{name}": s for name, s in seconds.items()}
    (tmp_path / "mutmut-stats.json").write_text(json.dumps({"duration_by_test": recorded}))
    assert run_order(tmp_path) == ["test_quick", "test_middling", "test_slow", "test_unknown"]


@pytest.mark.slow
def test_without_recorded_durations_the_order_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(TESTS, "utf-8")
    assert run_order(tmp_path) == ["test_slow", "test_unknown", "test_quick", "test_middling"]


def test_durations_reads_mutmuts_stats_file(tmp_path: Path) -> None:
    stats = tmp_path / "mutmut-stats.json"
    assert fastest_first.durations(stats) == {}
    stats.write_text(
        json.dumps({"tests_by_mangled_function_name": {}, "duration_by_test": {"a::b": 2}})
    )
    assert fastest_first.durations(stats) == {"a::b": 2.0}
