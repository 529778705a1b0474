-- migrate:up
-- 0021 review-aware draw: a practice exam drawn per attempt (0018) prefers the questions due
-- in the learner's spaced-review schedule (0019's review_cards, due now or earlier), then the
-- unseen ones, then the rest, within each objective and difficulty. Only the ranking changes
-- (draw_candidates, the one function 0018 made for this); the split, the simulation minimum,
-- the avoidance of the last attempts' questions (which still comes first) and the seeded
-- tiebreak are as before. The same seed, bank, history and schedule give the same draw.

CREATE OR REPLACE FUNCTION draw_candidates(p_assessment_id uuid, p_user_id uuid, p_seed bigint)
RETURNS TABLE (question_id uuid, domain text, objective text, question_type text,
               difficulty_level text, avoid boolean, preference integer, tiebreak uuid)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
    WITH a AS (
        SELECT x.id, x.draw_split, x.draw_avoid_recent
          FROM assessments x
         WHERE x.id = p_assessment_id),
    recent AS (
        SELECT DISTINCT r.question_id
          FROM (SELECT t.question_order
                  FROM assessment_attempts t
                  JOIN a ON a.id = t.assessment_id
                 WHERE t.user_id = p_user_id
                 ORDER BY t.attempt_number DESC
                 LIMIT (SELECT a.draw_avoid_recent FROM a)) AS last_attempts
         CROSS JOIN LATERAL unnest(last_attempts.question_order) AS r(question_id)),
    seen AS (
        SELECT DISTINCT s.question_id
          FROM assessment_attempts t
         CROSS JOIN LATERAL unnest(t.question_order) AS s(question_id)
         WHERE t.user_id = p_user_id),
    due AS (
        SELECT c.question_id
          FROM review_cards c
         WHERE c.user_id = p_user_id AND c.due <= now())
    SELECT q.id, q.domain::text, coalesce(q.subdomain, q.domain)::text, q.question_type::text,
           q.difficulty_level::text,
           EXISTS (SELECT 1 FROM recent r WHERE r.question_id = q.id),
           CASE WHEN EXISTS (SELECT 1 FROM due d WHERE d.question_id = q.id) THEN 0
                WHEN EXISTS (SELECT 1 FROM seen s WHERE s.question_id = q.id) THEN 2
                ELSE 1 END,
           draw_hash(p_seed, 'question/' || q.id::text)
      FROM question_bank q
      JOIN a ON (a.draw_split -> q.domain::text) IS NOT NULL
     WHERE q.is_published AND q.deleted_at IS NULL
$$;

COMMENT ON FUNCTION draw_candidates(uuid, uuid, bigint) IS
    'The ranking of a draw: the published questions of a drawn assessment''s domains for a learner, with avoid (in the learner''s last draw_avoid_recent attempts at it), preference (lower first: 0 due for spaced review in review_cards, 1 unseen, 2 seen) and the seeded tiebreak; due is judged at the draw''s moment. The one function a later migration replaces to rank differently. Internal: executable by its owner only.';

-- migrate:down
-- 0018's ranking: unseen before seen.

CREATE OR REPLACE FUNCTION draw_candidates(p_assessment_id uuid, p_user_id uuid, p_seed bigint)
RETURNS TABLE (question_id uuid, domain text, objective text, question_type text,
               difficulty_level text, avoid boolean, preference integer, tiebreak uuid)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
    WITH a AS (
        SELECT x.id, x.draw_split, x.draw_avoid_recent
          FROM assessments x
         WHERE x.id = p_assessment_id),
    recent AS (
        SELECT DISTINCT r.question_id
          FROM (SELECT t.question_order
                  FROM assessment_attempts t
                  JOIN a ON a.id = t.assessment_id
                 WHERE t.user_id = p_user_id
                 ORDER BY t.attempt_number DESC
                 LIMIT (SELECT a.draw_avoid_recent FROM a)) AS last_attempts
         CROSS JOIN LATERAL unnest(last_attempts.question_order) AS r(question_id)),
    seen AS (
        SELECT DISTINCT s.question_id
          FROM assessment_attempts t
         CROSS JOIN LATERAL unnest(t.question_order) AS s(question_id)
         WHERE t.user_id = p_user_id)
    SELECT q.id, q.domain::text, coalesce(q.subdomain, q.domain)::text, q.question_type::text,
           q.difficulty_level::text,
           EXISTS (SELECT 1 FROM recent r WHERE r.question_id = q.id),
           CASE WHEN EXISTS (SELECT 1 FROM seen s WHERE s.question_id = q.id) THEN 1 ELSE 0 END,
           draw_hash(p_seed, 'question/' || q.id::text)
      FROM question_bank q
      JOIN a ON (a.draw_split -> q.domain::text) IS NOT NULL
     WHERE q.is_published AND q.deleted_at IS NULL
$$;

COMMENT ON FUNCTION draw_candidates(uuid, uuid, bigint) IS
    'The ranking of a draw: the published questions of a drawn assessment''s domains for a learner, with avoid (in the learner''s last draw_avoid_recent attempts at it), preference (lower first: 0 unseen, 1 seen) and the seeded tiebreak. The one function a later migration replaces to rank differently (e.g. due for spaced review first). Internal: executable by its owner only.';
