"""`netplus-db seed lint`: the shipped bank is clean; a bank seeded with each defect is not."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from netplus_db.cli.main import cli
from netplus_db.ops.bank_lint import lint_bank
from netplus_db.ops.seed import default_seed_dir, load_seed_data


def test_the_shipped_bank_is_clean_and_meets_the_issue_figures() -> None:
    report = lint_bank(load_seed_data())
    assert report.findings == []
    figures = report.figures
    assert figures["duplicates"] == figures["near_duplicates"] == 0
    assert figures["longest_key"]["rate"] <= 0.30
    assert 0.40 <= figures["true_false"]["true_share"] <= 0.60
    for code, share in figures["domain_shares"].items():
        assert abs(share["share"] - share["weight"]) <= 3, code
        assert share["simulations"] >= 2, code
    for code, objective in figures["coverage"].items():
        assert objective["levels"].get("advanced", 0) >= 1, code


def test_seed_lint_json_on_the_shipped_bank() -> None:
    result = CliRunner().invoke(cli, ["seed", "lint", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["result"] == "ok"
    assert doc["items"] == []
    assert doc["summary"]["findings"] == 0
    assert doc["summary"]["questions"] == len(load_seed_data().questions)
    assert set(doc["summary"]["domain_shares"]) == {"1.0", "2.0", "3.0", "4.0", "5.0"}


def _questions(seed_dir: Path, domain: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((seed_dir / "questions" / f"{domain}.json").read_text())
    return data


def _write(seed_dir: Path, domain: str, questions: list[dict[str, Any]]) -> None:
    (seed_dir / "questions" / f"{domain}.json").write_text(json.dumps(questions, indent=2))


@pytest.fixture
def bad_bank(tmp_path: Path) -> Path:
    """The shipped bank with one of each defect the linter looks for."""
    seed_dir = tmp_path / "seed"
    shutil.copytree(default_seed_dir(), seed_dir)
    one = _questions(seed_dir, "1.0")
    five = _questions(seed_dir, "5.0")
    # a verbatim copy under another key, and many domain 1.0 copies (its share too high)
    first_mc = next(q for q in one if q["question_type"] == "multiple_choice")
    copies = []
    for n in range(20):
        clone = copy.deepcopy(first_mc)
        clone["key"] = f"1.1-copy-{n}"
        clone["question_text"] = f"Copy {n}: " + "".join(
            chr(97 + (n * 7 + i) % 26) for i in range(60)
        )
        copies.append(clone)
    # every multiple-choice key the longest option; every true/false keyed True
    for q in one + five:
        if q["question_type"] == "multiple_choice":
            for o in q["question_data"]["options"]:
                if o["id"] == q["correct_answer"]["option"]:
                    o["text"] += " (this one, which is clearly the most complete answer)"
        if q["question_type"] == "true_false":
            q["correct_answer"] = {"value": True}
    twin = copy.deepcopy(first_mc)
    twin["key"] = "1.1-verbatim-twin"
    # objective 5.1 without an advanced item
    for q in five:
        if q["subdomain"] == "5.1" and q["difficulty_level"] == "advanced":
            q["difficulty_level"] = "intermediate"
    # an answer given away by the stem; an accepted answer shadowed by an earlier one; a port
    # question that refuses its own key with a protocol word (read as text)
    five.append(
        {
            **copy.deepcopy(next(q for q in five if q["question_type"] == "fill_blank")),
            "key": "5.5-echoed",
            "subdomain": "5.5",
            "question_text": "The packet capture utility tcpdump is run as ____ on Linux.",
            "hints": ["Its name is packet capture utility tcpdump."],
            "question_data": {"normalize": "text"},
            "correct_answer": {"accepted": [{"answer": "packet capture utility tcpdump"}]},
        }
    )
    five.append(
        {
            **copy.deepcopy(five[-1]),
            "key": "5.5-shadowed",
            "question_text": "Which tool prints the path to a host, hop by hop?",
            "hints": [],
            "correct_answer": {
                "accepted": [
                    {"answer": "traceroute"},
                    {"answer": "tracert"},
                    {"answer": "TRACEROUTE", "credit": 0.5},
                ]
            },
        }
    )
    five.append(
        {
            **copy.deepcopy(five[-1]),
            "key": "5.5-port-as-text",
            "question_text": "Which port does the syslog collector listen on?",
            "correct_answer": {"accepted": [{"answer": "514"}]},
        }
    )
    _write(seed_dir, "1.0", [*one, *copies, twin])
    _write(seed_dir, "5.0", five)
    return seed_dir


def test_a_bad_bank_reports_each_defect(bad_bank: Path) -> None:
    report = lint_bank(load_seed_data(bad_bank))
    by_check: dict[str, list[str]] = {}
    for finding in report.findings:
        by_check.setdefault(finding.check, []).append(f"{finding.key}: {finding.message}")
    assert any("1.1-verbatim-twin" in m for m in by_check["duplicate"])
    assert report.figures["duplicates"] >= 1
    assert "longest_key" in by_check and report.figures["longest_key"]["rate"] > 0.30
    assert report.figures["true_false"]["true_share"] > 0.60
    assert "true_false_balance" in by_check
    assert any("objective 5.1 has no advanced item" in m for m in by_check["coverage"])
    assert any(m.startswith("None: domain 1.0 holds") for m in by_check["domain_share"])
    assert any(m.startswith("5.5-echoed:") for m in by_check["echo"])
    variants = by_check["fill_blank_variants"]
    assert any(
        "5.5-shadowed" in m and "'TRACEROUTE' earns 1, not its credit 1/2" in m for m in variants
    )
    assert any("5.5-port-as-text" in m and "port list read as text" in m for m in variants)


def test_seed_lint_exits_1_with_a_json_finding_per_problem(bad_bank: Path) -> None:
    result = CliRunner().invoke(cli, ["seed", "lint", "--seed-dir", str(bad_bank), "--json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["result"] == "findings"
    assert doc["summary"]["findings"] == len(doc["items"]) > 0
    assert {"duplicate", "longest_key", "true_false_balance", "domain_share"} <= {
        item["check"] for item in doc["items"]
    }
