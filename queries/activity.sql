-- The activity log: an audit trail of what users did.

-- name: log_activity(user_id, activity_type, activity_description, resource_type, resource_id, metadata, ip_address, user_agent)!
-- Append one entry (user_id NULL: anonymous, e.g. a failed login).
-- optional: user_id, activity_description, resource_type, resource_id, ip_address, user_agent
INSERT INTO user_activity_logs
       (user_id, activity_type, activity_description, resource_type, resource_id, metadata,
        ip_address, user_agent)
VALUES (:user_id, :activity_type, :activity_description, :resource_type, :resource_id,
        :metadata, :ip_address, :user_agent);

-- name: list_activity(user_id, page_size)
-- A user's most recent activity.
-- replica: yes
SELECT id, activity_type, activity_description, resource_type, resource_id, metadata,
       created_at
  FROM user_activity_logs
 WHERE user_id = :user_id
 ORDER BY created_at DESC, id
 LIMIT :page_size::int;
