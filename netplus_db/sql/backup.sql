-- Backup, verify and restore: what a backup's manifest records and what a restore checks.
-- The two *_template queries hold a `{table}` placeholder: they are never called through
-- aiosql, but composed in Python with psycopg.sql.Identifier (netplus_db/backup.py).

-- name: public_tables()
-- The ordinary and partitioned tables of schema public, by name: the tables a manifest counts.
SELECT c.relname
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
 ORDER BY c.relname;

-- name: row_count_template()$
-- Template: the number of rows of one table ({table} is a psycopg.sql.Identifier).
SELECT count(*) FROM {table};

-- name: content_checksum_template()$
-- Template: md5 of every row of one table as text, in byte order of that text, one per line;
-- equal checksums mean equal contents ({table} is a psycopg.sql.Identifier).
SELECT md5(coalesce(string_agg(ROW(r.*)::text, E'\n' ORDER BY ROW(r.*)::text COLLATE "C"), ''))
  FROM {table} AS r;

-- name: row_security_tables()
-- Tables of any user schema with row-level security enabled, and whether it is forced on the
-- owner: pg_dump cannot read their rows unless the role is a superuser or has BYPASSRLS.
SELECT n.nspname || '.' || c.relname, c.relforcerowsecurity
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relrowsecurity
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
 ORDER BY 1;

-- name: migration_version()$
-- The newest applied migration (call only when the ledger exists; NULL when it is empty).
SELECT max(version) FROM netplus.schema_migrations;

-- name: export_snapshot()$
-- Export this transaction's snapshot, so pg_dump (--snapshot) sees exactly what we counted.
SELECT pg_export_snapshot();

-- name: terminate_sessions(datname)$
-- Terminate every other session on a database; returns how many were signalled.
SELECT count(pg_terminate_backend(pid))
  FROM pg_stat_activity
 WHERE datname = :datname AND pid <> pg_backend_pid();

-- name: session_count(datname)$
-- How many other sessions are still connected to a database.
SELECT count(*)
  FROM pg_stat_activity
 WHERE datname = :datname AND pid <> pg_backend_pid();

-- name: databases_like(pattern)
-- Databases whose name matches a LIKE pattern (the caller escapes _ and %), by name.
SELECT datname FROM pg_database WHERE datname LIKE :pattern ORDER BY datname;

-- name: no_row_security()$
-- For this session, make row-level security raise an error instead of hiding rows, so a
-- row count is exact or fails (what pg_dump does too).
SELECT set_config('row_security', 'off', false);

-- name: data_schemas()
-- User schemas other than the migration ledger's: a schema backup leaves out their data.
SELECT nspname
  FROM pg_namespace
 WHERE nspname NOT IN ('information_schema', 'netplus') AND nspname !~ '^pg_'
 ORDER BY nspname;

-- name: materialized_views()
-- Materialized views of schema public, oldest first: refreshed after a data-only restore,
-- whose archive holds no REFRESH of its own.
SELECT c.relname
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind = 'm'
 ORDER BY c.oid;

-- name: database_owner(datname)$
-- The role owning a database (NULL when there is no such database).
SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :datname;
