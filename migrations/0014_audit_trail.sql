-- migrate:up
-- 0014 audit trail
-- DATABASE.md asks to "log all sensitive operations". audit_log is an append-only trail
-- written by triggers only:
--   * users: an account created with another role than 'student'; any change of email,
--     username, role, account_status, email_verified, password_hash or deleted_at (soft
--     delete and restore); a hard delete; TRUNCATE.
--   * the catalog (learning_components, question_bank, assessments, achievements): every insert
--     and delete, every update of a column that is not a statistic the platform derives
--     (UPDATE OF <columns>: a submit updating question statistics writes no audit row), TRUNCATE.
--   * user_achievements: a grant (or change, or removal) outside the reward logic, i.e. by a
--     role that is not the table owner (the reward functions run as the owner; a superuser is
--     never audited, as it bypasses everything anyway).
-- Each row says who (session_role = the login role, effective_role = the role the statement ran
-- as, transaction_role = SET ROLE of the transaction, app_user_id = app.user_id), when, what
-- (table, row, action, the user concerned) and the old and new values of the changed columns,
-- without secrets: a password hash appears as "[changed]".
-- The trigger functions are SECURITY INVOKER, so that effective_role is the statement's role.
-- Who may append: INSERT is granted to the roles whose writes are audited (admin,
-- content_editor; the owner has it anyway), and FORCE ROW LEVEL SECURITY with one INSERT
-- policy, pg_trigger_depth() > 0, refuses every INSERT that is not made by a trigger. Nobody but
-- the owner has UPDATE, DELETE or TRUNCATE. admin and readonly read it; app_user has nothing.
-- The named query audit.user_history lists a user's trail for admins.

CREATE TABLE audit_log (
    id                uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
    occurred_at       timestamptz  NOT NULL DEFAULT clock_timestamp(),
    session_role      text         NOT NULL DEFAULT session_user,
    effective_role    text         NOT NULL DEFAULT current_user,
    transaction_role  text,                                  -- NULL: no SET ROLE
    app_user_id       uuid,                                  -- NULL: no application user
    table_name        text         NOT NULL,
    row_id            uuid,                                  -- NULL: a statement (TRUNCATE)
    subject_user_id   uuid,                                  -- the user the change is about
    action            varchar(30)  NOT NULL,
    old_values        jsonb,
    new_values        jsonb,

    CONSTRAINT audit_log_action_check
        CHECK (action IN ('insert', 'update', 'delete', 'truncate'))
);

COMMENT ON TABLE audit_log IS
    'Append-only trail of sensitive operations (accounts, catalog, achievements granted outside the reward logic), written by triggers only.';

CREATE INDEX idx_audit_log_subject_user_id_occurred_at
    ON audit_log (subject_user_id, occurred_at DESC) WHERE subject_user_id IS NOT NULL;
CREATE INDEX idx_audit_log_app_user_id_occurred_at
    ON audit_log (app_user_id, occurred_at DESC) WHERE app_user_id IS NOT NULL;
CREATE INDEX idx_audit_log_table_name_row_id
    ON audit_log (table_name, row_id);

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_log_append_by_trigger ON audit_log
    FOR INSERT
    WITH CHECK (pg_trigger_depth() > 0);
CREATE POLICY audit_log_admin_select ON audit_log
    FOR SELECT TO admin
    USING (true);
CREATE POLICY audit_log_readonly_select ON audit_log
    FOR SELECT TO readonly
    USING (true);

GRANT SELECT, INSERT ON audit_log TO admin;
GRANT INSERT ON audit_log TO content_editor;
GRANT SELECT ON audit_log TO readonly;

-- ---------------------------------------------------------------------------
-- Writing one entry
-- ---------------------------------------------------------------------------
-- The columns that changed between two row images (all of them when one side is NULL), with
-- the values of the keys listed in p_redact replaced by "[changed]" / "[set]".
CREATE FUNCTION audit_diff(p_old jsonb, p_new jsonb, p_redact text[], OUT old_values jsonb, OUT new_values jsonb)
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT jsonb_object_agg(k, CASE WHEN k = ANY (p_redact) THEN to_jsonb('[changed]'::text)
                                    ELSE p_old -> k END)
               FILTER (WHERE p_old IS NOT NULL),
           jsonb_object_agg(k, CASE WHEN k = ANY (p_redact) THEN to_jsonb('[changed]'::text)
                                    ELSE p_new -> k END)
               FILTER (WHERE p_new IS NOT NULL)
      FROM jsonb_object_keys(coalesce(p_new, p_old)) AS k
     WHERE p_old IS NULL OR p_new IS NULL OR p_old -> k IS DISTINCT FROM p_new -> k
