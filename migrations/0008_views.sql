-- migrate:up
-- 0008 views
-- Creates the reporting views of DATABASE.md "Views and Functions":
--   * v_user_learning_stats      per non-deleted user
--   * v_component_performance    per non-deleted learning component
--   * v_assessment_performance   per non-deleted assessment
--   * v_user_assessment_history  per assessment attempt
--   * v_question_performance     per non-deleted question
-- and two materialized views for analytics (refreshed by refresh_analytics_views()):
--   * mv_daily_user_activity     per UTC day, from learning_sessions
--   * mv_weekly_domain_progress  per UTC week and domain, from user_progress
-- The plain views aggregate child rows in LATERAL subqueries keyed on the
-- parent id (never a GROUP BY over a whole table), so a filter such as
-- WHERE user_id = $1 is pushed down to an index lookup instead of aggregating
-- everything first.
-- Progress rule, as in the functions: completed or mastered counts 100.

-- ---------------------------------------------------------------------------
-- v_user_learning_stats
-- ---------------------------------------------------------------------------
CREATE VIEW v_user_learning_stats AS
SELECT
    u.id                                  AS user_id,
    u.username,
    p.components_started,
    p.components_completed,
    p.components_mastered,
    p.total_time_minutes,
    p.average_progress,                   -- over the user's progress rows; NULL if none
    coalesce(ls.current_streak, 0)        AS current_streak,
    coalesce(ls.longest_streak, 0)        AS longest_streak,
    a.achievements_earned
FROM users AS u
CROSS JOIN LATERAL (
    SELECT
        count(*) FILTER (WHERE up.status <> 'not_started')                AS components_started,
        count(*) FILTER (WHERE up.status IN ('completed', 'mastered'))    AS components_completed,
        count(*) FILTER (WHERE up.status = 'mastered')                    AS components_mastered,
        coalesce(sum(up.time_spent_minutes), 0)                           AS total_time_minutes,
        round(avg(CASE
                      WHEN up.status IN ('completed', 'mastered') THEN 100
                      ELSE up.progress_percentage
                  END), 2)                                                AS average_progress
    FROM user_progress AS up
    WHERE up.user_id = u.id
) AS p
CROSS JOIN LATERAL (
    SELECT count(*) AS achievements_earned
    FROM user_achievements AS ua
    WHERE ua.user_id = u.id
) AS a
LEFT JOIN learning_streaks AS ls
       ON ls.user_id = u.id
WHERE u.deleted_at IS NULL;

COMMENT ON VIEW v_user_learning_stats IS
    'Aggregated learning statistics per non-deleted user: components started/completed/mastered, time, average progress, streaks, achievements.';

-- ---------------------------------------------------------------------------
-- v_component_performance
-- ---------------------------------------------------------------------------
CREATE VIEW v_component_performance AS
SELECT
    lc.id                   AS component_id,
    lc.title,
    lc.slug,
    lc.component_type,
    lc.domain,
    lc.difficulty_level,
    s.unique_users,
    s.completion_count,
    s.average_progress,
    s.average_time_minutes,
    s.average_score,
    lc.average_rating,
    lc.rating_count
FROM learning_components AS lc
CROSS JOIN LATERAL (
    -- user_progress is unique on (user_id, component_id): one row per user.
    SELECT
        count(*)                                                          AS unique_users,
        count(*) FILTER (WHERE up.status IN ('completed', 'mastered'))    AS completion_count,
        round(avg(CASE
                      WHEN up.status IN ('completed', 'mastered') THEN 100
                      ELSE up.progress_percentage
                  END), 2)                                                AS average_progress,
        round(avg(up.time_spent_minutes), 2)                              AS average_time_minutes,
        round(avg(up.best_score), 2)                                      AS average_score  -- of best scores
    FROM user_progress AS up
    WHERE up.component_id = lc.id
) AS s
WHERE lc.deleted_at IS NULL;

COMMENT ON VIEW v_component_performance IS
    'Performance per non-deleted learning component: users, completions, average progress/time/best score, rating.';

