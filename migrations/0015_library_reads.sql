-- migrate:up
-- 0015 library reads: the leaderboard, and streak days in the learner's time zone.
--
-- The leaderboard: learners see each other's usernames and achievement points, and nothing
-- else, through one SECURITY DEFINER function (RLS keeps every other user's rows from a
-- learner's transaction). Points come from mv_leaderboard, refreshed with the other views by
-- refresh_analytics_views(): a top-N read at 100,000 users is an index scan, not an
-- aggregate over every award. Who opted out is read at call time, so hiding takes effect
-- at once: user_settings.privacy_settings {"show_on_leaderboard": false} (the spec's
-- privacy field; absent or true: shown).
--
-- Streak days: a completion counts for the learner's calendar day in
-- user_profiles.timezone (UTC when the profile names no zone PostgreSQL knows), not the
-- server's. apply_progress (0013) is redefined to take its day from learner_day; the
-- streak update itself (update_learning_streak, 0007) is unchanged, and still serialises
-- on the learner's streak row. Goal completion dates use the same day.

CREATE MATERIALIZED VIEW mv_leaderboard AS
SELECT ua.user_id,
       sum(a.points)::bigint                                                    AS points_all_time,
       coalesce(sum(a.points) FILTER (WHERE ua.earned_at >= now() - interval '7 days'), 0)::bigint
                                                                                AS points_week,
       now()                                                                    AS refreshed_at
  FROM user_achievements ua
  JOIN achievements a ON a.id = ua.achievement_id
 GROUP BY ua.user_id
WITH DATA;

-- The view was created just above in this transaction: nobody else can see it yet, so a
-- plain index build blocks no one (squawk does not know materialized views are new).
-- Required by REFRESH MATERIALIZED VIEW CONCURRENTLY:
-- squawk-ignore require-concurrent-index-creation
CREATE UNIQUE INDEX idx_mv_leaderboard_user_id ON mv_leaderboard (user_id);
-- The two rankings read from the top: an index scan that stops after the page.
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX idx_mv_leaderboard_all_time ON mv_leaderboard (points_all_time DESC, user_id);
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX idx_mv_leaderboard_week ON mv_leaderboard (points_week DESC, user_id)
    WHERE points_week > 0;

COMMENT ON MATERIALIZED VIEW mv_leaderboard IS
    'Achievement points per user, all time and in the 7 days before the refresh (refreshed_at), for leaderboard(). Refresh with refresh_analytics_views(). Learners read it only through leaderboard().';

GRANT SELECT ON TABLE mv_leaderboard TO readonly;
GRANT ALL ON TABLE mv_leaderboard TO admin;

CREATE FUNCTION leaderboard(p_period text, p_limit integer)
RETURNS TABLE (rank bigint, username varchar, points bigint, as_of timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF p_period IS NULL OR p_period NOT IN ('all_time', 'week') THEN
        RAISE EXCEPTION 'period: must be all_time or week'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION 'page_size: must be between 1 and 100'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_period = 'all_time' THEN
        RETURN QUERY
            SELECT rank() OVER (ORDER BY l.points_all_time DESC), u.username,
                   l.points_all_time, l.refreshed_at
              FROM mv_leaderboard l
              JOIN users u ON u.id = l.user_id
              JOIN user_settings s ON s.user_id = l.user_id
             WHERE l.points_all_time > 0
               AND u.deleted_at IS NULL AND u.account_status = 'active'
               AND (s.privacy_settings -> 'show_on_leaderboard') IS DISTINCT FROM 'false'::jsonb
             ORDER BY l.points_all_time DESC, l.user_id
             LIMIT p_limit;
    ELSE
        RETURN QUERY
            SELECT rank() OVER (ORDER BY l.points_week DESC), u.username,
                   l.points_week, l.refreshed_at
              FROM mv_leaderboard l
              JOIN users u ON u.id = l.user_id
              JOIN user_settings s ON s.user_id = l.user_id
             WHERE l.points_week > 0
               AND u.deleted_at IS NULL AND u.account_status = 'active'
               AND (s.privacy_settings -> 'show_on_leaderboard') IS DISTINCT FROM 'false'::jsonb
             ORDER BY l.points_week DESC, l.user_id
             LIMIT p_limit;
    END IF;
END;
$$;

COMMENT ON FUNCTION leaderboard(text, integer) IS
    'The top p_limit (1-100) active learners by achievement points, all_time or week (the 7 days before the last refresh of mv_leaderboard, as_of): rank, username and points only. Learners who set user_settings.privacy_settings.show_on_leaderboard to false are left out, from the moment they do. Usable in a learner''s transaction.';

REVOKE EXECUTE ON FUNCTION leaderboard(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leaderboard(text, integer) TO app_user, admin, readonly;

CREATE FUNCTION learner_day(p_user_id uuid, p_at timestamptz)
RETURNS date
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_zone text;
BEGIN
    SELECT p.timezone INTO v_zone FROM user_profiles p WHERE p.user_id = p_user_id;
    BEGIN
        RETURN (p_at AT TIME ZONE coalesce(v_zone, 'UTC'))::date;
    EXCEPTION WHEN invalid_parameter_value THEN  -- a zone PostgreSQL does not know
        RETURN (p_at AT TIME ZONE 'UTC')::date;
    END;
END;
$$;

COMMENT ON FUNCTION learner_day(uuid, timestamptz) IS
    'The calendar day of an instant in the learner''s time zone (user_profiles.timezone; UTC when missing or unknown): the day a streak counts. Internal: executable by its owner only.';

REVOKE EXECUTE ON FUNCTION learner_day(uuid, timestamptz) FROM PUBLIC;

CREATE OR REPLACE FUNCTION apply_progress(
    p_user_id             uuid,
    p_component_id        uuid,
    p_status              text,
    p_progress_percentage integer,
    p_time_spent_minutes  integer,
    p_last_position       jsonb,
    p_score               numeric
)
RETURNS TABLE (id uuid, user_id uuid, component_id uuid, status varchar,
               progress_percentage integer, time_spent_minutes integer, best_score numeric,
               latest_score numeric, completion_date timestamptz, mastery_date timestamptz,
               newly_completed boolean, goal_ids uuid[], achievement_codes text[])
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_ranks  text[] := ARRAY['not_started', 'in_progress', 'completed', 'mastered'];
    v_prior  timestamptz;
    v_row    user_progress%ROWTYPE;
    v_new    boolean;
    v_goals  uuid[] := '{}';
    v_more   uuid[];
    v_codes  text[] := '{}';
    v_today  date := learner_day(p_user_id, now());  -- the learner's calendar day
BEGIN
    SELECT up.completion_date INTO v_prior
      FROM user_progress up
     WHERE up.user_id = p_user_id AND up.component_id = p_component_id;

    -- Status only moves forward, the percentage never decreases (completed means 100), time
    -- adds up, best_score is the maximum, latest_score the last given, dates are set once.
    INSERT INTO user_progress AS p
           (user_id, component_id, status, progress_percentage, time_spent_minutes,
            last_position, best_score, latest_score, completion_date, mastery_date)
    VALUES (p_user_id, p_component_id, p_status,
            CASE WHEN p_status IN ('completed', 'mastered') THEN 100
                 ELSE p_progress_percentage END,
            p_time_spent_minutes, p_last_position, p_score, p_score,
            CASE WHEN p_status IN ('completed', 'mastered') THEN now() END,
            CASE WHEN p_status = 'mastered' THEN now() END)
    ON CONFLICT (user_id, component_id) DO UPDATE SET
        status = CASE
            WHEN array_position(v_ranks, EXCLUDED.status::text)
               > array_position(v_ranks, p.status::text) THEN EXCLUDED.status
            ELSE p.status END,
        progress_percentage = greatest(p.progress_percentage, EXCLUDED.progress_percentage),
        time_spent_minutes = p.time_spent_minutes + EXCLUDED.time_spent_minutes,
        last_position = coalesce(EXCLUDED.last_position, p.last_position),
        best_score = greatest(p.best_score, EXCLUDED.best_score),
        latest_score = coalesce(EXCLUDED.latest_score, p.latest_score),
        completion_date = coalesce(p.completion_date, EXCLUDED.completion_date),
        mastery_date = coalesce(p.mastery_date, EXCLUDED.mastery_date)
    RETURNING p.* INTO v_row;

    v_new := v_row.completion_date IS NOT NULL AND v_prior IS NULL;

    IF p_time_spent_minutes > 0 THEN
        WITH changed AS (
            UPDATE study_goals g
               SET current_value = g.current_value + p_time_spent_minutes,
                   status = CASE WHEN g.current_value + p_time_spent_minutes >= g.target_value
                                 THEN 'completed' ELSE g.status END,
                   completed_date = CASE WHEN g.current_value + p_time_spent_minutes >= g.target_value
                                         THEN greatest(v_today, g.start_date) END
             WHERE g.user_id = p_user_id AND g.metric = 'minutes' AND g.status = 'active'
            RETURNING g.id)
        SELECT coalesce(array_agg(changed.id), '{}') INTO v_more FROM changed;
        v_goals := v_goals || v_more;
    END IF;

    IF v_new THEN
        UPDATE learning_components c SET completion_count = c.completion_count + 1
         WHERE c.id = p_component_id;
        PERFORM update_learning_streak(p_user_id, v_today);
        WITH changed AS (
            UPDATE study_goals g
               SET current_value = g.current_value + 1,
                   status = CASE WHEN g.current_value + 1 >= g.target_value
                                 THEN 'completed' ELSE g.status END,
                   completed_date = CASE WHEN g.current_value + 1 >= g.target_value
                                         THEN greatest(v_today, g.start_date) END
             WHERE g.user_id = p_user_id AND g.metric = 'components' AND g.status = 'active'
            RETURNING g.id)
        SELECT coalesce(array_agg(changed.id), '{}') INTO v_more FROM changed;
        v_goals := v_goals || v_more;
        WITH changed AS (
            UPDATE study_goals g
               SET current_value = s.current_streak,
                   status = CASE WHEN s.current_streak >= g.target_value
                                 THEN 'completed' ELSE g.status END,
                   completed_date = CASE WHEN s.current_streak >= g.target_value
                                         THEN greatest(v_today, g.start_date) END
              FROM learning_streaks s
             WHERE s.user_id = g.user_id AND g.user_id = p_user_id AND g.metric = 'streak'
               AND g.status = 'active'
            RETURNING g.id)
        SELECT coalesce(array_agg(changed.id), '{}') INTO v_more FROM changed;
        v_goals := v_goals || v_more;
        -- Every active, automatically evaluated achievement whose criteria are now met.
        SELECT coalesce(array_agg(a.code ORDER BY a.code), '{}') INTO v_codes
          FROM achievements a
         WHERE a.is_active
           AND coalesce(a.criteria ->> 'type', 'manual') <> 'manual'
           AND NOT EXISTS (SELECT 1 FROM user_achievements ua
                            WHERE ua.user_id = p_user_id AND ua.achievement_id = a.id)
           AND check_and_award_achievement(p_user_id, a.code);
        INSERT INTO user_activity_logs
               (user_id, activity_type, activity_description, resource_type, resource_id,
                metadata)
        VALUES (p_user_id, 'component_completed', 'Completed a learning component',
                'learning_component', p_component_id,
                jsonb_build_object('achievements', to_jsonb(v_codes),
                                   'score', CASE WHEN p_score <> 0 THEN p_score::text END));
    END IF;

    RETURN QUERY SELECT v_row.id, v_row.user_id, v_row.component_id, v_row.status,
                        v_row.progress_percentage, v_row.time_spent_minutes, v_row.best_score,
                        v_row.latest_score, v_row.completion_date, v_row.mastery_date, v_new,
                        v_goals, v_codes;
END;
$$;

COMMENT ON FUNCTION apply_progress(uuid, uuid, text, integer, integer, jsonb, numeric) IS
    'The reward logic: record progress of a user on a component and, when it completes the component, count the completion, update the streak (days in the learner''s time zone: learner_day), advance goals, award achievements and log it. Returns the progress row, whether it was newly completed, the goals changed and the achievements awarded. Internal: executable by its owner only, through record_progress and submit_attempt.';

CREATE OR REPLACE FUNCTION refresh_analytics_views()
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    REFRESH MATERIALIZED VIEW CONCURRENTLY mv_daily_user_activity;
    REFRESH MATERIALIZED VIEW CONCURRENTLY mv_weekly_domain_progress;
    REFRESH MATERIALIZED VIEW CONCURRENTLY mv_leaderboard;
END;
$$;

COMMENT ON FUNCTION refresh_analytics_views() IS
    'Refresh mv_daily_user_activity, mv_weekly_domain_progress and mv_leaderboard CONCURRENTLY. SECURITY DEFINER because REFRESH requires view ownership before PostgreSQL 17.';

-- migrate:down
-- Reverse order: the previous definitions of 0013 and 0007, exactly.

CREATE OR REPLACE FUNCTION refresh_analytics_views()
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    REFRESH MATERIALIZED VIEW CONCURRENTLY mv_daily_user_activity;
    REFRESH MATERIALIZED VIEW CONCURRENTLY mv_weekly_domain_progress;
END;
$$;

COMMENT ON FUNCTION refresh_analytics_views() IS
    'Refresh mv_daily_user_activity and mv_weekly_domain_progress CONCURRENTLY. SECURITY DEFINER because REFRESH requires view ownership before PostgreSQL 17.';

CREATE OR REPLACE FUNCTION apply_progress(
    p_user_id             uuid,
    p_component_id        uuid,
    p_status              text,
    p_progress_percentage integer,
    p_time_spent_minutes  integer,
    p_last_position       jsonb,
    p_score               numeric
)
RETURNS TABLE (id uuid, user_id uuid, component_id uuid, status varchar,
               progress_percentage integer, time_spent_minutes integer, best_score numeric,
               latest_score numeric, completion_date timestamptz, mastery_date timestamptz,
               newly_completed boolean, goal_ids uuid[], achievement_codes text[])
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_ranks  text[] := ARRAY['not_started', 'in_progress', 'completed', 'mastered'];
    v_prior  timestamptz;
    v_row    user_progress%ROWTYPE;
    v_new    boolean;
    v_goals  uuid[] := '{}';
    v_more   uuid[];
    v_codes  text[] := '{}';
BEGIN
    SELECT up.completion_date INTO v_prior
      FROM user_progress up
     WHERE up.user_id = p_user_id AND up.component_id = p_component_id;

    -- Status only moves forward, the percentage never decreases (completed means 100), time
    -- adds up, best_score is the maximum, latest_score the last given, dates are set once.
    INSERT INTO user_progress AS p
           (user_id, component_id, status, progress_percentage, time_spent_minutes,
            last_position, best_score, latest_score, completion_date, mastery_date)
    VALUES (p_user_id, p_component_id, p_status,
            CASE WHEN p_status IN ('completed', 'mastered') THEN 100
                 ELSE p_progress_percentage END,
            p_time_spent_minutes, p_last_position, p_score, p_score,
            CASE WHEN p_status IN ('completed', 'mastered') THEN now() END,
            CASE WHEN p_status = 'mastered' THEN now() END)
    ON CONFLICT (user_id, component_id) DO UPDATE SET
        status = CASE
            WHEN array_position(v_ranks, EXCLUDED.status::text)
               > array_position(v_ranks, p.status::text) THEN EXCLUDED.status
            ELSE p.status END,
        progress_percentage = greatest(p.progress_percentage, EXCLUDED.progress_percentage),
        time_spent_minutes = p.time_spent_minutes + EXCLUDED.time_spent_minutes,
        last_position = coalesce(EXCLUDED.last_position, p.last_position),
        best_score = greatest(p.best_score, EXCLUDED.best_score),
        latest_score = coalesce(EXCLUDED.latest_score, p.latest_score),
        completion_date = coalesce(p.completion_date, EXCLUDED.completion_date),
        mastery_date = coalesce(p.mastery_date, EXCLUDED.mastery_date)
    RETURNING p.* INTO v_row;

    v_new := v_row.completion_date IS NOT NULL AND v_prior IS NULL;

    IF p_time_spent_minutes > 0 THEN
        WITH changed AS (
            UPDATE study_goals g
               SET current_value = g.current_value + p_time_spent_minutes,
                   status = CASE WHEN g.current_value + p_time_spent_minutes >= g.target_value
                                 THEN 'completed' ELSE g.status END,
                   completed_date = CASE WHEN g.current_value + p_time_spent_minutes >= g.target_value
                                         THEN greatest(current_date, g.start_date) END
             WHERE g.user_id = p_user_id AND g.metric = 'minutes' AND g.status = 'active'
            RETURNING g.id)
        SELECT coalesce(array_agg(changed.id), '{}') INTO v_more FROM changed;
        v_goals := v_goals || v_more;
    END IF;

    IF v_new THEN
        UPDATE learning_components c SET completion_count = c.completion_count + 1
         WHERE c.id = p_component_id;
        PERFORM update_learning_streak(p_user_id, current_date);
        WITH changed AS (
            UPDATE study_goals g
               SET current_value = g.current_value + 1,
                   status = CASE WHEN g.current_value + 1 >= g.target_value
                                 THEN 'completed' ELSE g.status END,
                   completed_date = CASE WHEN g.current_value + 1 >= g.target_value
                                         THEN greatest(current_date, g.start_date) END
             WHERE g.user_id = p_user_id AND g.metric = 'components' AND g.status = 'active'
            RETURNING g.id)
        SELECT coalesce(array_agg(changed.id), '{}') INTO v_more FROM changed;
        v_goals := v_goals || v_more;
        WITH changed AS (
            UPDATE study_goals g
               SET current_value = s.current_streak,
                   status = CASE WHEN s.current_streak >= g.target_value
                                 THEN 'completed' ELSE g.status END,
                   completed_date = CASE WHEN s.current_streak >= g.target_value
                                         THEN greatest(current_date, g.start_date) END
              FROM learning_streaks s
             WHERE s.user_id = g.user_id AND g.user_id = p_user_id AND g.metric = 'streak'
               AND g.status = 'active'
            RETURNING g.id)
        SELECT coalesce(array_agg(changed.id), '{}') INTO v_more FROM changed;
        v_goals := v_goals || v_more;
        -- Every active, automatically evaluated achievement whose criteria are now met.
        SELECT coalesce(array_agg(a.code ORDER BY a.code), '{}') INTO v_codes
          FROM achievements a
         WHERE a.is_active
           AND coalesce(a.criteria ->> 'type', 'manual') <> 'manual'
           AND NOT EXISTS (SELECT 1 FROM user_achievements ua
                            WHERE ua.user_id = p_user_id AND ua.achievement_id = a.id)
           AND check_and_award_achievement(p_user_id, a.code);
        INSERT INTO user_activity_logs
               (user_id, activity_type, activity_description, resource_type, resource_id,
                metadata)
        VALUES (p_user_id, 'component_completed', 'Completed a learning component',
                'learning_component', p_component_id,
                jsonb_build_object('achievements', to_jsonb(v_codes),
                                   'score', CASE WHEN p_score <> 0 THEN p_score::text END));
    END IF;

    RETURN QUERY SELECT v_row.id, v_row.user_id, v_row.component_id, v_row.status,
                        v_row.progress_percentage, v_row.time_spent_minutes, v_row.best_score,
                        v_row.latest_score, v_row.completion_date, v_row.mastery_date, v_new,
                        v_goals, v_codes;
END;
$$;

COMMENT ON FUNCTION apply_progress(uuid, uuid, text, integer, integer, jsonb, numeric) IS
    'The reward logic: record progress of a user on a component and, when it completes the component, count the completion, update the streak, advance goals, award achievements and log it. Returns the progress row, whether it was newly completed, the goals changed and the achievements awarded. Internal: executable by its owner only, through record_progress and submit_attempt.';

DROP FUNCTION learner_day(uuid, timestamptz);
DROP FUNCTION leaderboard(text, integer);
DROP MATERIALIZED VIEW mv_leaderboard;
