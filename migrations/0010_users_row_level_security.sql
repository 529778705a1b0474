-- migrate:up
-- 0010 users row-level security
-- Until now `users` had no row-level security so that login could find an
-- account by email before anyone is identified. That left app_user able to read
-- every account and to change or delete other users' rows (a delete cascades
-- through their RLS-protected data, since foreign-key actions run as the owner),
-- and v_user_learning_stats listed every user to app_user.
-- Now login looks accounts up through one narrow SECURITY DEFINER function,
-- and users gets the same policies as the other user-owned tables: app_user
-- sees and changes only its own row (registration inserts the row with the id
-- it has already set as app.user_id), readonly reads all, admin does all.

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

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;

CREATE POLICY users_own_row ON users
    TO app_user
    USING (id = app_current_user_id())
    WITH CHECK (id = app_current_user_id());

CREATE POLICY users_readonly_select ON users
    FOR SELECT
    TO readonly
    USING (true);

CREATE POLICY users_admin_all ON users
    TO admin
    USING (true)
    WITH CHECK (true);

-- migrate:down
DROP POLICY users_admin_all ON users;
DROP POLICY users_readonly_select ON users;
DROP POLICY users_own_row ON users;
ALTER TABLE users NO FORCE ROW LEVEL SECURITY;
ALTER TABLE users DISABLE ROW LEVEL SECURITY;
DROP FUNCTION find_login_candidate(text);