$$;

COMMENT ON FUNCTION audit_diff(jsonb, jsonb, text[]) IS
    'Old and new values of the keys that differ between two row images (every key when one is NULL), secrets listed in p_redact shown as "[changed]".';

-- Trigger function, FOR EACH ROW. TG_ARGV: the columns to leave out (statistics), then '|',
-- then the columns whose values are secret, then '|', then the column naming the user the row
-- is about (or nothing). An update whose changes are all left out writes nothing.
CREATE FUNCTION audit_row_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_args    text[] := TG_ARGV;
    v_split1  integer := array_position(TG_ARGV, '|');
    v_split2  integer;
    v_skip    text[];
    v_secret  text[];
    v_subject text;
    v_old     jsonb;
    v_new     jsonb;
    v_diff    record;
    v_row     jsonb;
BEGIN
    v_skip := v_args[1:v_split1 - 1];
    v_split2 := v_split1 + array_position(v_args[v_split1 + 1:], '|');
    v_secret := v_args[v_split1 + 1:v_split2 - 1];
    v_subject := v_args[v_split2 + 1];
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        v_old := to_jsonb(OLD) - v_skip - 'updated_at'::text;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        v_new := to_jsonb(NEW) - v_skip - 'updated_at'::text;
    END IF;
    SELECT * INTO v_diff FROM audit_diff(v_old, v_new, v_secret);
    IF TG_OP = 'UPDATE' AND v_diff.new_values IS NULL THEN
        RETURN NULL;
    END IF;
    v_row := coalesce(v_new, v_old);
    INSERT INTO audit_log (transaction_role, app_user_id, table_name, row_id, subject_user_id,
                           action, old_values, new_values)
    VALUES (nullif(current_setting('role'), 'none'), app_current_user_id(), TG_TABLE_NAME,
            (v_row ->> 'id')::uuid,
            CASE WHEN v_subject IS NOT NULL THEN (v_row ->> v_subject)::uuid END,
            lower(TG_OP), v_diff.old_values, v_diff.new_values);
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION audit_row_change() IS
    'AFTER ... FOR EACH ROW trigger: append the changed columns of the row to audit_log. TG_ARGV: columns left out, ''|'', secret columns, ''|'', the column naming the user concerned.';

CREATE FUNCTION audit_truncate()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    INSERT INTO audit_log (transaction_role, app_user_id, table_name, action)
    VALUES (nullif(current_setting('role'), 'none'), app_current_user_id(), TG_TABLE_NAME,
            'truncate');
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION audit_truncate() IS
    'AFTER TRUNCATE ... FOR EACH STATEMENT trigger: append a truncate entry to audit_log.';

-- True when the current (effective) role is, or has the privileges of, the owner of the table:
-- the reward logic, migrations and bulk loads.
CREATE FUNCTION audit_acting_as_owner(p_table regclass)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT pg_has_role(current_user, c.relowner, 'USAGE') FROM pg_class c WHERE c.oid = p_table
$$;

COMMENT ON FUNCTION audit_acting_as_owner(regclass) IS
    'Whether the current role has the privileges of the table''s owner (the SECURITY DEFINER reward logic does; a superuser always does).';

-- ---------------------------------------------------------------------------
-- The triggers
-- ---------------------------------------------------------------------------
CREATE TRIGGER trg_users_audit_insert
    AFTER INSERT ON users
    FOR EACH ROW WHEN (NEW.role <> 'student')
    EXECUTE FUNCTION audit_row_change('|', 'password_hash', '|', 'id');
CREATE TRIGGER trg_users_audit_update
    AFTER UPDATE ON users
    FOR EACH ROW WHEN ((OLD.email, OLD.username, OLD.role, OLD.account_status,
                        OLD.email_verified, OLD.password_hash, OLD.deleted_at)
                       IS DISTINCT FROM
                       (NEW.email, NEW.username, NEW.role, NEW.account_status,
                        NEW.email_verified, NEW.password_hash, NEW.deleted_at))
    EXECUTE FUNCTION audit_row_change('created_at', '|', 'password_hash', '|', 'id');
CREATE TRIGGER trg_users_audit_delete
    AFTER DELETE ON users
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change('|', 'password_hash', '|', 'id');
CREATE TRIGGER trg_users_audit_truncate
    AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION audit_truncate();

