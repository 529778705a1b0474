-- migrate:up
-- 0009 roles and row-level security
-- Creates (if missing) the three roles of DATABASE.md "Database Roles", grants
-- them their privileges, and enables row-level security on the user-owned
-- tables:
--   * app_user  the application: reads and writes data, subject to RLS,
--               never the owner, no BYPASSRLS
--   * readonly  analytics: SELECT on every table, view and materialized view
--   * admin     all privileges on the schema's objects; sees every row
-- Roles are created NOLOGIN and without a password: a DBA gives LOGIN and a
-- password (or membership to a login role) outside of migrations.
-- admin is deliberately NOT a superuser, although the spec's example makes it
-- one: a superuser bypasses every permission and policy in the whole cluster
-- (all databases, ALTER SYSTEM, server file access); full rights on this
-- schema are enough, and the admin_all policies below give it every row.
-- The application sets its user per transaction:
--   SELECT set_config('app.user_id', '<uuid>', true);
-- Without it app_user sees no rows of the RLS tables.

-- ---------------------------------------------------------------------------
-- Roles (cluster-wide, hence created idempotently)
-- ---------------------------------------------------------------------------
DO $$
DECLARE
    r record;
BEGIN
    -- Two databases of one cluster migrating at the same moment may both find a
    -- role missing; the loser of that race takes the role the winner created.
    FOR r IN SELECT unnest(ARRAY['app_user', 'readonly', 'admin']) AS rolname LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r.rolname) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE',
                               r.rolname);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;

    -- Pre-existing roles may have been created differently. For app_user and
    -- readonly that would switch row-level security off without any error:
    -- refuse to continue.
    FOR r IN
        SELECT rolname, rolsuper, rolbypassrls
        FROM pg_roles
        WHERE rolname IN ('app_user', 'readonly')
        ORDER BY rolname
    LOOP
        IF r.rolsuper THEN
            RAISE EXCEPTION 'role % has SUPERUSER: row-level security would not apply to it', r.rolname;
        END IF;
        IF r.rolbypassrls THEN
            RAISE EXCEPTION 'role % has BYPASSRLS: row-level security would not apply to it', r.rolname;
        END IF;
        IF pg_has_role(r.rolname, 'admin', 'USAGE') THEN
            RAISE EXCEPTION 'role % has the privileges of admin: the admin policies would give it every row', r.rolname;
        END IF;
    END LOOP;
END
$$;

-- FORCE ROW LEVEL SECURITY below subjects the table owner to the policies
-- too. A superuser owner bypasses RLS anyway; a non-superuser owner (e.g. a
-- dedicated migration role) becomes a member of admin so that it still sees
-- every row (through the admin_all policies), e.g. when refreshing the
-- materialized views. This membership is cluster-wide and is not revoked by
-- the down migration.
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       AND NOT pg_has_role(current_user, 'admin', 'MEMBER') THEN
        EXECUTE format('GRANT admin TO %I', current_user);
    END IF;
END
$$;

-- ---------------------------------------------------------------------------
-- Grants (explicit object lists; no ALTER DEFAULT PRIVILEGES, which would
-- name the migrating user in the schema dump)
-- ---------------------------------------------------------------------------
GRANT USAGE ON SCHEMA public TO app_user, readonly, admin;

-- app_user: read/write data, read views, run the functions.
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE
    users, user_profiles, user_settings,
    learning_components, user_progress, learning_sessions, bookmarks,
    question_bank, assessments, assessment_attempts, assessment_answers,
    achievements, user_achievements, learning_streaks, study_goals,
    user_activity_logs, component_analytics, performance_metrics
    TO app_user;
GRANT SELECT ON TABLE
    v_user_learning_stats, v_component_performance, v_assessment_performance,
    v_user_assessment_history, v_question_performance,
    mv_daily_user_activity, mv_weekly_domain_progress
    TO app_user;
GRANT EXECUTE ON FUNCTION
    update_updated_at_column(), app_current_user_id(),
    calculate_overall_progress(uuid), update_learning_streak(uuid, date),
    check_and_award_achievement(uuid, text), get_user_dashboard_summary(uuid),
    refresh_analytics_views()
    TO app_user;

