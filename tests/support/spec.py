"""The platform spec (shared/spec/ERD.md), parsed: tests check the schema against its own text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
SHARED_SPEC = REPO.parent / "shared" / "spec"
VENDORED_SPEC = Path(__file__).resolve().parent.parent / "data" / "spec"


def spec_dir() -> Path:
    """The shared spec when it sits beside the checkout, else the copy vendored in tests/data."""
    return SHARED_SPEC if (SHARED_SPEC / "ERD.md").exists() else VENDORED_SPEC


@dataclass(frozen=True)
class Relationship:
    """One line of the ERD diagram: parent, child and the cardinality symbols between them."""

    parent: str
    child: str
    one_to_one: bool


@cache
def erd_columns() -> dict[str, dict[str, str]]:
    """{table: {column: ERD type word}} from the mermaid block of ERD.md."""
    tables: dict[str, dict[str, str]] = {}
    current: str | None = None
    for line in _mermaid_lines():
        opened = re.match(r"^(\w+)\s*\{$", line)
        if opened:
            current = opened.group(1)
            tables[current] = {}
        elif line == "}":
            current = None
        elif current is not None:
            type_word, column = line.split()[:2]
            tables[current][column] = type_word
    return tables


@cache
def erd_relationships() -> list[Relationship]:
    """The relationship lines of the mermaid block."""
    found = []
    for line in _mermaid_lines():
        rel = re.match(r"^(\w+)\s+\|\|--o([|{])\s+(\w+)\s*:", line)
        if rel:
            found.append(Relationship(rel.group(1), rel.group(3), rel.group(2) == "|"))
    return found


@cache
def cascade_rules() -> dict[tuple[str, str], str]:
    """{(parent, child): 'CASCADE' | 'SET NULL'} from the 'One-to-Many Relationships' table."""
    text = (spec_dir() / "ERD.md").read_text()
    section = text.split("### One-to-Many Relationships", 1)[1].split("###", 1)[0]
    rules: dict[tuple[str, str], str] = {}
    for row in re.findall(
        r"^\|\s*(\w+)\s*\|\s*(\w+)\s*\|\s*1:N\s*\|\s*([A-Z ]+?) on delete", section, re.M
    ):
        rules[(row[0], row[1])] = row[2].strip()
    return rules


def _mermaid_lines() -> list[str]:
    text = (spec_dir() / "ERD.md").read_text()
    block = text.split("```mermaid", 1)[1].split("```", 1)[0]
    return [
        line.strip()
        for line in block.splitlines()
        if line.strip() and not line.strip().startswith("%%")
    ]
