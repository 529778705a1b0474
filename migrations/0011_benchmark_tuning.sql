-- migrate:up
-- 0011 benchmark tuning
-- What the benchmark suite (`netplus-db bench suite --scale 100`, docs/benchmarks.md)
-- found at 100,000 users, and the fixes:
--
-- 1. Analytics: v_assessment_performance of one assessment read up to 59,000
--    attempts through a bitmap heap scan of nearly the whole attempts table and
--    sorted them on disk for count(DISTINCT user_id): p95 118 ms (target 100).
--    An index on (assessment_id, user_id) that includes every column the view
--    aggregates answers it with an index-only scan in user_id order (no sort on
--    PostgreSQL 16+): 152 -> 17 ms for the largest assessment. It replaces the
--    plain foreign-key index on assessment_id, whose lookups it serves too.
--
-- 2. Submit: component_for_assessment found the component presenting an
--    assessment by reading every component's content (TOASTed jsonb) for
--    `content ->> 'assessment_slug'`: 1.6 ms cold. An expression index answers it
--    directly (and in created_at order, as the query asks).
--
-- 3. Deadlocks: two submits of the same assessment updated the same
--    question_bank rows in the order each attempt presented its questions
--    (shuffled), and deadlocked (5 deadlocks in 10 s of the mixed workload).
--    Locking the rows in id order inside the UPDATE itself is not enough: the
--    UPDATE's snapshot can predate a concurrent commit, and re-locking the older
--    row version waits on a tuple lock another waiter holds. So
--    update_question_stats() locks the rows in id order in one statement and
--    updates them in the next, with a fresh snapshot that sees the versions it
--    has locked (READ COMMITTED, a VOLATILE function: one snapshot per statement).

-- ---------------------------------------------------------------------------
-- 1. assessment_attempts: covering index for per-assessment aggregates
-- ---------------------------------------------------------------------------
CREATE INDEX idx_assessment_attempts_assessment_id_user_id
    ON assessment_attempts (assessment_id, user_id)
    INCLUDE (status, percentage, passed, time_spent_minutes);

DROP INDEX idx_assessment_attempts_assessment_id;

-- ---------------------------------------------------------------------------
-- 2. learning_components: the component presenting an assessment
-- ---------------------------------------------------------------------------
CREATE INDEX idx_learning_components_assessment_slug
    ON learning_components ((content ->> 'assessment_slug'), created_at)
    WHERE deleted_at IS NULL;

-- ---------------------------------------------------------------------------
-- 3. update_question_stats: question statistics without deadlocks
-- ---------------------------------------------------------------------------
CREATE FUNCTION update_question_stats(
    p_question_ids uuid[],
    p_correct      boolean[],
    p_answered     boolean[],
    p_seconds      integer[]
)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_updated integer;
BEGIN
    -- Every submit locks in the same (id) order, so none waits for another in a cycle.
    PERFORM 1
       FROM question_bank
      WHERE id = ANY (p_question_ids)
      ORDER BY id
        FOR NO KEY UPDATE;

    -- A new statement, a new snapshot: it sees the row versions locked above.
    UPDATE question_bank q
       SET usage_count = q.usage_count + 1,
           correct_count = q.correct_count + g.correct::int,
           incorrect_count = q.incorrect_count + (g.answered AND NOT g.correct)::int,
           average_time_seconds = CASE
               WHEN g.seconds IS NULL THEN q.average_time_seconds
               ELSE round((coalesce(q.average_time_seconds, 0) * q.usage_count + g.seconds)
                          / (q.usage_count + 1), 2) END
      FROM unnest(p_question_ids, p_correct, p_answered, p_seconds)
           AS g(question_id, correct, answered, seconds)
     WHERE q.id = g.question_id;
    GET DIAGNOSTICS v_updated = ROW_COUNT;
    RETURN v_updated;
END;
$$;

COMMENT ON FUNCTION update_question_stats(uuid[], boolean[], boolean[], integer[]) IS
    'Add one graded attempt to its questions'' statistics (usage, correct and incorrect counts, running mean time), locking the question rows in id order first so that concurrent submits cannot deadlock; returns the rows updated.';

REVOKE EXECUTE ON FUNCTION update_question_stats(uuid[], boolean[], boolean[], integer[])
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION update_question_stats(uuid[], boolean[], boolean[], integer[])
    TO app_user, admin;

-- migrate:down
-- Reverse order.

DROP FUNCTION update_question_stats(uuid[], boolean[], boolean[], integer[]);

DROP INDEX idx_learning_components_assessment_slug;

CREATE INDEX idx_assessment_attempts_assessment_id
    ON assessment_attempts (assessment_id);
DROP INDEX idx_assessment_attempts_assessment_id_user_id;
