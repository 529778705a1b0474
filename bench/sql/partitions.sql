-- The partitioning benchmarks' SQL (bench/partitions.py, bench/writer.py): WAL positions,
-- sizes, row counts and the statements that set up and run the retention comparison on a
-- scratch clone of the scale database. The *_template queries hold `{placeholders}` for
-- identifiers and literal bounds, composed in Python with psycopg.sql; `:name` parameters
-- are bound as usual.

-- name: wal_position()$
-- The current WAL insert position, as text (pg_lsn). The insert position, not
-- pg_current_wal_lsn() (the write position): with synchronous_commit off the write position
-- lags behind what a statement has already generated.
SELECT pg_current_wal_insert_lsn()::text;

-- name: wal_bytes_since(start)$
-- WAL bytes generated since a position returned by wal_position (pg_wal_lsn_diff).
SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), CAST(:start AS pg_lsn))::bigint;

-- name: checkpoint#
-- Start every measured step from a checkpoint: the first change of each page after one
-- writes the whole page to the WAL, for either way alike.
CHECKPOINT;

-- name: relation_kind(name)$
-- relkind of a table in public ('r' plain, 'p' partitioned), NULL when there is none.
SELECT c.relkind::text FROM pg_class c WHERE c.oid = to_regclass(format('public.%I', CAST(:name AS text)));

-- name: relation_size(name)^
-- Leaf tables, heap bytes (with TOAST) and index bytes of a table (plain: itself; partitioned:
-- its partitions).
WITH r AS (SELECT to_regclass(format('public.%I', CAST(:name AS text))) AS oid)
SELECT count(*)::int, coalesce(sum(pg_table_size(leaf.relid)), 0)::bigint,
       coalesce(sum(pg_indexes_size(leaf.relid)), 0)::bigint
  FROM (SELECT t.relid FROM r, pg_partition_tree(r.oid) t WHERE t.isleaf
        UNION
        SELECT r.oid FROM r JOIN pg_class c ON c.oid = r.oid WHERE c.relkind = 'r') leaf;

-- name: history_fingerprint(writer)^
-- Rows and an order-free checksum (sum of 64-bit row hashes) of both history tables,
-- leaving out the benchmark writer's rows: the same before and after a conversion.
SELECT (SELECT count(*) FROM public.learning_sessions)::bigint,
       (SELECT coalesce(sum(hashtextextended(s::text, 0)::numeric), 0)::text
          FROM public.learning_sessions s),
       (SELECT count(*) FROM public.user_activity_logs a WHERE a.activity_type <> :writer)::bigint,
       (SELECT coalesce(sum(hashtextextended(a::text, 0)::numeric), 0)::text
          FROM public.user_activity_logs a WHERE a.activity_type <> :writer);

-- name: writer_rows(writer)$
-- The benchmark writer's rows in user_activity_logs.
SELECT count(*)::bigint FROM public.user_activity_logs WHERE activity_type = :writer;

-- name: writer_insert_template(activity_type)!
-- Template: the writer's insert, one activity entry as an application logs it.
INSERT INTO {table} (activity_type, activity_description)
VALUES (:activity_type, 'written by the benchmark writer while a step runs');

-- name: rows_template(writer, cutoff)^
-- Template: rows of {table}, the writer's among them, and those older than the cutoff.
SELECT count(*)::bigint,
       count(*) FILTER (WHERE activity_type = :writer)::bigint,
       count(*) FILTER (WHERE created_at < :cutoff)::bigint
  FROM {table};

-- name: range_template()^
-- Template: the oldest and newest created_at of {table}.
SELECT min(created_at), max(created_at) FROM {table};

-- name: detach_template()#
-- Template: detach a partition (a moment's ACCESS EXCLUSIVE on the parent; no scan).
ALTER TABLE {parent} DETACH PARTITION {partition};

-- name: rename_template()#
-- Template: rename a table ({name}: a bare identifier).
ALTER TABLE {table} RENAME TO {name};

-- name: create_partition_template()#
-- Template: a partition of {parent} for one range.
CREATE TABLE {partition} PARTITION OF {parent} FOR VALUES FROM ({range_from}) TO ({range_to});

-- name: route_rows_template()#
-- Template: copy every row of {source} into {parent}, each routed to its month.
INSERT INTO {parent} SELECT * FROM {source};

-- name: autovacuum_off_template()#
-- Template: keep autovacuum off a plain table while it is measured (the VACUUM after the
-- DELETE is run and timed by the benchmark itself).
ALTER TABLE {table} SET (autovacuum_enabled = false);

-- name: vacuum_analyze_template()#
-- Template: VACUUM (ANALYZE) one table (a partitioned one: every partition).
VACUUM (ANALYZE) {table};

-- name: vacuum_template()#
-- Template: a plain VACUUM, as autovacuum would run after a mass DELETE.
VACUUM {table};

-- name: delete_older_template(cutoff)!
-- Template: the spec's retention, row by row:
-- DELETE FROM user_activity_logs WHERE created_at < now() - interval '90 days'
-- (the cutoff computed once, so that both ways remove by the same instant).
DELETE FROM {table} WHERE created_at < :cutoff;
