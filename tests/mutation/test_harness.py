"""The Python mutation harness's own helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutation import python


def test_a_failed_runs_output_is_shown_as_the_terminal_left_it() -> None:
    log = b"\xe2\xa0\xa6 1/9 killed 0\r\xe2\xa0\xa7 2/9 killed 1\r\nTraceback:\r\n  boom\n"
    assert python.as_shown(log) == "\u2827 2/9 killed 1\nTraceback:\n  boom"
    assert python.as_shown(b"".join(b"%d\n" % n for n in range(100)), lines=2) == "98\n99"


def test_keep_refuses_an_existing_copy_and_resume_needs_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = python.MODULES["session"]
    (tmp_path / "session").mkdir()
    with pytest.raises(
        SystemExit, match="already exists; remove it, name another directory or --resume"
    ):
        python.mutate("session", module, 1, {}, keep=tmp_path)
    with pytest.raises(SystemExit, match="session holds no copy made by --keep"):
        python.mutate("session", module, 1, {}, keep=tmp_path, resume=True)
    with pytest.raises(SystemExit) as usage:
        python.main(["--resume"])
    assert usage.value.code == 2
    assert "--resume goes on with the copies in --keep DIR: name it" in capsys.readouterr().err


def test_outcomes_are_counted_from_mutmuts_listing_and_mypys_catches_count_as_killed() -> None:
    listing = """
    m.x_f__mutmut_1: killed
    m.x_f__mutmut_2: survived
    m.x_f__mutmut_3: caught by type check
    m.x_g__mutmut_1: timeout
    m.x_g__mutmut_2: caught by type check
    m.x_g__mutmut_3: no tests
    """
    counts, survivors = python.outcomes(listing)
    assert counts == {
        "killed": 1,
        "survived": 1,
        "caught_by_type_check": 2,
        "timeout": 1,
        "no_tests": 1,
    }
    assert survivors == ["m.x_f__mutmut_2"]
    score = python.Score("m", counts, survivors, 60.0)
    assert (score.total, score.killed_share, score.tests_share) == (6, 4 / 5, 2 / 3)
    text = python.report([score, python.Score("n", {"killed": 3}, [], 30.0, marked=2)])
    assert "| m | 6 | 1 | 1 | 2 | 1 | 1 | 80.0 | 66.7 | 0 | 1.0 |" in text
    assert "| n | 3 | 3 | 0 | 0 | 0 | 0 | 100.0 | 100.0 | 2 | 0.5 |" in text
    assert "- `m.x_f__mutmut_2`" in text and "9 mutants in 1.5 minutes." in text


def test_lines_marked_equivalent_are_counted_per_module() -> None:
    """Only lines that end in the pragma count: one that mentions it in passing does not."""
    grading = python.MODULES["grading"]
    source = (python.REPO / "netplus_db/grading.py").read_text("utf-8")
    ending = [line for line in source.splitlines() if line.rstrip().endswith(python.PRAGMA)]
    assert python.marked_equivalent(grading) == len(ending) > 0
    assert python.sources(python.MODULES["flows"])[0].startswith("netplus_db/flows/")


def test_each_modules_configuration_type_checks_its_own_files() -> None:
    flows = python.setup_cfg(python.MODULES["flows"])
    assert "    netplus_db/flows/accounts.py\n" in flows and "*" not in flows.split("type_check")[1]
    assert "    mutation.pytest_plugin\n" in flows and "timeout_multiplier = 3\n" in flows


def test_every_line_marked_equivalent_says_why_above_it() -> None:
    """A line under `# pragma: no mutate` makes no mutant, so the reason must be there to
    read: the comment above it (or above the run of marked lines it belongs to) starts
    "equivalent for mutation testing:"."""
    unexplained = []
    for source in sorted(python.REPO.glob("netplus_db/**/*.py")):
        lines = source.read_text("utf-8").splitlines()
        for number, line in enumerate(lines):
            if not line.rstrip().endswith(python.PRAGMA):
                continue
            above = number - 1
            while above >= 0 and lines[above].rstrip().endswith(python.PRAGMA):
                above -= 1
            while above >= 0 and lines[above].lstrip().startswith("#"):
                if lines[above].lstrip().startswith("# equivalent for mutation testing:"):
                    break
                above -= 1
            else:
                unexplained.append(f"{source.relative_to(python.REPO)}:{number + 1}")
    assert unexplained == []
