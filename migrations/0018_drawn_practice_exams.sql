-- migrate:up
-- 0018 drawn practice exams
-- A practice exam like the real one: each attempt draws its own questions from the bank
-- within the blueprint's domain split, in the database, where a learner cannot choose them.
--
--   * assessments.draw_split (jsonb, domain code -> weight; NULL: the fixed list question_ids,
--     as before) marks an assessment as drawn; draw_size is how many questions an attempt
--     draws (the split is scaled to it by largest remainder: exactly 21/18/17/13/21 at 90 for
--     the N10-009 split); draw_min_simulations is the least number of performance-based
--     (simulation) items; draw_avoid_recent is how many of the learner's last attempts at the
--     assessment to avoid repeating while the bank allows. A drawn assessment draws from the
--     whole published bank of its split's domains: its question_ids stay the seed's fixed form
--     (what synthetic scale data replays), not used by an attempt.
--   * assessment_attempts.draw_seed: the seed of the attempt (from its id, md5-based): the
--     draw, the question order and the option order are functions of it (and of the learner's
--     history at the start), so the same seed gives the same exam. No random() anywhere.
--   * assessment_attempts.option_order: per question, the order its options (multiple choice,
--     multiple select), choices (matching) and simulation parts' options and choices are shown
--     in, when the assessment says randomize_answers; NULL otherwise. Grading is by option id,
--     never by position (grade_answer of 0012 and 0016), so the order changes no grade.
--   * start_attempt (0013) draws or shuffles inside the SECURITY DEFINER function and stores
--     order and seed; review_attempt (0013) shows the options in the stored order.
--     question_data_in_order(question_data, order) applies a stored order (app_user runs it
--     in the attempt_questions query). app_user still only reads assessment_attempts (every
--     write goes through the functions), so nobody but the start function writes a draw;
--     save_answer (0013) already refuses a question that is not in the attempt's order.
--
-- The draw (draw_questions), in order of precedence: each domain gets exactly its quota;
-- at least draw_min_simulations simulations, spread round-robin over the domains; questions
-- of the learner's last draw_avoid_recent attempts only when a domain has too few others;
-- objectives of a domain in turn (round-robin), difficulties within an objective in turn;
-- within one objective and difficulty, the candidate ranking (draw_candidates: unseen before
-- seen); then the seeded hash. draw_candidates is the one function a later migration replaces
-- to rank differently (e.g. questions due for spaced review first).

-- ---------------------------------------------------------------------------
-- Columns
-- ---------------------------------------------------------------------------
-- The columns are new, NULL or at their default in every existing row, which passes each
-- check: no existing row can fail them, so no NOT VALID and later VALIDATE is needed.
ALTER TABLE assessments
    ADD COLUMN draw_split jsonb
        CONSTRAINT assessments_draw_split_check
        CHECK (draw_split IS NULL
               OR (jsonb_typeof(draw_split) = 'object' AND draw_split <> '{}'::jsonb
                   AND NOT jsonb_path_exists(
                       draw_split,
                       'strict $.* ? (@.type() != "number" || @ < 1 || @ > 1000 || @ != @.floor())'))),
    ADD COLUMN draw_size integer
        CONSTRAINT assessments_draw_size_check
        CHECK ((draw_split IS NULL) = (draw_size IS NULL) AND draw_size BETWEEN 1 AND 1000),
    ADD COLUMN draw_min_simulations integer NOT NULL DEFAULT 0
        CONSTRAINT assessments_draw_min_simulations_check
        CHECK (draw_min_simulations >= 0 AND draw_min_simulations <= coalesce(draw_size, 0)),
    ADD COLUMN draw_avoid_recent integer NOT NULL DEFAULT 0
        CONSTRAINT assessments_draw_avoid_recent_check
        CHECK (draw_avoid_recent BETWEEN 0 AND 100);

COMMENT ON COLUMN assessments.draw_split IS
    'Drawn per attempt from the published bank when set: domain code -> weight (e.g. the N10-009 split {"1.0": 21, "2.0": 18, "3.0": 17, "4.0": 13, "5.0": 21}), scaled to draw_size by largest remainder. NULL: the fixed list question_ids.';
