-- migrate:up
-- 0007 functions
-- Creates the five functions of DATABASE.md "Functions":
--   * calculate_overall_progress(user)           overall progress percentage
--   * update_learning_streak(user, date)         maintain learning_streaks
--   * check_and_award_achievement(user, code)    evaluate criteria, award once
--   * get_user_dashboard_summary(user)           one-row dashboard summary
--   * refresh_analytics_views()                  refresh both materialized views
-- Every function pins search_path (public, then pg_temp last) so that objects
-- in another schema or a temporary table cannot be substituted.
-- All are SECURITY INVOKER, so row-level security applies to the caller,
-- except refresh_analytics_views(): see the comment on it.
-- Progress rule used throughout: a component counts 100 when its status is
-- completed or mastered, otherwise its progress_percentage.

-- ---------------------------------------------------------------------------
-- calculate_overall_progress
-- ---------------------------------------------------------------------------
-- Mean progress over all published, non-deleted components; a component the
-- user has no progress row for counts 0. Returns 0 when there are no
-- components. (PostgreSQL drops the (5,2) of a declared return type, so the
-- result is rounded and cast explicitly.)
CREATE FUNCTION calculate_overall_progress(p_user_id uuid)
RETURNS numeric(5,2)
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = public, pg_temp
AS $$
    SELECT coalesce(
               round(avg(CASE
                             WHEN up.status IN ('completed', 'mastered') THEN 100
                             ELSE coalesce(up.progress_percentage, 0)
                         END), 2),
               0)::numeric(5,2)
    FROM learning_components AS lc
    LEFT JOIN user_progress AS up
           ON up.component_id = lc.id
          AND up.user_id = p_user_id
    WHERE lc.is_published
      AND lc.deleted_at IS NULL
$$;

COMMENT ON FUNCTION calculate_overall_progress(uuid) IS
    'Overall progress (0-100) of a user: mean over published, non-deleted components; missing progress counts 0, completed/mastered count 100; 0 when there are no components.';

-- ---------------------------------------------------------------------------
-- update_learning_streak
-- ---------------------------------------------------------------------------
-- Records activity of a user on a date:
--   no row / no activity yet  -> current 1, longest >= 1, start = date, total 1
--   same day                  -> no change
--   date before last activity -> no change (late or replayed event)
--   next day                  -> current + 1, longest = greatest(longest, current), total + 1
--   gap of g missed days      -> if streak_frozen_days >= g: spend g frozen days and
--                                continue as if consecutive (current + 1);
--                                else append {"start","end","length"} of the finished
--                                streak to streak_history and restart at 1 on date;
--                                total + 1 either way
-- Concurrency: the row is created with INSERT ... ON CONFLICT DO NOTHING and then
-- locked with SELECT ... FOR UPDATE, so two transactions recording the same
-- user and day serialise on the row and the day is counted once.
CREATE FUNCTION update_learning_streak(p_user_id uuid, p_activity_date date DEFAULT current_date)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_date    date := coalesce(p_activity_date, current_date);
    v_streak  learning_streaks%ROWTYPE;
    v_missed  integer;
BEGIN
    -- First activity ever: create the row already initialised.
    INSERT INTO learning_streaks
           (user_id, current_streak, longest_streak, last_activity_date,
            streak_start_date, total_active_days)
    VALUES (p_user_id, 1, 1, v_date, v_date, 1)
    ON CONFLICT (user_id) DO NOTHING;

    IF FOUND THEN
        RETURN;
    END IF;

    -- The row exists (possibly just committed by a concurrent call): lock it.
    SELECT * INTO v_streak
    FROM learning_streaks
    WHERE user_id = p_user_id
    FOR UPDATE;

    IF v_streak.last_activity_date IS NULL THEN
        -- Row created without activity (e.g. at registration): first activity.
        UPDATE learning_streaks
        SET current_streak     = 1,
            longest_streak     = greatest(longest_streak, 1),
            last_activity_date = v_date,
            streak_start_date  = v_date,
            total_active_days  = total_active_days + 1
        WHERE id = v_streak.id;
        RETURN;
    END IF;

    IF v_date <= v_streak.last_activity_date THEN
        RETURN;                                   -- same day, or an older date
    END IF;

    v_missed := (v_date - v_streak.last_activity_date) - 1;

    IF v_missed = 0 OR v_streak.streak_frozen_days >= v_missed THEN
        -- Consecutive day, or a gap bridged by frozen days.
        UPDATE learning_streaks
        SET current_streak     = current_streak + 1,
            longest_streak     = greatest(longest_streak, current_streak + 1),
            streak_frozen_days = streak_frozen_days - v_missed,
            last_activity_date = v_date,
            total_active_days  = total_active_days + 1
        WHERE id = v_streak.id;
    ELSE
        -- Streak broken: keep the finished streak in the history, restart at 1.
        UPDATE learning_streaks
        SET streak_history     = streak_history || jsonb_build_array(jsonb_build_object(
                                     'start',  coalesce(streak_start_date, last_activity_date),
                                     'end',    last_activity_date,
                                     'length', current_streak)),
            current_streak     = 1,
            longest_streak     = greatest(longest_streak, 1),
            streak_start_date  = v_date,
            last_activity_date = v_date,
            total_active_days  = total_active_days + 1
        WHERE id = v_streak.id;
    END IF;
