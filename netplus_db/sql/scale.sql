-- Synthetic load data (`netplus-db seed --scale N`): the catalog it builds on, and the guard
-- against loading twice. The rows themselves go in by COPY (netplus_db/scale.py).

-- name: lock()!
-- Serialise scale loads on this database until the transaction ends.
SELECT pg_advisory_xact_lock(hashtextextended('netplus-db seed --scale', 0));

-- name: user_count(domain)$
-- How many users have an email address in this domain (the scale users' marker).
SELECT count(*) FROM users WHERE split_part(lower(email), '@', 2) = lower(:domain);

-- name: components()
-- The published, live learning components, in a learning order: by domain and objective.
SELECT id, component_type, domain, subdomain, difficulty_level, slug,
       estimated_duration_minutes, content ->> 'assessment_slug' AS assessment_slug
  FROM learning_components
 WHERE is_published AND deleted_at IS NULL
 ORDER BY domain, subdomain NULLS FIRST, slug;

-- name: assessments()
-- The published, live assessments that have questions.
SELECT id, slug, assessment_type, domain, passing_score, max_attempts, time_limit_minutes,
       randomize_questions, question_ids
  FROM assessments
 WHERE is_published AND deleted_at IS NULL AND cardinality(question_ids) > 0
 ORDER BY slug;

-- name: questions(ids)
-- The questions with these ids, with their keys (to grade the synthetic answers).
SELECT id, question_type, difficulty_level, question_data, correct_answer, points
  FROM question_bank
 WHERE id = ANY (:ids::uuid[])
 ORDER BY id;

-- name: achievements()
-- The active achievements and their criteria.
SELECT id, code, criteria
  FROM achievements
 WHERE is_active
 ORDER BY code;

-- name: question_stats(domain)!
-- Add the scale users' answers to each question's statistics, as update_question_stats
-- does per graded attempt: usage, correct and incorrect counts, mean time spent.
UPDATE question_bank q
   SET usage_count = q.usage_count + g.answered,
       correct_count = q.correct_count + g.correct,
       incorrect_count = q.incorrect_count + g.incorrect,
       average_time_seconds = round((coalesce(q.average_time_seconds, 0) * q.usage_count
                                     + g.seconds) / (q.usage_count + g.answered), 2)
  FROM (SELECT a.question_id,
               count(*) AS answered,
               count(*) FILTER (WHERE a.is_correct) AS correct,
               count(*) FILTER (WHERE NOT a.is_correct AND a.user_answer IS NOT NULL) AS incorrect,
               sum(a.time_spent_seconds) AS seconds
          FROM assessment_answers a
          JOIN assessment_attempts t ON t.id = a.attempt_id
          JOIN users u ON u.id = t.user_id
         WHERE split_part(lower(u.email), '@', 2) = lower(:domain)
         GROUP BY a.question_id) AS g
 WHERE q.id = g.question_id;

-- name: component_stats(domain)!
-- Add the scale users' sessions (as views) and completions to each component's counters.
UPDATE learning_components c
   SET view_count = c.view_count + g.views,
       completion_count = c.completion_count + g.completions
  FROM (SELECT x.component_id, sum(x.views) AS views, sum(x.completions) AS completions
          FROM (SELECT s.component_id, count(*) AS views, 0 AS completions
                  FROM learning_sessions s
                  JOIN users u ON u.id = s.user_id
                 WHERE split_part(lower(u.email), '@', 2) = lower(:domain)
                 GROUP BY s.component_id
                UNION ALL
                SELECT p.component_id, 0, count(*) FILTER (WHERE p.completion_date IS NOT NULL)
                  FROM user_progress p
                  JOIN users u ON u.id = p.user_id
                 WHERE split_part(lower(u.email), '@', 2) = lower(:domain)
                 GROUP BY p.component_id) AS x
         GROUP BY x.component_id) AS g
 WHERE c.id = g.component_id;
