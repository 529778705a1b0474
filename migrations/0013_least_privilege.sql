-- migrate:up
-- 0013 least privilege
-- Until now app_user could write every table (catalog included, and cascades run as the
-- owner), set its own role and status, write its own grades, streaks and achievements, read
-- the answer keys, and read any account's password hash through find_login_candidate; readonly
-- read every password hash. The rule from here on:
--
-- Threat model. Inside a learner-scoped transaction (as_user: SET LOCAL ROLE app_user and
-- app.user_id set by the backend) the identity is fixed, but every other statement may be
-- chosen by an attacker. The database alone guarantees that such a transaction cannot read or
-- change another learner's rows; change the catalog; read an answer key outside the review of
-- its own submitted attempts; read any password hash; change its own role, status, e-mail
-- verification, deletion or password; open more attempts than max_attempts allows; set any
-- score, grade, pass flag, achievement, streak, goal progress, question statistic or analytics
-- row except as the grading and reward logic derive them from its own answers and activity;
-- refresh the materialized views. (Changing app.user_id itself is outside the model: the backend
-- sets it once per transaction, and a transaction without it is anonymous.)
--
-- How:
--   * app_user keeps SELECT where rows are its own (row-level security, as before) and write
--     privileges only on what a learner edits directly, column by column: profile and settings
--     fields, bookmarks, new goals, new learning sessions, activity log entries. Secret columns
--     are not granted: users.password_hash, question_bank.correct_answer and .explanation,
--     assessment_answers.is_correct and .points_earned (grades are read through review_attempt).
--   * Everything privileged goes through SECURITY DEFINER functions owned by the migrating role,
--     with a pinned search_path, that take the acting user from app.user_id (app_acting_user()),
--     never from an argument: register_account (role is always 'student'), login_candidate (the
--     hash only in an anonymous transaction), record_progress, end_learning_session,
--     start_attempt (max_attempts under a per-user lock), save_answer (shape checked by
--     grade_answer of 0012), submit_attempt (grades set-based with grade_answer, stores grades,
--     totals, question statistics, then progress, streak, goals, achievements and the log),
--     abandon_attempt, review_attempt (keys only for the learner's own submitted attempts, as the
--     assessment allows) and set_goal_status (a goal is completed only by reaching its target).
--     Internal helpers (apply_progress, create_account, app_acting_user, the grading helpers) are
--     executable by their owner only.
--   * update_learning_streak, check_and_award_achievement, update_question_stats and
--     refresh_analytics_views take arbitrary arguments: app_user loses EXECUTE (admin keeps it).
--   * A new role content_editor writes the catalog (learning_components, question_bank,
--     assessments, achievements) except the statistics the platform derives (view, completion,
--     rating and answer counters); `netplus-db seed` writes the catalog as content_editor and the
--     demo accounts as admin. Registration with another role than 'student' is admin-only
--     (register_privileged_account).
--   * readonly reads every column but users.password_hash.
-- The backend's login role should be a member of app_user and nothing else, with no privilege
-- of its own: RESET ROLE inside a transaction returns to it (README, "Roles").

-- ---------------------------------------------------------------------------
-- The content role (cluster-wide, hence created idempotently, like the roles of 0009)
-- ---------------------------------------------------------------------------
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'content_editor') THEN
        BEGIN
            CREATE ROLE content_editor NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    IF (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = 'content_editor') THEN
        RAISE EXCEPTION 'role content_editor has SUPERUSER or BYPASSRLS';
    END IF;
    IF pg_has_role('app_user', 'content_editor', 'USAGE')
       OR pg_has_role('readonly', 'content_editor', 'USAGE') THEN
        RAISE EXCEPTION 'app_user or readonly has the privileges of content_editor';
    END IF;
    -- A non-superuser migrating role seeds the catalog as content_editor (as it is a member of
    -- admin since 0009); kept by the down migration, like that membership.
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       AND NOT pg_has_role(current_user, 'content_editor', 'MEMBER') THEN
        EXECUTE format('GRANT content_editor TO %I', current_user);
    END IF;
    -- Before PostgreSQL 15 every role may create objects in schema public, where it could
    -- shadow a function the others call. Not undone by the down migration.
    IF has_schema_privilege('app_user', 'public', 'CREATE') THEN
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO content_editor;

-- ---------------------------------------------------------------------------
-- app_user: table and column privileges
-- ---------------------------------------------------------------------------
REVOKE ALL ON TABLE
    users, user_profiles, user_settings,
    learning_components, user_progress, learning_sessions, bookmarks,
    question_bank, assessments, assessment_attempts, assessment_answers,
    achievements, user_achievements, learning_streaks, study_goals,
    user_activity_logs, component_analytics, performance_metrics
    FROM app_user;

-- Read-only for a learner: its own rows (RLS) or the published catalog.
GRANT SELECT ON TABLE
    user_progress, assessment_attempts, user_achievements, learning_streaks,
    learning_components, assessments, achievements, component_analytics
    TO app_user;

GRANT SELECT (id, email, username, role, email_verified, account_status,
              created_at, updated_at, deleted_at)
    ON users TO app_user;

GRANT SELECT ON user_profiles TO app_user;
GRANT UPDATE (first_name, last_name, display_name, bio, avatar_url, timezone, locale,
              certifications)
    ON user_profiles TO app_user;

GRANT SELECT ON user_settings TO app_user;
GRANT UPDATE (theme, notifications_enabled, email_notifications, study_reminders,
              reminder_time, reminder_days, accessibility_mode, high_contrast, font_size,
              daily_goal_minutes, privacy_settings)
    ON user_settings TO app_user;

