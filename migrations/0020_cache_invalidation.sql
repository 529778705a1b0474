-- migrate:up
-- 0020 cache invalidation
-- The library caches the catalog, the achievement definitions, the learner-facing question
-- bank and user settings in process (netplus_db/cache.py). Every change to them is announced
-- on the channel `netplus_cache`, once per statement, after the statement and delivered at
-- commit (a rolled-back change announces nothing); each Database listens on one connection
-- and drops what the payload names:
--   * `learning_components`, `question_bank`, `achievements`: the whole region. Updates of the
--     counters the platform derives (view, completion, rating, answer statistics) are not
--     content changes and announce nothing (the trigger names the content columns).
--   * `user_settings:<id>,<id>...`: the settings of those users (at most 200 ids; beyond that
--     the payload is `user_settings` alone: every cached setting).
-- The trigger functions need no privilege (pg_notify is open to every role, a transition
-- table to its trigger): they run with the rights of whoever changed the table (SECURITY
-- INVOKER, the least there is), with a pinned search_path, and nobody may call them directly.
-- NOTIFY needs no privilege in PostgreSQL, so any role connected to the database can send a
-- notification on `netplus_cache`: a forged one only makes the caches drop entries and read
-- them again (no cache entry is ever written from a payload).

CREATE FUNCTION notify_cache_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    PERFORM pg_notify('netplus_cache', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION notify_cache_change() IS
    'Statement trigger: announce on netplus_cache that the table''s content changed.';

CREATE FUNCTION notify_settings_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_ids text[];
BEGIN
    -- changed_rows: the new rows of an UPDATE, the old rows of a DELETE.
    SELECT array_agg(DISTINCT s.user_id::text)
      INTO v_ids
      FROM (SELECT user_id FROM changed_rows LIMIT 201) AS s;
    IF v_ids IS NULL THEN
        RETURN NULL;  -- no row changed
    END IF;
    IF cardinality(v_ids) > 200 THEN
        PERFORM pg_notify('netplus_cache', 'user_settings');
    ELSE
        PERFORM pg_notify('netplus_cache', 'user_settings:' || array_to_string(v_ids, ','));
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION notify_settings_change() IS
    'Statement trigger: announce on netplus_cache whose settings changed.';

REVOKE EXECUTE ON FUNCTION notify_cache_change(), notify_settings_change() FROM PUBLIC;

CREATE TRIGGER trg_learning_components_cache
    AFTER INSERT OR DELETE OR TRUNCATE
       OR UPDATE OF id, component_type, domain, subdomain, title, slug, description, content,
                    difficulty_level, estimated_duration_minutes, prerequisites, objectives,
                    comptia_objectives, is_published, created_by, deleted_at
    ON learning_components
    FOR EACH STATEMENT EXECUTE FUNCTION notify_cache_change();

CREATE TRIGGER trg_question_bank_cache
    AFTER INSERT OR DELETE OR TRUNCATE
       OR UPDATE OF id, question_type, domain, subdomain, difficulty_level, question_text,
                    question_data, correct_answer, explanation, hints, points,
                    comptia_objectives, is_published, created_by, deleted_at
    ON question_bank
    FOR EACH STATEMENT EXECUTE FUNCTION notify_cache_change();

CREATE TRIGGER trg_achievements_cache
    AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE
    ON achievements
    FOR EACH STATEMENT EXECUTE FUNCTION notify_cache_change();

CREATE TRIGGER trg_user_settings_cache_update
    AFTER UPDATE ON user_settings
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION notify_settings_change();

CREATE TRIGGER trg_user_settings_cache_delete
    AFTER DELETE ON user_settings
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION notify_settings_change();

-- migrate:down

DROP TRIGGER trg_user_settings_cache_delete ON user_settings;
DROP TRIGGER trg_user_settings_cache_update ON user_settings;
DROP TRIGGER trg_achievements_cache ON achievements;
DROP TRIGGER trg_question_bank_cache ON question_bank;
DROP TRIGGER trg_learning_components_cache ON learning_components;
DROP FUNCTION notify_settings_change();
DROP FUNCTION notify_cache_change();
