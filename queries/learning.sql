-- Learning intelligence (migration 0019; models in docs/learning-intelligence.md): mastery per
-- objective, ESTIMATED exam readiness, the spaced-review schedule (FSRS) and its review
-- session, the per-objective score report, and the instructors' reads. A learner reads its
-- own study state (row-level security) and writes none of it: submit_attempt and
-- answer_review maintain it.

-- name: objective_mastery(user_id)
-- Mastery of every objective of the current blueprint as of now: answers, posterior mean,
-- variance and 90 % interval (the prior Beta(1, 1) where there is no evidence).
-- not-null: blueprint, domain_code, objective_code, objective_name, answers, correct_answers, mastery, variance, mastery_lower, mastery_upper
SELECT blueprint, domain_code, objective_code, objective_name, answers, correct_answers,
       mastery, variance, mastery_lower, mastery_upper, evidence_at
  FROM learner_objective_mastery(:user_id);

-- name: readiness(user_id)
-- ESTIMATED readiness: the exam row first, then one row per domain; estimated_score on the
-- 100-900 scale with a 90 % interval (an estimate: CompTIA publishes no raw-to-scaled
-- mapping); likely_ready only when the interval's lower end clears the passing score.
-- row: Readiness
-- not-null: scope, code, name, weight, answers, mastery, estimated_score, score_lower, score_upper, passing_score, likely_ready, is_estimate
SELECT scope, code, name, weight, answers, mastery, estimated_score, score_lower, score_upper,
       passing_score, likely_ready, is_estimate
  FROM learner_readiness(:user_id);

-- name: weakest_objectives(user_id, limit)
-- The weakest objectives (lowest mastery first; 1 to 25) with the published components that
-- teach them.
-- not-null: domain_code, objective_code, objective_name, answers, mastery, mastery_lower, mastery_upper, component_ids, component_slugs, component_titles
SELECT domain_code, objective_code, objective_name, answers, mastery, mastery_lower,
       mastery_upper, component_ids, component_slugs, component_titles
  FROM learner_weakest_objectives(:user_id, :limit);

-- name: review_due_counts(user_id)^
-- The review schedule in numbers: due now, due before the end of the learner's day,
-- scheduled in all, and the next due time.
-- not-null: due_now, due_today, scheduled
SELECT due_now, due_today, scheduled, next_due FROM review_due_counts(:user_id);

-- name: review_queue(user_id, limit)
-- The cards due now, oldest first, with their questions as a learner may see them: no
-- correct answer, no explanation (app_user cannot read those columns).
-- not-null: question_id, due, state, reps, lapses, question_type, question_text, question_data, points
SELECT c.question_id, c.due, c.state, c.reps, c.lapses, q.question_type, q.question_text,
       q.question_data, q.hints, q.points, q.comptia_objectives
  FROM review_cards c
  JOIN question_bank q ON q.id = c.question_id
 WHERE c.user_id = :user_id AND c.due <= now() AND q.is_published AND q.deleted_at IS NULL
 ORDER BY c.due, c.question_id
 LIMIT :limit::int;

-- name: answer_review(question_id, user_answer, time_spent_seconds)^
-- Answer a due card (answer_review): graded in the database, rated again or good,
-- rescheduled with FSRS, logged; then the key and explanation. A malformed answer is a
-- ValidationError naming the field.
-- optional: user_answer, time_spent_seconds
-- not-null: question_id, skipped, is_correct, points_earned, points, rating, state, due, stability, difficulty, reps, lapses
SELECT question_id, skipped, is_correct, points_earned, points, rating, state, due,
       interval_days, stability, difficulty, reps, lapses, correct_answer, explanation
  FROM answer_review(:question_id, :user_answer, :time_spent_seconds);

-- name: attempt_objective_report(attempt_id)
-- The score report of a submitted attempt of the acting user, per objective: items, correct,
-- points and percentage, and whether any was missed.
-- not-null: domain_code, domain_name, objective_code, objective_name, items, correct, points_earned, points_possible, percentage, missed
SELECT domain_code, domain_name, objective_code, objective_name, items, correct,
       points_earned, points_possible, percentage, missed
  FROM attempt_objective_report(:attempt_id);

-- name: dashboard_with_readiness(user_id)^
-- The learner dashboard with the ESTIMATED exam readiness and the reviews due today, in
-- one round trip.
-- not-null: components_started, components_completed, total_time_minutes, current_streak, longest_streak, achievements_count, active_goals_count, overall_progress, estimated_score, score_lower, score_upper, likely_ready, is_estimate, reviews_due_now, reviews_due_today
SELECT d.components_started, d.components_completed, d.total_time_minutes, d.current_streak,
       d.longest_streak, d.achievements_count, d.average_assessment_score,
       d.active_goals_count, d.overall_progress,
       r.estimated_score, r.score_lower, r.score_upper, r.likely_ready, r.is_estimate,
       c.due_now AS reviews_due_now, c.due_today AS reviews_due_today
  FROM get_user_dashboard_summary(:user_id) AS d
 CROSS JOIN (SELECT * FROM learner_readiness(:user_id) WHERE scope = 'exam') AS r
 CROSS JOIN review_due_counts(:user_id) AS c;

-- name: cohort_readiness()
-- For instructors and admins (Forbidden otherwise): the cohort's mean mastery per
-- objective, per domain and for the exam, with the ESTIMATED score of that mean.
-- not-null: scope, code, name, learners, mastery, estimated_score
SELECT scope, code, name, learners, mastery, estimated_score FROM cohort_readiness();

-- name: item_flags(limit)
-- For instructors and admins: the questions the last item-statistics refresh flagged
-- (negative or near-zero discrimination, facility above 0.95 or below 0.10, too few
-- responses), worst first.
-- not-null: question_id, domain, question_type, question_text, responses, flags, refreshed_at
SELECT question_id, domain, subdomain, question_type, question_text, responses, facility,
       standard_deviation, discrimination, flags, refreshed_at
  FROM item_flags(:limit);

-- name: platform_weakest_objectives(limit)
-- For instructors and admins: the objectives with the lowest mean mastery platform-wide,
-- with the components that teach them.
-- not-null: domain_code, objective_code, objective_name, learners, mastery, component_slugs
SELECT domain_code, objective_code, objective_name, learners, mastery, component_slugs
  FROM platform_weakest_objectives(:limit);

-- name: refresh_item_statistics(min_responses)^
-- Rebuild the item statistics from every graded answer of submitted attempts (admin; the
-- daily maintenance runs it).
-- not-null: questions, answers, flagged
SELECT questions, answers, flagged FROM refresh_item_statistics(:min_responses);