GRANT SELECT ON learning_sessions TO app_user;
GRANT INSERT (user_id, component_id, device_type, session_data) ON learning_sessions TO app_user;

GRANT SELECT, DELETE ON bookmarks TO app_user;
GRANT INSERT (user_id, component_id, position, note) ON bookmarks TO app_user;
GRANT UPDATE (position, note) ON bookmarks TO app_user;

GRANT SELECT (id, question_type, domain, subdomain, difficulty_level, question_text,
              question_data, hints, points, comptia_objectives, usage_count, correct_count,
              incorrect_count, average_time_seconds, is_published, created_by, created_at,
              updated_at, deleted_at)
    ON question_bank TO app_user;

GRANT SELECT (id, attempt_id, question_id, user_answer, time_spent_seconds,
              flagged_for_review, created_at, updated_at)
    ON assessment_answers TO app_user;

GRANT SELECT ON study_goals TO app_user;
GRANT INSERT (user_id, goal_type, title, target_value, metric, start_date, target_date)
    ON study_goals TO app_user;

GRANT SELECT ON user_activity_logs TO app_user;
GRANT INSERT (user_id, activity_type, activity_description, resource_type, resource_id,
              metadata, ip_address, user_agent)
    ON user_activity_logs TO app_user;

-- Functions that write privileged state for a user named by an argument, or refresh views.
REVOKE EXECUTE ON FUNCTION
    update_learning_streak(uuid, date),
    check_and_award_achievement(uuid, text),
    refresh_analytics_views(),
    update_question_stats(uuid[], boolean[], boolean[], integer[])
    FROM app_user;

-- ---------------------------------------------------------------------------
-- readonly: no password hashes
-- ---------------------------------------------------------------------------
REVOKE SELECT ON users FROM readonly;
GRANT SELECT (id, email, username, role, email_verified, account_status,
              created_at, updated_at, deleted_at)
    ON users TO readonly;

-- ---------------------------------------------------------------------------
-- content_editor: the catalog, without the statistics the platform derives
-- ---------------------------------------------------------------------------
GRANT SELECT, DELETE ON TABLE learning_components, question_bank, assessments, achievements
    TO content_editor;

GRANT INSERT (id, component_type, domain, subdomain, title, slug, description, content,
              difficulty_level, estimated_duration_minutes, prerequisites, objectives,
              comptia_objectives, is_published, created_by, deleted_at),
      UPDATE (component_type, domain, subdomain, title, slug, description, content,
              difficulty_level, estimated_duration_minutes, prerequisites, objectives,
              comptia_objectives, is_published, created_by, deleted_at)
    ON learning_components TO content_editor;

GRANT INSERT (id, question_type, domain, subdomain, difficulty_level, question_text,
              question_data, correct_answer, explanation, hints, points, comptia_objectives,
              is_published, created_by, deleted_at),
      UPDATE (question_type, domain, subdomain, difficulty_level, question_text,
              question_data, correct_answer, explanation, hints, points, comptia_objectives,
              is_published, created_by, deleted_at)
    ON question_bank TO content_editor;

GRANT INSERT (id, assessment_type, title, slug, description, domain, difficulty_level,
              time_limit_minutes, passing_score, question_ids, randomize_questions,
              randomize_answers, show_answers_after, allow_review, max_attempts, is_published,
              created_by, deleted_at),
      UPDATE (assessment_type, title, slug, description, domain, difficulty_level,
              time_limit_minutes, passing_score, question_ids, randomize_questions,
              randomize_answers, show_answers_after, allow_review, max_attempts, is_published,
              created_by, deleted_at)
    ON assessments TO content_editor;

GRANT INSERT (id, achievement_type, code, name, description, criteria, points, rarity,
              is_active),
      UPDATE (achievement_type, code, name, description, criteria, points, rarity, is_active)
    ON achievements TO content_editor;

-- ---------------------------------------------------------------------------
-- The acting user
-- ---------------------------------------------------------------------------
CREATE FUNCTION app_acting_user()
RETURNS uuid
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_user uuid := app_current_user_id();
BEGIN
    IF v_user IS NULL THEN
        RAISE EXCEPTION 'no user acts in this transaction (app.user_id is not set)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM users u
                    WHERE u.id = v_user AND u.deleted_at IS NULL
                      AND u.account_status = 'active') THEN
        RAISE EXCEPTION 'user % is not an active account', v_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN v_user;
END;
$$;

COMMENT ON FUNCTION app_acting_user() IS
    'The user a SECURITY DEFINER function acts for: app.user_id, which must name a live, active account (insufficient_privilege otherwise). Internal: executable by its owner only.';

-- ---------------------------------------------------------------------------
-- Accounts
-- ---------------------------------------------------------------------------
CREATE FUNCTION create_account(
    p_id            uuid,
    p_email         text,
    p_username      text,
    p_password_hash text,
    p_role          text,
    p_first_name    text,
    p_last_name     text,
    p_display_name  text
)
RETURNS TABLE (id uuid, email varchar, username varchar, role varchar,
               account_status varchar, email_verified boolean, created_at timestamptz)
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF p_id IS NULL THEN
        RAISE EXCEPTION 'registration needs app.user_id set to the new account''s id'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF EXISTS (SELECT 1 FROM users u WHERE u.id = p_id) THEN
        RAISE EXCEPTION 'account % exists already: an existing user cannot register', p_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_password_hash IS NULL OR p_password_hash !~ '^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$' THEN
        RAISE EXCEPTION 'password_hash: is not a bcrypt hash'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO users (id, email, username, password_hash, role)
    VALUES (p_id, btrim(p_email), btrim(p_username), p_password_hash, p_role);
    INSERT INTO user_profiles (user_id, first_name, last_name, display_name)
    VALUES (p_id, p_first_name, p_last_name, p_display_name);
    INSERT INTO user_settings (user_id) VALUES (p_id);
    INSERT INTO learning_streaks (user_id) VALUES (p_id);
    INSERT INTO user_activity_logs
           (user_id, activity_type, activity_description, resource_type, resource_id)
    VALUES (p_id, 'register', 'Account created', 'user', p_id);
    RETURN QUERY
        SELECT u.id, u.email, u.username, u.role, u.account_status, u.email_verified,
               u.created_at
          FROM users u
         WHERE u.id = p_id;
