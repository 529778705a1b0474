"""What Database and AsyncDatabase share to put the cache in front of their reads: making the
cache from the `cache=` argument and the environment, choosing the listener's connection, the
keys, and copying values on the way out (cache.py says what is cached and for how long)."""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from netplus_db import validation as check
from netplus_db.cache import MISS, QUESTIONS, Cache, CacheSettings
from netplus_db.config import (
    Target,
    cache_from_env,
    cache_listen_dsn_from_env,
    resolve_target,
)
from netplus_db.errors import ValidationError
from netplus_db.flows.catalog import ComponentPage
from netplus_db.generated.assessments import LearnerQuestion

T = TypeVar("T")
MAX_QUESTIONS = 500  # ids one `questions` call takes
BEHIND_POOLER = (
    "behind PgBouncer in transaction pooling (pgbouncer=True) a LISTEN is not kept: give "
    "CacheSettings(listen_dsn=...) or NETPLUS_CACHE_LISTEN_DSN (the server itself, or a "
    "session-pooling port)"
)


def make_cache(given: bool | CacheSettings | None) -> Cache | None:
    """The Database's cache: `cache=False` none, `True` the defaults, `CacheSettings` those,
    None NETPLUS_CACHE (on unless set to 0/false/no/off)."""
    if given is None:
        given = cache_from_env()
    if given is False:
        return None
    settings = given if isinstance(given, CacheSettings) else CacheSettings()
    if settings.listen_dsn is None:
        settings = replace(settings, listen_dsn=cache_listen_dsn_from_env())
    return Cache(settings)


def listen_conninfo(cache: Cache, target: Target, pgbouncer: bool) -> str | None:
    """Where the listener connects; None (the cache switched off, the reason in its stats)
    when the target cannot keep a LISTEN."""
    dsn = cache.settings.listen_dsn
    if dsn is not None:
        return resolve_target(dsn).conninfo
    if pgbouncer:
        cache.went_down(BEHIND_POOLER)
        return None
    return target.conninfo


def fresh(value: T) -> T:
    """A cached value as a caller gets it: lists copied (the rows in them are shared)."""
    if isinstance(value, list):
        return list(value)  # type: ignore[return-value]
    if isinstance(value, ComponentPage):
        return replace(value, items=list(value.items))
    return value


def component_key(slug: str | None, component_id: uuid.UUID | None) -> Hashable:
    """The catalog key of one component, checked: exactly one of slug and id."""
    check.optional_text("slug", slug, max_length=200)
    check.optional_uuid("component_id", component_id)
    if (slug is None) == (component_id is None):
        raise ValidationError("slug", "give exactly one of slug and component_id")
    return ("component", "slug", slug) if slug is not None else ("component", "id", component_id)


def question_ids(ids: Sequence[Any]) -> list[uuid.UUID]:
    """The question ids of a `questions` call, checked."""
    if isinstance(ids, str | bytes) or not isinstance(ids, Sequence):
        raise ValidationError("question_ids", "must be a list of UUIDs")
    if len(ids) > MAX_QUESTIONS:
        raise ValidationError("question_ids", f"at most {MAX_QUESTIONS} ids, got {len(ids)}")
    return [check.uuid_(f"question_ids[{i}]", value) for i, value in enumerate(ids)]


def hashable(key: Hashable) -> bool:
    """Whether a key can be looked up (a caller's list argument makes it unhashable)."""
    try:
        hash(key)
    except TypeError:
        return False
    return True


def browse_key(*arguments: object) -> Hashable:
    """The catalog key of a browse page: its filters, cursor and size."""
    return ("browse", *arguments)


def cache_lookup(
    cache: Cache, ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, Any], list[uuid.UUID]]:
    """The questions cached (by id) and the ids still to read."""
    found: dict[uuid.UUID, Any] = {}
    missing: list[uuid.UUID] = []
    for question_id in dict.fromkeys(ids):
        value = cache.get(QUESTIONS, question_id)
        if value is MISS:
            missing.append(question_id)
        else:
            found[question_id] = value
    return found, missing


def store(cache: Cache, rows: list[Any], ticket: int | None, found: dict[uuid.UUID, Any]) -> None:
    """Keep the questions read (each under its id) and add them to `found`."""
    for row in rows:
        cache.put(QUESTIONS, row.id, row, ticket)
        found[row.id] = row


def picked(
    ids: list[uuid.UUID], rows: dict[uuid.UUID, LearnerQuestion] | list[LearnerQuestion]
) -> list[LearnerQuestion]:
    """The questions in the order of `ids` (unknown ids left out)."""
    by_id = rows if isinstance(rows, dict) else {row.id: row for row in rows}
    return [by_id[i] for i in ids if i in by_id]