COMMENT ON COLUMN assessments.draw_size IS
    'Questions per drawn attempt (set exactly when draw_split is).';
COMMENT ON COLUMN assessments.draw_min_simulations IS
    'Least number of simulation (performance-based) questions in a drawn attempt.';
COMMENT ON COLUMN assessments.draw_avoid_recent IS
    'A drawn attempt avoids the questions of the learner''s last N attempts at this assessment while the bank has others.';

ALTER TABLE assessment_attempts
    ADD COLUMN draw_seed bigint,
    ADD COLUMN option_order jsonb;

COMMENT ON COLUMN assessment_attempts.draw_seed IS
    'Seed of the attempt''s draw, question order and option order (set by start_attempt from the attempt id; NULL for attempts started before 0018).';
COMMENT ON COLUMN assessment_attempts.option_order IS
    'Per question id, the order its options, choices and simulation parts'' options are shown in ({"<id>": {"options": ["c", "a", ...]}}); NULL: as defined. Display only: grading is by option id.';

GRANT INSERT (draw_split, draw_size, draw_min_simulations, draw_avoid_recent),
      UPDATE (draw_split, draw_size, draw_min_simulations, draw_avoid_recent)
    ON assessments TO content_editor;

-- Catalog edits are audited column by column (0014): the new settings too.
DROP TRIGGER trg_assessments_audit ON assessments;
CREATE TRIGGER trg_assessments_audit
    AFTER INSERT OR DELETE OR UPDATE OF
        assessment_type, title, slug, description, domain, difficulty_level, time_limit_minutes,
        passing_score, question_ids, randomize_questions, randomize_answers, show_answers_after,
        allow_review, max_attempts, is_published, created_by, deleted_at, id, created_at,
        draw_split, draw_size, draw_min_simulations, draw_avoid_recent
    ON assessments
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change('|', '|');

-- ---------------------------------------------------------------------------
-- Seeded orderings: md5 of the seed and a label, read as a uuid (compared bytewise, so
-- the same on every server, whatever its collation)
-- ---------------------------------------------------------------------------
-- No SET search_path, so that it is inlined into its callers (a draw sorts by it about a
-- thousand times; a SET makes each call several times dearer): it names pg_catalog itself,
-- is its owner's only, and runs inside the draw functions, whose search_path is pinned.
CREATE FUNCTION draw_hash(p_seed bigint, p_label text)
RETURNS uuid
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.md5(p_seed::pg_catalog.text || '/' || p_label)::pg_catalog.uuid
$$;

COMMENT ON FUNCTION draw_hash(bigint, text) IS
    'The seeded sort key of one item (md5 of seed and label as a uuid). Internal: executable by its owner only.';

-- The quota of each domain of a split at a size: largest remainder, ties to the heavier
-- domain, then the lower code. Exactly the weights when they add up to the size.
CREATE FUNCTION draw_quotas(p_split jsonb, p_size integer)
RETURNS TABLE (domain text, quota integer)
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
    WITH split AS (
        SELECT s.key AS domain, s.value::numeric::bigint AS weight
          FROM jsonb_each_text(p_split) AS s),
    shares AS (
        SELECT s.domain, s.weight,
               (p_size * s.weight) / t.total AS base,
               (p_size * s.weight) % t.total AS rest
          FROM split s
         CROSS JOIN (SELECT sum(x.weight)::bigint AS total FROM split x) AS t),
    seats AS (
        SELECT sh.domain, sh.base,
               row_number() OVER (ORDER BY sh.rest DESC, sh.weight DESC, sh.domain) AS seat,
               sum(sh.base) OVER () AS given
          FROM shares sh)
    SELECT st.domain, (st.base + CASE WHEN st.seat <= p_size - st.given THEN 1 ELSE 0 END)::int
      FROM seats st
     ORDER BY st.domain
$$;

