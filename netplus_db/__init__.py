"""netplus-db: the database layer of the Network+ learning platform.

The public surface is small: where the database is (`resolve_target`), a connection to it
(`connect`), and the migration runner (`Migrator`). Errors derive from `NetplusError`.
"""

from netplus_db.config import Target, resolve_target
from netplus_db.connection import connect
from netplus_db.errors import NetplusError
from netplus_db.migrate.migrator import Migrator

__all__ = ["Migrator", "NetplusError", "Target", "connect", "resolve_target"]