END;
$$;

COMMENT ON FUNCTION update_learning_streak(uuid, date) IS
    'Record learning activity of a user on a date (default today): first activity starts a streak at 1; same or earlier day: no change; next day: +1; a gap of g missed days is bridged when streak_frozen_days >= g (g frozen days are spent), otherwise the finished streak is appended to streak_history as {"start","end","length"} and the streak restarts at 1. Safe under concurrent calls.';

-- ---------------------------------------------------------------------------
-- check_and_award_achievement
-- ---------------------------------------------------------------------------
-- Criteria vocabulary (achievements.criteria, a jsonb object):
--   {}  or  {"type": "manual"}                       always met
--   {"type": "components_completed", "count": N
--      [, "domain": D] [, "component_type": T]}      >= N components with status
--                                                    completed or mastered
--   {"type": "components_mastered", "count": N [, "domain": D]}
--                                                    >= N components mastered
--   {"type": "streak_days", "days": N}               current_streak >= N or
--                                                    longest_streak >= N
--   {"type": "active_days", "days": N}               total_active_days >= N
--   {"type": "assessments_passed", "count": N [, "assessment_type": T]}
--                                                    >= N distinct assessments with a
--                                                    completed, passed attempt
--   {"type": "perfect_score", "count": N}            >= N completed attempts at 100 %
--   {"type": "total_minutes", "minutes": N}          sum of user_progress.time_spent_minutes >= N
--   {"type": "first_login"}                          the user exists
-- Any other type, a non-empty object without "type", or a missing threshold
-- raises an error naming the achievement code.
-- Returns true only when the achievement is awarded by this call; false when
-- it was already earned, is inactive, or its criteria are not met. An unknown
-- achievement code (or user) raises no_data_found. Concurrent calls award at
-- most once (INSERT ... ON CONFLICT DO NOTHING RETURNING).
-- user_achievements.progress_data records what was measured.
CREATE FUNCTION check_and_award_achievement(p_user_id uuid, p_achievement_code text)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_achievement  achievements%ROWTYPE;
    v_criteria     jsonb;
    v_type         text;
    v_threshold    text;          -- name of the threshold key: count / days / minutes
    v_required     bigint;
    v_measured     bigint;
    v_met          boolean;
    v_awarded_id   uuid;
