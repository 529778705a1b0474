"""The suite's fixtures, loaded as plugins: one real PostgreSQL per session (`support.server`)
and the library in its sync and async forms (`support.apis`)."""

pytest_plugins = ["tests.support.server", "tests.support.apis"]
