-- Learning sessions and progress on components.

-- name: start_session(user_id, component_id, device_type, session_data)<!
-- Open a learning session on a component.
-- optional: device_type
INSERT INTO learning_sessions (user_id, component_id, device_type, session_data)
VALUES (:user_id, :component_id, :device_type, :session_data)
RETURNING id, user_id, component_id, session_start;

-- name: end_session(session_id, interaction_count, completion_achieved, session_data)^
-- Close an open session of the acting user; its duration comes from the database clock
-- (end_learning_session). No row: unknown, someone else's, or already closed.
-- not-null: id, user_id, component_id, session_start, session_end, duration_minutes
SELECT id, user_id, component_id, session_start, session_end, duration_minutes
  FROM end_learning_session(:session_id, :interaction_count, :completion_achieved,
                            :session_data);

-- name: record_progress(component_id, status, progress_percentage, time_spent_minutes, last_position)^
-- Record the acting user's progress (record_progress). Status only moves forward
-- (not_started < in_progress < completed < mastered), the percentage never decreases
-- (completed means 100), time spent adds up, and completion/mastery dates are set once. No
-- score: scores come from submitted assessments. When this call completes the component,
-- `newly_completed` is true and the reward logic has run: the completion counted, the streak,
-- goals (`goal_ids`, changed) and achievements (`achievement_codes`, awarded).
-- row: ProgressUpdate
-- optional: last_position
-- not-null: id, user_id, component_id, status, progress_percentage, time_spent_minutes, newly_completed, goal_ids, achievement_codes
SELECT id, user_id, component_id, status, progress_percentage, time_spent_minutes, best_score,
       latest_score, completion_date, mastery_date, newly_completed, goal_ids,
       achievement_codes
  FROM record_progress(:component_id, :status, :progress_percentage, :time_spent_minutes,
                       :last_position);

-- name: get_progress(user_id, component_id)^
-- A user's progress on one component.
-- replica: yes
SELECT id, user_id, component_id, status, progress_percentage, time_spent_minutes,
       last_position, best_score, latest_score, completion_date, mastery_date, updated_at
  FROM user_progress
 WHERE user_id = :user_id AND component_id = :component_id;

-- name: list_progress(user_id)
-- All of a user's progress rows, most recently touched first.
-- replica: yes
SELECT p.component_id, c.slug, c.title, c.domain, p.status, p.progress_percentage,
       p.time_spent_minutes, p.best_score, p.updated_at
  FROM user_progress p
  JOIN learning_components c ON c.id = p.component_id
 WHERE p.user_id = :user_id
 ORDER BY p.updated_at DESC, p.component_id;