-- readonly: SELECT on every table, view and materialized view, nothing else.
GRANT SELECT ON TABLE
    users, user_profiles, user_settings,
    learning_components, user_progress, learning_sessions, bookmarks,
    question_bank, assessments, assessment_attempts, assessment_answers,
    achievements, user_achievements, learning_streaks, study_goals,
    user_activity_logs, component_analytics, performance_metrics,
    v_user_learning_stats, v_component_performance, v_assessment_performance,
    v_user_assessment_history, v_question_performance,
    mv_daily_user_activity, mv_weekly_domain_progress
    TO readonly;

-- admin: all privileges on every table, view and materialized view, and the functions.
GRANT ALL ON TABLE
    users, user_profiles, user_settings,
    learning_components, user_progress, learning_sessions, bookmarks,
    question_bank, assessments, assessment_attempts, assessment_answers,
    achievements, user_achievements, learning_streaks, study_goals,
    user_activity_logs, component_analytics, performance_metrics,
    v_user_learning_stats, v_component_performance, v_assessment_performance,
    v_user_assessment_history, v_question_performance,
    mv_daily_user_activity, mv_weekly_domain_progress
    TO admin;
GRANT EXECUTE ON FUNCTION
    update_updated_at_column(), app_current_user_id(),
    calculate_overall_progress(uuid), update_learning_streak(uuid, date),
    check_and_award_achievement(uuid, text), get_user_dashboard_summary(uuid),
    refresh_analytics_views()
    TO admin;

-- Functions are executable by PUBLIC by default. The ones that write stay
-- with app_user and admin only (readonly keeps the read-only functions).
REVOKE EXECUTE ON FUNCTION
    update_learning_streak(uuid, date),
    check_and_award_achievement(uuid, text),
    refresh_analytics_views()
    FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Row-level security on the user-owned tables
-- ---------------------------------------------------------------------------
-- Per table: <table>_own_rows (app_user, rows of app_current_user_id()),
-- <table>_readonly_select (readonly reads everything) and <table>_admin_all.
-- FORCE applies the policies to the table owner as well.
-- Not on users: login has to find a user by email before any identity is
-- established (app.user_id cannot be set yet). Not on the content and catalog
-- tables (learning_components, question_bank, assessments, achievements,
-- component_analytics, performance_metrics): they are not owned by a learner.

-- user_profiles
ALTER TABLE user_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_profiles FORCE ROW LEVEL SECURITY;
CREATE POLICY user_profiles_own_rows ON user_profiles
    TO app_user
    USING (user_id = app_current_user_id())
    WITH CHECK (user_id = app_current_user_id());
CREATE POLICY user_profiles_readonly_select ON user_profiles
    FOR SELECT TO readonly
    USING (true);
CREATE POLICY user_profiles_admin_all ON user_profiles
    TO admin
    USING (true) WITH CHECK (true);

-- user_settings
ALTER TABLE user_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY user_settings_own_rows ON user_settings
    TO app_user
    USING (user_id = app_current_user_id())
    WITH CHECK (user_id = app_current_user_id());
CREATE POLICY user_settings_readonly_select ON user_settings
    FOR SELECT TO readonly
    USING (true);
CREATE POLICY user_settings_admin_all ON user_settings
    TO admin
    USING (true) WITH CHECK (true);

-- user_progress
ALTER TABLE user_progress ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_progress FORCE ROW LEVEL SECURITY;
CREATE POLICY user_progress_own_rows ON user_progress
    TO app_user
    USING (user_id = app_current_user_id())
    WITH CHECK (user_id = app_current_user_id());
CREATE POLICY user_progress_readonly_select ON user_progress
    FOR SELECT TO readonly
    USING (true);
CREATE POLICY user_progress_admin_all ON user_progress
    TO admin
    USING (true) WITH CHECK (true);

-- learning_sessions
ALTER TABLE learning_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE learning_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY learning_sessions_own_rows ON learning_sessions
    TO app_user
    USING (user_id = app_current_user_id())
    WITH CHECK (user_id = app_current_user_id());
