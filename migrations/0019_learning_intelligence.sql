-- migrate:up
-- 0019 learning intelligence: mastery per objective, exam readiness, spaced review (FSRS),
-- item statistics, the per-objective score report of an attempt and the instructors' reads.
-- The models are documented in docs/learning-intelligence.md; in short:
--
--   * The N10-009 blueprint (exam_blueprints, exam_domains, exam_objectives): reference rows,
--     readable by every role, written by the migration (and admin).
--   * Mastery (objective_mastery): per learner and objective a Beta(1 + s, 1 + f) posterior of
--     the chance to answer an item of the objective correctly, where s and f are the credit
--     earned and missed (points_earned / points per answer), each answer weighted
--     0.5 ^ (age in days / 60): exponential forgetting with a half-life of 60 days. The row
--     keeps s and f as of evidence_at; a read decays them to now() (mastery_estimate), a
--     submit decays them to the submit and adds the attempt's answers. Estimate: the posterior
--     mean; 90 % interval: a normal approximation of the posterior log-odds, whose mean and
--     variance are exact (digamma, trigamma), mapped back (inside (0, 1) by construction).
--     Written only by the trigger that fires when submit_attempt closes an attempt; learners
--     read their own rows (RLS), never write them.
--   * Readiness (learner_readiness): domain = mean of its objectives' mastery; exam = the
--     domains weighted by the blueprint (23/20/19/14/24); variances add as for independent
--     posteriors; ESTIMATED score = 100 + 800 * p with a 90 % interval. CompTIA publishes no
--     raw-to-scaled mapping: the linear map is an assumption, and every row says
--     is_estimate. likely_ready only when the interval's lower end is >= 720.
--   * Spaced review (review_cards, review_log): the FSRS scheduler of the `fsrs` package 6.3.2
--     (default parameters, desired retention 0.9, learning steps 1 and 10 min, relearning
--     step 10 min, maximum interval 36500 days, fuzz) as one IMMUTABLE function, fsrs_step,
--     property-tested against the package. A question missed in an attempt of an assessment
--     that shows its answers afterwards (allow_review and show_answers_after) is reviewed
--     "Again" (a card is made); one answered right whose card exists is reviewed "Good".
--     answer_review (SECURITY DEFINER) grades a due card's answer with grade_answer,
--     reschedules it, logs it, and only then returns the key and explanation. Learners read
--     their own cards and log (RLS); the queue's question columns are the ones app_user may
--     read, never correct_answer.
--   * Item statistics (question_item_statistics, question_option_statistics), classical test
--     theory as Moodle's quiz statistics: facility, SD, corrected point-biserial
--     discrimination (item vs. the rest of the attempt), per-option selection rates, flags.
--     Refreshed by refresh_item_statistics() (admin; `netplus-db maintain daily`). Not
--     readable by app_user; readonly and admin read them; instructors through definer reads.
--   * attempt_objective_report (SECURITY DEFINER): a submitted attempt of the acting user per
--     objective, as the real score report lists objectives.
--   * cohort_readiness, item_flags, platform_weakest_objectives (SECURITY DEFINER): only for an
--     acting user whose account role is instructor or admin (insufficient_privilege otherwise).

-- ---------------------------------------------------------------------------
-- The blueprint
-- ---------------------------------------------------------------------------
CREATE TABLE exam_blueprints (
    id              uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
    code            varchar(20)  NOT NULL UNIQUE,
    name            text         NOT NULL,
    question_count  integer      NOT NULL,
    minutes         integer      NOT NULL,
    passing_score   integer      NOT NULL,
    scale_min       integer      NOT NULL,
    scale_max       integer      NOT NULL,
    is_current      boolean      NOT NULL DEFAULT false,

    CONSTRAINT exam_blueprints_scale_check
        CHECK (scale_min < passing_score AND passing_score <= scale_max),
    CONSTRAINT exam_blueprints_question_count_check CHECK (question_count > 0)
);

COMMENT ON TABLE exam_blueprints IS
    'An exam version (N10-009): length, passing score and score scale. Exactly one is current: the one mastery and readiness use.';

CREATE UNIQUE INDEX idx_exam_blueprints_current ON exam_blueprints (is_current) WHERE is_current;

CREATE TABLE exam_domains (
    id           uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    blueprint_id uuid          NOT NULL REFERENCES exam_blueprints (id) ON DELETE CASCADE,
    code         varchar(10)   NOT NULL,
    name         text          NOT NULL,
    weight       numeric(5,2)  NOT NULL,
    exam_items   integer       NOT NULL,

    UNIQUE (blueprint_id, code),
    CONSTRAINT exam_domains_weight_check CHECK (weight > 0 AND weight <= 100),
    CONSTRAINT exam_domains_exam_items_check CHECK (exam_items >= 0)
);

COMMENT ON TABLE exam_domains IS
    'The domains of a blueprint with their weight (percent of the exam) and items in a 90-item practice exam (largest remainder).';

CREATE TABLE exam_objectives (
    id           uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
    domain_id    uuid         NOT NULL REFERENCES exam_domains (id) ON DELETE CASCADE,
    code         varchar(10)  NOT NULL,
    name         text         NOT NULL,
    scenario     boolean      NOT NULL DEFAULT false,

    UNIQUE (domain_id, code)
);

COMMENT ON TABLE exam_objectives IS
    'The objectives of a blueprint (question_bank.comptia_objectives and learning_components.comptia_objectives hold these codes); scenario: "given a scenario".';

-- The objectives of the current blueprint, with their domain's and blueprint's codes: what
-- every read below joins.
CREATE FUNCTION exam_current_objectives()
RETURNS TABLE (objective_id uuid, blueprint varchar, domain_code varchar, domain_name text,
               weight numeric, code varchar, name text)
LANGUAGE sql
STABLE
AS $$
    SELECT o.id, b.code, d.code, d.name, d.weight, o.code, o.name
      FROM public.exam_blueprints b
      JOIN public.exam_domains d ON d.blueprint_id = b.id
      JOIN public.exam_objectives o ON o.domain_id = d.id
     WHERE b.is_current
$$;

COMMENT ON FUNCTION exam_current_objectives() IS
    'The objectives of the current blueprint with their domain (code, name, weight) and blueprint code. Inlined by the planner (one SELECT, tables schema-qualified, no SET clause).';

INSERT INTO exam_blueprints (code, name, question_count, minutes, passing_score, scale_min,
                             scale_max, is_current)
VALUES ('N10-009', 'CompTIA Network+', 90, 90, 720, 100, 900, true);

INSERT INTO exam_domains (blueprint_id, code, name, weight, exam_items)
SELECT b.id, d.code, d.name, d.weight, d.exam_items
  FROM exam_blueprints b
 CROSS JOIN (VALUES
    ('1.0', 'Networking Concepts', 23, 21),
    ('2.0', 'Network Implementation', 20, 18),
    ('3.0', 'Network Operations', 19, 17),
    ('4.0', 'Network Security', 14, 13),
    ('5.0', 'Network Troubleshooting', 24, 21)) AS d(code, name, weight, exam_items)
 WHERE b.code = 'N10-009';

INSERT INTO exam_objectives (domain_id, code, name, scenario)
SELECT d.id, o.code, o.name, o.scenario
  FROM exam_blueprints b
  JOIN exam_domains d ON d.blueprint_id = b.id
  JOIN (VALUES
    ('1.1', '1.0', 'OSI reference model concepts', false),
    ('1.2', '1.0', 'Networking appliances, applications and functions', false),
    ('1.3', '1.0', 'Cloud concepts and connectivity options', false),
    ('1.4', '1.0', 'Common ports, protocols, services and traffic types', false),
    ('1.5', '1.0', 'Transmission media and transceivers', false),
    ('1.6', '1.0', 'Network topologies, architectures and types', false),
    ('1.7', '1.0', 'IPv4 network addressing', true),
    ('1.8', '1.0', 'Evolving use cases for modern network environments', false),
    ('2.1', '2.0', 'Routing technologies', false),
    ('2.2', '2.0', 'Switching technologies and features', true),
    ('2.3', '2.0', 'Wireless devices and technologies', true),
    ('2.4', '2.0', 'Physical installations', false),
    ('3.1', '3.0', 'Organizational processes and procedures', false),
    ('3.2', '3.0', 'Network monitoring technologies', true),
    ('3.3', '3.0', 'Disaster recovery concepts', false),
    ('3.4', '3.0', 'IPv4 and IPv6 network services', true),
    ('3.5', '3.0', 'Network access and management methods', false),
    ('4.1', '4.0', 'Basic network security concepts', false),
    ('4.2', '4.0', 'Types of attacks and their impact', false),
    ('4.3', '4.0', 'Network security features, defense techniques and solutions', true),
    ('5.1', '5.0', 'Troubleshooting methodology', false),
    ('5.2', '5.0', 'Cabling and physical interface issues', true),
    ('5.3', '5.0', 'Network service issues', true),
    ('5.4', '5.0', 'Performance issues', true),
    ('5.5', '5.0', 'Tools and protocols for networking issues', true))
       AS o(code, domain_code, name, scenario) ON o.domain_code = d.code
 WHERE b.code = 'N10-009';