END;
$$;

COMMENT ON FUNCTION create_account(uuid, text, text, text, text, text, text, text) IS
    'An account with its profile, settings and streak rows and a "register" log entry. Internal: executable by its owner only, through register_account and register_privileged_account.';

CREATE FUNCTION register_account(
    p_email         text,
    p_username      text,
    p_password_hash text,
    p_first_name    text,
    p_last_name     text,
    p_display_name  text
)
RETURNS TABLE (id uuid, email varchar, username varchar, role varchar,
               account_status varchar, email_verified boolean, created_at timestamptz)
LANGUAGE sql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT * FROM create_account(app_current_user_id(), p_email, p_username, p_password_hash,
                                 'student', p_first_name, p_last_name, p_display_name)
$$;

COMMENT ON FUNCTION register_account(text, text, text, text, text, text) IS
    'Register a student account under the id set as app.user_id (which must be new), with a bcrypt hash computed by the application. Always role student: other roles are register_privileged_account''s (admin only).';

CREATE FUNCTION register_privileged_account(
    p_email         text,
    p_username      text,
    p_password_hash text,
    p_role          text,
    p_first_name    text,
    p_last_name     text,
    p_display_name  text
)
RETURNS TABLE (id uuid, email varchar, username varchar, role varchar,
               account_status varchar, email_verified boolean, created_at timestamptz)
LANGUAGE sql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT * FROM create_account(app_current_user_id(), p_email, p_username, p_password_hash,
                                 p_role, p_first_name, p_last_name, p_display_name)
$$;

COMMENT ON FUNCTION register_privileged_account(text, text, text, text, text, text, text) IS
    'Register an account of any role under the id set as app.user_id. EXECUTE: admin only.';

CREATE FUNCTION login_candidate(p_login text)
RETURNS TABLE (id uuid, password_hash text, account_status varchar, role varchar)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF app_current_user_id() IS NOT NULL THEN
        RAISE EXCEPTION 'login_candidate answers only before a user is identified (app.user_id is set)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN QUERY
        SELECT u.id, u.password_hash, u.account_status, u.role
          FROM users u
         WHERE u.deleted_at IS NULL
           AND (lower(u.email) = lower(btrim(p_login))
                OR lower(u.username) = lower(btrim(p_login)))
         ORDER BY (lower(u.email) = lower(btrim(p_login))) DESC
         LIMIT 1;
END;
$$;

COMMENT ON FUNCTION login_candidate(text) IS
    'Login look-up in an anonymous transaction (app.user_id unset): the live account whose email or username (case-insensitive) is the argument, with its password hash and status, for the password check in the application. Refused (insufficient_privilege) once a user acts in the transaction, so a learner transaction never reads a hash.';

-- The old look-up handed any account's hash to any app_user transaction: it must go, not stay
-- beside its replacement; the library of this release no longer calls it.
-- squawk-ignore ban-drop-function
DROP FUNCTION find_login_candidate(text);

