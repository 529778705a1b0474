-- Acting as a platform user inside one transaction, so row-level security applies.

-- name: act_as(role, user_id)^
-- Until the transaction ends: switch to `role` (unless it is empty) and make
-- `user_id` the user that the RLS policies compare rows with. Both settings
-- are transaction-local, so nothing leaks to the next borrower of a pooled
-- connection.
SELECT CASE WHEN :role <> '' THEN set_config('role', :role, true) END AS role,
       set_config('app.user_id', :user_id, true) AS user_id;