CREATE POLICY learning_sessions_readonly_select ON learning_sessions
    FOR SELECT TO readonly
    USING (true);
CREATE POLICY learning_sessions_admin_all ON learning_sessions
    TO admin
    USING (true) WITH CHECK (true);

-- bookmarks
ALTER TABLE bookmarks ENABLE ROW LEVEL SECURITY;
ALTER TABLE bookmarks FORCE ROW LEVEL SECURITY;
CREATE POLICY bookmarks_own_rows ON bookmarks
    TO app_user
    USING (user_id = app_current_user_id())
    WITH CHECK (user_id = app_current_user_id());
CREATE POLICY bookmarks_readonly_select ON bookmarks
    FOR SELECT TO readonly
    USING (true);
CREATE POLICY bookmarks_admin_all ON bookmarks
    TO admin
    USING (true) WITH CHECK (true);

-- assessment_attempts
ALTER TABLE assessment_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE assessment_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY assessment_attempts_own_rows ON assessment_attempts
    TO app_user
    USING (user_id = app_current_user_id())
    WITH CHECK (user_id = app_current_user_id());
CREATE POLICY assessment_attempts_readonly_select ON assessment_attempts
    FOR SELECT TO readonly
    USING (true);
CREATE POLICY assessment_attempts_admin_all ON assessment_attempts
    TO admin
    USING (true) WITH CHECK (true);

-- assessment_answers: owned through the attempt they belong to (the lookup
-- of assessment_attempts is itself filtered by its own_rows policy).
ALTER TABLE assessment_answers ENABLE ROW LEVEL SECURITY;
ALTER TABLE assessment_answers FORCE ROW LEVEL SECURITY;
CREATE POLICY assessment_answers_own_rows ON assessment_answers
    TO app_user
    USING (EXISTS (SELECT 1
                   FROM assessment_attempts AS at
                   WHERE at.id = assessment_answers.attempt_id
                     AND at.user_id = app_current_user_id()))
    WITH CHECK (EXISTS (SELECT 1
                        FROM assessment_attempts AS at
                        WHERE at.id = assessment_answers.attempt_id
                          AND at.user_id = app_current_user_id()));
CREATE POLICY assessment_answers_readonly_select ON assessment_answers
    FOR SELECT TO readonly
    USING (true);
CREATE POLICY assessment_answers_admin_all ON assessment_answers
    TO admin
    USING (true) WITH CHECK (true);

-- user_achievements
ALTER TABLE user_achievements ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_achievements FORCE ROW LEVEL SECURITY;
CREATE POLICY user_achievements_own_rows ON user_achievements
    TO app_user
    USING (user_id = app_current_user_id())
    WITH CHECK (user_id = app_current_user_id());
CREATE POLICY user_achievements_readonly_select ON user_achievements
    FOR SELECT TO readonly
    USING (true);
CREATE POLICY user_achievements_admin_all ON user_achievements
    TO admin
    USING (true) WITH CHECK (true);

-- learning_streaks
ALTER TABLE learning_streaks ENABLE ROW LEVEL SECURITY;
ALTER TABLE learning_streaks FORCE ROW LEVEL SECURITY;
CREATE POLICY learning_streaks_own_rows ON learning_streaks
    TO app_user
    USING (user_id = app_current_user_id())
    WITH CHECK (user_id = app_current_user_id());
CREATE POLICY learning_streaks_readonly_select ON learning_streaks
    FOR SELECT TO readonly
    USING (true);
CREATE POLICY learning_streaks_admin_all ON learning_streaks
    TO admin
    USING (true) WITH CHECK (true);

-- study_goals
ALTER TABLE study_goals ENABLE ROW LEVEL SECURITY;
ALTER TABLE study_goals FORCE ROW LEVEL SECURITY;
CREATE POLICY study_goals_own_rows ON study_goals
    TO app_user
    USING (user_id = app_current_user_id())
    WITH CHECK (user_id = app_current_user_id());
CREATE POLICY study_goals_readonly_select ON study_goals
    FOR SELECT TO readonly
    USING (true);
CREATE POLICY study_goals_admin_all ON study_goals
    TO admin
    USING (true) WITH CHECK (true);

