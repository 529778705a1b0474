"""Calls that mypy --strict must reject: each call with a misspelt keyword
is marked on its first line with `rejected:` and the keyword.

Not run and not part of `make lint` (pyproject's mypy `exclude`); tests/typing/test_signatures.py
type-checks it and expects exactly these errors, naming each keyword.
"""

from __future__ import annotations

import uuid

from netplus_db import AsyncDatabase, Database


def sync_calls(db: Database, user_id: uuid.UUID, component_id: uuid.UUID) -> None:
    db.register(  # rejected: rols
        email="a@b.test", username="ana", password="long enough", rols="admin"
    )
    db.login(login="ana", pasword="long enough")  # rejected: pasword
    db.record_progress(user_id=user_id, component_id=component_id, status="completed")
    db.record_progress(  # rejected: progres_percentage
        user_id=user_id,
        component_id=component_id,
        status="in_progress",
        progres_percentage=50,
    )
    db.save_answer(  # rejected: flaged_for_review
        user_id=user_id,
        attempt_id=component_id,
        question_id=component_id,
        user_answer={"option": "a"},
        flaged_for_review=True,
    )
    db.browse_components(domian="1.0")  # rejected: domian


async def async_calls(db: AsyncDatabase, user_id: uuid.UUID, component_id: uuid.UUID) -> None:
    await db.record_progress(user_id=user_id, component_id=component_id, status="completed")
    await db.record_progress(  # rejected: time_spent_minute
        user_id=user_id,
        component_id=component_id,
        status="in_progress",
        time_spent_minute=5,
    )
    await db.save_answer(  # rejected: user_anwser
        user_id=user_id,
        attempt_id=component_id,
        question_id=component_id,
        user_anwser={"option": "a"},
    )
