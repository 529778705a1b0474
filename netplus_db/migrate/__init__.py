"""The migration runner, usable from Python (a service may migrate on start-up):

    from netplus_db.migrate import Migrator
    Migrator(target).up()

`files` parses one migration file (named errors with file and line); `migrator` applies,
rolls back and validates them under a lock, recording each in the ledger.
"""

from netplus_db.migrate.files import Migration, load_directory, new_file
from netplus_db.migrate.migrator import Migrator, State, default_migrations_dir

__all__ = ["Migration", "Migrator", "State", "default_migrations_dir", "load_directory", "new_file"]
