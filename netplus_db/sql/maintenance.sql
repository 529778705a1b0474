-- The maintenance routine (`netplus-db maintain`): partitions of the history tables, retention,
-- and what the DBA reads (sizes, unused indexes, slow queries, idle transactions).
-- The *_template queries hold `{placeholders}`: they are never called through aiosql, but
-- composed in Python with psycopg.sql (netplus_db/ops/maintenance.py).

-- name: clock()$
-- The database's clock: retention's cutoffs are computed from it, not from the client's.
SELECT now();

-- name: history_partitions()
-- Every partition of the partitioned history tables: its range (NULL from: MINVALUE, NULL to:
-- MAXVALUE), whether it is the default one or being detached, planner row estimate, bytes.
SELECT parent.relname AS table_name,
       c.relname AS partition_name,
       b.bound = 'DEFAULT' AS is_default,
       CASE WHEN r.range[1] IS NULL OR r.range[1] = 'MINVALUE' THEN NULL
            ELSE btrim(r.range[1], '''')::timestamptz END AS range_from,
       CASE WHEN r.range[2] IS NULL OR r.range[2] = 'MAXVALUE' THEN NULL
            ELSE btrim(r.range[2], '''')::timestamptz END AS range_to,
       i.inhdetachpending AS detach_pending,
       greatest(c.reltuples, 0)::bigint AS estimated_rows,
       pg_total_relation_size(c.oid) AS bytes
  FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid
  JOIN pg_class parent ON parent.oid = i.inhparent
  JOIN pg_namespace n ON n.oid = parent.relnamespace
 CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS bound) AS b
 CROSS JOIN LATERAL (SELECT regexp_match(b.bound, '^FOR VALUES FROM \((.*)\) TO \((.*)\)$')
                            AS range) AS r
 WHERE n.nspname = 'public' AND parent.relkind = 'p'
   AND parent.relname IN ('learning_sessions', 'user_activity_logs')
 ORDER BY parent.relname, range_from NULLS FIRST, is_default;

-- name: create_partitions(months_ahead)
-- The monthly partitions from this month to months_ahead months ahead (0017's function).
SELECT table_name, partition_name, range_from, range_to, action
  FROM create_history_partitions(:months_ahead::int);

-- name: relation_exists(name)$
-- Whether a relation of this name exists in schema public.
SELECT to_regclass(format('public.%I', :name::text)) IS NOT NULL;

-- name: newest_row_template()^
-- Template: rows and the newest and oldest created_at of one table or partition ({table}).
SELECT count(*), max(created_at), min(created_at) FROM {table};

-- name: detach_concurrently_template()#
-- Template: detach a partition without blocking readers and writers of the parent (not
-- possible while the parent has a default partition, nor inside a transaction block).
ALTER TABLE {parent} DETACH PARTITION {partition} CONCURRENTLY;

-- name: detach_template()#
-- Template: detach a partition (ACCESS EXCLUSIVE on the parent for a moment: no scan).
ALTER TABLE {parent} DETACH PARTITION {partition};

-- name: finalize_detach_template()#
-- Template: complete a concurrent detach that was interrupted.
ALTER TABLE {parent} DETACH PARTITION {partition} FINALIZE;

-- name: attach_template()#
-- Template: put a detached partition back (a retention step that found a problem).
ALTER TABLE {parent} ATTACH PARTITION {partition} FOR VALUES FROM ({range_from}) TO ({range_to});

-- name: create_partition_template()#
-- Template: a partition for a range (loading an archive back whose month is gone).
CREATE TABLE {partition} PARTITION OF {parent} FOR VALUES FROM ({range_from}) TO ({range_to});

-- name: drop_template()#
-- Template: drop a detached partition whose archive was verified.
DROP TABLE {partition};

-- name: copy_out_template()#
-- Template: a partition's rows as CSV with a header, in a fixed order.
COPY (SELECT * FROM {table} ORDER BY id, created_at) TO STDOUT WITH (FORMAT csv, HEADER true);

-- name: copy_in_template()#
-- Template: load CSV rows with a header into a table, naming the columns.
COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, HEADER true);

-- name: content_checksum_template()$
-- Template: md5 of the rows of {table} in the range [{range_from}, {range_to}) as text, in byte
-- order: the same rows give the same checksum in a partition and, loaded back, in the parent.
SELECT md5(coalesce(string_agg(ROW(r.*)::text, E'\n' ORDER BY ROW(r.*)::text COLLATE "C"), ''))
  FROM {table} r
 WHERE r.created_at >= {range_from} AND r.created_at < {range_to};

-- name: columns(name)
-- The columns of a table of schema public, in table order.
SELECT a.attname
  FROM pg_attribute a
 WHERE a.attrelid = format('public.%I', :name::text)::regclass AND a.attnum > 0
   AND NOT a.attisdropped
 ORDER BY a.attnum;

-- name: refresh_views()
-- The spec's daily refresh of the materialized views.
SELECT refresh_analytics_views();

-- name: refresh_item_statistics()^
-- The daily rebuild of the item statistics (migration 0019): questions, answers, flagged.
SELECT questions, answers, flagged FROM refresh_item_statistics();

-- name: statements_extension()^
-- Whether pg_stat_statements is installed in this database, and whether the server loads it.
SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'),
       'pg_stat_statements' = ANY (string_to_array(
           replace(current_setting('shared_preload_libraries'), ' ', ''), ','));

