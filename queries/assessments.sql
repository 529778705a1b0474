-- The assessment flow: attempts, answers, submit, review. A learner reads no answer key and
-- writes no grade: starting, answering, submitting, abandoning and reviewing go through
-- SECURITY DEFINER functions that act for app.user_id (migration 0013).

-- name: get_assessment(slug)^
-- A published, live assessment by slug.
-- row: Assessment
-- not-null: question_count, drawn
-- replica: yes
SELECT id, slug, title, description, assessment_type, domain, difficulty_level,
       time_limit_minutes, passing_score,
       CASE WHEN draw_split IS NULL THEN cardinality(question_ids) ELSE draw_size END
           AS question_count,
       draw_split IS NOT NULL AS drawn, randomize_questions, randomize_answers,
       show_answers_after, allow_review, max_attempts
  FROM assessments
 WHERE slug = :slug AND is_published AND deleted_at IS NULL;

-- name: get_assessment_by_id(assessment_id)^
-- A published, live assessment by id.
-- row: Assessment
-- not-null: question_count, drawn
-- replica: yes
SELECT id, slug, title, description, assessment_type, domain, difficulty_level,
       time_limit_minutes, passing_score,
       CASE WHEN draw_split IS NULL THEN cardinality(question_ids) ELSE draw_size END
           AS question_count,
       draw_split IS NOT NULL AS drawn, randomize_questions, randomize_answers,
       show_answers_after, allow_review, max_attempts
  FROM assessments
 WHERE id = :assessment_id AND is_published AND deleted_at IS NULL;

-- name: list_assessments(assessment_type, domain, component_id, after_title, after_id, page_size)
-- Published, live assessments, filtered by any of type, domain and the component presenting
-- them (NULL: any), ordered by title; keyset pagination: pass the last row's title and id
-- to get the next page (ask for one row more than you show to learn whether more follow).
-- row: Assessment
-- optional: assessment_type, domain, component_id, after_title, after_id
-- not-null: question_count, drawn
-- replica: yes
SELECT a.id, a.slug, a.title, a.description, a.assessment_type, a.domain, a.difficulty_level,
       a.time_limit_minutes, a.passing_score,
       CASE WHEN a.draw_split IS NULL THEN cardinality(a.question_ids) ELSE a.draw_size END
           AS question_count,
       a.draw_split IS NOT NULL AS drawn, a.randomize_questions, a.randomize_answers,
       a.show_answers_after, a.allow_review, a.max_attempts
  FROM assessments a
 WHERE a.is_published AND a.deleted_at IS NULL
   AND (:assessment_type::text IS NULL OR a.assessment_type = :assessment_type::text)
   AND (:domain::text IS NULL OR a.domain = :domain::text)
   AND (:component_id::uuid IS NULL
        OR a.slug = (SELECT c.content ->> 'assessment_slug'
                       FROM learning_components c
                      WHERE c.id = :component_id::uuid AND c.is_published
                        AND c.deleted_at IS NULL))
   AND (:after_title::text IS NULL OR (a.title, a.id) > (:after_title::text, :after_id::uuid))
 ORDER BY a.title, a.id
 LIMIT :page_size::int;

-- name: component_assessment(component_id)^
-- The assessment a component presents (a quiz, practice exam or assessment component names
-- it by slug in its content: `content ->> 'assessment_slug'`, indexed); no row when the
-- component presents none or either is unpublished. Passing it is what completes the
-- component (submit_attempt).
-- row: Assessment
-- not-null: question_count, drawn
-- replica: yes
SELECT a.id, a.slug, a.title, a.description, a.assessment_type, a.domain, a.difficulty_level,
       a.time_limit_minutes, a.passing_score,
       CASE WHEN a.draw_split IS NULL THEN cardinality(a.question_ids) ELSE a.draw_size END
           AS question_count,
       a.draw_split IS NOT NULL AS drawn, a.randomize_questions, a.randomize_answers,
       a.show_answers_after, a.allow_review, a.max_attempts
  FROM learning_components c
  JOIN assessments a ON a.slug = c.content ->> 'assessment_slug'
 WHERE c.id = :component_id AND c.is_published AND c.deleted_at IS NULL
   AND a.is_published AND a.deleted_at IS NULL;

-- name: start_attempt(assessment_id)^
-- Open the acting user's next attempt (number = previous + 1) unless max_attempts is used up
-- (start_attempt: racing starts are serialised). A drawn assessment draws the attempt's
-- questions from the bank within its blueprint split; the question and option order are
-- shuffled (seeded) when the assessment says so. All of it is stored on the attempt. No row:
-- the assessment is not available or no attempt is left.
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
-- The questions of an attempt in the order shown, each with its options in the order shown
-- (both stored on the attempt at its start), as a learner may see them: no correct answer,
-- no explanation. The same on every call: resuming shows the attempt as it began.
-- not-null: position, question_data
SELECT q.id, o.position::int AS position, q.question_type, q.question_text,
       question_data_in_order(q.question_data, t.option_order -> q.id::text) AS question_data,
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
-- `expired` is true once the time limit has passed; `draw_seed` the seed of its draw and
-- orders (NULL for attempts started before migration 0018).
-- not-null: expired
SELECT t.id, t.assessment_id, a.slug, t.status, t.attempt_number, t.started_at, t.draw_seed,
       a.time_limit_minutes, a.passing_score, a.allow_review, a.show_answers_after,
       t.started_at + make_interval(mins => a.time_limit_minutes) AS deadline,
       coalesce(now() > t.started_at + make_interval(mins => a.time_limit_minutes), false)
           AS expired
  FROM assessment_attempts t
  JOIN assessments a ON a.id = t.assessment_id
 WHERE t.id = :attempt_id AND t.user_id = :user_id;

-- name: attempt_answers(attempt_id, user_id)
-- The answers saved so far in an attempt of this user (no grade), by question id: what a
-- resumed attempt shows as already answered or flagged.
-- not-null: question_id, time_spent_seconds, flagged_for_review, updated_at
SELECT ans.question_id, ans.user_answer, ans.time_spent_seconds, ans.flagged_for_review,
       ans.updated_at
  FROM assessment_answers ans
  JOIN assessment_attempts t ON t.id = ans.attempt_id
 WHERE t.id = :attempt_id AND t.user_id = :user_id
 ORDER BY ans.question_id;

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

-- name: learner_questions(question_ids)
-- Published, live questions of the bank by id, as a learner may see them: no correct
-- answer, no explanation (what the library's question cache holds).
-- row: LearnerQuestion
-- replica: yes
SELECT id, question_type, domain, subdomain, difficulty_level, question_text, question_data,
       hints, points, comptia_objectives
  FROM question_bank
 WHERE id = ANY (:question_ids::uuid[]) AND is_published AND deleted_at IS NULL
 ORDER BY id;
