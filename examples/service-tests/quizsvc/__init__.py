"""A tiny service on netplus-db: a learner's next lesson, and finishing it.

Quizzes, checkpoints and practice exams are completed by passing their assessment, not by
recording progress, so "lessons" here are the other kinds of component.
"""

from __future__ import annotations

import uuid

from netplus_db import Database
from netplus_db.generated import Queries
from netplus_db.generated.content import BrowseComponentsRow

ASSESSED = {"quiz", "assessment", "practice_exam"}


def _catalog(q: Queries) -> list[BrowseComponentsRow]:
    """The first 50 published lessons (components no assessment completes), by title."""
    page = q.content.browse_components(
        domain=None,
        subdomain=None,
        component_type=None,
        difficulty_level=None,
        after_title=None,
        after_id=None,
        page_size=50,
    )
    return [c for c in page if c.component_type not in ASSESSED]


def first_unfinished_lesson(db: Database, user_id: uuid.UUID) -> str | None:
    """The title of the first published component the learner has not completed, if any."""
    with db.as_user(user_id) as q:
        page = _catalog(q)
        done = {
            p.component_id
            for p in q.progress.list_progress(user_id=user_id)
            if p.status in ("completed", "mastered")
        }
    return next((str(c.title) for c in page if c.id not in done), None)


def finish(db: Database, user_id: uuid.UUID, title: str) -> int:
    """Mark the component with this title completed; the learner's current streak after it."""
    with db.as_user(user_id) as q:
        (component,) = [c for c in _catalog(q) if c.title == title]
    done = db.record_progress(user_id=user_id, component_id=component.id, status="completed")
    return int(done.streak.current_streak) if done.streak else 0