-- name: slow_queries(limit)
-- The spec's "check slow queries": the statements of this database slowest on average.
SELECT left(regexp_replace(s.query, '\s+', ' ', 'g'), 200) AS query,
       s.calls,
       round(s.mean_exec_time::numeric, 3) AS mean_ms,
       round(s.total_exec_time::numeric, 1) AS total_ms,
       s.rows
  FROM pg_stat_statements s
 WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
 ORDER BY s.mean_exec_time DESC
 LIMIT :limit::int;

-- name: unused_indexes()
-- Indexes never scanned since the statistics were reset, that enforce nothing (not primary or
-- unique), with their size: candidates for removal after a review. Partitions' indexes are
-- reported under their partitioned table's index.
SELECT coalesce(parent_index.relname, s.indexrelname) AS index_name,
       coalesce(parent_table.relname, s.relname) AS table_name,
       count(*) AS pieces,
       sum(pg_relation_size(s.indexrelid))::bigint AS bytes
  FROM pg_stat_user_indexes s
  JOIN pg_index i ON i.indexrelid = s.indexrelid
  LEFT JOIN pg_inherits ii ON ii.inhrelid = s.indexrelid
  LEFT JOIN pg_class parent_index ON parent_index.oid = ii.inhparent
  LEFT JOIN pg_inherits it ON it.inhrelid = s.relid
  LEFT JOIN pg_class parent_table ON parent_table.oid = it.inhparent
 WHERE s.schemaname = 'public' AND NOT i.indisunique AND NOT i.indisprimary
 GROUP BY 1, 2
HAVING sum(s.idx_scan) = 0
 ORDER BY bytes DESC, index_name;

-- name: stats_since()$
-- When this database's statistics were last reset (NULL: never, i.e. since the cluster began).
SELECT stats_reset FROM pg_stat_database WHERE datname = current_database();

-- name: table_sizes(limit)
-- The largest tables and materialized views of schema public (a partitioned table with all its
-- partitions), by total size: table, indexes, rows (planner estimate).
SELECT c.relname AS name,
       CASE c.relkind WHEN 'p' THEN 'partitioned table' WHEN 'm' THEN 'materialized view'
                      ELSE 'table' END AS kind,
       sum(pg_table_size(t.relid))::bigint AS table_bytes,
       sum(pg_indexes_size(t.relid))::bigint AS index_bytes,
       sum(pg_total_relation_size(t.relid))::bigint AS total_bytes,
       sum(greatest(tc.reltuples, 0))::bigint AS estimated_rows
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN LATERAL (SELECT c.oid::regclass AS relid WHERE c.relkind <> 'p'
                     UNION ALL
                     SELECT pt.relid FROM pg_partition_tree(c.oid) pt
                      WHERE c.relkind = 'p' AND pt.isleaf) AS t
  JOIN pg_class tc ON tc.oid = t.relid
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition
 GROUP BY c.relname, c.relkind
 ORDER BY total_bytes DESC, name
 LIMIT :limit::int;

-- name: index_sizes(limit)
-- The largest indexes of schema public (a partitioned index with all its partitions' indexes).
SELECT c.relname AS name,
       tbl.relname AS table_name,
       sum(pg_relation_size(t.relid))::bigint AS bytes
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_index i ON i.indexrelid = c.oid
  JOIN pg_class tbl ON tbl.oid = i.indrelid
 CROSS JOIN LATERAL (SELECT c.oid::regclass AS relid WHERE c.relkind <> 'I'
                     UNION ALL
                     SELECT pt.relid FROM pg_partition_tree(c.oid) pt
                      WHERE c.relkind = 'I' AND pt.isleaf) AS t
 WHERE n.nspname = 'public' AND c.relkind IN ('i', 'I') AND NOT c.relispartition
 GROUP BY c.relname, tbl.relname
 ORDER BY bytes DESC, name
 LIMIT :limit::int;

-- name: idle_in_transaction(seconds)
-- Sessions idle in a transaction for longer than `seconds`: they hold locks and stop VACUUM.
SELECT pid,
       usename AS role,
       coalesce(nullif(application_name, ''), '(no application name)') AS application,
       state,
       round(extract(epoch FROM now() - state_change))::bigint AS idle_seconds,
       round(extract(epoch FROM now() - xact_start))::bigint AS transaction_seconds,
       left(query, 200) AS last_query
  FROM pg_stat_activity
 WHERE state IN ('idle in transaction', 'idle in transaction (aborted)')
   AND now() - state_change > make_interval(secs => :seconds::double precision)
 ORDER BY state_change;

-- name: table_activity()
-- Per table of schema public: dead rows and when it was last vacuumed and analyzed.
SELECT relname AS name,
       n_live_tup AS live_rows,
       n_dead_tup AS dead_rows,
       greatest(last_vacuum, last_autovacuum) AS last_vacuum,
       greatest(last_analyze, last_autoanalyze) AS last_analyze
  FROM pg_stat_user_tables
 WHERE schemaname = 'public'
 ORDER BY n_dead_tup DESC, relname;

-- name: pg_cron_installed()$
-- Whether the pg_cron extension is installed in this database.
SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron');

-- name: analyze#
-- The spec's weekly ANALYZE of every table.
ANALYZE;

-- name: vacuum_analyze#
-- The spec's monthly VACUUM ANALYZE (outside a transaction block: autocommit connections only).
VACUUM (ANALYZE);