CREATE TRIGGER trg_learning_components_audit
    AFTER INSERT OR DELETE OR UPDATE OF
        component_type, domain, subdomain, title, slug, description, content, difficulty_level,
        estimated_duration_minutes, prerequisites, objectives, comptia_objectives, is_published,
        created_by, deleted_at, id, created_at
    ON learning_components
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change('view_count', 'completion_count', 'average_rating',
                                      'rating_count', '|', '|');
CREATE TRIGGER trg_learning_components_audit_truncate
    AFTER TRUNCATE ON learning_components
    FOR EACH STATEMENT EXECUTE FUNCTION audit_truncate();

CREATE TRIGGER trg_question_bank_audit
    AFTER INSERT OR DELETE OR UPDATE OF
        question_type, domain, subdomain, difficulty_level, question_text, question_data,
        correct_answer, explanation, hints, points, comptia_objectives, is_published,
        created_by, deleted_at, id, created_at
    ON question_bank
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change('usage_count', 'correct_count', 'incorrect_count',
                                      'average_time_seconds', '|', '|');
CREATE TRIGGER trg_question_bank_audit_truncate
    AFTER TRUNCATE ON question_bank
    FOR EACH STATEMENT EXECUTE FUNCTION audit_truncate();

CREATE TRIGGER trg_assessments_audit
    AFTER INSERT OR DELETE OR UPDATE OF
        assessment_type, title, slug, description, domain, difficulty_level, time_limit_minutes,
        passing_score, question_ids, randomize_questions, randomize_answers, show_answers_after,
        allow_review, max_attempts, is_published, created_by, deleted_at, id, created_at
    ON assessments
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change('|', '|');
CREATE TRIGGER trg_assessments_audit_truncate
    AFTER TRUNCATE ON assessments
    FOR EACH STATEMENT EXECUTE FUNCTION audit_truncate();

CREATE TRIGGER trg_achievements_audit
    AFTER INSERT OR DELETE OR UPDATE OF
        achievement_type, code, name, description, criteria, points, rarity, is_active, id,
        created_at
    ON achievements
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change('|', '|');
CREATE TRIGGER trg_achievements_audit_truncate
    AFTER TRUNCATE ON achievements
    FOR EACH STATEMENT EXECUTE FUNCTION audit_truncate();

CREATE TRIGGER trg_user_achievements_audit
    AFTER INSERT OR UPDATE OR DELETE ON user_achievements
    FOR EACH ROW WHEN (NOT audit_acting_as_owner('user_achievements'))
    EXECUTE FUNCTION audit_row_change('|', '|', 'user_id');
CREATE TRIGGER trg_user_achievements_audit_truncate
    AFTER TRUNCATE ON user_achievements
    FOR EACH STATEMENT EXECUTE FUNCTION audit_truncate();

-- The helper functions are for the triggers (run as the statement's role): EXECUTE for every
-- role that can write an audited table, i.e. not app_user or readonly.
REVOKE EXECUTE ON FUNCTION
    audit_diff(jsonb, jsonb, text[]), audit_row_change(), audit_truncate(),
    audit_acting_as_owner(regclass)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    audit_diff(jsonb, jsonb, text[]), audit_row_change(), audit_truncate(),
    audit_acting_as_owner(regclass)
    TO admin, content_editor;

-- migrate:down
-- Reverse order. Dropping the table drops its policies and indexes; dropping the tables'
-- triggers first lets the functions go.

DROP TRIGGER trg_user_achievements_audit_truncate ON user_achievements;
DROP TRIGGER trg_user_achievements_audit ON user_achievements;
DROP TRIGGER trg_achievements_audit_truncate ON achievements;
DROP TRIGGER trg_achievements_audit ON achievements;
DROP TRIGGER trg_assessments_audit_truncate ON assessments;
DROP TRIGGER trg_assessments_audit ON assessments;
DROP TRIGGER trg_question_bank_audit_truncate ON question_bank;
DROP TRIGGER trg_question_bank_audit ON question_bank;
DROP TRIGGER trg_learning_components_audit_truncate ON learning_components;
DROP TRIGGER trg_learning_components_audit ON learning_components;
DROP TRIGGER trg_users_audit_truncate ON users;
DROP TRIGGER trg_users_audit_delete ON users;
DROP TRIGGER trg_users_audit_update ON users;
DROP TRIGGER trg_users_audit_insert ON users;

DROP FUNCTION audit_acting_as_owner(regclass);
DROP FUNCTION audit_truncate();
DROP FUNCTION audit_row_change();
DROP FUNCTION audit_diff(jsonb, jsonb, text[]);

DROP TABLE audit_log;
