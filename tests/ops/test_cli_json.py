"""One JSON shape for every `--json` command, on success and on failure, and nothing else on
stdout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from netplus_db.config import Target
from tests.ops.test_cli import PASSWORD, clean_env, run, with_password

pytestmark = pytest.mark.slow  # every test runs `netplus-db` as a subprocess

SHAPE = {"target", "result", "summary", "items", "errors"}
UNREACHABLE = f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/nowhere"


def document(stdout: str) -> dict[str, Any]:
    doc = json.loads(stdout)  # the whole of stdout is one document
    assert isinstance(doc, dict) and set(doc) == SHAPE, doc
    assert isinstance(doc["items"], list) and isinstance(doc["errors"], list)
    assert isinstance(doc["summary"], dict)
    return doc


@pytest.mark.parametrize(
    ("args", "summary_key"),
    [
        (["doctor"], "applied"),
        (["migrate", "status"], "pending"),
        (["migrate", "validate"], "files"),
        (["migrate", "history"], "events"),
        (["migrate", "up"], "applied"),
        (["migrate", "up", "--dry-run"], "dry_run"),
        (["migrate", "down", "--dry-run"], "rolled_back"),
        (["wait", "--timeout", "5"], "waited_seconds"),
        (["maintain", "report"], "routine"),
        (["maintain", "daily", "--dry-run"], "dry_run"),
        (["maintain", "weekly", "--dry-run"], "dropped"),
    ],
)
def test_the_shape_on_success(db: Target, args: list[str], summary_key: str) -> None:
    result = run("--dsn", with_password(db), *args, "--json")
    assert result.returncode == 0, result.stderr
    doc = document(result.stdout)
    assert doc["result"] == "ok" and doc["errors"] == []
    assert summary_key in doc["summary"]
    target = doc["target"]
    assert target["database"] == db.dbname and target["source"] == "--dsn"
    assert PASSWORD not in result.stdout + result.stderr and "password" not in target


def test_status_items_and_summary(db: Target) -> None:
    doc = document(run("--dsn", db.conninfo, "migrate", "status", "--json").stdout)
    assert doc["summary"]["applied"] == len(doc["items"]) and doc["summary"]["pending"] == 0
    assert doc["summary"]["database_exists"] is True
    assert {"version", "name", "state", "applied_at"} <= set(doc["items"][0])


@pytest.mark.parametrize(
    "args",
    [
        ["doctor"],
        ["migrate", "status"],
        ["migrate", "up"],
        ["migrate", "down"],
        ["migrate", "validate"],
        ["migrate", "history"],
        ["wait", "--timeout", "1"],
    ],
)
def test_the_shape_on_failure_is_on_stdout_with_a_non_zero_exit(args: list[str]) -> None:
    result = run("--dsn", UNREACHABLE, *args, "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    doc = document(result.stdout)
    assert doc["result"] == "error" and doc["errors"]
    assert doc["target"]["port"] == "1" and doc["target"]["database"] == "nowhere"
    assert "127.0.0.1" in doc["errors"][0]["message"] or "127.0.0.1" in json.dumps(doc)
    assert PASSWORD not in result.stdout + result.stderr


def test_a_missing_database_is_a_result_of_its_own(db: Target) -> None:
    missing = db.with_dbname(db.dbname + "_absent")
    status = run("--dsn", missing.conninfo, "migrate", "status", "--json")
    assert status.returncode == 1
    doc = document(status.stdout)
    assert doc["result"] == "missing_database" and doc["summary"]["database_exists"] is False
    assert "does not exist" in doc["errors"][0]["message"]
    doctor = run("--dsn", missing.conninfo, "doctor", "--json")
    assert doctor.returncode == 1
    assert document(doctor.stdout)["result"] == "missing_database"


def test_pending_is_a_result_and_exit_code_says_it(empty_db: Target) -> None:
    result = run("--dsn", empty_db.conninfo, "migrate", "status", "--json", "--exit-code")
    assert result.returncode == 3
    doc = document(result.stdout)
    assert doc["result"] == "pending" and doc["summary"]["pending"] == len(doc["items"])


def test_embedded_status_json(tmp_path: Path) -> None:
    env = clean_env(NETPLUS_HOME=str(tmp_path / "home"))
    result = run("embedded", "status", "--json", env=env)
    assert result.returncode == 3
    doc = document(result.stdout)
    assert doc["result"] == "stopped" and doc["summary"]["running"] is False
    assert doc["summary"]["data_dir"] == str(tmp_path / "home" / "pgdata")


def test_a_usage_error_under_json_is_a_document_too(db: Target) -> None:
    result = run("--dsn", db.conninfo, "migrate", "down", "--steps", "1", "--to", "0", "--json")
    assert result.returncode == 2
    doc = document(result.stdout)
    assert doc["result"] == "error" and "not both" in doc["errors"][0]["message"]
