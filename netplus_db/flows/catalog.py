"""The catalog: browsing published learning components a page at a time.

Filters are optional; an unknown domain, component type or difficulty is a ValidationError
(not an empty page). Keyset paging by (title, id): the query is asked for one row more than
the page holds, so the page says whether another follows without counting the catalog.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from netplus_db import validation as check
from netplus_db.errors import ValidationError
from netplus_db.flows import Flow, call
from netplus_db.generated.content import BrowseComponentsRow, ContentQueries
from netplus_db.generated.enums import ComponentType, DifficultyLevel
from netplus_db.rows import Row

# The N10-009 exam domains (seed/blueprint.json); the catalog's `domain` holds one of them.
EXAM_DOMAINS = ("1.0", "2.0", "3.0", "4.0", "5.0")
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(slots=True)
class ComponentPage(Row):
    """One page of components; pass `next_after_title` and `next_after_id` for the next one
    (both None when `has_more` is false)."""

    items: list[BrowseComponentsRow]
    has_more: bool
    next_after_title: str | None
    next_after_id: uuid.UUID | None


def browse_components(
    *,
    domain: str | None = None,
    subdomain: str | None = None,
    component_type: str | None = None,
    difficulty_level: str | None = None,
    after_title: str | None = None,
    after_id: uuid.UUID | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Flow[ComponentPage]:
    """A page of the published catalog ordered by title (then id), filtered by any of domain,
    subdomain, type and difficulty (None: any)."""
    check.optional_choice("domain", domain, EXAM_DOMAINS)
    check.optional_text("subdomain", subdomain, max_length=100)
    check.optional_choice("component_type", component_type, ComponentType)
    check.optional_choice("difficulty_level", difficulty_level, DifficultyLevel)
    check.optional_text("after_title", after_title, max_length=500)
    check.optional_uuid("after_id", after_id)
    if (after_title is None) != (after_id is None):
        raise ValidationError("after_id", "after_title and after_id go together (or neither)")
    check.integer("page_size", page_size, minimum=1, maximum=MAX_PAGE_SIZE)
    # equivalent for mutation testing: any look-ahead of one row or more gives the same page;
    # one row past it, the least to send, says whether more follow
    look_ahead = 1  # pragma: no mutate
    rows: list[BrowseComponentsRow] = yield call(
        ContentQueries.browse_components,
        domain=domain,
        subdomain=subdomain,
        component_type=component_type,
        difficulty_level=difficulty_level,
        after_title=after_title,
        after_id=after_id,
        page_size=page_size + look_ahead,
    )
    more = len(rows) > page_size
    items = rows[:page_size]
    last = items[-1] if more else None
    return ComponentPage(items, more, last.title if last else None, last.id if last else None)