-- user_activity_logs
ALTER TABLE user_activity_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_activity_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY user_activity_logs_own_rows ON user_activity_logs
    TO app_user
    USING (user_id = app_current_user_id())
    WITH CHECK (user_id = app_current_user_id());
-- Events without a user (e.g. a failed login for an unknown email, before any
-- identity exists) may still be logged by the application; it cannot read
-- them back (own_rows never matches a NULL user_id).
CREATE POLICY user_activity_logs_anonymous_insert ON user_activity_logs
    FOR INSERT TO app_user
    WITH CHECK (user_id IS NULL);
CREATE POLICY user_activity_logs_readonly_select ON user_activity_logs
    FOR SELECT TO readonly
    USING (true);
CREATE POLICY user_activity_logs_admin_all ON user_activity_logs
    TO admin
    USING (true) WITH CHECK (true);

-- migrate:down
-- Reverse order: policies, row-level security, grants.
-- The roles themselves are NOT dropped: roles are cluster-wide and may be
-- used by other databases on the same server (and may own or hold grants
-- there). For the same reason the migrating user's membership in admin, if
-- granted above, is kept.

-- user_activity_logs
DROP POLICY user_activity_logs_admin_all         ON user_activity_logs;
DROP POLICY user_activity_logs_readonly_select   ON user_activity_logs;
DROP POLICY user_activity_logs_anonymous_insert  ON user_activity_logs;
DROP POLICY user_activity_logs_own_rows          ON user_activity_logs;
ALTER TABLE user_activity_logs NO FORCE ROW LEVEL SECURITY;
ALTER TABLE user_activity_logs DISABLE ROW LEVEL SECURITY;

-- study_goals
DROP POLICY study_goals_admin_all        ON study_goals;
DROP POLICY study_goals_readonly_select  ON study_goals;
DROP POLICY study_goals_own_rows         ON study_goals;
ALTER TABLE study_goals NO FORCE ROW LEVEL SECURITY;
ALTER TABLE study_goals DISABLE ROW LEVEL SECURITY;

-- learning_streaks
DROP POLICY learning_streaks_admin_all        ON learning_streaks;
DROP POLICY learning_streaks_readonly_select  ON learning_streaks;
DROP POLICY learning_streaks_own_rows         ON learning_streaks;
ALTER TABLE learning_streaks NO FORCE ROW LEVEL SECURITY;
ALTER TABLE learning_streaks DISABLE ROW LEVEL SECURITY;

-- user_achievements
DROP POLICY user_achievements_admin_all        ON user_achievements;
DROP POLICY user_achievements_readonly_select  ON user_achievements;
DROP POLICY user_achievements_own_rows         ON user_achievements;
ALTER TABLE user_achievements NO FORCE ROW LEVEL SECURITY;
ALTER TABLE user_achievements DISABLE ROW LEVEL SECURITY;

-- assessment_answers
DROP POLICY assessment_answers_admin_all        ON assessment_answers;
DROP POLICY assessment_answers_readonly_select  ON assessment_answers;
DROP POLICY assessment_answers_own_rows         ON assessment_answers;
ALTER TABLE assessment_answers NO FORCE ROW LEVEL SECURITY;
ALTER TABLE assessment_answers DISABLE ROW LEVEL SECURITY;

-- assessment_attempts
DROP POLICY assessment_attempts_admin_all        ON assessment_attempts;
DROP POLICY assessment_attempts_readonly_select  ON assessment_attempts;
DROP POLICY assessment_attempts_own_rows         ON assessment_attempts;
ALTER TABLE assessment_attempts NO FORCE ROW LEVEL SECURITY;
ALTER TABLE assessment_attempts DISABLE ROW LEVEL SECURITY;

-- bookmarks
DROP POLICY bookmarks_admin_all        ON bookmarks;
DROP POLICY bookmarks_readonly_select  ON bookmarks;
DROP POLICY bookmarks_own_rows         ON bookmarks;
ALTER TABLE bookmarks NO FORCE ROW LEVEL SECURITY;
ALTER TABLE bookmarks DISABLE ROW LEVEL SECURITY;

