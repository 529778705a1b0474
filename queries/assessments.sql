-- The assessment flow: attempts, answers, submit, review. A learner reads no answer key and
-- writes no grade: starting, answering, submitting, abandoning and reviewing go through
-- SECURITY DEFINER functions that act for app.user_id (migration 0013).

-- name: get_assessment(slug)^
-- A published, live assessment by slug.
-- not-null: question_count
SELECT id, slug, title, description, assessment_type, domain, difficulty_level,
       time_limit_minutes, passing_score, cardinality(question_ids) AS question_count,
       randomize_questions, randomize_answers, show_answers_after, allow_review, max_attempts
  FROM assessments
 WHERE slug = :slug AND is_published AND deleted_at IS NULL;

-- name: start_attempt(assessment_id)^
-- Open the acting user's next attempt (number = previous + 1) unless max_attempts is used up
-- (start_attempt: racing starts are serialised); the question order is shuffled when the
-- assessment says so, and stored. No row: the assessment is not available or no attempt is
-- left.
-- not-null: id, user_id, assessment_id, attempt_number, status, started_at
SELECT id, user_id, assessment_id, attempt_number, status, started_at, question_order
  FROM start_attempt(:assessment_id);

-- name: attempts_used(user_id, assessment_id)^
-- How many attempts the user has made and how many the assessment allows.
-- not-null: used
SELECT count(t.id) AS used, a.max_attempts
  FROM assessments a
  LEFT JOIN assessment_attempts t ON t.assessment_id = a.id AND t.user_id = :user_id
 WHERE a.id = :assessment_id
 GROUP BY a.max_attempts;

-- name: attempt_questions(attempt_id, user_id)
-- The questions of an attempt in the order shown, as a learner may see them:
-- no correct answer, no explanation.
-- not-null: position
SELECT q.id, o.position::int AS position, q.question_type, q.question_text, q.question_data,
       q.hints, q.points
  FROM assessment_attempts t
  JOIN assessments a ON a.id = t.assessment_id
 CROSS JOIN LATERAL unnest(coalesce(t.question_order, a.question_ids))
       WITH ORDINALITY AS o(question_id, position)
  JOIN question_bank q ON q.id = o.question_id
 WHERE t.id = :attempt_id AND t.user_id = :user_id
 ORDER BY o.position;

-- name: attempt_state(attempt_id, user_id)^
-- An attempt of this user with its assessment's rules and the database clock:
-- `expired` is true once the time limit has passed.
-- not-null: expired
SELECT t.id, t.assessment_id, a.slug, t.status, t.attempt_number, t.started_at,
       a.time_limit_minutes, a.passing_score, a.allow_review, a.show_answers_after,
       t.started_at + make_interval(mins => a.time_limit_minutes) AS deadline,
       coalesce(now() > t.started_at + make_interval(mins => a.time_limit_minutes), false)
           AS expired
  FROM assessment_attempts t
  JOIN assessments a ON a.id = t.assessment_id
 WHERE t.id = :attempt_id AND t.user_id = :user_id;

-- name: save_answer(attempt_id, question_id, user_answer, time_spent_seconds, flagged_for_review)^
-- Save (or replace) an answer of the acting user while the attempt is in progress and within
-- its time limit by the database clock, after checking its shape against the question
-- (save_answer; a malformed answer is a ValidationError naming the field). No row: the
-- attempt is closed or expired.
-- optional: user_answer, time_spent_seconds
-- not-null: id, attempt_id, question_id, updated_at
SELECT id, attempt_id, question_id, updated_at
  FROM save_answer(:attempt_id, :question_id, :user_answer, :time_spent_seconds,
                   :flagged_for_review);

-- name: submit_attempt(attempt_id)^
-- Grade and close an attempt of the acting user (submit_attempt): every answer graded
-- set-based in the database, the grades, totals and question statistics stored, then the
-- progress on the component presenting the assessment with its rewards (the progress_*
-- columns, NULL when no component presents it) and the log.
-- not-null: id, user_id, assessment_id, attempt_number, status, started_at, time_spent_minutes, passed, correct_answers, incorrect_answers, skipped_questions, newly_completed, goal_ids, achievement_codes
SELECT id, user_id, assessment_id, attempt_number, status, started_at, completed_at,
       time_spent_minutes, score, percentage, passed, correct_answers, incorrect_answers,
       skipped_questions, progress_id, progress_component_id, progress_status,
       progress_percentage, progress_time_spent_minutes, progress_best_score,
       progress_latest_score, progress_completion_date, progress_mastery_date,
       newly_completed, goal_ids, achievement_codes
  FROM submit_attempt(:attempt_id);

-- name: abandon_attempt(attempt_id)^
-- Give up an attempt of the acting user that is in progress (abandon_attempt). No row:
-- unknown, someone else's, or not in progress.
-- row: Attempt
-- not-null: id, user_id, assessment_id, attempt_number, status, started_at, time_spent_minutes, passed, correct_answers, incorrect_answers, skipped_questions
SELECT id, user_id, assessment_id, attempt_number, status, started_at, completed_at,
       time_spent_minutes, score, percentage, passed, correct_answers, incorrect_answers,
       skipped_questions
  FROM abandon_attempt(:attempt_id);

-- name: get_attempt(attempt_id, user_id)^
-- One attempt of this user with its totals.
-- row: Attempt
SELECT id, user_id, assessment_id, attempt_number, status, started_at, completed_at,
       time_spent_minutes, score, percentage, passed, correct_answers, incorrect_answers,
       skipped_questions
  FROM assessment_attempts
 WHERE id = :attempt_id AND user_id = :user_id;

-- name: review_attempt(attempt_id)
-- A submitted attempt of the acting user question by question, as its assessment allows
-- (review_attempt): nothing unless allow_review; correct answers and explanations only with
-- show_answers_after. The only way a learner reads a key or a grade.
-- not-null: question_id, position, question_type, question_text, question_data, is_correct, points_earned, points
SELECT question_id, position, question_type, question_text, question_data, user_answer,
       is_correct, points_earned, points, correct_answer, explanation
  FROM review_attempt(:attempt_id);
