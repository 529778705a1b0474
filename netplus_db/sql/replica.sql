-- Read routing: where a replica's replay stands, and where the primary's WAL ends.

-- name: status()^
-- A server's standing for a read: whether it is a standby, the WAL position it has
-- replayed (a primary: its own insert position), and its lag in seconds: 0 when it has
-- replayed all it received, else the age of the last transaction it replayed.
SELECT pg_is_in_recovery() AS in_recovery,
       (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
             ELSE pg_current_wal_insert_lsn() END - '0/0'::pg_lsn)::bigint AS replayed,
       CASE WHEN NOT pg_is_in_recovery()
              OR pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()
            THEN 0::float8
            ELSE coalesce(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()),
                          0)::float8
       END AS lag_seconds;

-- name: commit_position()$
-- The primary's WAL insert position right after a commit: at or past that commit's record
-- (also with synchronous_commit off, when the record may not be flushed yet).
SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint;

-- name: pause_replay()!
-- On a standby: stop replaying WAL (it keeps receiving it), to make it lag on purpose.
SELECT pg_wal_replay_pause();

-- name: resume_replay()!
-- On a standby: replay WAL again.
SELECT pg_wal_replay_resume();

-- name: received()$
-- On a standby: the WAL position it has received from its primary (bytes), replayed or not.
SELECT (pg_last_wal_receive_lsn() - '0/0'::pg_lsn)::bigint;