-- ---------------------------------------------------------------------------
-- v_assessment_performance
-- ---------------------------------------------------------------------------
-- total_attempts and unique_users count every attempt; scores, pass/fail and
-- time count only finished attempts (completed or timed_out).
CREATE VIEW v_assessment_performance AS
SELECT
    a.id                  AS assessment_id,
    a.title,
    a.assessment_type,
    s.total_attempts,
    s.unique_users,
    s.average_score,
    s.pass_count,
    s.fail_count,
    s.average_time_minutes
FROM assessments AS a
CROSS JOIN LATERAL (
    SELECT
        count(*)                                                          AS total_attempts,
        count(DISTINCT at.user_id)                                        AS unique_users,
        round(avg(at.percentage)
              FILTER (WHERE at.status IN ('completed', 'timed_out')), 2)  AS average_score,  -- percentage
        count(*) FILTER (WHERE at.status IN ('completed', 'timed_out')
                           AND at.passed)                                 AS pass_count,
        count(*) FILTER (WHERE at.status IN ('completed', 'timed_out')
                           AND NOT at.passed)                             AS fail_count,
        round(avg(at.time_spent_minutes)
              FILTER (WHERE at.status IN ('completed', 'timed_out')), 2)  AS average_time_minutes
    FROM assessment_attempts AS at
    WHERE at.assessment_id = a.id
) AS s
WHERE a.deleted_at IS NULL;

COMMENT ON VIEW v_assessment_performance IS
    'Performance per non-deleted assessment: attempts, users, average percentage, pass/fail counts and average time of finished (completed or timed_out) attempts.';

-- ---------------------------------------------------------------------------
-- v_user_assessment_history
-- ---------------------------------------------------------------------------
-- Every attempt, also of assessments deleted later (history is kept).
CREATE VIEW v_user_assessment_history AS
SELECT
    at.id                                   AS attempt_id,
    at.user_id,
    at.assessment_id,
    a.title                                 AS assessment_title,
    a.assessment_type,
    at.attempt_number,
    at.status,
    at.started_at,
    at.completed_at,
    at.time_spent_minutes,
    at.score,
    at.percentage,
    at.passed,
    coalesce(cardinality(at.question_order),
             cardinality(a.question_ids))   AS total_questions,
    at.correct_answers,
    at.incorrect_answers,
    at.skipped_questions,
    ans.answered_count                      -- answer rows with an answer given
FROM assessment_attempts AS at
JOIN assessments AS a
  ON a.id = at.assessment_id
CROSS JOIN LATERAL (
    SELECT count(*) AS answered_count
    FROM assessment_answers AS aa
    WHERE aa.attempt_id = at.id
      AND aa.user_answer IS NOT NULL
) AS ans;

COMMENT ON VIEW v_user_assessment_history IS
    'Complete assessment history: one row per attempt with assessment, timing, scores and question statistics.';

-- ---------------------------------------------------------------------------
-- v_question_performance
-- ---------------------------------------------------------------------------
-- success_rate comes from the question's own correct/incorrect counters
-- (NULL while it has none); times_answered counts the stored answers.
CREATE VIEW v_question_performance AS
SELECT
    q.id                  AS question_id,
    q.question_type,
    q.domain,
    q.difficulty_level,
    q.usage_count,
    q.correct_count,
    q.incorrect_count,
    CASE
        WHEN q.correct_count + q.incorrect_count > 0
        THEN round(100.0 * q.correct_count / (q.correct_count + q.incorrect_count), 2)
    END                   AS success_rate,
    q.average_time_seconds,
    ans.times_answered
FROM question_bank AS q
CROSS JOIN LATERAL (
    SELECT count(*) AS times_answered
    FROM assessment_answers AS aa
    WHERE aa.question_id = q.id
) AS ans
WHERE q.deleted_at IS NULL;

COMMENT ON VIEW v_question_performance IS
    'Performance per non-deleted question: usage, correct/incorrect counts, success rate (percentage), average time, times answered.';

