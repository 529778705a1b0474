-- migrate:up
-- 0001 foundation
-- Creates the two helper functions every later migration relies on:
--   * update_updated_at_column(): trigger function that stamps NEW.updated_at
--     (ERD "Automatic Timestamps"); each table with updated_at gets a
--     BEFORE UPDATE trigger calling it, in the file that creates the table.
--   * app_current_user_id(): the application user of the current transaction,
--     read from the custom setting app.user_id; the row-level security
--     policies of 0009 compare user_id against it.
-- No extensions are used anywhere: UUIDs come from core gen_random_uuid().

CREATE FUNCTION update_updated_at_column()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION update_updated_at_column() IS
    'Trigger function: sets NEW.updated_at = now() on every UPDATE of a table with an updated_at column.';

-- After a transaction-local set_config('app.user_id', ..., true) has been used
-- once in a session, current_setting('app.user_id', true) returns '' rather
-- than NULL, hence the nullif. Unset or empty means "no user" (NULL), which
-- makes every "user_id = app_current_user_id()" policy false: no rows.
-- A value that is not a UUID raises an error (fail closed).
-- Plain SQL without a SET clause so that the planner can inline it; it only
-- calls pg_catalog functions, so search_path cannot redirect it.
CREATE FUNCTION app_current_user_id()
RETURNS uuid
LANGUAGE sql
STABLE
AS $$
    SELECT nullif(current_setting('app.user_id', true), '')::uuid
$$;

COMMENT ON FUNCTION app_current_user_id() IS
    'Application user id of the current transaction (setting app.user_id, set with set_config(''app.user_id'', <uuid>, true)); NULL when unset. Used by row-level security policies.';

-- migrate:down
-- Reverse of the above, in reverse order.

DROP FUNCTION app_current_user_id();
DROP FUNCTION update_updated_at_column();