COMMENT ON FUNCTION draw_quotas(jsonb, integer) IS
    'Questions per domain when a split (domain -> weight) is scaled to a size: largest remainder (ties: heavier domain, then lower code). Internal: executable by its owner only.';

-- ---------------------------------------------------------------------------
-- The candidates and their ranking
-- ---------------------------------------------------------------------------
-- THE RANKING OF A DRAW. A later migration may replace this one function (same signature and
-- columns) to rank differently, e.g. questions due for spaced review first (preference 0),
-- then unseen ones: draw_questions reads only these columns. avoid: in the learner's last
-- draw_avoid_recent attempts at this assessment (taken only when the bank leaves no choice);
-- preference: lower first within one objective and difficulty (0 unseen, 1 seen in any
-- attempt); tiebreak: the seeded hash.
CREATE FUNCTION draw_candidates(p_assessment_id uuid, p_user_id uuid, p_seed bigint)
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

-- ---------------------------------------------------------------------------
-- The draw
-- ---------------------------------------------------------------------------
CREATE FUNCTION draw_questions(p_assessment_id uuid, p_user_id uuid, p_seed bigint)
RETURNS TABLE (question_id uuid, domain text, objective text, question_type text,
               difficulty_level text, draw_rank integer)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_a     assessments%ROWTYPE;
    v_short text;
    v_sims  bigint;
