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

-- name: forget_applied(version)!
-- Remove the ledger row of a migration that was rolled back, in the rollback's transaction.
DELETE FROM netplus.schema_migrations WHERE version = :version;

-- name: try_lock(key)$
-- Take the session-level migration lock without waiting (the runner polls).
SELECT pg_try_advisory_lock(:key);

-- name: unlock(key)$
-- Release the migration lock.
SELECT pg_advisory_unlock(:key);

-- name: other_runners()
-- Other sessions of the migration runner on this database, to say who holds the lock.
SELECT pid, coalesce(client_addr::text, 'local'), backend_start, state
  FROM pg_stat_activity
 WHERE datname = current_database()
   AND application_name = 'netplus-db migrate'
   AND pid <> pg_backend_pid();

-- name: set_lock_timeout(timeout)$
-- Bound how long DDL waits for a table lock (transaction-local when inside a transaction).
SELECT set_config('lock_timeout', :timeout, false);

-- name: set_local_lock_timeout(timeout)$
-- The same, for the current transaction only.
SELECT set_config('lock_timeout', :timeout, true);
