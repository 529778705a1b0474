"""quizsvc against the real netplus-db schema: the fixtures come from netplus-db[testing]."""

from collections.abc import Callable

from quizsvc import finish, first_unfinished_lesson

from netplus_db import Database
from netplus_db.generated.users import User

Learner = Callable[..., User]


def test_a_new_learner_starts_at_the_first_lesson(
    netplus_database: Database, netplus_learner: Learner
) -> None:
    ana = netplus_learner("ana")
    assert first_unfinished_lesson(netplus_database, ana.id) is not None


def test_finishing_a_lesson_moves_on_and_starts_a_streak(
    netplus_database: Database, netplus_learner: Learner
) -> None:
    ben = netplus_learner("ben")
    first = first_unfinished_lesson(netplus_database, ben.id)
    assert first is not None
    assert finish(netplus_database, ben.id, first) == 1
    assert first_unfinished_lesson(netplus_database, ben.id) != first