-- ---------------------------------------------------------------------------
-- Mastery
-- ---------------------------------------------------------------------------
CREATE TABLE objective_mastery (
    id               uuid              PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id          uuid              NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    objective_id     uuid              NOT NULL REFERENCES exam_objectives (id) ON DELETE CASCADE,
    successes        double precision  NOT NULL DEFAULT 0,
    failures         double precision  NOT NULL DEFAULT 0,
    answers          integer           NOT NULL DEFAULT 0,
    correct_answers  integer           NOT NULL DEFAULT 0,
    evidence_at      timestamptz       NOT NULL DEFAULT now(),
    created_at       timestamptz       NOT NULL DEFAULT now(),
    updated_at       timestamptz       NOT NULL DEFAULT now(),

    UNIQUE (user_id, objective_id),
    CONSTRAINT objective_mastery_evidence_check
        CHECK (successes >= 0 AND failures >= 0 AND answers >= 0
               AND correct_answers BETWEEN 0 AND answers)
);

COMMENT ON TABLE objective_mastery IS
    'Per learner and objective: the recency-weighted credit earned (successes) and missed (failures) as of evidence_at (each answer weighs 0.5^(age/60 days)), and the raw answer counts. Posterior Beta(1 + successes, 1 + failures); read through mastery_estimate. Written by the submit trigger only.';

-- Platform-wide reads go per objective.
CREATE INDEX idx_objective_mastery_objective_id ON objective_mastery (objective_id);

CREATE TRIGGER trg_objective_mastery_updated_at
    BEFORE UPDATE ON objective_mastery
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- mastery_decay, mastery_decayed and review_fuzz are one expression, every function they call
-- schema-qualified, and pin no search_path: a SET clause would keep the planner from inlining
-- them (about 40 us a call instead of nothing, in the submit trigger and every read).
CREATE FUNCTION mastery_decay(p_days double precision)
RETURNS double precision
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    -- 0 past 60,000 days (0.5^1000), where power() would underflow
    SELECT CASE WHEN p_days > 60000 THEN 0
                WHEN p_days IS NULL OR p_days < 1e-6 THEN 1  -- (a tiny age would underflow)
                ELSE pg_catalog.power(0.5::double precision, p_days / 60.0) END
$$;

COMMENT ON FUNCTION mastery_decay(double precision) IS
    'The weight left to evidence p_days old: 0.5^(days / 60), a half-life of 60 days (1 for a negative age, 0 past 60,000 days).';

CREATE FUNCTION mastery_decayed(p_evidence double precision, p_days double precision)
RETURNS double precision
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    -- evidence below 1e-9 answers is none (and a product never underflows); 0.5^1000 > 1e-302
    SELECT CASE WHEN coalesce(p_evidence, 0) < 1e-9 THEN 0
                WHEN p_evidence * public.mastery_decay(p_days) < 1e-9 THEN 0
                ELSE p_evidence * public.mastery_decay(p_days) END
$$;

COMMENT ON FUNCTION mastery_decayed(double precision, double precision) IS
    'Evidence p_evidence aged p_days: p_evidence * mastery_decay(p_days), 0 below 1e-9.';

-- digamma and trigamma for x >= 1: the recurrence up to x >= 6, then the asymptotic series
-- (absolute error below 1e-12 there).
CREATE FUNCTION mastery_digamma(p_x double precision)
RETURNS double precision
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_x double precision := p_x;
    v_sum double precision := 0;
    v_inv2 double precision;
BEGIN
    WHILE v_x < 6 LOOP
        v_sum := v_sum - 1 / v_x;
        v_x := v_x + 1;
    END LOOP;
    v_inv2 := 1 / (v_x * v_x);
    RETURN v_sum + ln(v_x) - 0.5 / v_x
           - v_inv2 * (1.0 / 12 - v_inv2 * (1.0 / 120 - v_inv2 * (1.0 / 252
           - v_inv2 * (1.0 / 240 - v_inv2 / 132))));
END;
$$;

CREATE FUNCTION mastery_trigamma(p_x double precision)
RETURNS double precision
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_x double precision := p_x;
    v_sum double precision := 0;
    v_inv2 double precision;
BEGIN
    WHILE v_x < 6 LOOP
        v_sum := v_sum + 1 / (v_x * v_x);
        v_x := v_x + 1;
    END LOOP;
    v_inv2 := 1 / (v_x * v_x);
    RETURN v_sum + 1 / v_x + v_inv2 / 2
           + (1 / (v_x * v_x * v_x)) * (1.0 / 6 - v_inv2 * (1.0 / 30 - v_inv2 * (1.0 / 42
           - v_inv2 / 30)));
END;
$$;

COMMENT ON FUNCTION mastery_digamma(double precision) IS
    'digamma(x) for x >= 1 (recurrence, then the asymptotic series).';
COMMENT ON FUNCTION mastery_trigamma(double precision) IS
    'trigamma(x) for x >= 1 (recurrence, then the asymptotic series).';

-- The estimate of evidence (s, f) held `p_age_days` days: Beta(1 + s*d, 1 + f*d), d the decay.
CREATE FUNCTION mastery_estimate(
    p_successes double precision,
    p_failures  double precision,
    p_age_days  double precision,
    OUT mean      double precision,
    OUT variance  double precision,
    OUT lower     double precision,
    OUT upper     double precision
)
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_a double precision := 1 + mastery_decayed(p_successes, p_age_days);
    v_b double precision := 1 + mastery_decayed(p_failures, p_age_days);
    v_mu double precision;
    v_sd double precision;
BEGIN
    mean := v_a / (v_a + v_b);
    variance := v_a * v_b / ((v_a + v_b) * (v_a + v_b) * (v_a + v_b + 1));
    -- log(p / (1 - p)) under Beta(a, b): mean digamma(a) - digamma(b), variance
    -- trigamma(a) + trigamma(b); 90 %: +- 1.6448536269514722 standard deviations.
    v_mu := mastery_digamma(v_a) - mastery_digamma(v_b);
    v_sd := sqrt(mastery_trigamma(v_a) + mastery_trigamma(v_b));
    lower := 1 / (1 + exp(-(v_mu - 1.6448536269514722 * v_sd)));
    upper := 1 / (1 + exp(-(v_mu + 1.6448536269514722 * v_sd)));
END;
$$;

COMMENT ON FUNCTION mastery_estimate(double precision, double precision, double precision) IS
    'Mastery of an objective from its evidence (successes, failures) aged p_age_days: the mean and variance of the posterior Beta(1 + s*d, 1 + f*d), d = mastery_decay(age), and a 90 % interval from the normal approximation of its log-odds (exact mean and variance).';