BEGIN
    SELECT * INTO v_a FROM assessments x WHERE x.id = p_assessment_id;
    IF NOT FOUND OR v_a.draw_split IS NULL THEN
        RAISE EXCEPTION 'assessment_id: % is not an assessment drawn from the bank', p_assessment_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- What the bank can give at all (the learner's history aside).
    SELECT string_agg(format('domain %s has %s published question(s) for %s place(s)',
                             qu.domain, coalesce(n.total, 0), qu.quota), '; ' ORDER BY qu.domain)
               FILTER (WHERE coalesce(n.total, 0) < qu.quota),
           sum(least(coalesce(n.sims, 0), qu.quota))
      INTO v_short, v_sims
      FROM draw_quotas(v_a.draw_split, v_a.draw_size) AS qu
      LEFT JOIN (SELECT q.domain::text AS domain, count(*) AS total,
                        count(*) FILTER (WHERE q.question_type = 'simulation') AS sims
                   FROM question_bank q
                  WHERE q.is_published AND q.deleted_at IS NULL
                  GROUP BY q.domain) AS n ON n.domain = qu.domain;
    IF v_short IS NOT NULL THEN
        RAISE EXCEPTION 'the bank cannot fill assessment %: %', v_a.slug, v_short
            USING ERRCODE = 'NP002';
    END IF;
    IF coalesce(v_sims, 0) < v_a.draw_min_simulations THEN
        RAISE EXCEPTION 'the bank cannot fill assessment %: % simulation(s) fit its domains'' places, not %',
                        v_a.slug, coalesce(v_sims, 0), v_a.draw_min_simulations
            USING ERRCODE = 'NP002';
    END IF;

    RETURN QUERY
        WITH quota AS (
            SELECT * FROM draw_quotas(v_a.draw_split, v_a.draw_size)),
        c AS (
            SELECT * FROM draw_candidates(v_a.id, p_user_id, p_seed)),
        -- The simulation minimum: each domain's simulations ranked, then taken round-robin
        -- over the domains (never more than a domain's quota), the avoided ones last.
        sim_ranked AS (
            SELECT c.question_id, c.avoid, c.preference, c.tiebreak, qu.quota,
                   row_number() OVER (PARTITION BY c.domain
                                      ORDER BY c.avoid, c.preference, c.tiebreak) AS turn
              FROM c
              JOIN quota qu ON qu.domain = c.domain
             WHERE c.question_type = 'simulation'),
        forced AS (
            SELECT s.question_id
              FROM sim_ranked s
             WHERE s.turn <= s.quota
             ORDER BY s.avoid, s.turn, s.preference, s.tiebreak
             LIMIT v_a.draw_min_simulations),
        -- Within an objective and difficulty: the forced simulations, then not avoided, then
        -- the candidate ranking, then the hash.
        cells AS (
            SELECT c.*, (f.question_id IS NOT NULL) AS is_forced,
                   row_number() OVER (PARTITION BY c.domain, c.objective, c.difficulty_level
                                      ORDER BY (f.question_id IS NOT NULL) DESC, c.avoid,
                                               c.preference, c.tiebreak) AS cell_rank,
                   draw_hash(p_seed, 'difficulty/' || c.objective || '/' || c.difficulty_level)
                       AS cell_order
              FROM c
              LEFT JOIN forced f ON f.question_id = c.question_id),
        -- Within an objective: its difficulties in turn (in a seeded order).
        objectives AS (
            SELECT x.*,
                   row_number() OVER (PARTITION BY x.domain, x.objective
                                      ORDER BY x.is_forced DESC, x.avoid, x.cell_rank,
                                               x.cell_order) AS objective_rank,
                   draw_hash(p_seed, 'objective/' || x.objective) AS objective_order
              FROM cells x),
        -- Within a domain: its objectives in turn (in a seeded order); the quota is taken.
        ranked AS (
            SELECT o.*,
                   row_number() OVER (PARTITION BY o.domain
                                      ORDER BY o.is_forced DESC, o.avoid, o.objective_rank,
                                               o.objective_order) AS domain_rank
              FROM objectives o)
        SELECT r.question_id, r.domain, r.objective, r.question_type, r.difficulty_level,
               (row_number() OVER (ORDER BY r.domain, r.domain_rank))::int
          FROM ranked r
          JOIN quota qu ON qu.domain = r.domain
         WHERE r.domain_rank <= qu.quota
         ORDER BY r.domain, r.domain_rank;
END;
$$;

COMMENT ON FUNCTION draw_questions(uuid, uuid, bigint) IS
    'The questions a learner''s attempt at a drawn assessment gets for a seed, in draw order: each domain exactly its quota of the split at draw_size, at least draw_min_simulations simulations, the last draw_avoid_recent attempts'' questions only when the bank leaves no choice, objectives and difficulties in turn, then the ranking of draw_candidates and the seeded hash. The same seed, bank and history give the same draw. SQLSTATE NP002: the bank cannot fill it. Internal: executable by its owner only.';

-- ---------------------------------------------------------------------------
-- Option order
-- ---------------------------------------------------------------------------
-- The ids of a JSON array of {"id": ...} objects in a seeded order (NULL: none).
CREATE FUNCTION draw_shuffled_ids(p_items jsonb, p_seed bigint, p_label text)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT jsonb_agg(e.value -> 'id' ORDER BY draw_hash(p_seed, p_label || '/' || (e.value ->> 'id')))
      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_items) = 'array' THEN p_items
                                     ELSE '[]'::jsonb END) AS e(value)
     WHERE jsonb_typeof(e.value) = 'object' AND (e.value -> 'id') IS NOT NULL
$$;

COMMENT ON FUNCTION draw_shuffled_ids(jsonb, bigint, text) IS
    'The ids of a JSON array of {"id": ...} objects in a seeded order, or NULL. Internal: executable by its owner only.';

-- The order a question's options are shown in for a seed: {"options": [...]} (multiple
-- choice and select), {"choices": [...]} (matching: the items dragged onto the stems, whose
-- own order stays), {"parts": {"p1": {...}}} (simulation: each part by its type; the parts
-- keep their order, as later tasks build on earlier ones); NULL when nothing is shuffled.
CREATE FUNCTION option_order_for(p_label text, p_question_type text, p_question_data jsonb,
                                 p_seed bigint)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_order jsonb;
