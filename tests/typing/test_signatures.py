"""Every public flow has an explicit keyword-only signature that help() and mypy see."""

from __future__ import annotations

import inspect
import pydoc
import re
from pathlib import Path

import pytest
from mypy import api as mypy_api

from netplus_db import AsyncDatabase, Database

FLOWS = (
    "register",
    "login",
    "record_progress",
    "start_attempt",
    "save_answer",
    "submit_attempt",
    "abandon_attempt",
    "browse_components",
)
TEXT: pydoc.Doc = pydoc.plaintext  # type: ignore[attr-defined]  # not in typeshed
REJECTED = Path(__file__).parent / "rejected" / "misspelt_keywords.py"


@pytest.mark.parametrize("cls", [Database, AsyncDatabase])
@pytest.mark.parametrize("name", FLOWS)
def test_flows_have_explicit_keyword_only_signatures(cls: type, name: str) -> None:
    signature = inspect.signature(getattr(cls, name))
    params = list(signature.parameters.values())[1:]
    assert params, name
    for p in params:
        assert p.kind is inspect.Parameter.KEYWORD_ONLY, (name, p)
        assert p.annotation is not inspect.Parameter.empty, (name, p)


def test_help_shows_the_parameters_and_their_defaults() -> None:
    shown = pydoc.render_doc(Database.record_progress, renderer=TEXT)
    for part in (
        "user_id: 'uuid.UUID'",
        "component_id: 'uuid.UUID'",
        "status: 'str'",
        "progress_percentage: 'int' = 0",
        "time_spent_minutes: 'int' = 0",
        "last_position: 'Json' = None",
    ):
        assert part in shown, shown
    assert "**kwargs" not in shown
    shown = pydoc.render_doc(AsyncDatabase.save_answer, renderer=TEXT)
    assert "flagged_for_review: 'bool' = False" in shown


@pytest.mark.slow
def test_mypy_rejects_each_misspelt_keyword_and_nothing_else() -> None:
    """mypy --strict (the project's configuration) on a file of misspelt calls: one error per
    marked line, naming the keyword; the well-spelt calls beside them pass."""
    out, err, status = mypy_api.run(
        ["--strict", "--no-incremental", "--show-error-codes", "--no-error-summary", str(REJECTED)]
    )
    assert status == 1, out + err
    lines = REJECTED.read_text().splitlines()
    expected = {
        number: found.group(1)
        for number, line in enumerate(lines, start=1)
        if (found := re.search(r"# rejected: (\w+)", line))
    }
    errors = [
        (int(m.group(1)), m.group(2))
        for m in re.finditer(r"^[^:\n]+:(\d+): error: (.*)$", out, flags=re.MULTILINE)
    ]
    assert {number for number, _ in errors} == set(expected), out
    for number, message in errors:
        assert f'Unexpected keyword argument "{expected[number]}"' in message, message