-- learning_sessions
DROP POLICY learning_sessions_admin_all        ON learning_sessions;
DROP POLICY learning_sessions_readonly_select  ON learning_sessions;
DROP POLICY learning_sessions_own_rows         ON learning_sessions;
ALTER TABLE learning_sessions NO FORCE ROW LEVEL SECURITY;
ALTER TABLE learning_sessions DISABLE ROW LEVEL SECURITY;

-- user_progress
DROP POLICY user_progress_admin_all        ON user_progress;
DROP POLICY user_progress_readonly_select  ON user_progress;
DROP POLICY user_progress_own_rows         ON user_progress;
ALTER TABLE user_progress NO FORCE ROW LEVEL SECURITY;
ALTER TABLE user_progress DISABLE ROW LEVEL SECURITY;

-- user_settings
DROP POLICY user_settings_admin_all        ON user_settings;
DROP POLICY user_settings_readonly_select  ON user_settings;
DROP POLICY user_settings_own_rows         ON user_settings;
ALTER TABLE user_settings NO FORCE ROW LEVEL SECURITY;
ALTER TABLE user_settings DISABLE ROW LEVEL SECURITY;

-- user_profiles
DROP POLICY user_profiles_admin_all        ON user_profiles;
DROP POLICY user_profiles_readonly_select  ON user_profiles;
DROP POLICY user_profiles_own_rows         ON user_profiles;
ALTER TABLE user_profiles NO FORCE ROW LEVEL SECURITY;
ALTER TABLE user_profiles DISABLE ROW LEVEL SECURITY;

-- Grants, in reverse order. Restore the default EXECUTE for PUBLIC first.
GRANT EXECUTE ON FUNCTION
    update_learning_streak(uuid, date),
    check_and_award_achievement(uuid, text),
    refresh_analytics_views()
    TO PUBLIC;

REVOKE EXECUTE ON FUNCTION
    update_updated_at_column(), app_current_user_id(),
    calculate_overall_progress(uuid), update_learning_streak(uuid, date),
    check_and_award_achievement(uuid, text), get_user_dashboard_summary(uuid),
    refresh_analytics_views()
    FROM admin;
REVOKE ALL ON TABLE
    users, user_profiles, user_settings,
    learning_components, user_progress, learning_sessions, bookmarks,
    question_bank, assessments, assessment_attempts, assessment_answers,
    achievements, user_achievements, learning_streaks, study_goals,
    user_activity_logs, component_analytics, performance_metrics,
    v_user_learning_stats, v_component_performance, v_assessment_performance,
    v_user_assessment_history, v_question_performance,
    mv_daily_user_activity, mv_weekly_domain_progress
    FROM admin;

REVOKE SELECT ON TABLE
    users, user_profiles, user_settings,
    learning_components, user_progress, learning_sessions, bookmarks,
    question_bank, assessments, assessment_attempts, assessment_answers,
    achievements, user_achievements, learning_streaks, study_goals,
    user_activity_logs, component_analytics, performance_metrics,
    v_user_learning_stats, v_component_performance, v_assessment_performance,
    v_user_assessment_history, v_question_performance,
    mv_daily_user_activity, mv_weekly_domain_progress
    FROM readonly;

REVOKE EXECUTE ON FUNCTION
    update_updated_at_column(), app_current_user_id(),
    calculate_overall_progress(uuid), update_learning_streak(uuid, date),
    check_and_award_achievement(uuid, text), get_user_dashboard_summary(uuid),
    refresh_analytics_views()
    FROM app_user;
REVOKE SELECT ON TABLE
    v_user_learning_stats, v_component_performance, v_assessment_performance,
    v_user_assessment_history, v_question_performance,
    mv_daily_user_activity, mv_weekly_domain_progress
    FROM app_user;
REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLE
    users, user_profiles, user_settings,
    learning_components, user_progress, learning_sessions, bookmarks,
    question_bank, assessments, assessment_attempts, assessment_answers,
    achievements, user_achievements, learning_streaks, study_goals,
    user_activity_logs, component_analytics, performance_metrics
    FROM app_user;

REVOKE USAGE ON SCHEMA public FROM app_user, readonly, admin;