-- ---------------------------------------------------------------------------
-- security_invoker (PostgreSQL 15+)
-- ---------------------------------------------------------------------------
-- A view normally reads its tables with the privileges of the view owner,
-- which would bypass the row-level security of 0009 for whoever queries it.
-- security_invoker = true makes the caller's privileges and policies apply.
-- PostgreSQL 14 lacks the option: there the views run as their owner, so
-- on 14 row-level security is not applied through these views.
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 150000 THEN
        EXECUTE 'ALTER VIEW v_user_learning_stats     SET (security_invoker = true)';
        EXECUTE 'ALTER VIEW v_component_performance   SET (security_invoker = true)';
        EXECUTE 'ALTER VIEW v_assessment_performance  SET (security_invoker = true)';
        EXECUTE 'ALTER VIEW v_user_assessment_history SET (security_invoker = true)';
        EXECUTE 'ALTER VIEW v_question_performance    SET (security_invoker = true)';
    END IF;
END
$$;

-- ---------------------------------------------------------------------------
-- mv_daily_user_activity
-- ---------------------------------------------------------------------------
-- Days are UTC days, so the content does not depend on the TimeZone setting
-- of the session that refreshes the view.
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

-- Required by REFRESH MATERIALIZED VIEW CONCURRENTLY.
CREATE UNIQUE INDEX idx_mv_daily_user_activity_activity_date
    ON mv_daily_user_activity (activity_date);

COMMENT ON MATERIALIZED VIEW mv_daily_user_activity IS
    'Daily (UTC) learning activity from learning_sessions: active users, sessions, total/average minutes, completions. Refresh nightly with refresh_analytics_views().';

-- ---------------------------------------------------------------------------
-- mv_weekly_domain_progress
-- ---------------------------------------------------------------------------
-- user_progress holds only the current state of each (user, component), so a
-- row is attributed to the (UTC, ISO Monday) week in which it was last
-- updated. Rows never started and deleted components are left out.
CREATE MATERIALIZED VIEW mv_weekly_domain_progress AS
SELECT
    date_trunc('week', up.updated_at AT TIME ZONE 'UTC')::date          AS week_start,
    lc.domain,
    count(DISTINCT up.user_id)                                          AS active_users,
    count(*) FILTER (WHERE up.status = 'in_progress')                   AS components_in_progress,
    count(*) FILTER (WHERE up.status IN ('completed', 'mastered'))      AS completions,
    round(avg(CASE
                  WHEN up.status IN ('completed', 'mastered') THEN 100
                  ELSE up.progress_percentage
              END), 2)                                                  AS average_progress,
    coalesce(sum(up.time_spent_minutes), 0)                             AS total_time_minutes
FROM user_progress AS up
JOIN learning_components AS lc
  ON lc.id = up.component_id
WHERE up.status <> 'not_started'
  AND lc.deleted_at IS NULL
GROUP BY date_trunc('week', up.updated_at AT TIME ZONE 'UTC')::date,
         lc.domain
WITH DATA;

-- Required by REFRESH MATERIALIZED VIEW CONCURRENTLY.
CREATE UNIQUE INDEX idx_mv_weekly_domain_progress_week_start_domain
    ON mv_weekly_domain_progress (week_start, domain);

COMMENT ON MATERIALIZED VIEW mv_weekly_domain_progress IS
    'Weekly (UTC, Monday start) progress per domain from user_progress: active users, components in progress, completions, average progress, total time. Refresh weekly with refresh_analytics_views().';

-- migrate:down
-- Reverse order. Dropping a view also drops its options, indexes and comment.

DROP MATERIALIZED VIEW mv_weekly_domain_progress;
DROP MATERIALIZED VIEW mv_daily_user_activity;
DROP VIEW v_question_performance;
DROP VIEW v_user_assessment_history;
DROP VIEW v_assessment_performance;
DROP VIEW v_component_performance;
DROP VIEW v_user_learning_stats;
