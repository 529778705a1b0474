-- migrate:up transaction:false lock_timeout:5s
-- 0017 partitioned history: learning_sessions and user_activity_logs become tables
-- partitioned by month on created_at (UTC months), as the ERD's "Partitioning Strategy"
-- asks, so that retention detaches and drops whole months instead of deleting rows.
--
-- Online conversion of a populated table T, in four steps that each commit:
--   1. CREATE UNIQUE INDEX CONCURRENTLY on T (id, created_at): the future primary key of the
--      "before" partition, built without blocking writes.
--   2. ADD CONSTRAINT T_created_at_before CHECK (created_at < B) NOT VALID (a moment's lock),
--      then VALIDATE it (SHARE UPDATE EXCLUSIVE: reads and writes go on during the scan).
--      B is the first day (UTC) of next month, or of the month after when the current month
--      ends within a day, so that no insert made before the swap can fail the check.
--   3. The swap, one short transaction: it first takes ACCESS EXCLUSIVE on both tables, on
--      users and learning_components (ATTACH moves foreign-key triggers on them) and on the
--      materialized view, all at once or none (tries of 200 ms, so that it never deadlocks
--      with the application); every query on those tables waits until it commits. T is renamed
--      T_before and becomes the partition FOR VALUES FROM (MINVALUE) TO (B) of a new
--      partitioned T; the valid CHECK proves the partition constraint, so ATTACH scans nothing,
--      and the indexes, CHECKs and foreign keys already on T are attached, not rebuilt.
--      The grants (column privileges of 0013 included), RLS policies, comments and the
--      materialized view mv_daily_user_activity (re-created on the new table: its only cost
--      under the lock is one aggregate over learning_sessions) move to the new parent; the
--      partitions themselves are reachable by their owner only. A DEFAULT partition catches
--      rows outside every monthly range (`netplus-db maintain report` watches it).
--   4. Monthly partitions from B to three months ahead (create_history_partitions(3)).
-- NOT NULL constraints are named as before: PostgreSQL 18 names them, and would otherwise
-- pick new names beside the old table's (older servers accept and ignore the names).
-- Primary keys: PRIMARY KEY (id, created_at), as a partitioned table's unique constraints
-- must include the partition key. A row is still addressed by id alone (every partition's
-- primary key index answers a look-up by id).
-- Each statement can be re-run: a run stopped before the swap continues where it stopped;
-- the swap is all or nothing.

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS learning_sessions_before_pkey
    ON learning_sessions (id, created_at);

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS user_activity_logs_before_pkey
    ON user_activity_logs (id, created_at);

-- Step 2, for both tables: the range check, added NOT VALID, committed, then validated.
DO $$
DECLARE
    v_table text;
    v_bound timestamptz;
    v_month timestamp := date_trunc('month', now() AT TIME ZONE 'UTC');
BEGIN
    v_bound := (v_month + interval '1 month') AT TIME ZONE 'UTC';
    IF now() > v_bound - interval '1 day' THEN
        v_bound := (v_month + interval '2 months') AT TIME ZONE 'UTC';
    END IF;
    FOREACH v_table IN ARRAY ARRAY['learning_sessions', 'user_activity_logs'] LOOP
        CONTINUE WHEN (SELECT relkind FROM pg_class
                        WHERE oid = format('public.%I', v_table)::regclass) = 'p';
        IF NOT EXISTS (SELECT 1 FROM pg_constraint
                        WHERE conname = v_table || '_created_at_before'
                          AND conrelid = format('public.%I', v_table)::regclass) THEN
            EXECUTE format('ALTER TABLE public.%I ADD CONSTRAINT %I CHECK (created_at < %L) NOT VALID',
                           v_table, v_table || '_created_at_before', v_bound);
            COMMIT;
        END IF;
        EXECUTE format('ALTER TABLE public.%I VALIDATE CONSTRAINT %I',
                       v_table, v_table || '_created_at_before');
        COMMIT;
    END LOOP;
END
$$;

-- The partitions ahead, for step 4 and for `netplus-db maintain` (and pg_cron where present).
CREATE OR REPLACE FUNCTION create_history_partitions(p_months_ahead integer DEFAULT 3)
RETURNS TABLE (table_name text, partition_name text, range_from timestamptz,
               range_to timestamptz, action text)
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, public, pg_temp
AS $fn$
DECLARE
    v_month timestamp := date_trunc('month', now() AT TIME ZONE 'UTC');
    v_i integer;
BEGIN
    IF p_months_ahead IS NULL OR p_months_ahead < 0 OR p_months_ahead > 120 THEN
        RAISE EXCEPTION 'months_ahead: % is not a whole number from 0 to 120', p_months_ahead
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH table_name IN ARRAY ARRAY['learning_sessions', 'user_activity_logs'] LOOP
        FOR v_i IN 0 .. p_months_ahead LOOP
            range_from := (v_month + make_interval(months => v_i)) AT TIME ZONE 'UTC';
            range_to := (v_month + make_interval(months => v_i + 1)) AT TIME ZONE 'UTC';
            partition_name := table_name || '_p'
                              || to_char(v_month + make_interval(months => v_i), 'YYYY_MM');
            IF to_regclass(format('public.%I', partition_name)) IS NOT NULL THEN
                action := 'exists';
            ELSE
                BEGIN
                    EXECUTE format('CREATE TABLE public.%I PARTITION OF public.%I'
                                   ' FOR VALUES FROM (%L) TO (%L)',
                                   partition_name, table_name, range_from, range_to);
                    action := 'created';
                EXCEPTION
                    WHEN invalid_object_definition THEN
                        action := 'covered';  -- another partition (the "before" one) holds it
                    WHEN check_violation THEN
                        action := 'blocked';  -- the default partition holds rows of this month
                END;
            END IF;
            RETURN NEXT;
        END LOOP;
    END LOOP;
END;
$fn$;

COMMENT ON FUNCTION create_history_partitions(integer) IS
    'Create the monthly (UTC) partitions of learning_sessions and user_activity_logs from this month to p_months_ahead months ahead. action: created, exists, covered (by another partition), blocked (the default partition holds rows of that month: move them first).';

REVOKE EXECUTE ON FUNCTION create_history_partitions(integer) FROM PUBLIC;

-- Step 3, the swap, and step 4: one transaction.
DO $$
DECLARE
    v_bound_ls timestamptz;
    v_bound_ual timestamptz;
    v_tries integer := 0;
BEGIN
    IF (SELECT relkind FROM pg_class WHERE oid = 'public.learning_sessions'::regclass) = 'p'
       AND (SELECT relkind FROM pg_class WHERE oid = 'public.user_activity_logs'::regclass) = 'p' THEN
        RETURN;  -- converted by an earlier run
    END IF;
    SELECT substring(pg_get_constraintdef(oid) FROM '''([^'']+)''')::timestamptz INTO v_bound_ls
      FROM pg_constraint
     WHERE conname = 'learning_sessions_created_at_before' AND convalidated;
    SELECT substring(pg_get_constraintdef(oid) FROM '''([^'']+)''')::timestamptz INTO v_bound_ual
      FROM pg_constraint
     WHERE conname = 'user_activity_logs_created_at_before' AND convalidated;
    IF v_bound_ls IS NULL OR v_bound_ual IS NULL THEN
        RAISE EXCEPTION 'the validated created_at range checks are missing: run this migration again';
    END IF;

    -- Every lock the swap needs, all at once or none: the application takes users before
    -- user_activity_logs (a login) and the other way round (a log entry's foreign key check),
    -- so waiting for one lock while holding another could deadlock. Each try waits at most
    -- 200 ms, then lets go of everything and tries again (50 tries, about 15 s at worst).
    -- users and learning_components: ATTACH moves the old tables' foreign-key triggers, which
    -- takes ACCESS EXCLUSIVE on the referenced tables.
    LOOP
        BEGIN
            PERFORM set_config('lock_timeout', '200ms', true);
            LOCK TABLE users, learning_components, learning_sessions, user_activity_logs
                IN ACCESS EXCLUSIVE MODE;
            DROP MATERIALIZED VIEW mv_daily_user_activity;  -- its lock too, in the same try
            EXIT;
        EXCEPTION WHEN lock_not_available THEN
            v_tries := v_tries + 1;
            IF v_tries >= 50 THEN
                RAISE EXCEPTION 'could not lock users, learning_components and the history tables in 50 tries of 200 ms: a long transaction holds one of them; nothing was changed, run this migration again'
                    USING ERRCODE = 'lock_not_available';
            END IF;
            PERFORM pg_sleep(0.1);
        END;
    END LOOP;

    -- learning_sessions ------------------------------------------------------------------
    ALTER TABLE learning_sessions RENAME TO learning_sessions_before;
    ALTER TABLE learning_sessions_before
        DROP CONSTRAINT learning_sessions_pkey,
        ADD CONSTRAINT learning_sessions_before_pkey PRIMARY KEY
            USING INDEX learning_sessions_before_pkey;
    ALTER INDEX idx_learning_sessions_user_id_session_start
        RENAME TO learning_sessions_before_user_id_session_start_idx;
    ALTER INDEX idx_learning_sessions_component_id_session_start
        RENAME TO learning_sessions_before_component_id_session_start_idx;
    DROP POLICY learning_sessions_admin_all ON learning_sessions_before;
    DROP POLICY learning_sessions_readonly_select ON learning_sessions_before;
    DROP POLICY learning_sessions_own_rows ON learning_sessions_before;
    ALTER TABLE learning_sessions_before NO FORCE ROW LEVEL SECURITY;
    ALTER TABLE learning_sessions_before DISABLE ROW LEVEL SECURITY;
    REVOKE ALL ON learning_sessions_before FROM app_user, readonly, admin;
    REVOKE ALL (user_id, component_id, device_type, session_data)
        ON learning_sessions_before FROM app_user;
    COMMENT ON TABLE learning_sessions_before IS NULL;

    CREATE TABLE learning_sessions (
        id                   uuid          CONSTRAINT learning_sessions_id_not_null NOT NULL DEFAULT gen_random_uuid(),
        user_id              uuid          CONSTRAINT learning_sessions_user_id_not_null NOT NULL,
        component_id         uuid          CONSTRAINT learning_sessions_component_id_not_null NOT NULL,
        session_start        timestamptz   CONSTRAINT learning_sessions_session_start_not_null NOT NULL DEFAULT now(),
        session_end          timestamptz,
        duration_minutes     integer       CONSTRAINT learning_sessions_duration_minutes_not_null NOT NULL DEFAULT 0,
        interaction_count    integer       CONSTRAINT learning_sessions_interaction_count_not_null NOT NULL DEFAULT 0,
        completion_achieved  boolean       CONSTRAINT learning_sessions_completion_achieved_not_null NOT NULL DEFAULT false,
        device_type          varchar(30),
        session_data         jsonb         CONSTRAINT learning_sessions_session_data_not_null NOT NULL DEFAULT '{}',
        created_at           timestamptz   CONSTRAINT learning_sessions_created_at_not_null NOT NULL DEFAULT now(),

        CONSTRAINT learning_sessions_pkey PRIMARY KEY (id, created_at),
        CONSTRAINT learning_sessions_user_id_fkey
            FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
        CONSTRAINT learning_sessions_component_id_fkey
            FOREIGN KEY (component_id) REFERENCES learning_components (id) ON DELETE CASCADE,
        CONSTRAINT learning_sessions_session_end_check
            CHECK (session_end >= session_start),
        CONSTRAINT learning_sessions_duration_minutes_check
            CHECK (duration_minutes >= 0),
        CONSTRAINT learning_sessions_interaction_count_check
            CHECK (interaction_count >= 0),
        CONSTRAINT learning_sessions_device_type_check
            CHECK (device_type IN ('desktop', 'tablet', 'mobile'))
    ) PARTITION BY RANGE (created_at);
    COMMENT ON TABLE learning_sessions IS
        'Detailed learning session tracking for analytics. Partitioned by month (UTC) of created_at; retention drops whole months (netplus-db maintain).';
    CREATE INDEX idx_learning_sessions_user_id_session_start
        ON learning_sessions (user_id, session_start DESC);
    CREATE INDEX idx_learning_sessions_component_id_session_start
        ON learning_sessions (component_id, session_start);
    EXECUTE format('ALTER TABLE learning_sessions ATTACH PARTITION learning_sessions_before'
                   ' FOR VALUES FROM (MINVALUE) TO (%L)', v_bound_ls);
    ALTER TABLE learning_sessions_before DROP CONSTRAINT learning_sessions_created_at_before;
    CREATE TABLE learning_sessions_default PARTITION OF learning_sessions DEFAULT;

    ALTER TABLE learning_sessions ENABLE ROW LEVEL SECURITY;
    ALTER TABLE learning_sessions FORCE ROW LEVEL SECURITY;
    CREATE POLICY learning_sessions_own_rows ON learning_sessions
        FOR ALL TO app_user
        USING (user_id = app_current_user_id())
        WITH CHECK (user_id = app_current_user_id());
    CREATE POLICY learning_sessions_readonly_select ON learning_sessions
        FOR SELECT TO readonly
        USING (true);
    CREATE POLICY learning_sessions_admin_all ON learning_sessions
        FOR ALL TO admin
        USING (true) WITH CHECK (true);
    GRANT SELECT ON learning_sessions TO readonly;
    GRANT ALL ON learning_sessions TO admin;
    GRANT SELECT ON learning_sessions TO app_user;
    GRANT INSERT (user_id, component_id, device_type, session_data) ON learning_sessions TO app_user;

    CREATE MATERIALIZED VIEW mv_daily_user_activity AS
    SELECT
        (ls.session_start AT TIME ZONE 'UTC')::date           AS activity_date,
        count(DISTINCT ls.user_id)                            AS active_users,
        count(*)                                              AS total_sessions,
        coalesce(sum(ls.duration_minutes), 0)                 AS total_minutes,
        round(avg(ls.duration_minutes), 2)                    AS average_minutes,
        count(*) FILTER (WHERE ls.completion_achieved)        AS completions
    FROM learning_sessions AS ls
    GROUP BY (ls.session_start AT TIME ZONE 'UTC')::date
    WITH DATA;
    CREATE UNIQUE INDEX idx_mv_daily_user_activity_activity_date
        ON mv_daily_user_activity (activity_date);
    COMMENT ON MATERIALIZED VIEW mv_daily_user_activity IS
        'Daily (UTC) learning activity from learning_sessions: active users, sessions, total/average minutes, completions. Refresh nightly with refresh_analytics_views().';
    GRANT SELECT ON mv_daily_user_activity TO app_user, readonly;
    GRANT ALL ON mv_daily_user_activity TO admin;

    -- user_activity_logs -----------------------------------------------------------------
    ALTER TABLE user_activity_logs RENAME TO user_activity_logs_before;
    ALTER TABLE user_activity_logs_before
        DROP CONSTRAINT user_activity_logs_pkey,
        ADD CONSTRAINT user_activity_logs_before_pkey PRIMARY KEY
            USING INDEX user_activity_logs_before_pkey;
    ALTER INDEX idx_user_activity_logs_user_id_created_at
        RENAME TO user_activity_logs_before_user_id_created_at_idx;
    ALTER INDEX idx_user_activity_logs_activity_type
        RENAME TO user_activity_logs_before_activity_type_idx;
    ALTER INDEX idx_user_activity_logs_created_at
        RENAME TO user_activity_logs_before_created_at_idx;
    DROP POLICY user_activity_logs_admin_all ON user_activity_logs_before;
    DROP POLICY user_activity_logs_readonly_select ON user_activity_logs_before;
    DROP POLICY user_activity_logs_anonymous_insert ON user_activity_logs_before;
    DROP POLICY user_activity_logs_own_rows ON user_activity_logs_before;
    ALTER TABLE user_activity_logs_before NO FORCE ROW LEVEL SECURITY;
    ALTER TABLE user_activity_logs_before DISABLE ROW LEVEL SECURITY;
    REVOKE ALL ON user_activity_logs_before FROM app_user, readonly, admin;
    REVOKE ALL (user_id, activity_type, activity_description, resource_type, resource_id,
                metadata, ip_address, user_agent)
        ON user_activity_logs_before FROM app_user;
    COMMENT ON TABLE user_activity_logs_before IS NULL;

    CREATE TABLE user_activity_logs (
        id                    uuid          CONSTRAINT user_activity_logs_id_not_null NOT NULL DEFAULT gen_random_uuid(),
        user_id               uuid,
        activity_type         varchar(100)  CONSTRAINT user_activity_logs_activity_type_not_null NOT NULL,
        activity_description  text,
        resource_type         varchar(100),
        resource_id           uuid,
        metadata              jsonb         CONSTRAINT user_activity_logs_metadata_not_null NOT NULL DEFAULT '{}',
        ip_address            inet,
        user_agent            text,
        created_at            timestamptz   CONSTRAINT user_activity_logs_created_at_not_null NOT NULL DEFAULT now(),

        CONSTRAINT user_activity_logs_pkey PRIMARY KEY (id, created_at),
        CONSTRAINT user_activity_logs_user_id_fkey
            FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL,
        CONSTRAINT user_activity_logs_activity_type_check
            CHECK (btrim(activity_type) <> '')
    ) PARTITION BY RANGE (created_at);
    COMMENT ON TABLE user_activity_logs IS
        'Comprehensive user activity audit trail (kept, with user_id NULL, when the user is deleted). Partitioned by month (UTC) of created_at; retention drops whole months (netplus-db maintain).';
    CREATE INDEX idx_user_activity_logs_user_id_created_at
        ON user_activity_logs (user_id, created_at DESC);
    CREATE INDEX idx_user_activity_logs_activity_type
        ON user_activity_logs (activity_type);
    CREATE INDEX idx_user_activity_logs_created_at
        ON user_activity_logs (created_at);
    EXECUTE format('ALTER TABLE user_activity_logs ATTACH PARTITION user_activity_logs_before'
                   ' FOR VALUES FROM (MINVALUE) TO (%L)', v_bound_ual);
    ALTER TABLE user_activity_logs_before DROP CONSTRAINT user_activity_logs_created_at_before;
    CREATE TABLE user_activity_logs_default PARTITION OF user_activity_logs DEFAULT;

    ALTER TABLE user_activity_logs ENABLE ROW LEVEL SECURITY;
    ALTER TABLE user_activity_logs FORCE ROW LEVEL SECURITY;
    CREATE POLICY user_activity_logs_own_rows ON user_activity_logs
        FOR ALL TO app_user
        USING (user_id = app_current_user_id())
        WITH CHECK (user_id = app_current_user_id());
    CREATE POLICY user_activity_logs_anonymous_insert ON user_activity_logs
        FOR INSERT TO app_user
        WITH CHECK (user_id IS NULL);
    CREATE POLICY user_activity_logs_readonly_select ON user_activity_logs
        FOR SELECT TO readonly
        USING (true);
    CREATE POLICY user_activity_logs_admin_all ON user_activity_logs
        FOR ALL TO admin
        USING (true) WITH CHECK (true);
    GRANT SELECT ON user_activity_logs TO readonly;
    GRANT ALL ON user_activity_logs TO admin;
    GRANT SELECT ON user_activity_logs TO app_user;
    GRANT INSERT (user_id, activity_type, activity_description, resource_type, resource_id,
                  metadata, ip_address, user_agent)
        ON user_activity_logs TO app_user;

    -- Step 4.
    PERFORM create_history_partitions(3);
END
$$;

-- migrate:down
-- Back to plain tables with every row: each partitioned table is copied into a plain table
-- built exactly as 0003/0006 (and 0009/0013 for policies and grants) left it, the partitioned
-- one dropped with its partitions, the materialized view re-created. One transaction; it holds
-- ACCESS EXCLUSIVE on both tables while it copies (seconds per million rows): a maintenance
-- window operation. Partitions detached by retention (and their archives) are not brought back.

DROP MATERIALIZED VIEW mv_daily_user_activity;
-- The copies below must see every row, also when the migration runs as the owner (FORCE RLS).
ALTER TABLE learning_sessions NO FORCE ROW LEVEL SECURITY;
ALTER TABLE user_activity_logs NO FORCE ROW LEVEL SECURITY;
-- The partitioned tables step aside first, so that the plain ones are created under their own
-- names. PostgreSQL 18 names NOT NULL constraints, avoiding names in use in the schema: the
-- plain tables name theirs as they were (older servers accept and ignore those names).
ALTER TABLE learning_sessions RENAME TO learning_sessions_partitioned;
ALTER TABLE user_activity_logs RENAME TO user_activity_logs_partitioned;

CREATE TABLE learning_sessions (
    id                   uuid          CONSTRAINT learning_sessions_id_not_null NOT NULL DEFAULT gen_random_uuid(),
    user_id              uuid          CONSTRAINT learning_sessions_user_id_not_null NOT NULL,
    component_id         uuid          CONSTRAINT learning_sessions_component_id_not_null NOT NULL,
    session_start        timestamptz   CONSTRAINT learning_sessions_session_start_not_null NOT NULL DEFAULT now(),
    session_end          timestamptz,
    duration_minutes     integer       CONSTRAINT learning_sessions_duration_minutes_not_null NOT NULL DEFAULT 0,
    interaction_count    integer       CONSTRAINT learning_sessions_interaction_count_not_null NOT NULL DEFAULT 0,
    completion_achieved  boolean       CONSTRAINT learning_sessions_completion_achieved_not_null NOT NULL DEFAULT false,
    device_type          varchar(30),
    session_data         jsonb         CONSTRAINT learning_sessions_session_data_not_null NOT NULL DEFAULT '{}',
    created_at           timestamptz   CONSTRAINT learning_sessions_created_at_not_null NOT NULL DEFAULT now(),

    CONSTRAINT learning_sessions_session_end_check
        CHECK (session_end >= session_start),
    CONSTRAINT learning_sessions_duration_minutes_check
        CHECK (duration_minutes >= 0),
    CONSTRAINT learning_sessions_interaction_count_check
        CHECK (interaction_count >= 0),
    CONSTRAINT learning_sessions_device_type_check
        CHECK (device_type IN ('desktop', 'tablet', 'mobile'))
);
INSERT INTO learning_sessions SELECT * FROM learning_sessions_partitioned;
DROP TABLE learning_sessions_partitioned;
ALTER TABLE learning_sessions
    ADD CONSTRAINT learning_sessions_pkey PRIMARY KEY (id),
    ADD CONSTRAINT learning_sessions_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    ADD CONSTRAINT learning_sessions_component_id_fkey
        FOREIGN KEY (component_id) REFERENCES learning_components (id) ON DELETE CASCADE;
COMMENT ON TABLE learning_sessions IS
    'Detailed learning session tracking for analytics.';
CREATE INDEX idx_learning_sessions_user_id_session_start
    ON learning_sessions (user_id, session_start DESC);
CREATE INDEX idx_learning_sessions_component_id_session_start
    ON learning_sessions (component_id, session_start);
ALTER TABLE learning_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE learning_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY learning_sessions_own_rows ON learning_sessions
    FOR ALL TO app_user
    USING (user_id = app_current_user_id())
    WITH CHECK (user_id = app_current_user_id());
CREATE POLICY learning_sessions_readonly_select ON learning_sessions
    FOR SELECT TO readonly
    USING (true);
CREATE POLICY learning_sessions_admin_all ON learning_sessions
    FOR ALL TO admin
    USING (true) WITH CHECK (true);
GRANT SELECT ON learning_sessions TO readonly;
GRANT ALL ON learning_sessions TO admin;
GRANT SELECT ON learning_sessions TO app_user;
GRANT INSERT (user_id, component_id, device_type, session_data) ON learning_sessions TO app_user;

CREATE MATERIALIZED VIEW mv_daily_user_activity AS
SELECT
    (ls.session_start AT TIME ZONE 'UTC')::date           AS activity_date,
    count(DISTINCT ls.user_id)                            AS active_users,
    count(*)                                              AS total_sessions,
    coalesce(sum(ls.duration_minutes), 0)                 AS total_minutes,
    round(avg(ls.duration_minutes), 2)                    AS average_minutes,
    count(*) FILTER (WHERE ls.completion_achieved)        AS completions
FROM learning_sessions AS ls
GROUP BY (ls.session_start AT TIME ZONE 'UTC')::date
WITH DATA;
CREATE UNIQUE INDEX idx_mv_daily_user_activity_activity_date
    ON mv_daily_user_activity (activity_date);
COMMENT ON MATERIALIZED VIEW mv_daily_user_activity IS
    'Daily (UTC) learning activity from learning_sessions: active users, sessions, total/average minutes, completions. Refresh nightly with refresh_analytics_views().';
GRANT SELECT ON mv_daily_user_activity TO app_user, readonly;
GRANT ALL ON mv_daily_user_activity TO admin;

CREATE TABLE user_activity_logs (
    id                    uuid          CONSTRAINT user_activity_logs_id_not_null NOT NULL DEFAULT gen_random_uuid(),
    user_id               uuid,
    activity_type         varchar(100)  CONSTRAINT user_activity_logs_activity_type_not_null NOT NULL,
    activity_description  text,
    resource_type         varchar(100),
    resource_id           uuid,
    metadata              jsonb         CONSTRAINT user_activity_logs_metadata_not_null NOT NULL DEFAULT '{}',
    ip_address            inet,
    user_agent            text,
    created_at            timestamptz   CONSTRAINT user_activity_logs_created_at_not_null NOT NULL DEFAULT now(),

    CONSTRAINT user_activity_logs_activity_type_check
        CHECK (btrim(activity_type) <> '')
);
INSERT INTO user_activity_logs SELECT * FROM user_activity_logs_partitioned;
DROP TABLE user_activity_logs_partitioned;
ALTER TABLE user_activity_logs
    ADD CONSTRAINT user_activity_logs_pkey PRIMARY KEY (id),
    ADD CONSTRAINT user_activity_logs_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL;
COMMENT ON TABLE user_activity_logs IS
    'Comprehensive user activity audit trail (kept, with user_id NULL, when the user is deleted).';
CREATE INDEX idx_user_activity_logs_user_id_created_at
    ON user_activity_logs (user_id, created_at DESC);
CREATE INDEX idx_user_activity_logs_activity_type
    ON user_activity_logs (activity_type);
CREATE INDEX idx_user_activity_logs_created_at
    ON user_activity_logs (created_at);
ALTER TABLE user_activity_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_activity_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY user_activity_logs_own_rows ON user_activity_logs
    FOR ALL TO app_user
    USING (user_id = app_current_user_id())
    WITH CHECK (user_id = app_current_user_id());
CREATE POLICY user_activity_logs_anonymous_insert ON user_activity_logs
    FOR INSERT TO app_user
    WITH CHECK (user_id IS NULL);
CREATE POLICY user_activity_logs_readonly_select ON user_activity_logs
    FOR SELECT TO readonly
    USING (true);
CREATE POLICY user_activity_logs_admin_all ON user_activity_logs
    FOR ALL TO admin
    USING (true) WITH CHECK (true);
GRANT SELECT ON user_activity_logs TO readonly;
GRANT ALL ON user_activity_logs TO admin;
GRANT SELECT ON user_activity_logs TO app_user;
GRANT INSERT (user_id, activity_type, activity_description, resource_type, resource_id,
              metadata, ip_address, user_agent)
    ON user_activity_logs TO app_user;

DROP FUNCTION create_history_partitions(integer);