-- ---------------------------------------------------------------------------
-- Progress and the reward logic
-- ---------------------------------------------------------------------------
CREATE FUNCTION apply_progress(
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

CREATE FUNCTION record_progress(
    p_component_id        uuid,
    p_status              text,
    p_progress_percentage integer,
    p_time_spent_minutes  integer,
    p_last_position       jsonb
)
RETURNS TABLE (id uuid, user_id uuid, component_id uuid, status varchar,
               progress_percentage integer, time_spent_minutes integer, best_score numeric,
               latest_score numeric, completion_date timestamptz, mastery_date timestamptz,
               newly_completed boolean, goal_ids uuid[], achievement_codes text[])
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_user     uuid := app_acting_user();
    v_assessed boolean;
BEGIN
    IF p_status IS NULL OR p_status NOT IN ('not_started', 'in_progress', 'completed', 'mastered') THEN
        RAISE EXCEPTION 'status: must be one of not_started, in_progress, completed, mastered'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_progress_percentage IS NULL OR p_progress_percentage NOT BETWEEN 0 AND 100 THEN
        RAISE EXCEPTION 'progress_percentage: must be between 0 and 100'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_time_spent_minutes IS NULL OR p_time_spent_minutes NOT BETWEEN 0 AND 1440 THEN
        RAISE EXCEPTION 'time_spent_minutes: must be between 0 and 1440 (one day) per call'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT EXISTS (SELECT 1 FROM assessments a
                    WHERE a.slug = lc.content ->> 'assessment_slug')
      INTO v_assessed
      FROM learning_components lc
     WHERE lc.id = p_component_id AND lc.is_published AND lc.deleted_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'component % does not exist', p_component_id
            USING ERRCODE = 'no_data_found';
    END IF;
    -- A component presenting an assessment is completed, and its percentage set, only by
    -- submitting that assessment (submit_attempt).
    IF v_assessed AND p_status IN ('completed', 'mastered') THEN
        RAISE EXCEPTION 'status: a component that presents an assessment is completed by passing it'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
        SELECT * FROM apply_progress(v_user, p_component_id, p_status,
                                     CASE WHEN v_assessed THEN 0 ELSE p_progress_percentage END,
                                     p_time_spent_minutes, p_last_position, NULL);
END;
$$;

COMMENT ON FUNCTION record_progress(uuid, text, integer, integer, jsonb) IS
    'The acting user (app.user_id) records progress on a published component; completing it sets off the reward logic (apply_progress). No score: scores come from submit_attempt only. A component presenting an assessment is completed only by passing it.';

CREATE FUNCTION end_learning_session(
    p_session_id          uuid,
    p_interaction_count   integer,
    p_completion_achieved boolean,
    p_session_data        jsonb
)
RETURNS TABLE (id uuid, user_id uuid, component_id uuid, session_start timestamptz,
               session_end timestamptz, duration_minutes integer)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_user uuid := app_acting_user();
BEGIN
    RETURN QUERY
        WITH ended AS (
            UPDATE learning_sessions s
               SET session_end = greatest(now(), s.session_start),
                   duration_minutes = floor(extract(epoch FROM greatest(now(), s.session_start)
                                                               - s.session_start) / 60)::int,
                   interaction_count = p_interaction_count,
                   completion_achieved = p_completion_achieved,
                   session_data = s.session_data || coalesce(p_session_data, '{}')
             WHERE s.id = p_session_id AND s.user_id = v_user AND s.session_end IS NULL
            RETURNING s.id, s.user_id, s.component_id, s.session_start, s.session_end,
                      s.duration_minutes)
        SELECT * FROM ended;
END;
$$;

COMMENT ON FUNCTION end_learning_session(uuid, integer, boolean, jsonb) IS
    'Close an open learning session of the acting user; its end and duration come from the database clock. No row: unknown, another user''s, or already closed.';

CREATE FUNCTION set_goal_status(p_goal_id uuid, p_status text)
RETURNS TABLE (id uuid, user_id uuid, goal_type varchar, title varchar, target_value integer,
               current_value integer, metric varchar, start_date date, target_date date,
               completed_date date, status varchar)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_user uuid := app_acting_user();
BEGIN
    IF p_status IS NULL OR p_status NOT IN ('active', 'abandoned', 'failed') THEN
        RAISE EXCEPTION 'status: must be active, abandoned or failed (a goal is completed by reaching its target)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
        WITH changed AS (
            UPDATE study_goals g
               SET status = p_status, completed_date = NULL
             WHERE g.id = p_goal_id AND g.user_id = v_user
            RETURNING g.id, g.user_id, g.goal_type, g.title, g.target_value, g.current_value,
                      g.metric, g.start_date, g.target_date, g.completed_date, g.status)
        SELECT * FROM changed;
END;
$$;

COMMENT ON FUNCTION set_goal_status(uuid, text) IS
    'Abandon, fail or reactivate a goal of the acting user. No row: unknown or another user''s.';

-- ---------------------------------------------------------------------------
-- Assessments
-- ---------------------------------------------------------------------------
CREATE FUNCTION start_attempt(p_assessment_id uuid)
RETURNS TABLE (id uuid, user_id uuid, assessment_id uuid, attempt_number integer,
               status varchar, started_at timestamptz, question_order uuid[])
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_user uuid := app_acting_user();
BEGIN
    -- Racing starts of one user on one assessment wait for each other, so that max_attempts
    -- holds.
    PERFORM pg_advisory_xact_lock(
        hashtextextended(v_user::text || '/' || p_assessment_id::text, 42));
    RETURN QUERY
        WITH started AS (
            INSERT INTO assessment_attempts AS t
                   (user_id, assessment_id, attempt_number, question_order)
            SELECT v_user, a.id, coalesce(prev.last_number, 0) + 1,
                   CASE WHEN a.randomize_questions
                        THEN (SELECT array_agg(q ORDER BY random()) FROM unnest(a.question_ids) AS q)
                        ELSE a.question_ids END
              FROM assessments a
             CROSS JOIN LATERAL (SELECT max(x.attempt_number) AS last_number, count(*) AS used
                                   FROM assessment_attempts x
                                  WHERE x.user_id = v_user AND x.assessment_id = a.id) AS prev
             WHERE a.id = p_assessment_id AND a.is_published AND a.deleted_at IS NULL
               AND (a.max_attempts IS NULL OR prev.used < a.max_attempts)
            RETURNING t.id, t.user_id, t.assessment_id, t.attempt_number, t.status,
                      t.started_at, t.question_order)
        SELECT * FROM started;
END;
$$;

COMMENT ON FUNCTION start_attempt(uuid) IS
    'Open the acting user''s next attempt at a published assessment (number = previous + 1), unless max_attempts is used up; the question order is shuffled when the assessment says so. No row: not available or no attempt left.';

CREATE FUNCTION save_answer(
    p_attempt_id         uuid,
    p_question_id        uuid,
    p_user_answer        jsonb,
    p_time_spent_seconds integer,
    p_flagged_for_review boolean
)
RETURNS TABLE (id uuid, attempt_id uuid, question_id uuid, updated_at timestamptz)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_user    uuid := app_acting_user();
    v_order   uuid[];
    v_q       record;
BEGIN
    SELECT coalesce(t.question_order, a.question_ids) INTO v_order
      FROM assessment_attempts t
      JOIN assessments a ON a.id = t.assessment_id
     WHERE t.id = p_attempt_id AND t.user_id = v_user;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'attempt % does not exist', p_attempt_id USING ERRCODE = 'no_data_found';
    END IF;
    IF p_question_id IS NULL OR NOT p_question_id = ANY (v_order) THEN
        RAISE EXCEPTION 'question_id: % is not a question of this attempt', p_question_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_time_spent_seconds < 0 THEN
        RAISE EXCEPTION 'time_spent_seconds: must not be negative'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT q.question_type, q.question_data, q.correct_answer, q.points INTO v_q
      FROM question_bank q
     WHERE q.id = p_question_id;
    -- The answer's shape is checked against the question now (malformed: invalid_parameter_value
    -- naming the field); the grade itself is computed at submit and not shown.
    IF p_user_answer IS NOT NULL AND p_user_answer <> '{}'::jsonb THEN
        PERFORM grade_answer(v_q.question_type, v_q.question_data, v_q.correct_answer,
                             p_user_answer, v_q.points);
    END IF;
    RETURN QUERY
        WITH saved AS (
            INSERT INTO assessment_answers AS ans
                   (attempt_id, question_id, user_answer, time_spent_seconds, flagged_for_review)
            SELECT t.id, p_question_id, p_user_answer, coalesce(p_time_spent_seconds, 0),
                   coalesce(p_flagged_for_review, false)
              FROM assessment_attempts t
              JOIN assessments a ON a.id = t.assessment_id
             WHERE t.id = p_attempt_id AND t.user_id = v_user AND t.status = 'in_progress'
               AND (a.time_limit_minutes IS NULL
                    OR now() <= t.started_at + make_interval(mins => a.time_limit_minutes))
            ON CONFLICT (attempt_id, question_id) DO UPDATE
               SET user_answer = EXCLUDED.user_answer,
                   time_spent_seconds = EXCLUDED.time_spent_seconds,
                   flagged_for_review = EXCLUDED.flagged_for_review
            RETURNING ans.id, ans.attempt_id, ans.question_id, ans.updated_at)
        SELECT * FROM saved;
