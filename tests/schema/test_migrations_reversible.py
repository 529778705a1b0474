"""Every migration in migrations/ reverses exactly: up → down → up gives the same schema."""

from __future__ import annotations

import pytest

from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.migrate.files import load_directory
from netplus_db.migrate.migrator import Migrator
from netplus_db.ops.schema_docs import dump_schema
from tests.support.server import MIGRATIONS


@pytest.mark.slow
def test_each_migration_goes_down_and_up_again_to_the_same_schema(empty_db: Target) -> None:
    versions = [m.version for m in load_directory(MIGRATIONS)]
    migrator = Migrator(empty_db, MIGRATIONS)
    after: dict[int, str] = {0: dump_schema(empty_db)}
    for version in versions:
        migrator.up(to=version)
        after[version] = dump_schema(empty_db)
    previous = [0, *versions[:-1]]
    for version, before in zip(reversed(versions), reversed(previous), strict=True):
        migrator.down()
        assert dump_schema(empty_db) == after[before], f"down of {version} left a different schema"
    for version in versions:
        migrator.up(to=version)
        assert dump_schema(empty_db) == after[version], f"up of {version} after down differs"


def test_down_to_zero_leaves_nothing_in_the_database(db: Target) -> None:
    Migrator(db, MIGRATIONS).down(to=0)
    with connect(db) as conn:
        leftovers = conn.execute(
            """
            SELECT 'relation ' || c.relname FROM pg_class c
              JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
            UNION ALL
            SELECT 'function ' || p.proname FROM pg_proc p
              JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
            UNION ALL
            SELECT 'type ' || t.typname FROM pg_type t
              JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public'
            UNION ALL
            SELECT 'policy ' || polname FROM pg_policy
            UNION ALL
            SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal
            UNION ALL
            SELECT 'migration ' || version FROM netplus.schema_migrations
            """
        ).fetchall()
        acl = conn.execute(
            "SELECT nspacl::text FROM pg_namespace WHERE nspname = 'public'"
        ).fetchone()
    assert leftovers == []
    assert acl is not None and "app_user" not in (acl[0] or "") and "readonly" not in (acl[0] or "")
