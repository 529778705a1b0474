-- Learning sessions and progress on components.

-- name: start_session(user_id, component_id, device_type, session_data)<!
-- Open a learning session on a component.
-- optional: device_type
INSERT INTO learning_sessions (user_id, component_id, device_type, session_data)
VALUES (:user_id, :component_id, :device_type, :session_data)
RETURNING id, user_id, component_id, session_start;

-- name: end_session(session_id, user_id, interaction_count, completion_achieved, session_data)<!
-- Close an open session of this user; its duration comes from the database
-- clock. No row: unknown, someone else's, or already closed.
UPDATE learning_sessions
   SET session_end = greatest(now(), session_start),
       duration_minutes = floor(extract(epoch FROM greatest(now(), session_start) - session_start) / 60)::int,
       interaction_count = :interaction_count,
       completion_achieved = :completion_achieved,
       session_data = session_data || :session_data
 WHERE id = :session_id AND user_id = :user_id AND session_end IS NULL
RETURNING id, user_id, component_id, session_start, session_end, duration_minutes;

-- name: upsert_progress(user_id, component_id, status, progress_percentage, time_spent_minutes, last_position, score)<!
-- Record progress. Status only moves forward (not_started < in_progress <
-- completed < mastered), the percentage never decreases (completed means 100),
-- time spent adds up, best_score is the maximum, latest_score the last given,
-- and completion/mastery dates are set once. `newly_completed` is true when
-- this call completed the component (so streaks and achievements follow).
-- optional: last_position, score
-- not-null: newly_completed
WITH ranks AS (
    SELECT ARRAY['not_started', 'in_progress', 'completed', 'mastered'] AS r
), prior AS (
    SELECT completion_date FROM user_progress
     WHERE user_id = :user_id AND component_id = :component_id
)
INSERT INTO user_progress AS p
       (user_id, component_id, status, progress_percentage, time_spent_minutes, last_position,
        best_score, latest_score, completion_date, mastery_date)
VALUES (:user_id, :component_id, :status::text,
        CASE WHEN :status::text IN ('completed', 'mastered') THEN 100
             ELSE :progress_percentage::int END,
        :time_spent_minutes, :last_position, :score::numeric, :score::numeric,
        CASE WHEN :status::text IN ('completed', 'mastered') THEN now() END,
        CASE WHEN :status::text = 'mastered' THEN now() END)
ON CONFLICT (user_id, component_id) DO UPDATE SET
    status = CASE
        WHEN array_position((SELECT r FROM ranks), EXCLUDED.status)
           > array_position((SELECT r FROM ranks), p.status) THEN EXCLUDED.status
        ELSE p.status END,
    progress_percentage = greatest(p.progress_percentage, EXCLUDED.progress_percentage),
    time_spent_minutes = p.time_spent_minutes + EXCLUDED.time_spent_minutes,
    last_position = coalesce(EXCLUDED.last_position, p.last_position),
    best_score = greatest(p.best_score, EXCLUDED.best_score),
    latest_score = coalesce(EXCLUDED.latest_score, p.latest_score),
    completion_date = coalesce(p.completion_date, EXCLUDED.completion_date),
    mastery_date = coalesce(p.mastery_date, EXCLUDED.mastery_date)
RETURNING p.id, p.user_id, p.component_id, p.status, p.progress_percentage,
          p.time_spent_minutes, p.best_score, p.latest_score, p.completion_date,
          p.mastery_date,
          (p.completion_date IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM prior WHERE prior.completion_date IS NOT NULL))
          AS newly_completed;

-- name: get_progress(user_id, component_id)^
-- A user's progress on one component.
SELECT id, user_id, component_id, status, progress_percentage, time_spent_minutes,
       last_position, best_score, latest_score, completion_date, mastery_date, updated_at
  FROM user_progress
 WHERE user_id = :user_id AND component_id = :component_id;

-- name: list_progress(user_id)
-- All of a user's progress rows, most recently touched first.
SELECT p.component_id, c.slug, c.title, c.domain, p.status, p.progress_percentage,
       p.time_spent_minutes, p.best_score, p.updated_at
  FROM user_progress p
  JOIN learning_components c ON c.id = p.component_id
 WHERE p.user_id = :user_id
 ORDER BY p.updated_at DESC, p.component_id;