BEGIN
    IF jsonb_typeof(p_question_data) IS DISTINCT FROM 'object' THEN
        RETURN NULL;
    END IF;
    IF p_question_type IN ('multiple_choice', 'multiple_select') THEN
        v_order := jsonb_build_object(
            'options', draw_shuffled_ids(p_question_data -> 'options', p_seed, p_label || '/options'));
    ELSIF p_question_type = 'matching' THEN
        v_order := jsonb_build_object(
            'choices', draw_shuffled_ids(p_question_data -> 'choices', p_seed, p_label || '/choices'));
    ELSIF p_question_type = 'simulation' AND jsonb_typeof(p_question_data -> 'parts') = 'array' THEN
        SELECT jsonb_build_object('parts', jsonb_object_agg(part.value ->> 'id', part.ord))
          INTO v_order
          FROM (SELECT e.value,
                       option_order_for(p_label || '/' || (e.value ->> 'id'), e.value ->> 'type',
                                        e.value -> 'data', p_seed) AS ord
                  FROM jsonb_array_elements(p_question_data -> 'parts') AS e(value)
                 WHERE jsonb_typeof(e.value) = 'object'
                   AND jsonb_typeof(e.value -> 'id') = 'string') AS part
         WHERE part.ord IS NOT NULL;
    END IF;
    v_order := jsonb_strip_nulls(v_order);
    RETURN CASE WHEN v_order IS NULL OR v_order = '{}'::jsonb THEN NULL ELSE v_order END;
END;
$$;

COMMENT ON FUNCTION option_order_for(text, text, jsonb, bigint) IS
    'The seeded order a question''s options are shown in ({"options": [...]}, {"choices": [...]}, {"parts": {"p1": ...}}), or NULL. Internal: executable by its owner only.';

-- A question's data with its options, choices and parts' options and choices in a stored
-- order. Items the order does not name (added after the attempt started) follow in their
-- own order; ids the order names that are gone are skipped. Nothing else changes.
CREATE FUNCTION question_data_in_order(p_question_data jsonb, p_order jsonb)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_data jsonb := p_question_data;
    v_key  text;
BEGIN
    IF jsonb_typeof(p_order) IS DISTINCT FROM 'object'
       OR jsonb_typeof(p_question_data) IS DISTINCT FROM 'object' THEN
        RETURN p_question_data;
    END IF;
    FOREACH v_key IN ARRAY ARRAY['options', 'choices'] LOOP
        IF jsonb_typeof(v_data -> v_key) = 'array' AND jsonb_typeof(p_order -> v_key) = 'array' THEN
            v_data := jsonb_set(v_data, ARRAY[v_key], (
                SELECT coalesce(jsonb_agg(e.value ORDER BY p.at NULLS LAST, e.at), '[]'::jsonb)
                  FROM jsonb_array_elements(v_data -> v_key) WITH ORDINALITY AS e(value, at)
                  LEFT JOIN LATERAL (
                        SELECT min(o.at) AS at
                          FROM jsonb_array_elements(p_order -> v_key) WITH ORDINALITY AS o(id, at)
                         WHERE o.id = e.value -> 'id') AS p ON true));
        END IF;
    END LOOP;
    IF jsonb_typeof(v_data -> 'parts') = 'array'
       AND jsonb_typeof(p_order -> 'parts') = 'object' THEN
        v_data := jsonb_set(v_data, '{parts}', (
            SELECT coalesce(jsonb_agg(
                       CASE WHEN jsonb_typeof(e.value) = 'object'
                                 AND (p_order -> 'parts' -> (e.value ->> 'id')) IS NOT NULL
                            THEN jsonb_set(e.value, '{data}',
                                           question_data_in_order(
                                               e.value -> 'data',
                                               p_order -> 'parts' -> (e.value ->> 'id')))
                            ELSE e.value END
                       ORDER BY e.at), '[]'::jsonb)
              FROM jsonb_array_elements(v_data -> 'parts') WITH ORDINALITY AS e(value, at)));
    END IF;
    RETURN v_data;
END;
$$;

COMMENT ON FUNCTION question_data_in_order(jsonb, jsonb) IS
    'A question''s data with its options, choices and simulation parts'' options and choices in a stored order (assessment_attempts.option_order -> question id); items not named follow in their own order. Pure: reads no table.';