END;
$$;

COMMENT ON FUNCTION save_answer(uuid, uuid, jsonb, integer, boolean) IS
    'Save (or replace) an answer of the acting user while the attempt is in progress and within its time limit by the database clock, after checking its shape with grade_answer (invalid_parameter_value "<field>: <message>"). No row: the attempt is closed or expired.';

-- Grade every question of an attempt, set-based, with grade_answer (0012). Answers saved after
-- the deadline count as not given. `p_lenient`: an answer that no longer fits its question
-- (the question was edited after the answer was saved) counts as skipped instead of failing
-- the whole submit; per answer, so only used when the strict pass fails.
CREATE FUNCTION grade_attempt(p_attempt_id uuid, p_lenient boolean)
RETURNS TABLE (question_id uuid, skipped boolean, is_correct boolean, points_earned numeric,
               points integer, time_spent_seconds integer)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT s.question_id, g.skipped IS NOT FALSE, coalesce(g.is_correct, false),
               coalesce(g.points_earned, 0)::numeric, s.points, s.time_spent_seconds
          FROM (SELECT q.id AS question_id, q.question_type, q.question_data, q.correct_answer,
                       q.points, o.position,
                       CASE WHEN a.time_limit_minutes IS NULL
                              OR ans.updated_at <= t.started_at
                                                   + make_interval(mins => a.time_limit_minutes)
                            THEN ans.user_answer END AS user_answer,
                       ans.time_spent_seconds
                  FROM assessment_attempts t
                  JOIN assessments a ON a.id = t.assessment_id
                 CROSS JOIN LATERAL unnest(coalesce(t.question_order, a.question_ids))
                       WITH ORDINALITY AS o(question_id, position)
                  JOIN question_bank q ON q.id = o.question_id
                  LEFT JOIN assessment_answers ans
                         ON ans.attempt_id = t.id AND ans.question_id = q.id
                 WHERE t.id = p_attempt_id) AS s
          LEFT JOIN LATERAL (
                SELECT r.skipped, r.is_correct, r.points_earned
                  FROM grade_answer(s.question_type, s.question_data, s.correct_answer,
                                    s.user_answer, s.points) AS r
                 WHERE s.user_answer IS NOT NULL AND s.user_answer <> '{}'::jsonb
                   AND NOT p_lenient
                UNION ALL
                SELECT l.skipped, l.is_correct, l.points_earned
                  FROM grade_answer_or_skip(s.question_type, s.question_data, s.correct_answer,
                                            s.user_answer, s.points) AS l
                 WHERE s.user_answer IS NOT NULL AND s.user_answer <> '{}'::jsonb
                   AND p_lenient) AS g ON true
         ORDER BY s.position;
END;
$$;

COMMENT ON FUNCTION grade_attempt(uuid, boolean) IS
    'Every question of an attempt graded with grade_answer, in the order shown: skipped, correct, points earned, the question''s points and the time spent. Internal: executable by its owner only.';

