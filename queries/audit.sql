-- The audit trail (audit_log, migration 0014): read by admins, written by triggers only.

-- name: user_history(user_id, page_size)
-- A user's audit history, newest first: changes to the account or its achievements, and what
-- was done while acting as that user (app.user_id). Admin (and readonly) only.
SELECT id, occurred_at, action, table_name, row_id, subject_user_id, app_user_id,
       session_role, effective_role, transaction_role, old_values, new_values
  FROM audit_log
 WHERE subject_user_id = :user_id OR app_user_id = :user_id
 ORDER BY occurred_at DESC, id
 LIMIT :page_size::int;
