"""Every error netplus-db raises on purpose, one class per failure a user can act on.

Messages name the file, line, version or setting at fault, and never contain a password.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import psycopg_pool


class NetplusError(Exception):
    """Base class: any failure netplus-db reports to its caller on purpose."""


class ConfigError(NetplusError):
    """The database target could not be worked out from options, environment or .env."""


class ConnectError(NetplusError):
    """The database target did not accept a connection."""


class EmbeddedServerError(NetplusError):
    """The embedded PostgreSQL could not be started, stopped or inspected."""


class ClientToolError(NetplusError):
    """A PostgreSQL client program (pg_dump, psql...) is missing, too old or failed."""


# --- migration files ------------------------------------------------------------------------


class MigrationFileError(NetplusError):
    """A migration file is malformed; carries the file and the 1-based line at fault."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        super().__init__(f"{path}:{line}: {problem}")


class BadFileName(MigrationFileError):
    """The file name is not `NNNN_description.sql`."""


class MissingSection(MigrationFileError):
    """The file lacks its `-- migrate:up` or `-- migrate:down` marker."""


class DuplicateSection(MigrationFileError):
    """A section marker appears twice."""


class SectionsOutOfOrder(MigrationFileError):
    """`-- migrate:down` comes before `-- migrate:up`."""


class BadMarkerOption(MigrationFileError):
    """A section marker carries an option other than `transaction:true|false`."""


class StrayContent(MigrationFileError):
    """SQL stands before the `-- migrate:up` marker, where it would belong to no section."""


class EmptySection(MigrationFileError):
    """The up section holds no SQL."""


class DuplicateVersion(MigrationFileError):
    """Two files carry the same version number."""


class MigrationSetError(NetplusError):
    """One or more migration files failed to parse; nothing was applied."""

    def __init__(self, errors: list[MigrationFileError]) -> None:
        self.errors = errors
        lines = "\n".join(f"  {e}" for e in errors)
        super().__init__(
            f"{len(errors)} migration file(s) are malformed; nothing was applied:\n{lines}"
        )


# --- migration state --------------------------------------------------------------------------


class MigrationStateError(NetplusError):
    """The files on disk and the ledger in the database disagree."""


class ChecksumMismatch(MigrationStateError):
    """An applied migration's file was edited after it was applied."""


class MissingMigrationFile(MigrationStateError):
    """An applied migration's file is no longer on disk."""


class OutOfOrderMigration(MigrationStateError):
    """An unapplied migration is older than the newest applied one."""


class UnknownVersion(MigrationStateError):
    """A `--to` version names no migration."""


class MigrationLockTimeout(NetplusError):
    """Another runner held the migration lock for longer than the timeout."""


class SessionNotKept(MigrationStateError):
    """The runner's connection does not keep one server session (a pooler in transaction
    mode in between): its lock would guard nothing, so nothing is applied."""


class UnsupportedServer(NetplusError):
    """The server is older than the schema needs (PostgreSQL 15: see MIN_SERVER_VERSION)."""


class MigrationFailed(NetplusError):
    """A migration's SQL failed; its transaction was rolled back (file and line named)."""

    def __init__(self, path: Path, line: int | None, message: str, sqlstate: str | None) -> None:
        self.path = path
        self.line = line
        self.sqlstate = sqlstate
        self.problem = message  # without the file, line and SQLSTATE
        where = f"{path}:{line}" if line else str(path)
        code = f" [SQLSTATE {sqlstate}]" if sqlstate else ""
        super().__init__(f"{where}: {message}{code}")


# --- domain errors a backend maps to HTTP ------------------------------------------------------


class DomainError(NetplusError):
    """A request the data layer refuses; nothing was written."""


class ValidationError(DomainError):
    """A value is malformed; `field` names it (a dotted path into JSON where it applies)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class QuestionFormatError(NetplusError):
    """A question's definition (question_data / correct_answer) is malformed."""


class NotFound(DomainError):
    """The row asked for does not exist (or is not visible to this user)."""


class Conflict(DomainError):
    """The write clashes with existing data, e.g. an email already taken; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class Forbidden(DomainError):
    """The database refused the acting role this operation (a privilege it does not hold)."""


class AttemptClosed(DomainError):
    """The assessment attempt is no longer in progress (submitted, abandoned or timed out)."""


class MaxAttemptsReached(DomainError):
    """The learner has used every attempt the assessment allows."""


class NotDue(DomainError):
    """The review card is not due yet: the review schedule says when it is."""


class QueryArgumentError(NetplusError, TypeError):
    """A query was called with missing or unexpected keyword arguments; nothing was sent."""


class NotReadOnly(QueryArgumentError):
    """A query not marked `-- replica: yes` was called in a read-only session
    (`as_user(..., read_only=True)`), which may run on a replica; nothing was sent."""


# --- losing the server: failover, restarts ------------------------------------------------------


class ConnectionLost(NetplusError, psycopg.OperationalError):
    """The connection to the server was lost (a failover, a restart). `retriable` says whether
    running the same transaction again is safe: True when nothing of it was committed."""

    retriable = False


class TransactionLost(ConnectionLost):
    """The server went away before the transaction committed (or no connection could be had):
    nothing of it was written, so it may be run again, e.g. after a failover."""

    retriable = True


class NoConnection(TransactionLost, psycopg_pool.PoolTimeout):
    """No connection could be had within the pool's timeout (the server is down or every
    connection is busy): nothing was written. Also a `psycopg_pool.PoolTimeout`, so code that
    catches the pool's own error keeps working."""


class CommitOutcomeUnknown(ConnectionLost):
    """The connection was lost during COMMIT: the transaction may or may not have been
    written. Not retried by the library (it could write twice): check, then decide."""

    retriable = False