-- ---------------------------------------------------------------------------
-- An attempt's questions and orders for a seed
-- ---------------------------------------------------------------------------
CREATE FUNCTION draw_attempt(p_assessment_id uuid, p_user_id uuid, p_seed bigint,
                             OUT question_order uuid[], OUT option_order jsonb)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_a assessments%ROWTYPE;
BEGIN
    SELECT * INTO v_a FROM assessments x WHERE x.id = p_assessment_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'assessment_id: % does not exist', p_assessment_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_a.draw_split IS NOT NULL THEN
        SELECT array_agg(d.question_id
                         ORDER BY CASE WHEN v_a.randomize_questions
                                       THEN draw_hash(p_seed, 'order/' || d.question_id::text)
                                  END,
                                  d.draw_rank)
          INTO question_order
          FROM draw_questions(v_a.id, p_user_id, p_seed) AS d;
    ELSIF v_a.randomize_questions THEN
        SELECT array_agg(u.q ORDER BY draw_hash(p_seed, 'order/' || u.q::text), u.n)
          INTO question_order
          FROM unnest(v_a.question_ids) WITH ORDINALITY AS u(q, n);
    ELSE
        question_order := v_a.question_ids;
    END IF;
    IF v_a.randomize_answers THEN
        SELECT jsonb_object_agg(q.id::text, o.ord)
          INTO option_order
          FROM question_bank q
         CROSS JOIN LATERAL (SELECT option_order_for(q.id::text, q.question_type,
                                                     q.question_data, p_seed) AS ord) AS o
         WHERE q.id = ANY (question_order) AND o.ord IS NOT NULL;
    END IF;
END;
$$;

COMMENT ON FUNCTION draw_attempt(uuid, uuid, bigint) IS
    'What start_attempt stores for an attempt of a learner at an assessment with a seed: the question order (drawn by draw_questions for a drawn assessment; shuffled by the seed when randomize_questions) and the option order (when randomize_answers). The same seed, bank and history give the same result: an attempt is reproduced from its draw_seed. Internal: executable by its owner only.';

