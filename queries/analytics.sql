-- Dashboards, reports and the analytics pipeline.

-- name: dashboard_summary(user_id)^
-- The learner dashboard: one row, zeros for a new user (get_user_dashboard_summary).
-- not-null: components_started, components_completed, total_time_minutes, current_streak, longest_streak, achievements_count, active_goals_count, overall_progress
-- replica: yes
SELECT components_started, components_completed, total_time_minutes, current_streak,
       longest_streak, achievements_count, average_assessment_score, active_goals_count,
       overall_progress
  FROM get_user_dashboard_summary(:user_id);

-- name: user_learning_stats(user_id)^
-- A user's learning statistics (v_user_learning_stats).
-- replica: yes
SELECT * FROM v_user_learning_stats WHERE user_id = :user_id;

-- name: component_performance(component_id)^
-- How a component performs (v_component_performance).
-- replica: yes
SELECT * FROM v_component_performance WHERE component_id = :component_id;

-- name: assessment_performance(assessment_id)^
-- How an assessment performs (v_assessment_performance).
-- replica: yes
SELECT * FROM v_assessment_performance WHERE assessment_id = :assessment_id;

-- name: question_performance(question_id)^
-- How a question performs (v_question_performance).
-- replica: yes
SELECT * FROM v_question_performance WHERE question_id = :question_id;

-- name: assessment_history(user_id)
-- A user's attempts, newest first (v_user_assessment_history).
-- replica: yes
SELECT * FROM v_user_assessment_history WHERE user_id = :user_id
 ORDER BY started_at DESC, attempt_id;

-- name: aggregate_component_analytics(day)!
-- Aggregate one day of sessions and progress into component_analytics;
-- idempotent: running it again for the same day replaces that day's rows.
INSERT INTO component_analytics
       (component_id, date, views, unique_users, completions, average_time_minutes,
        average_score, engagement_rate, bounce_rate)
SELECT s.component_id, :day::date, count(*), count(DISTINCT s.user_id),
       count(*) FILTER (WHERE s.completion_achieved),
       round(avg(s.duration_minutes), 2),
       (SELECT round(avg(p.latest_score), 2) FROM user_progress p
         WHERE p.component_id = s.component_id
           AND p.updated_at >= :day::date AND p.updated_at < :day::date + 1),
       round(100.0 * count(*) FILTER (WHERE s.interaction_count > 0) / count(*), 2),
       round(100.0 * count(*) FILTER (WHERE coalesce(s.duration_minutes, 0) < 1
                                        AND s.interaction_count = 0) / count(*), 2)
  FROM learning_sessions s
 WHERE s.session_start >= :day::date AND s.session_start < :day::date + 1
 GROUP BY s.component_id
ON CONFLICT (component_id, date) DO UPDATE
   SET views = EXCLUDED.views, unique_users = EXCLUDED.unique_users,
       completions = EXCLUDED.completions,
       average_time_minutes = EXCLUDED.average_time_minutes,
       average_score = EXCLUDED.average_score, engagement_rate = EXCLUDED.engagement_rate,
       bounce_rate = EXCLUDED.bounce_rate;

-- name: component_analytics(component_id, from_day, to_day)
-- A component's daily analytics between two days (inclusive).
-- replica: yes
SELECT date, views, unique_users, completions, average_time_minutes, average_score,
       engagement_rate, bounce_rate
  FROM component_analytics
 WHERE component_id = :component_id AND date BETWEEN :from_day::date AND :to_day::date
 ORDER BY date;

-- name: refresh_analytics_views()!
-- Refresh the materialized views (refresh_analytics_views, CONCURRENTLY).
SELECT refresh_analytics_views();

-- name: daily_activity(from_day, to_day)
-- Platform activity per day (mv_daily_user_activity).
-- replica: yes
SELECT * FROM mv_daily_user_activity
 WHERE activity_date BETWEEN :from_day::date AND :to_day::date
 ORDER BY activity_date;

-- name: weekly_domain_progress(from_week)
-- Progress per domain per week (mv_weekly_domain_progress).
-- replica: yes
SELECT * FROM mv_weekly_domain_progress
 WHERE week_start >= :from_week::date
 ORDER BY week_start, domain;

-- name: record_metric(metric_type, metric_name, metric_value, unit, tags)!
-- Record one performance measurement.
-- optional: unit
INSERT INTO performance_metrics (metric_type, metric_name, metric_value, unit, tags)
VALUES (:metric_type, :metric_name, :metric_value, :unit, :tags);
