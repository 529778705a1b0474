-- The migration runner's own SQL. The ledger lives in schema `netplus`, apart from the
-- application's tables: the application roles are never granted anything on it.

-- name: exists()$
-- Whether the ledger table has been created in this database.
SELECT to_regclass('netplus.schema_migrations') IS NOT NULL;

-- name: create#
-- Create the ledger (idempotent; run while holding the migration lock).
CREATE SCHEMA IF NOT EXISTS netplus;
COMMENT ON SCHEMA netplus IS 'netplus-db migration bookkeeping; not application data';
CREATE TABLE IF NOT EXISTS netplus.schema_migrations (
    version          bigint      PRIMARY KEY,
    name             text        NOT NULL,
    checksum         text        NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
    applied_at       timestamptz NOT NULL DEFAULT now(),
    applied_by       text        NOT NULL,
    duration_ms      integer     NOT NULL CHECK (duration_ms >= 0),
    source           text        NOT NULL,
    down_sql         text        NOT NULL,
    down_transaction boolean     NOT NULL DEFAULT true
);
COMMENT ON TABLE netplus.schema_migrations IS
    'One row per applied migration: its checksum, who applied it, and its down SQL as applied';
-- The event history: every apply, rollback and baseline, never updated or deleted. A ledger
-- made before it existed gets it here, with one `imported` event per row already applied.
CREATE TABLE IF NOT EXISTS netplus.schema_migration_events (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version          bigint      NOT NULL,
    name             text        NOT NULL,
    action           text        NOT NULL CHECK (action IN ('up', 'down', 'baseline', 'imported')),
    checksum         text        NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
    happened_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    duration_ms      integer     CHECK (duration_ms >= 0),
    db_user          text        NOT NULL DEFAULT current_user,
    session_user_name text       NOT NULL DEFAULT session_user,
    client_addr      text        NOT NULL DEFAULT coalesce(host(inet_client_addr()), 'local socket'),
    application_name text        NOT NULL DEFAULT current_setting('application_name'),
    os_user          text,
    client_hostname  text,
    tool             text
);
COMMENT ON TABLE netplus.schema_migration_events IS
    'Every apply, rollback and baseline of a migration: who (database and OS user), from where (client address, host, application), when, how long, which checksum';
INSERT INTO netplus.schema_migration_events
       (version, name, action, checksum, happened_at, duration_ms, db_user, os_user, tool)
SELECT m.version, m.name, 'imported', m.checksum, m.applied_at, m.duration_ms, m.applied_by,
       NULL, 'ledger row from before the event history'
  FROM netplus.schema_migrations m
 WHERE NOT EXISTS (SELECT 1 FROM netplus.schema_migration_events)
 ORDER BY m.version;

-- name: applied_migrations()
-- Every applied migration, oldest first.
SELECT version, name, checksum, applied_at, applied_by, duration_ms, source, down_sql,
       down_transaction
  FROM netplus.schema_migrations
 ORDER BY version;

-- name: record_applied(version, name, checksum, applied_by, duration_ms, source, down_sql, down_transaction)!
-- Write the ledger row of a migration, in the same transaction as its SQL.
INSERT INTO netplus.schema_migrations
       (version, name, checksum, applied_by, duration_ms, source, down_sql, down_transaction)
VALUES (:version, :name, :checksum, :applied_by, :duration_ms, :source, :down_sql,
        :down_transaction);

-- name: record_event(version, name, action, checksum, duration_ms, os_user, client_hostname, tool)!
-- Add an apply, rollback or baseline to the event history (in the migration's transaction).
INSERT INTO netplus.schema_migration_events
       (version, name, action, checksum, duration_ms, os_user, client_hostname, tool)
VALUES (:version, :name, :action, :checksum, :duration_ms, :os_user, :client_hostname, :tool);

-- name: events_exist()$
-- Whether the event history table has been created (a ledger from before it has none).
SELECT to_regclass('netplus.schema_migration_events') IS NOT NULL;

-- name: events(max_rows)
-- The event history, oldest first (the newest max_rows of it).
SELECT id, version, name, action, checksum, happened_at, duration_ms, db_user,
       session_user_name, client_addr, application_name, os_user, client_hostname, tool
  FROM (SELECT * FROM netplus.schema_migration_events ORDER BY id DESC LIMIT :max_rows) AS e
 ORDER BY id;

-- name: forget_applied(version)!
-- Remove the ledger row of a migration that was rolled back, in the rollback's transaction.
DELETE FROM netplus.schema_migrations WHERE version = :version;

-- name: try_lock(key)$
-- Take the session-level migration lock without waiting (the runner polls).
SELECT pg_try_advisory_lock(:key);

-- name: unlock(key)$
-- Release the migration lock.
SELECT pg_advisory_unlock(:key);

-- name: lock_holders(key)
-- The sessions holding the migration lock `key` on this database (a runner, or anyone who
-- took the advisory lock by hand), to say who is waited for: pg_locks shows a bigint key
-- as its high 32 bits (classid) and low 32 bits (objid), objsubid 1.
SELECT a.pid,
       coalesce(nullif(a.application_name, ''), 'no application name') || ' at '
           || coalesce(a.client_addr::text, 'local'),
       a.backend_start,
       a.state
  FROM pg_locks l
  JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'advisory'
   AND l.granted
   AND l.objsubid = 1
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND ((l.classid::bigint << 32) | l.objid::bigint) = :key
   AND a.pid <> pg_backend_pid();

-- name: set_lock_timeout(timeout)$
-- Bound how long DDL waits for a table lock (transaction-local when inside a transaction).
SELECT set_config('lock_timeout', :timeout, false);

-- name: set_local_lock_timeout(timeout)$
-- The same, for the current transaction only.
SELECT set_config('lock_timeout', :timeout, true);

-- name: set_statement_timeout(timeout)$
-- Bound every statement of a migration run outside a transaction ('0': no bound).
SELECT set_config('statement_timeout', :timeout, false);

-- name: set_local_statement_timeout(timeout)$
-- Bound every statement of the current transaction (a migration's `statement_timeout:`).
SELECT set_config('statement_timeout', :timeout, true);

-- name: public_tables()$
-- How many tables schema public holds (a database with tables but no ledger is not ours).
SELECT count(*) FROM pg_tables WHERE schemaname = 'public';

-- name: backend_pid()$
-- The server process of this session: through a pooler in transaction mode it changes.
SELECT pg_backend_pid();

-- name: holds_lock(key)$
-- Whether this very server session holds the migration lock (a session advisory lock on a
-- bigint key: high half in classid, low half in objid, objsubid 1).
SELECT EXISTS (
    SELECT 1
      FROM pg_locks
     WHERE locktype = 'advisory'
       AND pid = pg_backend_pid()
       AND granted
       AND objsubid = 1
       AND ((classid::bigint << 32) | objid::bigint) = :key
);