-- ---------------------------------------------------------------------------
-- Spaced review: FSRS 6 (the fsrs package 6.3.2, default scheduler)
-- ---------------------------------------------------------------------------
CREATE TABLE review_cards (
    id           uuid              PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid              NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    question_id  uuid              NOT NULL REFERENCES question_bank (id) ON DELETE CASCADE,
    state        smallint          NOT NULL DEFAULT 1,
    step         integer           DEFAULT 0,
    stability    double precision,
    difficulty   double precision,
    due          timestamptz       NOT NULL DEFAULT now(),
    last_review  timestamptz,
    reps         integer           NOT NULL DEFAULT 0,
    lapses       integer           NOT NULL DEFAULT 0,
    created_at   timestamptz       NOT NULL DEFAULT now(),
    updated_at   timestamptz       NOT NULL DEFAULT now(),

    UNIQUE (user_id, question_id),
    CONSTRAINT review_cards_state_check CHECK (state BETWEEN 1 AND 3),
    CONSTRAINT review_cards_step_check
        CHECK (CASE WHEN state = 2 THEN step IS NULL ELSE step IS NOT NULL AND step >= 0 END),
    CONSTRAINT review_cards_stability_check CHECK (stability IS NULL OR stability >= 0.001),
    CONSTRAINT review_cards_difficulty_check CHECK (difficulty IS NULL
                                                    OR difficulty BETWEEN 1 AND 10),
    CONSTRAINT review_cards_counts_check CHECK (reps >= 0 AND lapses >= 0)
);

COMMENT ON TABLE review_cards IS
    'A learner''s review schedule, one card per question (FSRS: state 1 learning, 2 review, 3 relearning; step of the (re)learning steps; stability in days; difficulty 1-10; due). Written by the submit trigger and answer_review only.';

-- The queue and "due today": a learner's cards by due time.
CREATE INDEX idx_review_cards_user_due ON review_cards (user_id, due);
CREATE INDEX idx_review_cards_question ON review_cards (question_id);

CREATE TRIGGER trg_review_cards_updated_at
    BEFORE UPDATE ON review_cards
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TABLE review_log (
    id              uuid              PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid              NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    question_id     uuid              NOT NULL REFERENCES question_bank (id) ON DELETE CASCADE,
    source          varchar(20)       NOT NULL,
    attempt_id      uuid              REFERENCES assessment_attempts (id) ON DELETE SET NULL,
    rating          smallint          NOT NULL,
    reviewed_at     timestamptz       NOT NULL DEFAULT now(),
    state           smallint          NOT NULL DEFAULT 1,
    stability       double precision  NOT NULL DEFAULT 0.212,
    difficulty      double precision  NOT NULL DEFAULT 6.4133,
    due             timestamptz       NOT NULL DEFAULT now(),
    user_answer     jsonb,
    time_spent_seconds integer,

    CONSTRAINT review_log_source_check CHECK (source IN ('attempt', 'review')),
    CONSTRAINT review_log_rating_check CHECK (rating BETWEEN 1 AND 4),
    CONSTRAINT review_log_state_check CHECK (state BETWEEN 1 AND 3)
);

COMMENT ON TABLE review_log IS
    'Every review of a card (source attempt: an answer in a submitted attempt; review: answer_review) with its rating (1 again, 3 good) and the card after it. Enough to replay the schedule (the fsrs package''s reschedule_card).';

CREATE INDEX idx_review_log_user_question ON review_log (user_id, question_id, reviewed_at);
CREATE INDEX idx_review_log_question ON review_log (question_id);
CREATE INDEX idx_review_log_attempt ON review_log (attempt_id) WHERE attempt_id IS NOT NULL;

-- One review of a card, as fsrs.Scheduler().review_card does it (fsrs 6.3.2, default
-- parameters; ported line by line, same floating-point operations in the same order).
-- p_state NULL or a card never reviewed (stability NULL) starts in learning, step 0.
-- p_fuzz in [0, 1): the random number of the package's fuzz (NULL: no fuzz).
CREATE FUNCTION fsrs_step(
    p_state        smallint,
    p_step         integer,
    p_stability    double precision,
    p_difficulty   double precision,
    p_last_review  timestamptz,
    p_rating       smallint,
    p_now          timestamptz,
    p_fuzz         double precision,
    OUT state          smallint,
    OUT step           integer,
    OUT stability      double precision,
    OUT difficulty     double precision,
    OUT due            timestamptz,
    OUT interval_days  integer
)
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, public
AS $$
DECLARE
    w constant double precision[] := ARRAY[
        0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666, 0.796,
        1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658, 0.1542];
    e constant double precision := 2.718281828459045;  -- math.e
    c_retention constant double precision := 0.9;
    c_max_interval constant integer := 36500;
    c_learning constant double precision[] := ARRAY[60, 600];     -- seconds
    c_relearning constant double precision[] := ARRAY[600];
    v_decay double precision := -w[21];
    v_factor double precision;
    v_days integer;
    v_r double precision;
    v_g integer := p_rating;
    v_steps double precision[];
    v_seconds double precision;  -- a (re)learning step
    v_delta double precision;
    v_min integer;
    v_max integer;
    v_easy_d double precision;
    v_arg double precision;
    v_long double precision;
    v_short double precision;
