"""CHANGELOG.md documents every migration, as the spec's version-control rule asks."""

from __future__ import annotations

import re

from netplus_db.migrate.files import load_directory
from tests.support.server import MIGRATIONS, REPO


def test_every_migration_has_a_changelog_entry() -> None:
    text = (REPO / "CHANGELOG.md").read_text()
    headings = set(re.findall(r"^## \d{4} .*\(`(\d{4}_[a-z0-9_]+\.sql)`\)$", text, re.MULTILINE))
    missing = [m.path.name for m in load_directory(MIGRATIONS) if m.path.name not in headings]
    assert not missing, (
        f"CHANGELOG.md has no entry for {', '.join(missing)}: add a heading "
        "'## NNNN name (`NNNN_name.sql`)' saying what changes and what an operator must know"
    )


def test_changelog_entries_are_newest_first() -> None:
    text = (REPO / "CHANGELOG.md").read_text()
    versions = [int(v) for v in re.findall(r"^## (\d{4}) ", text, re.MULTILINE)]
    assert versions == sorted(versions, reverse=True)
