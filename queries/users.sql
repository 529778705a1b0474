-- Accounts: registration, login look-up, and the admin's changes (verification, status, role,
-- soft delete and restore: app_user may change none of them).
-- Passwords are hashed in Python (bcrypt); only hashes reach these queries.

-- name: register(email, username, password_hash, first_name, last_name, display_name)^
-- Register a student account, with its profile, settings and streak rows and a log entry,
-- under the id the transaction acts as (register_account: app.user_id must be a new id; the
-- role is always student). A taken email or username (case-insensitive, among live accounts)
-- raises Conflict from the unique index, never from a racy pre-check.
-- row: User
-- optional: first_name, last_name, display_name
-- not-null: id, email, username, role, account_status, email_verified, created_at
SELECT id, email, username, role, account_status, email_verified, created_at
  FROM register_account(:email, :username, :password_hash, :first_name, :last_name,
                        :display_name);

-- name: register_privileged(email, username, password_hash, role, first_name, last_name, display_name)^
-- Register an account of any role (register_privileged_account): admin only.
-- row: User
-- optional: first_name, last_name, display_name
-- not-null: id, email, username, role, account_status, email_verified, created_at
SELECT id, email, username, role, account_status, email_verified, created_at
  FROM register_privileged_account(:email, :username, :password_hash, :role, :first_name,
                                   :last_name, :display_name);

-- name: find_login(login)^
-- The live account whose email or username is `login` (case-insensitive), for the password
-- check (login_candidate: only in an anonymous transaction, before any user acts); status is
-- checked by the caller after the constant-time comparison so that timing does not reveal
-- which accounts exist.
-- not-null: id, password_hash, account_status, role
SELECT id, password_hash, account_status, role FROM login_candidate(:login);

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

-- name: set_role(user_id, role)<!
-- Give an account another role (admin only; audited).
-- row: User
UPDATE users SET role = :role
 WHERE id = :user_id AND deleted_at IS NULL
RETURNING id, email, username, role, account_status, email_verified, created_at;