BEGIN
    SELECT * INTO v_achievement
    FROM achievements
    WHERE code = p_achievement_code;

    IF NOT FOUND THEN
        RAISE EXCEPTION 'achievement code "%" does not exist', p_achievement_code
            USING ERRCODE = 'no_data_found';
    END IF;

    IF NOT EXISTS (SELECT 1 FROM users WHERE id = p_user_id) THEN
        RAISE EXCEPTION 'user % does not exist', p_user_id
            USING ERRCODE = 'no_data_found';
    END IF;

    IF NOT v_achievement.is_active THEN
        RETURN false;
    END IF;

    IF EXISTS (SELECT 1
               FROM user_achievements
               WHERE user_id = p_user_id
                 AND achievement_id = v_achievement.id) THEN
        RETURN false;
    END IF;

    v_criteria := v_achievement.criteria;
    v_type     := v_criteria ->> 'type';

    IF v_type IS NULL AND v_criteria = '{}'::jsonb THEN
        v_type := 'manual';
    END IF;

    -- Which key holds the threshold for this type.
    v_threshold := CASE v_type
                       WHEN 'components_completed' THEN 'count'
                       WHEN 'components_mastered'  THEN 'count'
                       WHEN 'assessments_passed'   THEN 'count'
                       WHEN 'perfect_score'        THEN 'count'
                       WHEN 'streak_days'          THEN 'days'
                       WHEN 'active_days'          THEN 'days'
                       WHEN 'total_minutes'        THEN 'minutes'
                   END;

    IF v_threshold IS NOT NULL THEN
        IF v_criteria ->> v_threshold IS NULL THEN
            RAISE EXCEPTION 'criteria of achievement "%" (type "%") lack "%"',
                            p_achievement_code, v_type, v_threshold
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        v_required := (v_criteria ->> v_threshold)::bigint;
    END IF;

    CASE v_type
        WHEN 'manual' THEN
            v_met := true;

        WHEN 'first_login' THEN
            v_met := true;                        -- the user exists (checked above)

        WHEN 'components_completed' THEN
            SELECT count(*) INTO v_measured
            FROM user_progress AS up
            JOIN learning_components AS lc ON lc.id = up.component_id
            WHERE up.user_id = p_user_id
              AND up.status IN ('completed', 'mastered')
              AND (v_criteria ->> 'domain' IS NULL
                   OR lc.domain = v_criteria ->> 'domain')
              AND (v_criteria ->> 'component_type' IS NULL
                   OR lc.component_type = v_criteria ->> 'component_type');

        WHEN 'components_mastered' THEN
            SELECT count(*) INTO v_measured
            FROM user_progress AS up
            JOIN learning_components AS lc ON lc.id = up.component_id
            WHERE up.user_id = p_user_id
              AND up.status = 'mastered'
              AND (v_criteria ->> 'domain' IS NULL
                   OR lc.domain = v_criteria ->> 'domain');

        WHEN 'streak_days' THEN
            SELECT coalesce(max(greatest(ls.current_streak, ls.longest_streak)), 0)
            INTO v_measured
            FROM learning_streaks AS ls
            WHERE ls.user_id = p_user_id;

        WHEN 'active_days' THEN
            SELECT coalesce(max(ls.total_active_days), 0)
            INTO v_measured
            FROM learning_streaks AS ls
            WHERE ls.user_id = p_user_id;

        WHEN 'assessments_passed' THEN
            SELECT count(DISTINCT aa.assessment_id) INTO v_measured
            FROM assessment_attempts AS aa
            JOIN assessments AS a ON a.id = aa.assessment_id
            WHERE aa.user_id = p_user_id
              AND aa.status = 'completed'
              AND aa.passed
              AND (v_criteria ->> 'assessment_type' IS NULL
                   OR a.assessment_type = v_criteria ->> 'assessment_type');

        WHEN 'perfect_score' THEN
            SELECT count(*) INTO v_measured
            FROM assessment_attempts AS aa
            WHERE aa.user_id = p_user_id
              AND aa.status = 'completed'
              AND aa.percentage = 100;

        WHEN 'total_minutes' THEN
            SELECT coalesce(sum(up.time_spent_minutes), 0) INTO v_measured
            FROM user_progress AS up
            WHERE up.user_id = p_user_id;

        ELSE
            RAISE EXCEPTION 'unknown criteria type "%" in achievement "%"',
                            coalesce(v_type, '(none)'), p_achievement_code
                USING ERRCODE = 'invalid_parameter_value';
    END CASE;

    IF v_threshold IS NOT NULL THEN
        v_met := v_measured >= v_required;
    END IF;

    IF NOT v_met THEN
        RETURN false;
    END IF;

    INSERT INTO user_achievements (user_id, achievement_id, progress_data)
    VALUES (p_user_id,
            v_achievement.id,
            jsonb_strip_nulls(jsonb_build_object(
                'criteria', v_criteria,
                'type',     v_type,
                'measured', v_measured,
                'required', v_required)))
    ON CONFLICT (user_id, achievement_id) DO NOTHING
    RETURNING id INTO v_awarded_id;

    RETURN v_awarded_id IS NOT NULL;