BEGIN
    IF p_rating IS NULL OR p_rating NOT BETWEEN 1 AND 4 THEN
        RAISE EXCEPTION 'rating: must be 1 (again), 2 (hard), 3 (good) or 4 (easy), got %',
            p_rating USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_factor := power(0.9::double precision, 1 / v_decay) - 1;
    state := coalesce(p_state, 1);
    step := CASE WHEN state = 1 THEN coalesce(p_step, 0) ELSE p_step END;
    stability := p_stability;
    difficulty := p_difficulty;
    v_days := CASE WHEN p_last_review IS NULL THEN NULL
                   ELSE floor((extract(epoch FROM p_now) - extract(epoch FROM p_last_review))
                              / 86400)::integer END;

    IF state = 1 AND (stability IS NULL OR difficulty IS NULL) THEN
        stability := greatest(w[v_g], 0.001);
        difficulty := least(greatest(w[5] - power(e, w[6] * (v_g - 1)) + 1, 1), 10);
    ELSE
        IF v_days IS NOT NULL AND v_days < 1 THEN
            -- short-term stability
            v_arg := power(e, w[18] * (v_g - 3 + w[19])) * power(stability, -w[20]);
            IF v_g >= 2 THEN
                v_arg := greatest(v_arg, 1.0);
            END IF;
            stability := greatest(stability * v_arg, 0.001);
        ELSE
            v_r := CASE WHEN p_last_review IS NULL THEN 0
                        ELSE power(1 + v_factor * greatest(0, v_days) / stability, v_decay) END;
            IF v_g = 1 THEN
                v_long := w[12] * power(difficulty, -w[13]) * (power(stability + 1, w[14]) - 1)
                          * power(e, (1 - v_r) * w[15]);
                v_short := stability / power(e, w[18] * w[19]);
                stability := least(v_long, v_short);
            ELSE
                stability := stability * (1 + power(e, w[9]) * (11 - difficulty)
                                              * power(stability, -w[10])
                                              * (power(e, (1 - v_r) * w[11]) - 1)
                                              * CASE WHEN v_g = 2 THEN w[16] ELSE 1 END
                                              * CASE WHEN v_g = 4 THEN w[17] ELSE 1 END);
            END IF;
            stability := greatest(stability, 0.001);
        END IF;
        -- next difficulty: linear damping, mean reversion to the initial difficulty of Easy
        v_easy_d := w[5] - power(e, w[6] * (4 - 1)) + 1;
        v_delta := -(w[7] * (v_g - 3));
        v_arg := difficulty + (10.0 - difficulty) * v_delta / 9.0;
        difficulty := least(greatest(w[8] * v_easy_d + (1 - w[8]) * v_arg, 1.0), 10.0);
    END IF;

    v_seconds := NULL;
    interval_days := NULL;
    IF state IN (1, 3) THEN
        v_steps := CASE WHEN state = 1 THEN c_learning ELSE c_relearning END;
        IF step >= cardinality(v_steps) AND v_g IN (2, 3, 4) THEN
            state := 2;
            step := NULL;
        ELSIF v_g = 1 THEN
            step := 0;
            v_seconds := v_steps[1];
        ELSIF v_g = 2 THEN
            IF step = 0 AND cardinality(v_steps) = 1 THEN
                v_seconds := v_steps[1] * 1.5;
            ELSIF step = 0 AND cardinality(v_steps) >= 2 THEN
                v_seconds := (v_steps[1] + v_steps[2]) / 2.0;
            ELSE
                v_seconds := v_steps[step + 1];
            END IF;
        ELSIF v_g = 3 THEN
            IF step + 1 = cardinality(v_steps) THEN
                state := 2;
                step := NULL;
            ELSE
                step := step + 1;
                v_seconds := v_steps[step + 1];
            END IF;
        ELSE
            state := 2;
            step := NULL;
        END IF;
    ELSIF v_g = 1 THEN  -- a lapse in review: relearning
        state := 3;
        step := 0;
        v_seconds := c_relearning[1];
    END IF;

    IF v_seconds IS NULL THEN
        interval_days := least(greatest(round((stability / v_factor)
                                              * (power(c_retention, 1 / v_decay) - 1))::integer,
                                        1), c_max_interval);
        IF p_fuzz IS NOT NULL AND state = 2 AND interval_days >= 3 THEN
            v_delta := 1.0 + 0.15 * greatest(least(interval_days::double precision, 7.0) - 2.5, 0.0)
                           + 0.1 * greatest(least(interval_days::double precision, 20.0) - 7.0, 0.0)
                           + 0.05 * greatest(interval_days::double precision - 20.0, 0.0);
            v_min := greatest(2, round(interval_days - v_delta)::integer);
            v_max := least(round(interval_days + v_delta)::integer, c_max_interval);
            v_min := least(v_min, v_max);
            interval_days := least(round(p_fuzz * (v_max - v_min + 1) + v_min)::integer,
                                   c_max_interval);
        END IF;
        -- n * 24 h, as the package adds them (days => n would add calendar days in the
        -- session's time zone)
        due := p_now + make_interval(secs => interval_days * 86400.0);
    ELSE
        due := p_now + make_interval(secs => v_seconds);
    END IF;
END;
$$;

COMMENT ON FUNCTION fsrs_step(smallint, integer, double precision, double precision, timestamptz, smallint, timestamptz, double precision) IS
    'One FSRS review of a card (fsrs 6.3.2 Scheduler defaults: parameters, retention 0.9, learning steps 1 and 10 min, relearning 10 min, maximum 36500 days): the card after rating p_rating at p_now, its due time and, when it is in review, the interval in days. p_fuzz: the package''s random number in [0, 1) for the fuzz (NULL: none).';

-- A deterministic fuzz per card and review (reproducible schedules).
CREATE FUNCTION review_fuzz(p_user_id uuid, p_question_id uuid, p_reps integer)
RETURNS double precision
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ((pg_catalog.hashtextextended(p_user_id::text || '/' || p_question_id::text || '/'
                                         || p_reps::text, 17)
             OPERATOR(pg_catalog.&) 1048575)::double precision) / 1048576
$$;

COMMENT ON FUNCTION review_fuzz(uuid, uuid, integer) IS
    'The fuzz number in [0, 1) of a card''s review number p_reps: a hash, so that a schedule is reproducible.';

-- ---------------------------------------------------------------------------
-- At submit: mastery and the review schedule (trigger on the attempt closing)
-- ---------------------------------------------------------------------------
CREATE FUNCTION learning_after_submit()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_at timestamptz := coalesce(NEW.completed_at, now());
    v_reviews boolean;
BEGIN

    -- Mastery: every graded answer of the attempt (unanswered ones earn nothing), its credit
    -- fraction counted for each objective of its question.
    INSERT INTO objective_mastery AS m
           (user_id, objective_id, successes, failures, answers, correct_answers, evidence_at)
    SELECT NEW.user_id, o.objective_id,
           sum(g.credit), sum(1 - g.credit), count(*),
           count(*) FILTER (WHERE g.is_correct), v_at
      FROM (SELECT q.comptia_objectives,
                   coalesce(ans.is_correct, false) AS is_correct,
                   CASE WHEN q.points > 0
                        THEN least(greatest(coalesce(ans.points_earned, 0) / q.points, 0), 1)
                        ELSE CASE WHEN ans.is_correct THEN 1 ELSE 0 END END::double precision
                       AS credit
              FROM assessment_answers ans
              JOIN question_bank q ON q.id = ans.question_id
             WHERE ans.attempt_id = NEW.id) AS g
      JOIN exam_current_objectives() AS o ON o.code = ANY (g.comptia_objectives)
     GROUP BY o.objective_id
    ON CONFLICT (user_id, objective_id) DO UPDATE
       SET successes = mastery_decayed(m.successes,
                           extract(epoch FROM (EXCLUDED.evidence_at - m.evidence_at)) / 86400)
                       + EXCLUDED.successes,
           failures = mastery_decayed(m.failures,
                          extract(epoch FROM (EXCLUDED.evidence_at - m.evidence_at)) / 86400)
                      + EXCLUDED.failures,
           answers = m.answers + EXCLUDED.answers,
           correct_answers = m.correct_answers + EXCLUDED.correct_answers,
           evidence_at = greatest(m.evidence_at, EXCLUDED.evidence_at);

    -- The review schedule, for assessments that show their answers afterwards.
    SELECT a.allow_review AND a.show_answers_after INTO v_reviews
      FROM assessments a WHERE a.id = NEW.assessment_id;
    IF NOT coalesce(v_reviews, false) THEN
        RETURN NULL;
    END IF;

    -- Answered right, with a card: a "good" review of it.
    WITH graded AS (
        SELECT ans.question_id, ans.user_answer, ans.time_spent_seconds
          FROM assessment_answers ans
         WHERE ans.attempt_id = NEW.id AND ans.is_correct
    ), reviewed AS (
        UPDATE review_cards c
           SET (state, step, stability, difficulty, due, last_review, reps, updated_at) =
               (SELECT s.state, s.step, s.stability, s.difficulty, s.due, v_at, c.reps + 1, now()
                  FROM fsrs_step(c.state, c.step, c.stability, c.difficulty, c.last_review,
                                 3::smallint, v_at,
                                 review_fuzz(c.user_id, c.question_id, c.reps)) AS s)
          FROM graded g
         WHERE c.user_id = NEW.user_id AND c.question_id = g.question_id
        RETURNING c.question_id, c.state, c.stability, c.difficulty, c.due, g.user_answer,
                  g.time_spent_seconds)
    INSERT INTO review_log (user_id, question_id, source, attempt_id, rating, reviewed_at, state,
                            stability, difficulty, due, user_answer, time_spent_seconds)
    SELECT NEW.user_id, r.question_id, 'attempt', NEW.id, 3, v_at, r.state, r.stability,
           r.difficulty, r.due, r.user_answer, r.time_spent_seconds
      FROM reviewed r;

    -- Missed (wrong, partly right or not answered): an "again" review, the card made if new.
    WITH missed AS (
        SELECT ans.question_id, ans.user_answer, ans.time_spent_seconds
          FROM assessment_answers ans
         WHERE ans.attempt_id = NEW.id AND NOT coalesce(ans.is_correct, false)
    ), scheduled AS (
        INSERT INTO review_cards AS c (user_id, question_id, state, step, stability, difficulty,
                                       due, last_review, reps, lapses)
        SELECT NEW.user_id, m.question_id, s.state, s.step, s.stability, s.difficulty, s.due,
               v_at, 1, 0
          FROM missed m
         CROSS JOIN LATERAL fsrs_step(NULL, NULL, NULL, NULL, NULL, 1::smallint, v_at,
                                      review_fuzz(NEW.user_id, m.question_id, 0)) AS s
        ON CONFLICT (user_id, question_id) DO UPDATE
           SET (state, step, stability, difficulty, due, last_review, reps, lapses, updated_at) =
               (SELECT s.state, s.step, s.stability, s.difficulty, s.due, v_at, c.reps + 1,
                       c.lapses + CASE WHEN c.state = 2 THEN 1 ELSE 0 END, now()
                  FROM fsrs_step(c.state, c.step, c.stability, c.difficulty, c.last_review,
                                 1::smallint, v_at,
                                 review_fuzz(c.user_id, c.question_id, c.reps)) AS s)
        RETURNING c.question_id, c.state, c.stability, c.difficulty, c.due)
    INSERT INTO review_log (user_id, question_id, source, attempt_id, rating, reviewed_at, state,
                            stability, difficulty, due, user_answer, time_spent_seconds)
    SELECT NEW.user_id, s.question_id, 'attempt', NEW.id, 1, v_at, s.state, s.stability,
           s.difficulty, s.due, m.user_answer, m.time_spent_seconds
      FROM scheduled s
      JOIN missed m ON m.question_id = s.question_id;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION learning_after_submit() IS
    'AFTER UPDATE OF status trigger on assessment_attempts, when an attempt in progress is closed (completed or timed_out): adds its graded answers to objective_mastery and, when its assessment allows review and shows answers afterwards, reviews its questions in the learner''s schedule (missed: again, a card made if new; right with a card: good), logged in review_log.';

CREATE TRIGGER trg_assessment_attempts_learning
    AFTER UPDATE OF status ON assessment_attempts
    FOR EACH ROW
    WHEN (OLD.status = 'in_progress' AND NEW.status IN ('completed', 'timed_out'))
    EXECUTE FUNCTION learning_after_submit();

-- ---------------------------------------------------------------------------
-- A learner's reads (SECURITY INVOKER: row-level security keeps them to the learner's rows)
-- ---------------------------------------------------------------------------
CREATE FUNCTION learner_objective_mastery(p_user_id uuid)
RETURNS TABLE (blueprint varchar, domain_code varchar, objective_code varchar,
               objective_name text, answers integer, correct_answers integer,
               mastery double precision, variance double precision,
               mastery_lower double precision, mastery_upper double precision,
               evidence_at timestamptz)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT o.blueprint, o.domain_code, o.code, o.name,
           coalesce(m.answers, 0), coalesce(m.correct_answers, 0),
           e.mean, e.variance, e.lower, e.upper, m.evidence_at
      FROM exam_current_objectives() AS o
      LEFT JOIN objective_mastery m ON m.user_id = p_user_id AND m.objective_id = o.objective_id
     CROSS JOIN LATERAL mastery_estimate(m.successes, m.failures,
                                         extract(epoch FROM (now() - m.evidence_at)) / 86400) AS e
     ORDER BY o.code