CREATE FUNCTION grade_answer_or_skip(
    p_question_type  text,
    p_question_data  jsonb,
    p_correct_answer jsonb,
    p_user_answer    jsonb,
    p_points         integer,
    OUT skipped       boolean,
    OUT is_correct    boolean,
    OUT points_earned numeric
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    SELECT r.skipped, r.is_correct, r.points_earned INTO skipped, is_correct, points_earned
      FROM grade_answer(p_question_type, p_question_data, p_correct_answer, p_user_answer,
                        p_points) AS r;
EXCEPTION WHEN invalid_parameter_value THEN
    skipped := true;
    is_correct := false;
    points_earned := 0;
END;
$$;

COMMENT ON FUNCTION grade_answer_or_skip(text, jsonb, jsonb, jsonb, integer) IS
    'grade_answer, except that an answer that no longer fits its question counts as skipped. Internal: executable by its owner only.';

CREATE FUNCTION submit_attempt(p_attempt_id uuid)
RETURNS TABLE (id uuid, user_id uuid, assessment_id uuid, attempt_number integer,
               status varchar, started_at timestamptz, completed_at timestamptz,
               time_spent_minutes integer, score numeric, percentage numeric, passed boolean,
               correct_answers integer, incorrect_answers integer, skipped_questions integer,
               progress_id uuid, progress_component_id uuid, progress_status varchar,
               progress_percentage integer, progress_time_spent_minutes integer,
               progress_best_score numeric, progress_latest_score numeric,
               progress_completion_date timestamptz, progress_mastery_date timestamptz,
               newly_completed boolean, goal_ids uuid[], achievement_codes text[])
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_user       uuid := app_acting_user();
    v_attempt    assessment_attempts%ROWTYPE;
    v_assessment assessments%ROWTYPE;
    v_expired    boolean;
    v_ids        uuid[];
    v_correct    boolean[];
    v_answered   boolean[];
    v_points     numeric[];
    v_seconds    integer[];
    v_score      numeric;
    v_possible   numeric;
    v_right      integer;
    v_wrong      integer;
    v_skipped    integer;
    v_percentage numeric(5,2);
    v_passed     boolean;
    v_component  uuid;
    v_progress   record;
    v_has_progress boolean := false;
BEGIN
    SELECT * INTO v_attempt
      FROM assessment_attempts t
     WHERE t.id = p_attempt_id AND t.user_id = v_user
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'attempt % does not exist', p_attempt_id USING ERRCODE = 'no_data_found';
    END IF;
    IF v_attempt.status <> 'in_progress' THEN
        RAISE EXCEPTION 'attempt % is already %', p_attempt_id, v_attempt.status
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    SELECT * INTO v_assessment FROM assessments a WHERE a.id = v_attempt.assessment_id;
    v_expired := coalesce(now() > v_attempt.started_at
                                  + make_interval(mins => v_assessment.time_limit_minutes), false);

    BEGIN
        SELECT array_agg(g.question_id), array_agg(g.is_correct), array_agg(NOT g.skipped),
               array_agg(g.points_earned), array_agg(g.time_spent_seconds),
               coalesce(sum(g.points_earned), 0), coalesce(sum(g.points), 0),
               count(*) FILTER (WHERE g.is_correct),
               count(*) FILTER (WHERE NOT g.skipped AND NOT g.is_correct),
               count(*) FILTER (WHERE g.skipped)
          INTO v_ids, v_correct, v_answered, v_points, v_seconds, v_score, v_possible,
               v_right, v_wrong, v_skipped
          FROM grade_attempt(p_attempt_id, false) AS g;
    EXCEPTION WHEN invalid_parameter_value THEN
        SELECT array_agg(g.question_id), array_agg(g.is_correct), array_agg(NOT g.skipped),
               array_agg(g.points_earned), array_agg(g.time_spent_seconds),
               coalesce(sum(g.points_earned), 0), coalesce(sum(g.points), 0),
               count(*) FILTER (WHERE g.is_correct),
               count(*) FILTER (WHERE NOT g.skipped AND NOT g.is_correct),
               count(*) FILTER (WHERE g.skipped)
          INTO v_ids, v_correct, v_answered, v_points, v_seconds, v_score, v_possible,
               v_right, v_wrong, v_skipped
          FROM grade_attempt(p_attempt_id, true) AS g;
    END;
    v_percentage := CASE WHEN v_possible > 0 THEN round(v_score * 100 / v_possible, 2) ELSE 0 END;
    v_passed := v_percentage >= coalesce(v_assessment.passing_score, 0);

    -- Each answer's grade; questions never answered get a row too, so that the answers add up
    -- to the totals. A row already holding its grade is left alone.
    INSERT INTO assessment_answers AS ans (attempt_id, question_id, is_correct, points_earned)
    SELECT p_attempt_id, g.question_id, g.correct, g.points
      FROM unnest(v_ids, v_correct, v_points) AS g(question_id, correct, points)
    ON CONFLICT (attempt_id, question_id) DO UPDATE
       SET is_correct = EXCLUDED.is_correct, points_earned = EXCLUDED.points_earned
     WHERE (ans.is_correct, ans.points_earned)
           IS DISTINCT FROM (EXCLUDED.is_correct, EXCLUDED.points_earned);

    IF v_ids IS NOT NULL THEN
        PERFORM update_question_stats(v_ids, v_correct, v_answered, v_seconds);
    END IF;

    UPDATE assessment_attempts t
       SET status = CASE WHEN v_expired THEN 'timed_out' ELSE 'completed' END,
           completed_at = greatest(now(), t.started_at),
           time_spent_minutes = ceil(extract(epoch FROM greatest(now(), t.started_at)
                                                        - t.started_at) / 60)::int,
           score = v_score, percentage = v_percentage, passed = v_passed,
           correct_answers = v_right, incorrect_answers = v_wrong,
           skipped_questions = v_skipped
     WHERE t.id = p_attempt_id
    RETURNING t.* INTO v_attempt;

    SELECT lc.id INTO v_component
      FROM learning_components lc
     WHERE lc.content ->> 'assessment_slug' = v_assessment.slug AND lc.deleted_at IS NULL
     ORDER BY lc.created_at
     LIMIT 1;
    IF v_component IS NOT NULL THEN
        SELECT * INTO v_progress
          FROM apply_progress(v_user, v_component,
                              CASE WHEN v_passed THEN 'completed' ELSE 'in_progress' END,
                              CASE WHEN v_passed THEN 100 ELSE trunc(v_percentage)::int END,
                              v_attempt.time_spent_minutes, NULL, v_percentage);
        v_has_progress := true;
    END IF;

    INSERT INTO user_activity_logs
           (user_id, activity_type, activity_description, resource_type, resource_id, metadata)
    VALUES (v_user, 'assessment_submitted',
            format('Scored %s%% (%s)', v_percentage,
                   CASE WHEN v_passed THEN 'passed' ELSE 'not passed' END),
            'assessment_attempt', p_attempt_id,
            jsonb_build_object('percentage', v_percentage::text, 'passed', v_passed,
                               'status', v_attempt.status));

    IF v_has_progress THEN
        RETURN QUERY SELECT
            v_attempt.id, v_attempt.user_id, v_attempt.assessment_id, v_attempt.attempt_number,
            v_attempt.status, v_attempt.started_at, v_attempt.completed_at,
            v_attempt.time_spent_minutes, v_attempt.score, v_attempt.percentage,
            v_attempt.passed, v_attempt.correct_answers, v_attempt.incorrect_answers,
            v_attempt.skipped_questions,
            v_progress.id, v_progress.component_id, v_progress.status,
            v_progress.progress_percentage, v_progress.time_spent_minutes,
            v_progress.best_score, v_progress.latest_score, v_progress.completion_date,
            v_progress.mastery_date, v_progress.newly_completed, v_progress.goal_ids,
            v_progress.achievement_codes;
    ELSE
        RETURN QUERY SELECT
            v_attempt.id, v_attempt.user_id, v_attempt.assessment_id, v_attempt.attempt_number,
            v_attempt.status, v_attempt.started_at, v_attempt.completed_at,
            v_attempt.time_spent_minutes, v_attempt.score, v_attempt.percentage,
            v_attempt.passed, v_attempt.correct_answers, v_attempt.incorrect_answers,
            v_attempt.skipped_questions,
            NULL::uuid, NULL::uuid, NULL::varchar, NULL::integer, NULL::integer,
            NULL::numeric, NULL::numeric, NULL::timestamptz, NULL::timestamptz,
            false, '{}'::uuid[], '{}'::text[];
    END IF;
END;
$$;

COMMENT ON FUNCTION submit_attempt(uuid) IS
    'Grade and close an attempt of the acting user: every answer with grade_answer (set-based), the grades, the totals (completed, or timed_out past the time limit), the question statistics, then the progress on the component presenting the assessment with the reward logic (apply_progress), and the log. no_data_found: not the user''s attempt; object_not_in_prerequisite_state: already closed. The progress_* columns are NULL when no component presents the assessment.';

CREATE FUNCTION abandon_attempt(p_attempt_id uuid)
RETURNS TABLE (id uuid, user_id uuid, assessment_id uuid, attempt_number integer,
               status varchar, started_at timestamptz, completed_at timestamptz,
               time_spent_minutes integer, score numeric, percentage numeric, passed boolean,
               correct_answers integer, incorrect_answers integer, skipped_questions integer)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_user uuid := app_acting_user();
BEGIN
    RETURN QUERY
        WITH abandoned AS (
            UPDATE assessment_attempts t
               SET status = 'abandoned', completed_at = greatest(now(), t.started_at)
             WHERE t.id = p_attempt_id AND t.user_id = v_user AND t.status = 'in_progress'
            RETURNING t.id, t.user_id, t.assessment_id, t.attempt_number, t.status,
                      t.started_at, t.completed_at, t.time_spent_minutes, t.score,
                      t.percentage, t.passed, t.correct_answers, t.incorrect_answers,
                      t.skipped_questions)
        SELECT * FROM abandoned;
END;
$$;

COMMENT ON FUNCTION abandon_attempt(uuid) IS
    'Give up an attempt of the acting user that is in progress. No row: unknown, another user''s, or not in progress.';

CREATE FUNCTION review_attempt(p_attempt_id uuid)
RETURNS TABLE (question_id uuid, "position" integer, question_type varchar, question_text text,
               question_data jsonb, user_answer jsonb, is_correct boolean,
               points_earned numeric, points integer, correct_answer jsonb, explanation text)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_user uuid := app_acting_user();
BEGIN
    RETURN QUERY
        SELECT q.id, o.position::int, q.question_type, q.question_text, q.question_data,
               ans.user_answer, coalesce(ans.is_correct, false),
               coalesce(ans.points_earned, 0), q.points,
               CASE WHEN a.show_answers_after THEN q.correct_answer END,
               CASE WHEN a.show_answers_after THEN q.explanation END
          FROM assessment_attempts t
          JOIN assessments a ON a.id = t.assessment_id
         CROSS JOIN LATERAL unnest(coalesce(t.question_order, a.question_ids))
               WITH ORDINALITY AS o(question_id, position)
          JOIN question_bank q ON q.id = o.question_id
          LEFT JOIN assessment_answers ans ON ans.attempt_id = t.id AND ans.question_id = q.id
         WHERE t.id = p_attempt_id AND t.user_id = v_user
           AND t.status IN ('completed', 'timed_out') AND a.allow_review
         ORDER BY o.position;
END;
$$;

COMMENT ON FUNCTION review_attempt(uuid) IS
    'A submitted (completed or timed_out) attempt of the acting user question by question, as its assessment allows: nothing unless allow_review; correct answers and explanations only with show_answers_after. The only way a learner reads an answer key or a grade.';

-- ---------------------------------------------------------------------------
-- EXECUTE: nothing for PUBLIC; the learner's functions for app_user (and admin)
-- ---------------------------------------------------------------------------
REVOKE EXECUTE ON FUNCTION
    app_acting_user(),
    create_account(uuid, text, text, text, text, text, text, text),
    register_account(text, text, text, text, text, text),
    register_privileged_account(text, text, text, text, text, text, text),
    login_candidate(text),
    apply_progress(uuid, uuid, text, integer, integer, jsonb, numeric),
    record_progress(uuid, text, integer, integer, jsonb),
    end_learning_session(uuid, integer, boolean, jsonb),
    set_goal_status(uuid, text),
    start_attempt(uuid),
    save_answer(uuid, uuid, jsonb, integer, boolean),
    grade_attempt(uuid, boolean),
    grade_answer_or_skip(text, jsonb, jsonb, jsonb, integer),
    submit_attempt(uuid),
    abandon_attempt(uuid),
    review_attempt(uuid)
    FROM PUBLIC;

GRANT EXECUTE ON FUNCTION
    register_account(text, text, text, text, text, text),
    login_candidate(text),
    record_progress(uuid, text, integer, integer, jsonb),
    end_learning_session(uuid, integer, boolean, jsonb),
    set_goal_status(uuid, text),
    start_attempt(uuid),
    save_answer(uuid, uuid, jsonb, integer, boolean),
    submit_attempt(uuid),
    abandon_attempt(uuid),
    review_attempt(uuid)
    TO app_user, admin;

GRANT EXECUTE ON FUNCTION
    register_privileged_account(text, text, text, text, text, text, text)
    TO admin;

-- migrate:down
-- Reverse order. Each object's grants are revoked from every role and given again in the
-- order of 0009-0011, so that the privilege lists read as they did. The role content_editor
-- (cluster-wide) and the migrating role's membership in it are kept, as in 0009.

DROP FUNCTION review_attempt(uuid);
DROP FUNCTION abandon_attempt(uuid);
DROP FUNCTION submit_attempt(uuid);
DROP FUNCTION grade_answer_or_skip(text, jsonb, jsonb, jsonb, integer);
DROP FUNCTION grade_attempt(uuid, boolean);
DROP FUNCTION save_answer(uuid, uuid, jsonb, integer, boolean);
DROP FUNCTION start_attempt(uuid);
DROP FUNCTION set_goal_status(uuid, text);
DROP FUNCTION end_learning_session(uuid, integer, boolean, jsonb);
DROP FUNCTION record_progress(uuid, text, integer, integer, jsonb);
DROP FUNCTION apply_progress(uuid, uuid, text, integer, integer, jsonb, numeric);

CREATE FUNCTION find_login_candidate(p_login text)
RETURNS TABLE (id uuid, password_hash text, account_status varchar, role varchar)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
    SELECT u.id, u.password_hash, u.account_status, u.role
      FROM users u
     WHERE u.deleted_at IS NULL
       AND (lower(u.email) = lower(btrim(p_login)) OR lower(u.username) = lower(btrim(p_login)))
     ORDER BY (lower(u.email) = lower(btrim(p_login))) DESC
     LIMIT 1
$$;

COMMENT ON FUNCTION find_login_candidate(text) IS
    'Login look-up: the live account whose email or username (case-insensitive) is the argument, with its password hash and status; the only way app_user can see an account that is not its own.';

REVOKE EXECUTE ON FUNCTION find_login_candidate(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION find_login_candidate(text) TO app_user, admin;

DROP FUNCTION login_candidate(text);
DROP FUNCTION register_privileged_account(text, text, text, text, text, text, text);
DROP FUNCTION register_account(text, text, text, text, text, text);
DROP FUNCTION create_account(uuid, text, text, text, text, text, text, text);
DROP FUNCTION app_acting_user();

-- Functions: app_user, then admin (0009, 0011).
REVOKE EXECUTE ON FUNCTION
    update_learning_streak(uuid, date),
    check_and_award_achievement(uuid, text),
    refresh_analytics_views(),
    update_question_stats(uuid[], boolean[], boolean[], integer[])
    FROM admin;
GRANT EXECUTE ON FUNCTION
    update_learning_streak(uuid, date),
    check_and_award_achievement(uuid, text),
    refresh_analytics_views(),
    update_question_stats(uuid[], boolean[], boolean[], integer[])
    TO app_user;
GRANT EXECUTE ON FUNCTION
    update_learning_streak(uuid, date),
    check_and_award_achievement(uuid, text),
    refresh_analytics_views(),
    update_question_stats(uuid[], boolean[], boolean[], integer[])
    TO admin;

-- Tables: app_user, readonly, admin (0009).
REVOKE ALL ON TABLE
    users, user_profiles, user_settings,
    learning_components, user_progress, learning_sessions, bookmarks,
    question_bank, assessments, assessment_attempts, assessment_answers,
    achievements, user_achievements, learning_streaks, study_goals,
    user_activity_logs, component_analytics, performance_metrics
    FROM app_user, readonly, admin, content_editor;
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE
    users, user_profiles, user_settings,
    learning_components, user_progress, learning_sessions, bookmarks,
    question_bank, assessments, assessment_attempts, assessment_answers,
    achievements, user_achievements, learning_streaks, study_goals,
    user_activity_logs, component_analytics, performance_metrics
    TO app_user;
GRANT SELECT ON TABLE
    users, user_profiles, user_settings,
    learning_components, user_progress, learning_sessions, bookmarks,
    question_bank, assessments, assessment_attempts, assessment_answers,
    achievements, user_achievements, learning_streaks, study_goals,
    user_activity_logs, component_analytics, performance_metrics
    TO readonly;
GRANT ALL ON TABLE
    users, user_profiles, user_settings,
    learning_components, user_progress, learning_sessions, bookmarks,
    question_bank, assessments, assessment_attempts, assessment_answers,
    achievements, user_achievements, learning_streaks, study_goals,
    user_activity_logs, component_analytics, performance_metrics
    TO admin;

REVOKE USAGE ON SCHEMA public FROM content_editor;
