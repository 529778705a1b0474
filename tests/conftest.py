"""The suite's fixtures, loaded as plugins: one real PostgreSQL per session (`support.server`)."""

pytest_plugins = ["tests.support.server"]
