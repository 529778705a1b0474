"""A tiny service on netplus-db: a learner's next lesson and their progress summary."""

from __future__ import annotations

import uuid

from netplus_db import Database


def first_unfinished_lesson(db: Database, user_id: uuid.UUID) -> str | None:
    """The title of the first published component the learner has not completed, if any."""
    with db.as_user(user_id) as q:
        page = q.content.browse_components(
            domain=None,
            subdomain=None,
            component_type=None,
            difficulty_level=None,
            after_title=None,
            after_id=None,
            page_size=50,
        )
        done = {
            p.component_id
            for p in q.progress.list_progress(user_id=user_id)
            if p.status in ("completed", "mastered")
        }
    for component in page:
        if component.id not in done:
            return str(component.title)
    return None


def finish(db: Database, user_id: uuid.UUID, title: str) -> int:
    """Mark the component with this title completed; the learner's current streak after it."""
    with db.as_user(user_id) as q:
        page = q.content.browse_components(
            domain=None,
            subdomain=None,
            component_type=None,
            difficulty_level=None,
            after_title=None,
            after_id=None,
            page_size=50,
        )
    (component,) = [c for c in page if c.title == title]
    done = db.record_progress(user_id=user_id, component_id=component.id, status="completed")
    return int(done.streak.current_streak) if done.streak else 0