-- ---------------------------------------------------------------------------
-- Starting and reviewing an attempt (replacing 0013's)
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION start_attempt(p_assessment_id uuid)
RETURNS TABLE (id uuid, user_id uuid, assessment_id uuid, attempt_number integer,
               status varchar, started_at timestamptz, question_order uuid[])
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_user    uuid := app_acting_user();
    v_id      uuid := gen_random_uuid();
    v_seed    bigint;
    v_a       assessments%ROWTYPE;
    v_used    bigint;
    v_last    integer;
    v_order   uuid[];
    v_options jsonb;
BEGIN
    -- Racing starts of one user on one assessment wait for each other, so that max_attempts
    -- holds (and each draw sees the attempts before it).
    PERFORM pg_advisory_xact_lock(
        hashtextextended(v_user::text || '/' || p_assessment_id::text, 42));
    SELECT * INTO v_a
      FROM assessments a
     WHERE a.id = p_assessment_id AND a.is_published AND a.deleted_at IS NULL;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT max(x.attempt_number), count(*) INTO v_last, v_used
      FROM assessment_attempts x
     WHERE x.user_id = v_user AND x.assessment_id = v_a.id;
    IF v_a.max_attempts IS NOT NULL AND v_used >= v_a.max_attempts THEN
        RETURN;
    END IF;
    -- The seed: the first 63 bits of md5 of the new attempt's id.
    v_seed := ('x' || substr(md5(v_id::text), 1, 16))::bit(64)::bigint & 9223372036854775807;
    SELECT d.question_order, d.option_order INTO v_order, v_options
      FROM draw_attempt(v_a.id, v_user, v_seed) AS d;
    RETURN QUERY
        WITH started AS (
            INSERT INTO assessment_attempts AS t
                   (id, user_id, assessment_id, attempt_number, question_order, draw_seed,
                    option_order)
            VALUES (v_id, v_user, v_a.id, coalesce(v_last, 0) + 1, v_order, v_seed, v_options)
            RETURNING t.id, t.user_id, t.assessment_id, t.attempt_number, t.status,
                      t.started_at, t.question_order)
        SELECT * FROM started;
END;
$$;

COMMENT ON FUNCTION start_attempt(uuid) IS
    'Open the acting user''s next attempt at a published assessment (number = previous + 1), unless max_attempts is used up. A drawn assessment (draw_split) draws the attempt''s questions (draw_questions); the question order (randomize_questions) and option order (randomize_answers) are seeded by draw_seed (draw_attempt reproduces them) and stored on the attempt. No row: not available or no attempt left. SQLSTATE NP002: the bank cannot fill a drawn assessment.';

CREATE OR REPLACE FUNCTION review_attempt(p_attempt_id uuid)
RETURNS TABLE (question_id uuid, "position" integer, question_type varchar, question_text text,
               question_data jsonb, user_answer jsonb, is_correct boolean,
               points_earned numeric, points integer, correct_answer jsonb, explanation text)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_user uuid := app_acting_user();
BEGIN
    RETURN QUERY
        SELECT q.id, o.position::int, q.question_type, q.question_text,
               question_data_in_order(q.question_data, t.option_order -> q.id::text),
               ans.user_answer, coalesce(ans.is_correct, false),
               coalesce(ans.points_earned, 0), q.points,
               CASE WHEN a.show_answers_after THEN q.correct_answer END,
               CASE WHEN a.show_answers_after THEN q.explanation END
          FROM assessment_attempts t
          JOIN assessments a ON a.id = t.assessment_id
         CROSS JOIN LATERAL unnest(coalesce(t.question_order, a.question_ids))
               WITH ORDINALITY AS o(question_id, position)
          JOIN question_bank q ON q.id = o.question_id
          LEFT JOIN assessment_answers ans ON ans.attempt_id = t.id AND ans.question_id = q.id
         WHERE t.id = p_attempt_id AND t.user_id = v_user
           AND t.status IN ('completed', 'timed_out') AND a.allow_review
         ORDER BY o.position;
END;
$$;

COMMENT ON FUNCTION review_attempt(uuid) IS
    'A submitted (completed or timed_out) attempt of the acting user question by question, in the order shown and with the options in the order shown, as its assessment allows: nothing unless allow_review; correct answers and explanations only with show_answers_after. The only way a learner reads an answer key or a grade.';

-- ---------------------------------------------------------------------------
-- EXECUTE: the draw is its owner's (start_attempt runs it); question_data_in_order is pure
-- ---------------------------------------------------------------------------
REVOKE EXECUTE ON FUNCTION
    draw_hash(bigint, text),
    draw_quotas(jsonb, integer),
    draw_candidates(uuid, uuid, bigint),
    draw_questions(uuid, uuid, bigint),
    draw_attempt(uuid, uuid, bigint),
    draw_shuffled_ids(jsonb, bigint, text),
    option_order_for(text, text, jsonb, bigint),
    question_data_in_order(jsonb, jsonb)
    FROM PUBLIC;

GRANT EXECUTE ON FUNCTION question_data_in_order(jsonb, jsonb) TO app_user, admin;

-- migrate:down
-- Reverse order: 0013's start_attempt and review_attempt exactly, the new functions dropped,
-- 0014's audit trigger, then the columns (their constraints, comments and grants go with them).

CREATE OR REPLACE FUNCTION review_attempt(p_attempt_id uuid)
RETURNS TABLE (question_id uuid, "position" integer, question_type varchar, question_text text,
               question_data jsonb, user_answer jsonb, is_correct boolean,
               points_earned numeric, points integer, correct_answer jsonb, explanation text)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_user uuid := app_acting_user();
BEGIN
    RETURN QUERY
        SELECT q.id, o.position::int, q.question_type, q.question_text, q.question_data,
               ans.user_answer, coalesce(ans.is_correct, false),
               coalesce(ans.points_earned, 0), q.points,
               CASE WHEN a.show_answers_after THEN q.correct_answer END,
               CASE WHEN a.show_answers_after THEN q.explanation END
          FROM assessment_attempts t
          JOIN assessments a ON a.id = t.assessment_id
         CROSS JOIN LATERAL unnest(coalesce(t.question_order, a.question_ids))
               WITH ORDINALITY AS o(question_id, position)
          JOIN question_bank q ON q.id = o.question_id
          LEFT JOIN assessment_answers ans ON ans.attempt_id = t.id AND ans.question_id = q.id
         WHERE t.id = p_attempt_id AND t.user_id = v_user
           AND t.status IN ('completed', 'timed_out') AND a.allow_review
         ORDER BY o.position;
END;
$$;

COMMENT ON FUNCTION review_attempt(uuid) IS
    'A submitted (completed or timed_out) attempt of the acting user question by question, as its assessment allows: nothing unless allow_review; correct answers and explanations only with show_answers_after. The only way a learner reads an answer key or a grade.';

CREATE OR REPLACE FUNCTION start_attempt(p_assessment_id uuid)
RETURNS TABLE (id uuid, user_id uuid, assessment_id uuid, attempt_number integer,
               status varchar, started_at timestamptz, question_order uuid[])
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_user uuid := app_acting_user();
BEGIN
    -- Racing starts of one user on one assessment wait for each other, so that max_attempts
    -- holds.
    PERFORM pg_advisory_xact_lock(
        hashtextextended(v_user::text || '/' || p_assessment_id::text, 42));
    RETURN QUERY
        WITH started AS (
            INSERT INTO assessment_attempts AS t
                   (user_id, assessment_id, attempt_number, question_order)
            SELECT v_user, a.id, coalesce(prev.last_number, 0) + 1,
                   CASE WHEN a.randomize_questions
                        THEN (SELECT array_agg(q ORDER BY random()) FROM unnest(a.question_ids) AS q)
                        ELSE a.question_ids END
              FROM assessments a
             CROSS JOIN LATERAL (SELECT max(x.attempt_number) AS last_number, count(*) AS used
                                   FROM assessment_attempts x
                                  WHERE x.user_id = v_user AND x.assessment_id = a.id) AS prev
             WHERE a.id = p_assessment_id AND a.is_published AND a.deleted_at IS NULL
               AND (a.max_attempts IS NULL OR prev.used < a.max_attempts)
            RETURNING t.id, t.user_id, t.assessment_id, t.attempt_number, t.status,
                      t.started_at, t.question_order)
        SELECT * FROM started;
END;
$$;

COMMENT ON FUNCTION start_attempt(uuid) IS
    'Open the acting user''s next attempt at a published assessment (number = previous + 1), unless max_attempts is used up; the question order is shuffled when the assessment says so. No row: not available or no attempt left.';

DROP FUNCTION draw_attempt(uuid, uuid, bigint);
DROP FUNCTION question_data_in_order(jsonb, jsonb);
DROP FUNCTION option_order_for(text, text, jsonb, bigint);
DROP FUNCTION draw_shuffled_ids(jsonb, bigint, text);
DROP FUNCTION draw_questions(uuid, uuid, bigint);
DROP FUNCTION draw_candidates(uuid, uuid, bigint);
DROP FUNCTION draw_quotas(jsonb, integer);
DROP FUNCTION draw_hash(bigint, text);

DROP TRIGGER trg_assessments_audit ON assessments;
CREATE TRIGGER trg_assessments_audit
    AFTER INSERT OR DELETE OR UPDATE OF
        assessment_type, title, slug, description, domain, difficulty_level, time_limit_minutes,
        passing_score, question_ids, randomize_questions, randomize_answers, show_answers_after,
        allow_review, max_attempts, is_published, created_by, deleted_at, id, created_at
    ON assessments
    FOR EACH ROW
    EXECUTE FUNCTION audit_row_change('|', '|');

ALTER TABLE assessment_attempts
    DROP COLUMN option_order,
    DROP COLUMN draw_seed;

ALTER TABLE assessments
    DROP COLUMN draw_avoid_recent,
    DROP COLUMN draw_min_simulations,
    DROP COLUMN draw_size,
    DROP COLUMN draw_split;
