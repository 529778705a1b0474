-- Accounts: registration, login look-up, verification, soft delete and restore.
-- Passwords are hashed in Python (bcrypt); only hashes reach these queries.

-- name: create_user(id, email, username, password_hash, role)<!
-- Register an account under an id chosen by the caller (who acts as that user,
-- so RLS lets the row be written and returned); a taken email or username
-- (case-insensitive, among live accounts) raises Conflict from the unique index,
-- never from a racy pre-check.
-- row: User
INSERT INTO users (id, email, username, password_hash, role)
VALUES (:id, btrim(:email), btrim(:username), :password_hash, :role)
RETURNING id, email, username, role, account_status, email_verified, created_at;

-- name: create_profile(user_id, first_name, last_name, display_name)!
-- The profile row that every account has (1:1).
-- optional: first_name, last_name, display_name
INSERT INTO user_profiles (user_id, first_name, last_name, display_name)
VALUES (:user_id, :first_name, :last_name, :display_name);

-- name: create_settings(user_id)!
-- The settings row that every account has (1:1), with the defaults.
INSERT INTO user_settings (user_id) VALUES (:user_id);

-- name: create_streak(user_id)!
-- The streak row that every account has (1:1), before any activity.
INSERT INTO learning_streaks (user_id) VALUES (:user_id);

-- name: find_login(login)^
-- The live account whose email or username is `login` (case-insensitive), for
-- the password check (find_login_candidate: app_user sees no other account);
-- status is checked by the caller after the constant-time comparison so that
-- timing does not reveal which accounts exist.
-- not-null: id, password_hash, account_status, role
SELECT id, password_hash, account_status, role FROM find_login_candidate(:login);

-- name: get_user(user_id)^
-- One live account.
-- row: User
SELECT id, email, username, role, account_status, email_verified, created_at
  FROM users
 WHERE id = :user_id AND deleted_at IS NULL;

-- name: set_email_verified(user_id, verified)<!
-- Mark the email verified (or not).
-- row: User
UPDATE users SET email_verified = :verified
 WHERE id = :user_id AND deleted_at IS NULL
RETURNING id, email, username, role, account_status, email_verified, created_at;

-- name: set_account_status(user_id, account_status)<!
-- Suspend, deactivate or reactivate an account.
-- row: User
UPDATE users SET account_status = :account_status
 WHERE id = :user_id AND deleted_at IS NULL
RETURNING id, email, username, role, account_status, email_verified, created_at;

-- name: soft_delete_user(user_id)<!
-- Soft-delete an account: it can no longer log in, and its email and username
-- become free for a new registration.
UPDATE users SET deleted_at = now(), account_status = 'deleted'
 WHERE id = :user_id AND deleted_at IS NULL
RETURNING id, deleted_at;

-- name: restore_user(user_id)<!
-- Undo a soft delete; Conflict when the email or username was taken meanwhile.
-- row: User
UPDATE users SET deleted_at = NULL, account_status = 'active'
 WHERE id = :user_id AND deleted_at IS NOT NULL
RETURNING id, email, username, role, account_status, email_verified, created_at;