$$;

COMMENT ON FUNCTION learner_objective_mastery(uuid) IS
    'A learner''s mastery of every objective of the current blueprint, as of now: answers, posterior mean, variance and 90 % interval (the prior Beta(1, 1) where there is no evidence). Row-level security: a learner reads its own.';

CREATE FUNCTION learner_readiness(p_user_id uuid)
RETURNS TABLE (scope text, code varchar, name text, weight numeric, answers integer,
               mastery double precision, estimated_score integer, score_lower integer,
               score_upper integer, passing_score integer, likely_ready boolean,
               is_estimate boolean)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
    WITH b AS (
        SELECT * FROM exam_blueprints WHERE is_current
    ), ab AS (  -- the posterior Beta(a, b) of each objective as of now
        SELECT o.domain_code,
               1 + mastery_decayed(m.successes, extract(epoch FROM (now() - m.evidence_at))
                                                / 86400) AS a,
               1 + mastery_decayed(m.failures, extract(epoch FROM (now() - m.evidence_at))
                                               / 86400) AS b,
               coalesce(m.answers, 0) AS answers
          FROM exam_current_objectives() AS o
          LEFT JOIN objective_mastery m
                 ON m.user_id = p_user_id AND m.objective_id = o.objective_id
    ), obj AS (
        SELECT ab.domain_code, ab.answers, ab.a / (ab.a + ab.b) AS mastery,
               ab.a * ab.b / ((ab.a + ab.b) * (ab.a + ab.b) * (ab.a + ab.b + 1)) AS variance
          FROM ab
    ), dom AS (
        SELECT d.code, d.name, d.weight, sum(obj.answers)::integer AS answers,
               avg(obj.mastery) AS p, sum(obj.variance) / (count(*)::double precision ^ 2) AS v
          FROM b
          JOIN exam_domains d ON d.blueprint_id = b.id
          JOIN obj ON obj.domain_code = d.code
         GROUP BY d.code, d.name, d.weight
    ), exam AS (
        SELECT sum(dom.answers)::integer AS answers,
               sum(dom.weight * dom.p) / sum(dom.weight) AS p,
               sum((dom.weight / t.total)::double precision ^ 2 * dom.v) AS v
          FROM dom CROSS JOIN (SELECT sum(weight) AS total FROM dom) AS t
    ), scored AS (
        SELECT 'domain' AS scope, dom.code, dom.name, dom.weight, dom.answers, dom.p, dom.v, 1 AS ord
          FROM dom
        UNION ALL
        SELECT 'exam', b.code, b.name, 100::numeric, exam.answers, exam.p, exam.v, 0
          FROM exam CROSS JOIN b
    )
    SELECT r.scope, r.code::varchar, r.name, r.weight, r.answers, r.p,
           round(b.scale_min + (b.scale_max - b.scale_min) * r.p)::integer,
           greatest(b.scale_min, round(b.scale_min + (b.scale_max - b.scale_min)
                                       * (r.p - 1.6448536269514722 * sqrt(r.v))))::integer,
           least(b.scale_max, round(b.scale_min + (b.scale_max - b.scale_min)
                                    * (r.p + 1.6448536269514722 * sqrt(r.v))))::integer,
           b.passing_score,
           b.scale_min + (b.scale_max - b.scale_min)
                         * (r.p - 1.6448536269514722 * sqrt(r.v)) >= b.passing_score,
           true
      FROM scored r CROSS JOIN b
     ORDER BY r.ord, r.code
$$;

COMMENT ON FUNCTION learner_readiness(uuid) IS
    'A learner''s ESTIMATED readiness: one exam row, then one row per domain. Domain: mean of its objectives'' mastery; exam: domains by blueprint weight; estimated_score = scale_min + (scale_max - scale_min) * mastery with a 90 % interval (CompTIA publishes no raw-to-scaled mapping: the linear map is an assumption, hence is_estimate). likely_ready: the interval''s lower end is at least the passing score.';

CREATE FUNCTION learner_weakest_objectives(p_user_id uuid, p_limit integer)
RETURNS TABLE (domain_code varchar, objective_code varchar, objective_name text,
               answers integer, mastery double precision, mastery_lower double precision,
               mastery_upper double precision, component_ids uuid[], component_slugs text[],
               component_titles text[])
LANGUAGE sql
STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT m.domain_code, m.objective_code, m.objective_name, m.answers, m.mastery,
           m.mastery_lower, m.mastery_upper,
           coalesce(c.ids, '{}'), coalesce(c.slugs, '{}'), coalesce(c.titles, '{}')
      FROM learner_objective_mastery(p_user_id) AS m
      LEFT JOIN LATERAL (
            SELECT array_agg(lc.id ORDER BY lc.title, lc.id) AS ids,
                   array_agg(lc.slug::text ORDER BY lc.title, lc.id) AS slugs,
                   array_agg(lc.title::text ORDER BY lc.title, lc.id) AS titles
              FROM learning_components lc
             WHERE lc.comptia_objectives @> ARRAY[m.objective_code::text]
               AND lc.is_published AND lc.deleted_at IS NULL) AS c ON true
     ORDER BY m.mastery, m.mastery_upper, m.objective_code
     LIMIT least(greatest(coalesce(p_limit, 5), 1), 25)
$$;

COMMENT ON FUNCTION learner_weakest_objectives(uuid, integer) IS
    'A learner''s weakest objectives (lowest posterior mean first, then lowest upper bound), 1 to 25 of them, each with the published components that teach it (comptia_objectives).';

CREATE FUNCTION review_due_counts(p_user_id uuid)
RETURNS TABLE (due_now integer, due_today integer, scheduled integer, next_due timestamptz)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_zone text;
    v_day_end timestamptz;
