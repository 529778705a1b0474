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

-- name: table_sizes()
-- Bytes on disk of every table of the user schemas, as `schema.table`: weighs the progress of a
-- dump or restore, table by table.
SELECT n.nspname || '.' || c.relname AS name, pg_table_size(c.oid) AS bytes
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'm')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_toast'
 ORDER BY 1;

-- name: sessions_by_client(datname)
-- The other sessions connected to a database, grouped by role, application and client address:
-- what a restore would end, to show before it asks.
SELECT usename AS role,
       coalesce(nullif(application_name, ''), '(no application name)') AS application,
       coalesce(host(client_addr), 'local socket') AS client,
       count(*) AS sessions
  FROM pg_stat_activity
 WHERE datname = :datname AND pid <> pg_backend_pid()
 GROUP BY 1, 2, 3
 ORDER BY 4 DESC, 1, 2, 3;

-- name: derived_databases()
-- Databases named like a restore's or verify's scratch database, or a database a restore
-- replaced (`<db>__restore_<UTC>`, `<db>__verify_<UTC>`, `<db>__old_<UTC>`), with what a
-- restore recorded in their comment, whether they accept connections, their size and sessions.
SELECT d.datname AS name,
       shobj_description(d.oid, 'pg_database') AS comment,
       d.datallowconn AS allow_connections,
       pg_database_size(d.oid) AS bytes,
       (SELECT count(*) FROM pg_stat_activity a WHERE a.datid = d.oid) AS sessions
  FROM pg_database d
 WHERE d.datname ~ '__(restore|verify|old)_[0-9]{8}T[0-9]{6}Z(_[0-9]+)?$'
 ORDER BY d.datname;

-- name: database_comment(datname)$
-- A database's comment (NULL when it has none, or when there is no such database).
SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :datname;

-- name: terminate_sessions_returning_pids(datname)
-- Terminate every other session on a database; each pid with whether it was signalled (a
-- restore counts the distinct ones it ended). pg_terminate_backend stays in the select list:
-- in WHERE the planner could call it before the datname filter, on every session.
SELECT pid, pg_terminate_backend(pid) AS signalled
  FROM pg_stat_activity
 WHERE datname = :datname AND pid <> pg_backend_pid();
