"""netplus-db: the database layer of the Network+ learning platform, for backends.

    from netplus_db import Database          # AsyncDatabase: the same with await
    db = Database()                          # DATABASE_URL, DB_* or a DSN given here
    user = db.register(email=..., username=..., password=...)
    with db.as_user(user.id) as q:           # one transaction; row-level security applies
        q.progress.list_progress(user_id=user.id)

This module is the public surface: the pooled databases, where the database is, the flows'
results (every result, typed rows included, is a `Row`: a slots dataclass that JSON layers write
with its field names; `json.dumps(x, default=json_default)` for the standard library) and the
errors (each derives from `NetplusError`; the flows raise `DomainError`s).
The typed rows are in `netplus_db.generated`; the migration runner is `netplus_db.migrate`;
operations and the `netplus-db` command come with the `cli` extra (`netplus_db.ops`,
`netplus_db.cli`).
"""

from netplus_db.cache import CacheSettings, CacheStats
from netplus_db.config import Target, resolve_target
from netplus_db.database import AsyncDatabase, Database
from netplus_db.errors import (
    AttemptClosed,
    CommitOutcomeUnknown,
    ConfigError,
    Conflict,
    ConnectError,
    ConnectionLost,
    DomainError,
    MaxAttemptsReached,
    NetplusError,
    NoConnection,
    NotDue,
    NotFound,
    NotReadOnly,
    QueryArgumentError,
    TransactionLost,
    ValidationError,
)
from netplus_db.flows.accounts import LoginResult
from netplus_db.flows.assessments import StartedAttempt, SubmittedAttempt
from netplus_db.flows.catalog import ComponentPage
from netplus_db.flows.learning import ProgressResult
from netplus_db.flows.review import LearnerReadiness, ReviewSession
from netplus_db.routing import ReadStats
from netplus_db.rows import Row, json_default

__all__ = [
    "AsyncDatabase",
    "AttemptClosed",
    "CacheSettings",
    "CacheStats",
    "CommitOutcomeUnknown",
    "ComponentPage",
    "ConfigError",
    "Conflict",
    "ConnectError",
    "ConnectionLost",
    "Database",
    "DomainError",
    "LearnerReadiness",
    "LoginResult",
    "MaxAttemptsReached",
    "NetplusError",
    "NoConnection",
    "NotDue",
    "NotFound",
    "NotReadOnly",
    "ProgressResult",
    "QueryArgumentError",
    "ReadStats",
    "ReviewSession",
    "Row",
    "StartedAttempt",
    "SubmittedAttempt",
    "Target",
    "TransactionLost",
    "ValidationError",
    "json_default",
    "resolve_target",
]
