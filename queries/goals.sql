-- Study goals and their progress.

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
SELECT id, user_id, goal_type, title, target_value, current_value, metric, start_date,
       target_date, completed_date, status
  FROM study_goals
 WHERE user_id = :user_id AND (:status::text IS NULL OR status = :status::text)
 ORDER BY created_at DESC, id;

-- name: advance_goals(user_id, metric, amount)
-- Add progress to every active goal of the user measured in `metric`; a goal
-- that reaches its target is completed today. Returns the goals changed.
-- row: Goal
UPDATE study_goals
   SET current_value = current_value + :amount,
       status = CASE WHEN current_value + :amount >= target_value THEN 'completed' ELSE status END,
       completed_date = CASE WHEN current_value + :amount >= target_value
                             THEN greatest(current_date, start_date) END
 WHERE user_id = :user_id AND metric = :metric AND status = 'active'
RETURNING id, user_id, goal_type, title, target_value, current_value, metric, start_date,
          target_date, completed_date, status;

-- name: set_goal_status(goal_id, user_id, status)<!
-- Abandon, fail or reactivate a goal of this user.
-- row: Goal
UPDATE study_goals
   SET status = :status::text,
       completed_date = CASE WHEN :status::text = 'completed'
                             THEN coalesce(completed_date, greatest(current_date, start_date)) END
 WHERE id = :goal_id AND user_id = :user_id
RETURNING id, user_id, goal_type, title, target_value, current_value, metric, start_date,
          target_date, completed_date, status;

-- name: sync_streak_goals(user_id)
-- Set every active streak goal of the user to the current streak; a goal that
-- reaches its target is completed today. Returns the goals changed.
-- row: Goal
UPDATE study_goals g
   SET current_value = s.current_streak,
       status = CASE WHEN s.current_streak >= g.target_value THEN 'completed' ELSE g.status END,
       completed_date = CASE WHEN s.current_streak >= g.target_value
                             THEN greatest(current_date, g.start_date) END
  FROM learning_streaks s
 WHERE s.user_id = g.user_id AND g.user_id = :user_id AND g.metric = 'streak'
   AND g.status = 'active'
RETURNING g.id, g.user_id, g.goal_type, g.title, g.target_value, g.current_value, g.metric,
          g.start_date, g.target_date, g.completed_date, g.status;