BEGIN
    SELECT p.timezone INTO v_zone FROM user_profiles p WHERE p.user_id = p_user_id;
    BEGIN
        v_day_end := ((now() AT TIME ZONE coalesce(v_zone, 'UTC'))::date + 1)::timestamp
                     AT TIME ZONE coalesce(v_zone, 'UTC');
    EXCEPTION WHEN invalid_parameter_value THEN  -- a zone PostgreSQL does not know
        v_day_end := ((now() AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC';
    END;
    RETURN QUERY
        SELECT (count(*) FILTER (WHERE c.due <= now()))::integer,
               (count(*) FILTER (WHERE c.due < v_day_end))::integer,
               count(*)::integer, min(c.due)
          FROM review_cards c
          JOIN question_bank q ON q.id = c.question_id
         WHERE c.user_id = p_user_id AND q.is_published AND q.deleted_at IS NULL;
END;
$$;

COMMENT ON FUNCTION review_due_counts(uuid) IS
    'A learner''s review schedule in numbers: cards due now, due before the end of the learner''s day (user_profiles.timezone; UTC when unknown), scheduled in all, and the next due time. Row-level security: a learner reads its own.';

-- ---------------------------------------------------------------------------
-- Definer functions a learner calls
-- ---------------------------------------------------------------------------
CREATE FUNCTION answer_review(p_question_id uuid, p_user_answer jsonb,
                              p_time_spent_seconds integer)
RETURNS TABLE (question_id uuid, skipped boolean, is_correct boolean, points_earned numeric,
               points integer, rating smallint, state smallint, due timestamptz,
               interval_days integer, stability double precision, difficulty double precision,
               reps integer, lapses integer, correct_answer jsonb, explanation text)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_user uuid := app_acting_user();
    v_card review_cards%ROWTYPE;
    v_q record;
    v_grade graded_answer;
    v_rating smallint;
    v_next record;
    v_at timestamptz := now();
BEGIN
    SELECT * INTO v_card FROM review_cards c
     WHERE c.user_id = v_user AND c.question_id = p_question_id
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'question % is not in the review schedule', p_question_id
            USING ERRCODE = 'no_data_found';
    END IF;
    SELECT q.question_type, q.question_data, q.correct_answer, q.explanation, q.points INTO v_q
      FROM question_bank q
     WHERE q.id = p_question_id AND q.is_published AND q.deleted_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'question % is no longer published', p_question_id
            USING ERRCODE = 'no_data_found';
    END IF;
    IF v_card.due > v_at THEN
        RAISE EXCEPTION 'question % is not due for review until %', p_question_id, v_card.due
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF p_time_spent_seconds < 0 THEN
        RAISE EXCEPTION 'time_spent_seconds: must not be negative'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_grade := grade_answer(v_q.question_type, v_q.question_data, v_q.correct_answer,
                            p_user_answer, v_q.points);
    v_rating := CASE WHEN v_grade.is_correct THEN 3 ELSE 1 END;
    SELECT * INTO v_next
      FROM fsrs_step(v_card.state, v_card.step, v_card.stability, v_card.difficulty,
                     v_card.last_review, v_rating, v_at,
                     review_fuzz(v_user, p_question_id, v_card.reps)) AS s;
    UPDATE review_cards c
       SET state = v_next.state, step = v_next.step, stability = v_next.stability,
           difficulty = v_next.difficulty, due = v_next.due, last_review = v_at,
           reps = c.reps + 1,
           lapses = c.lapses + CASE WHEN v_rating = 1 AND c.state = 2 THEN 1 ELSE 0 END,
           updated_at = now()
     WHERE c.user_id = v_user AND c.question_id = p_question_id
    RETURNING * INTO v_card;
    INSERT INTO review_log (user_id, question_id, source, rating, reviewed_at, state, stability,
                            difficulty, due, user_answer, time_spent_seconds)
    VALUES (v_user, p_question_id, 'review', v_rating, v_at, v_next.state, v_next.stability,
            v_next.difficulty, v_next.due, p_user_answer, p_time_spent_seconds);
    RETURN QUERY SELECT p_question_id, v_grade.skipped, v_grade.is_correct,
                        v_grade.points_earned, v_q.points, v_rating, v_card.state, v_card.due,
                        v_next.interval_days, v_card.stability, v_card.difficulty, v_card.reps,
                        v_card.lapses, v_q.correct_answer, v_q.explanation;
END;
$$;

COMMENT ON FUNCTION answer_review(uuid, jsonb, integer) IS
    'Answer a due card of the acting user''s review schedule: graded with grade_answer (a malformed answer: invalid_parameter_value naming the field), rated again (1) or good (3), rescheduled with fsrs_step, logged; then the key and explanation. no_data_found: no such card or the question is gone; object_not_in_prerequisite_state: not due yet.';

CREATE FUNCTION attempt_objective_report(p_attempt_id uuid)
RETURNS TABLE (domain_code varchar, domain_name text, objective_code varchar,
               objective_name text, items integer, correct integer, points_earned numeric,
               points_possible numeric, percentage numeric, missed boolean)
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
        SELECT o.domain_code, o.domain_name, o.code, o.name, count(*)::integer,
               (count(*) FILTER (WHERE ans.is_correct))::integer,
               coalesce(sum(ans.points_earned), 0), sum(q.points)::numeric,
               CASE WHEN sum(q.points) > 0
                    THEN round(coalesce(sum(ans.points_earned), 0) * 100 / sum(q.points), 2)
                    ELSE 0 END,
               count(*) FILTER (WHERE ans.is_correct) < count(*)
          FROM assessment_attempts t
          JOIN assessment_answers ans ON ans.attempt_id = t.id
          JOIN question_bank q ON q.id = ans.question_id
          JOIN exam_current_objectives() AS o ON o.code = ANY (q.comptia_objectives)
         WHERE t.id = p_attempt_id AND t.user_id = v_user
           AND t.status IN ('completed', 'timed_out')
         GROUP BY o.domain_code, o.domain_name, o.code, o.name
         ORDER BY o.code;
END;
$$;

COMMENT ON FUNCTION attempt_objective_report(uuid) IS
    'The score report of a submitted attempt of the acting user, per objective of its questions (as the real report lists the objectives missed): items, correct, points and percentage. No row: not the user''s, not submitted, or no question with an objective of the current blueprint.';

-- ---------------------------------------------------------------------------
-- Item statistics (classical test theory)
-- ---------------------------------------------------------------------------
CREATE TABLE question_item_statistics (
    id                  uuid              PRIMARY KEY DEFAULT gen_random_uuid(),
    question_id         uuid              NOT NULL UNIQUE REFERENCES question_bank (id)
                                                          ON DELETE CASCADE,
    responses           integer           NOT NULL DEFAULT 0,
    facility            double precision,
    standard_deviation  double precision,
    discrimination      double precision,
    flags               text[]            NOT NULL DEFAULT '{}',
    refreshed_at        timestamptz       NOT NULL DEFAULT now(),

    CONSTRAINT question_item_statistics_responses_check CHECK (responses >= 0)
);

COMMENT ON TABLE question_item_statistics IS
    'Per question, over the graded answers of submitted attempts: facility (mean fraction of the points), its standard deviation (sample), discrimination (corrected point-biserial: Pearson correlation of the item''s fraction with the attempt''s points on the other items) and flags (too_few_responses, too_easy > 0.95, too_hard < 0.10, negative_discrimination, near_zero_discrimination < 0.10 or undefined). refresh_item_statistics() rebuilds it.';

CREATE TABLE question_option_statistics (
    id              uuid              PRIMARY KEY DEFAULT gen_random_uuid(),
    question_id     uuid              NOT NULL REFERENCES question_bank (id) ON DELETE CASCADE,
    option_id       text              NOT NULL,
    is_key          boolean           NOT NULL DEFAULT false,
    selections      integer           NOT NULL DEFAULT 0,
    selection_rate  double precision  NOT NULL DEFAULT 0,
    refreshed_at    timestamptz       NOT NULL DEFAULT now(),

    UNIQUE (question_id, option_id),
    CONSTRAINT question_option_statistics_selections_check
        CHECK (selections >= 0 AND selection_rate BETWEEN 0 AND 1)
);

COMMENT ON TABLE question_option_statistics IS
    'Per option of a multiple_choice, multiple_select or true_false question (true_false: "true" and "false"): how often it was chosen, as a share of the question''s responses. is_key: part of the correct answer.';

CREATE FUNCTION refresh_item_statistics(p_min_responses integer DEFAULT 30)
RETURNS TABLE (questions integer, answers bigint, flagged integer)
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_min integer := greatest(coalesce(p_min_responses, 30), 1);
BEGIN
    DELETE FROM question_item_statistics;
    DELETE FROM question_option_statistics;

    INSERT INTO question_item_statistics
           (question_id, responses, facility, standard_deviation, discrimination, flags)
    WITH scored AS (
        SELECT ans.attempt_id, ans.question_id,
               least(greatest(coalesce(ans.points_earned, 0) / q.points, 0), 1)::double precision
                   AS x,
               coalesce(ans.points_earned, 0)::double precision AS earned
          FROM assessment_answers ans
          JOIN assessment_attempts t ON t.id = ans.attempt_id
          JOIN question_bank q ON q.id = ans.question_id
         WHERE t.status IN ('completed', 'timed_out') AND q.points > 0
    ), with_rest AS (
        SELECT s.question_id, s.x,
               sum(s.earned) OVER (PARTITION BY s.attempt_id) - s.earned AS rest
          FROM scored s
    ), per_item AS (
        SELECT w.question_id, count(*)::integer AS n, avg(w.x) AS facility,
               stddev_samp(w.x) AS sd, corr(w.x, w.rest) AS r
          FROM with_rest w
         GROUP BY w.question_id
    )
    SELECT p.question_id, p.n, p.facility, p.sd, p.r,
           array_remove(ARRAY[
               CASE WHEN p.n < v_min THEN 'too_few_responses' END,
               CASE WHEN p.facility > 0.95 THEN 'too_easy' END,
               CASE WHEN p.facility < 0.10 THEN 'too_hard' END,
               CASE WHEN p.r < 0 THEN 'negative_discrimination' END,
               CASE WHEN p.r IS NULL OR (p.r >= 0 AND p.r < 0.10)
                    THEN 'near_zero_discrimination' END], NULL)
      FROM per_item p;

    INSERT INTO question_option_statistics (question_id, option_id, is_key, selections,
                                            selection_rate)
    WITH responses AS (
        SELECT ans.question_id, ans.user_answer, q.question_type
          FROM assessment_answers ans
          JOIN assessment_attempts t ON t.id = ans.attempt_id
          JOIN question_bank q ON q.id = ans.question_id
         WHERE t.status IN ('completed', 'timed_out')
           AND q.question_type IN ('multiple_choice', 'multiple_select', 'true_false')
    ), chosen AS (
        SELECT r.question_id, c.option_id
          FROM responses r
         CROSS JOIN LATERAL (
               SELECT r.user_answer ->> 'option' AS option_id
                WHERE r.question_type = 'multiple_choice'
                  AND jsonb_typeof(r.user_answer -> 'option') = 'string'
               UNION
               SELECT x.value
                 FROM jsonb_array_elements_text(
                          CASE WHEN r.question_type = 'multiple_select'
                                    AND jsonb_typeof(r.user_answer -> 'options') = 'array'
                               THEN r.user_answer -> 'options' ELSE '[]' END) AS x(value)
               UNION
               SELECT r.user_answer ->> 'value'
                WHERE r.question_type = 'true_false'
                  AND jsonb_typeof(r.user_answer -> 'value') = 'boolean') AS c
    ), options AS (
        SELECT q.id AS question_id, o.value ->> 'id' AS option_id,
               CASE q.question_type
                    WHEN 'multiple_choice' THEN q.correct_answer ->> 'option' = o.value ->> 'id'
                    ELSE coalesce(q.correct_answer -> 'options' ? (o.value ->> 'id'), false)
               END AS is_key
          FROM question_bank q
         CROSS JOIN LATERAL jsonb_array_elements(
               CASE WHEN jsonb_typeof(q.question_data -> 'options') = 'array'
                    THEN q.question_data -> 'options' ELSE '[]' END) AS o(value)
         WHERE q.question_type IN ('multiple_choice', 'multiple_select')
        UNION ALL
        SELECT q.id, v.value, (q.correct_answer ->> 'value') = v.value
          FROM question_bank q
         CROSS JOIN (VALUES ('true'), ('false')) AS v(value)
         WHERE q.question_type = 'true_false'
    ), selected AS (
        SELECT c.question_id, c.option_id, count(*) AS selections
          FROM chosen c
         GROUP BY c.question_id, c.option_id
    ), counts AS (
        SELECT r.question_id, count(*) AS n FROM responses r GROUP BY r.question_id
    )
    SELECT o.question_id, o.option_id, coalesce(o.is_key, false),
           coalesce(s.selections, 0)::integer,
           coalesce(s.selections, 0)::double precision / n.n
      FROM options o
      JOIN counts n ON n.question_id = o.question_id
      LEFT JOIN selected s ON s.question_id = o.question_id AND s.option_id = o.option_id
     WHERE o.option_id IS NOT NULL;

    RETURN QUERY
        SELECT count(*)::integer, coalesce(sum(s.responses), 0)::bigint,
               (count(*) FILTER (WHERE s.flags <> '{}'))::integer
          FROM question_item_statistics s;
END;
$$;

COMMENT ON FUNCTION refresh_item_statistics(integer) IS
    'Rebuild question_item_statistics and question_option_statistics from every graded answer of submitted attempts (set-based, one pass each); p_min_responses: fewer responses flag too_few_responses. Returns the questions, answers and flagged questions. For admin (and `netplus-db maintain daily`).';

-- ---------------------------------------------------------------------------
-- Instructors' and admins' reads (account role instructor or admin)
-- ---------------------------------------------------------------------------
CREATE FUNCTION app_acting_staff()
RETURNS uuid
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_user uuid := app_acting_user();
BEGIN
    IF NOT EXISTS (SELECT 1 FROM users u
                    WHERE u.id = v_user AND u.role IN ('instructor', 'admin')) THEN
        RAISE EXCEPTION 'user % is not an instructor or admin', v_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN v_user;
END;
$$;

COMMENT ON FUNCTION app_acting_staff() IS
    'app_acting_user(), when that account''s role is instructor or admin (insufficient_privilege otherwise). Internal: executable by its owner only.';

CREATE FUNCTION cohort_readiness()
RETURNS TABLE (scope text, code varchar, name text, learners integer,
               mastery double precision, estimated_score integer)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM app_acting_staff();
    RETURN QUERY
        WITH b AS (
            SELECT * FROM exam_blueprints WHERE is_current
        ), obj AS (
            SELECT o.domain_code, o.code, o.name, count(m.user_id)::integer AS learners,
                   coalesce(avg(e.mean), 0.5) AS p
              FROM exam_current_objectives() AS o
              LEFT JOIN objective_mastery m ON m.objective_id = o.objective_id
              LEFT JOIN LATERAL mastery_estimate(m.successes, m.failures,
                                   extract(epoch FROM (now() - m.evidence_at)) / 86400) AS e
                     ON m.user_id IS NOT NULL
             GROUP BY o.domain_code, o.code, o.name
        ), dom AS (
            SELECT d.code, d.name, d.weight, max(obj.learners) AS learners, avg(obj.p) AS p
              FROM b
              JOIN exam_domains d ON d.blueprint_id = b.id
              JOIN obj ON obj.domain_code = d.code
             GROUP BY d.code, d.name, d.weight
        ), exam AS (
            SELECT max(dom.learners) AS learners,
                   sum(dom.weight * dom.p) / sum(dom.weight) AS p
              FROM dom
        )
        SELECT x.scope, x.code::varchar, x.name, x.learners, x.p,
               round(b.scale_min + (b.scale_max - b.scale_min) * x.p)::integer
          FROM (SELECT 'exam' AS scope, b.code, b.name, exam.learners, exam.p, 0 AS ord
                  FROM exam CROSS JOIN b
                UNION ALL
                SELECT 'domain', dom.code, dom.name, dom.learners, dom.p, 1 FROM dom
                UNION ALL
                SELECT 'objective', obj.code, obj.name, obj.learners, obj.p, 2 FROM obj) AS x
         CROSS JOIN b
         ORDER BY x.ord, x.code;
END;
$$;

COMMENT ON FUNCTION cohort_readiness() IS
    'For instructors and admins: the cohort''s mean mastery (learners with evidence; 0.5, the prior, where none) per objective, per domain (mean of its objectives) and for the exam (by weight), with the ESTIMATED score of that mean (linear 100-900; an estimate).';

CREATE FUNCTION item_flags(p_limit integer)
RETURNS TABLE (question_id uuid, domain varchar, subdomain varchar, question_type varchar,
               question_text text, responses integer, facility double precision,
               standard_deviation double precision, discrimination double precision,
               flags text[], refreshed_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM app_acting_staff();
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'limit: must be between 1 and 1000'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
        SELECT s.question_id, q.domain, q.subdomain, q.question_type, q.question_text,
               s.responses, s.facility, s.standard_deviation, s.discrimination, s.flags,
               s.refreshed_at
          FROM question_item_statistics s
          JOIN question_bank q ON q.id = s.question_id
         WHERE s.flags <> '{}' AND q.deleted_at IS NULL
         ORDER BY ('negative_discrimination' = ANY (s.flags)) DESC,
                  ('too_few_responses' = ANY (s.flags)),
                  s.discrimination NULLS FIRST, s.question_id
         LIMIT p_limit;
END;
$$;

COMMENT ON FUNCTION item_flags(integer) IS
    'For instructors and admins: the flagged questions of the last refresh_item_statistics(), negative discrimination first, then those with enough responses, by discrimination.';

CREATE FUNCTION platform_weakest_objectives(p_limit integer)
RETURNS TABLE (domain_code varchar, objective_code varchar, objective_name text,
               learners integer, mastery double precision, component_slugs text[])
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM app_acting_staff();
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 25 THEN
        RAISE EXCEPTION 'limit: must be between 1 and 25'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
        SELECT o.domain_code, o.code, o.name, count(*)::integer, avg(e.mean),
               coalesce((SELECT array_agg(lc.slug::text ORDER BY lc.title, lc.id)
                           FROM learning_components lc
                          WHERE lc.comptia_objectives @> ARRAY[o.code::text]
                            AND lc.is_published AND lc.deleted_at IS NULL), '{}')
          FROM exam_current_objectives() AS o
          JOIN objective_mastery m ON m.objective_id = o.objective_id
         CROSS JOIN LATERAL mastery_estimate(m.successes, m.failures,
                                extract(epoch FROM (now() - m.evidence_at)) / 86400) AS e
         GROUP BY o.domain_code, o.code, o.name
         ORDER BY avg(e.mean), o.code
         LIMIT p_limit;
END;
$$;

COMMENT ON FUNCTION platform_weakest_objectives(integer) IS
    'For instructors and admins: the objectives with the lowest mean mastery over the learners with evidence on them, with the components that teach them.';

-- ---------------------------------------------------------------------------
-- Privileges and row-level security
-- ---------------------------------------------------------------------------
-- The blueprint: everyone reads it; admin (and the owner) write it.
GRANT SELECT ON TABLE exam_blueprints, exam_domains, exam_objectives TO app_user, readonly;
GRANT ALL ON TABLE exam_blueprints, exam_domains, exam_objectives TO admin;

-- A learner's study state: read its own rows, never write them.
GRANT SELECT ON TABLE objective_mastery, review_cards, review_log TO app_user, readonly;
GRANT ALL ON TABLE objective_mastery, review_cards, review_log TO admin;

ALTER TABLE objective_mastery ENABLE ROW LEVEL SECURITY;
ALTER TABLE objective_mastery FORCE ROW LEVEL SECURITY;
CREATE POLICY objective_mastery_own_rows ON objective_mastery
    FOR SELECT TO app_user
    USING (user_id = app_current_user_id());
CREATE POLICY objective_mastery_readonly_select ON objective_mastery
    FOR SELECT TO readonly
    USING (true);
CREATE POLICY objective_mastery_admin_all ON objective_mastery
    TO admin
    USING (true) WITH CHECK (true);

ALTER TABLE review_cards ENABLE ROW LEVEL SECURITY;
ALTER TABLE review_cards FORCE ROW LEVEL SECURITY;
CREATE POLICY review_cards_own_rows ON review_cards
    FOR SELECT TO app_user
    USING (user_id = app_current_user_id());
CREATE POLICY review_cards_readonly_select ON review_cards
    FOR SELECT TO readonly
    USING (true);
CREATE POLICY review_cards_admin_all ON review_cards
    TO admin
    USING (true) WITH CHECK (true);

ALTER TABLE review_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE review_log FORCE ROW LEVEL SECURITY;
CREATE POLICY review_log_own_rows ON review_log
    FOR SELECT TO app_user
    USING (user_id = app_current_user_id());
CREATE POLICY review_log_readonly_select ON review_log
    FOR SELECT TO readonly
    USING (true);
CREATE POLICY review_log_admin_all ON review_log
    TO admin
    USING (true) WITH CHECK (true);

-- Item statistics: not a learner's to read.
GRANT SELECT ON TABLE question_item_statistics, question_option_statistics TO readonly;
GRANT ALL ON TABLE question_item_statistics, question_option_statistics TO admin;

REVOKE EXECUTE ON FUNCTION
    exam_current_objectives(),
    mastery_decay(double precision),
    mastery_decayed(double precision, double precision),
    mastery_digamma(double precision),
    mastery_trigamma(double precision),
    mastery_estimate(double precision, double precision, double precision),
    fsrs_step(smallint, integer, double precision, double precision, timestamptz, smallint,
              timestamptz, double precision),
    review_fuzz(uuid, uuid, integer),
    learning_after_submit(),
    learner_objective_mastery(uuid),
    learner_readiness(uuid),
    learner_weakest_objectives(uuid, integer),
    review_due_counts(uuid),
    answer_review(uuid, jsonb, integer),
    attempt_objective_report(uuid),
    refresh_item_statistics(integer),
    app_acting_staff(),
    cohort_readiness(),
    item_flags(integer),
    platform_weakest_objectives(integer)
    FROM PUBLIC;

-- The reads run as their caller (row-level security), so their helpers are the caller's too.
GRANT EXECUTE ON FUNCTION
    exam_current_objectives(),
    mastery_decay(double precision),
    mastery_decayed(double precision, double precision),
    mastery_digamma(double precision),
    mastery_trigamma(double precision),
    mastery_estimate(double precision, double precision, double precision),
    learner_objective_mastery(uuid),
    learner_readiness(uuid),
    learner_weakest_objectives(uuid, integer),
    review_due_counts(uuid)
    TO app_user, readonly, admin;

GRANT EXECUTE ON FUNCTION
    answer_review(uuid, jsonb, integer),
    attempt_objective_report(uuid),
    cohort_readiness(),
    item_flags(integer),
    platform_weakest_objectives(integer)
    TO app_user, admin;

-- admin may close an attempt by hand: the trigger's helpers too.
GRANT EXECUTE ON FUNCTION
    fsrs_step(smallint, integer, double precision, double precision, timestamptz, smallint,
              timestamptz, double precision),
    review_fuzz(uuid, uuid, integer),
    refresh_item_statistics(integer)
    TO admin;

-- migrate:down
-- Reverse order; nothing of before is redefined (0019 only adds).

DROP FUNCTION platform_weakest_objectives(integer);
DROP FUNCTION item_flags(integer);
DROP FUNCTION cohort_readiness();
DROP FUNCTION app_acting_staff();
DROP FUNCTION refresh_item_statistics(integer);
DROP TABLE question_option_statistics;
DROP TABLE question_item_statistics;
DROP FUNCTION attempt_objective_report(uuid);
DROP FUNCTION answer_review(uuid, jsonb, integer);
DROP FUNCTION review_due_counts(uuid);
DROP FUNCTION learner_weakest_objectives(uuid, integer);
DROP FUNCTION learner_readiness(uuid);
DROP FUNCTION learner_objective_mastery(uuid);
DROP TRIGGER trg_assessment_attempts_learning ON assessment_attempts;
DROP FUNCTION learning_after_submit();
DROP FUNCTION review_fuzz(uuid, uuid, integer);
DROP FUNCTION fsrs_step(smallint, integer, double precision, double precision, timestamptz,
                        smallint, timestamptz, double precision);
DROP TABLE review_log;
DROP TABLE review_cards;
DROP FUNCTION mastery_estimate(double precision, double precision, double precision);
DROP FUNCTION mastery_trigamma(double precision);
DROP FUNCTION mastery_digamma(double precision);
DROP FUNCTION mastery_decayed(double precision, double precision);
DROP FUNCTION mastery_decay(double precision);
DROP TABLE objective_mastery;
DROP FUNCTION exam_current_objectives();
DROP TABLE exam_objectives;
DROP TABLE exam_domains;
DROP TABLE exam_blueprints;
