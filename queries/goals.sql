-- Study goals; their progress is the reward logic's (record_progress, submit_attempt).

-- name: create_goal(user_id, goal_type, title, target_value, metric, start_date, target_date)<!
-- Set a goal; start_date NULL means today.
-- row: Goal
-- optional: start_date, target_date
INSERT INTO study_goals (user_id, goal_type, title, target_value, metric, start_date, target_date)
VALUES (:user_id, :goal_type, :title, :target_value, :metric,
        coalesce(:start_date::date, current_date), :target_date)
RETURNING id, user_id, goal_type, title, target_value, current_value, metric, start_date,
          target_date, completed_date, status;

-- name: list_goals(user_id, status)
-- A user's goals, optionally of one status (NULL: all), newest first.
-- row: Goal
-- optional: status
-- replica: yes
SELECT id, user_id, goal_type, title, target_value, current_value, metric, start_date,
       target_date, completed_date, status
  FROM study_goals
 WHERE user_id = :user_id AND (:status::text IS NULL OR status = :status::text)
 ORDER BY created_at DESC, id;

-- name: set_goal_status(goal_id, status)^
-- Abandon, fail or reactivate a goal of the acting user (set_goal_status: a goal is completed
-- only by reaching its target). No row: unknown or someone else's.
-- row: Goal
-- not-null: id, user_id, goal_type, title, target_value, current_value, metric, start_date, status
SELECT id, user_id, goal_type, title, target_value, current_value, metric, start_date,
       target_date, completed_date, status
  FROM set_goal_status(:goal_id, :status);

-- name: goals_by_id(ids)
-- These goals of the user, in the order of the ids (the goals a progress step changed).
-- row: Goal
SELECT id, user_id, goal_type, title, target_value, current_value, metric, start_date,
       target_date, completed_date, status
  FROM study_goals
 WHERE id = ANY (:ids::uuid[])
 ORDER BY array_position(:ids::uuid[], id);
