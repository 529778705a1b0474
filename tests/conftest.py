"""The suite's fixtures, loaded as plugins: one real PostgreSQL per session (`support.server`)
the library in its sync and async forms (`support.apis`), and the clean-up of databases a
backup or restore derives from a test's own (`support.derived_databases`)."""

pytest_plugins = [
    "tests.support.server",
    "tests.support.apis",
    "tests.support.derived_databases",
    "tests.support.pgbouncer",
    "tests.support.replica",
]