END;
$$;

COMMENT ON FUNCTION check_and_award_achievement(uuid, text) IS
    'Evaluate achievements.criteria for a user and award the achievement at most once; true only when awarded by this call. Criteria: {} or {"type":"manual"}; {"type":"components_completed","count":N[,"domain"][,"component_type"]}; {"type":"components_mastered","count":N[,"domain"]}; {"type":"streak_days","days":N}; {"type":"active_days","days":N}; {"type":"assessments_passed","count":N[,"assessment_type"]}; {"type":"perfect_score","count":N}; {"type":"total_minutes","minutes":N}; {"type":"first_login"}. Unknown code or user: no_data_found; unknown criteria type: invalid_parameter_value.';

-- ---------------------------------------------------------------------------
-- get_user_dashboard_summary
-- ---------------------------------------------------------------------------
-- Always exactly one row. Each figure is a scalar subquery on an index that
-- leads with user_id, so the cost does not grow with the size of the tables.
CREATE FUNCTION get_user_dashboard_summary(p_user_id uuid)
RETURNS TABLE (
    components_started        bigint,
    components_completed      bigint,
    total_time_minutes        bigint,
    current_streak            integer,
    longest_streak            integer,
    achievements_count        bigint,
    average_assessment_score  numeric(5,2),
    active_goals_count        bigint,
    overall_progress          numeric(5,2)
)
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = public, pg_temp
AS $$
    SELECT
        (SELECT count(*)
           FROM user_progress AS up
          WHERE up.user_id = p_user_id
            AND up.status <> 'not_started'),
        (SELECT count(*)
           FROM user_progress AS up
          WHERE up.user_id = p_user_id
            AND up.status IN ('completed', 'mastered')),
        (SELECT coalesce(sum(up.time_spent_minutes), 0)::bigint
           FROM user_progress AS up
          WHERE up.user_id = p_user_id),
        coalesce((SELECT ls.current_streak
                    FROM learning_streaks AS ls
                   WHERE ls.user_id = p_user_id), 0),
        coalesce((SELECT ls.longest_streak
                    FROM learning_streaks AS ls
                   WHERE ls.user_id = p_user_id), 0),
        (SELECT count(*)
           FROM user_achievements AS ua
          WHERE ua.user_id = p_user_id),
        (SELECT round(avg(aa.percentage), 2)::numeric(5,2)
           FROM assessment_attempts AS aa
          WHERE aa.user_id = p_user_id
            AND aa.status = 'completed'),
        (SELECT count(*)
           FROM study_goals AS sg
          WHERE sg.user_id = p_user_id
            AND sg.status = 'active'),
        calculate_overall_progress(p_user_id)
$$;

COMMENT ON FUNCTION get_user_dashboard_summary(uuid) IS
    'Dashboard summary of a user, always one row: components started/completed, total time, current/longest streak (0 without a streak row), achievements, average percentage of completed attempts (NULL if none), active goals, overall progress.';

-- ---------------------------------------------------------------------------
-- refresh_analytics_views
-- ---------------------------------------------------------------------------
-- REFRESH MATERIALIZED VIEW requires ownership of the view on PostgreSQL
-- 14-16 (the MAINTAIN privilege only exists from 17), so a SECURITY INVOKER
-- function could be run by the owner alone and the EXECUTE grants of 0009
-- (app_user, admin) would be useless. This one function is therefore
-- SECURITY DEFINER: it does nothing but refresh the two views, takes no
-- arguments, and pins search_path. Row-level security does not depend on the
-- caller here anyway: a refresh always runs the view query as the view owner.
-- EXECUTE is revoked from PUBLIC in 0009.
-- CONCURRENTLY keeps the views readable during the refresh; it needs the
-- unique indexes and populated views created in 0008 (late binding: the views
-- do not exist yet when this function is created).
CREATE FUNCTION refresh_analytics_views()
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

-- migrate:down
-- Reverse order.

DROP FUNCTION refresh_analytics_views();
DROP FUNCTION get_user_dashboard_summary(uuid);
DROP FUNCTION check_and_award_achievement(uuid, text);
DROP FUNCTION update_learning_streak(uuid, date);
DROP FUNCTION calculate_overall_progress(uuid);
