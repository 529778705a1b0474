-- The benchmark suite's own SQL (bench/): what it records about the scale-N
-- database it built, the samples the three runners draw from, and the invariants the mixed
-- workload is checked against. Its tables live in schema `netplus_bench`, apart from the
-- application's tables; the application roles are never granted anything on it.

-- name: meta_exists()$
-- Whether this database records a finished benchmark build.
SELECT to_regclass('netplus_bench.build') IS NOT NULL;

-- name: meta_create#
-- The schema and the table that record a finished build (idempotent).
CREATE SCHEMA IF NOT EXISTS netplus_bench;
COMMENT ON SCHEMA netplus_bench IS 'netplus-db benchmark suite bookkeeping and samples; not application data';
CREATE TABLE IF NOT EXISTS netplus_bench.build (
    id           integer     PRIMARY KEY CHECK (id = 1),
    users        integer     NOT NULL,
    random_seed  integer     NOT NULL,
    info         jsonb       NOT NULL,
    built_at     timestamptz NOT NULL DEFAULT now()
);

-- name: meta_get()^
-- The finished build: how many scale users, the seed, and the build's figures.
SELECT users, random_seed, info, built_at FROM netplus_bench.build WHERE id = 1;

-- name: meta_put(users, random_seed, info)!
-- Record a finished build (the last step of a build: its presence means complete).
INSERT INTO netplus_bench.build (id, users, random_seed, info)
VALUES (1, :users, :random_seed, :info)
ON CONFLICT (id) DO UPDATE
   SET users = EXCLUDED.users, random_seed = EXCLUDED.random_seed, info = EXCLUDED.info,
       built_at = now();

-- name: make_samples#
-- The samples every runner draws from, numbered 1..n so that pgbench can pick one with
-- `\set n random(1, :count)`: scale users (login), active scale users (everything acting as a
-- learner), published components (progress), keyset pages of the catalog per domain (a first
-- page, or the page after a component), and the dates of the analytics window.
CREATE SCHEMA IF NOT EXISTS netplus_bench;
DROP TABLE IF EXISTS netplus_bench.users, netplus_bench.learners, netplus_bench.components,
                     netplus_bench.domains, netplus_bench.cursors, netplus_bench.assessments,
                     netplus_bench.window_days;
CREATE TABLE netplus_bench.users AS
SELECT row_number() OVER (ORDER BY u.email)::int AS n, u.id AS user_id, u.email::text AS email
  FROM public.users u
 WHERE split_part(u.email, '@', 2) = 'scale.test' AND u.deleted_at IS NULL;
ALTER TABLE netplus_bench.users ADD PRIMARY KEY (n);
CREATE TABLE netplus_bench.learners AS
SELECT row_number() OVER (ORDER BY u.email)::int AS n, u.id AS user_id
  FROM public.users u
 WHERE split_part(u.email, '@', 2) = 'scale.test' AND u.deleted_at IS NULL
   AND u.account_status = 'active';
ALTER TABLE netplus_bench.learners ADD PRIMARY KEY (n);
CREATE TABLE netplus_bench.components AS
SELECT row_number() OVER (ORDER BY c.slug)::int AS n, c.id AS component_id
  FROM public.learning_components c
 WHERE c.is_published AND c.deleted_at IS NULL;
ALTER TABLE netplus_bench.components ADD PRIMARY KEY (n);
CREATE TABLE netplus_bench.domains AS
SELECT row_number() OVER (ORDER BY d.domain)::int AS n, d.domain::text AS domain
  FROM (SELECT DISTINCT c.domain FROM public.learning_components c
         WHERE c.is_published AND c.deleted_at IS NULL) d;
ALTER TABLE netplus_bench.domains ADD PRIMARY KEY (n);
CREATE TABLE netplus_bench.cursors AS
SELECT row_number() OVER (ORDER BY k.domain, k.title, k.id)::int AS n, k.domain,
       k.title AS after_title, k.id AS after_id
  FROM (SELECT c.domain::text AS domain, c.title::text AS title, c.id,
               lead(c.id) OVER (PARTITION BY c.domain ORDER BY c.title, c.id) AS next_id
          FROM public.learning_components c
         WHERE c.is_published AND c.deleted_at IS NULL) k
 WHERE k.next_id IS NOT NULL;
ALTER TABLE netplus_bench.cursors ADD PRIMARY KEY (n);
CREATE TABLE netplus_bench.assessments AS
SELECT row_number() OVER (ORDER BY a.slug)::int AS n, a.id AS assessment_id, a.slug::text AS slug
  FROM public.assessments a
 WHERE a.is_published AND a.deleted_at IS NULL AND cardinality(a.question_ids) > 0;
ALTER TABLE netplus_bench.assessments ADD PRIMARY KEY (n);
ANALYZE netplus_bench.users, netplus_bench.learners, netplus_bench.components,
        netplus_bench.domains, netplus_bench.cursors, netplus_bench.assessments;

-- name: samples_exist()$
-- Whether the samples were made (a build interrupted before them has none).
SELECT to_regclass('netplus_bench.assessments') IS NOT NULL;

-- name: sample_users()
-- Every scale user that can be looked up at login: number, id, email.
SELECT n, user_id, email FROM netplus_bench.users ORDER BY n;

-- name: sample_learners()
-- Every active scale user: number, id.
SELECT n, user_id FROM netplus_bench.learners ORDER BY n;

-- name: sample_components()
-- Every published, live component: number, id.
SELECT n, component_id FROM netplus_bench.components ORDER BY n;

-- name: components_presenting_assessments()
-- Components that present an assessment (content.assessment_slug): completed only by passing
-- it, never by recording progress.
SELECT c.id
  FROM public.learning_components c
  JOIN public.assessments a ON a.slug = c.content ->> 'assessment_slug';

-- name: sample_domains()
-- Every domain with published components: number, domain.
SELECT n, domain FROM netplus_bench.domains ORDER BY n;

-- name: sample_cursors()
-- Keyset cursors: the page of a domain after each component but the last.
SELECT n, domain, after_title, after_id FROM netplus_bench.cursors ORDER BY n;

-- name: sample_assessments()
-- The published, live assessments that have questions: number, id, slug.
SELECT n, assessment_id, slug FROM netplus_bench.assessments ORDER BY n;

-- name: table_rows()
-- Rows of every application table (exact counts; run once per report).
SELECT 'users' AS name, count(*) FROM public.users
UNION ALL SELECT 'user_progress', count(*) FROM public.user_progress
UNION ALL SELECT 'learning_sessions', count(*) FROM public.learning_sessions
UNION ALL SELECT 'assessment_attempts', count(*) FROM public.assessment_attempts
UNION ALL SELECT 'assessment_answers', count(*) FROM public.assessment_answers
UNION ALL SELECT 'user_activity_logs', count(*) FROM public.user_activity_logs
UNION ALL SELECT 'user_achievements', count(*) FROM public.user_achievements
UNION ALL SELECT 'learning_components', count(*) FROM public.learning_components
UNION ALL SELECT 'question_bank', count(*) FROM public.question_bank;

-- name: database_size()$
-- The size of the current database in bytes.
SELECT pg_database_size(current_database());

-- name: relation_rows()
-- Estimated rows of every table and materialized view of the public schema (planner stats).
SELECT c.relname::text, greatest(c.reltuples, 0)::bigint
  FROM pg_class c
 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'm')
 ORDER BY c.relname;

-- name: partition_index_parents()
-- Every index of a partition and the partitioned table's index it belongs to: plans name the
-- partitions' indexes (learning_sessions_p2026_01_pkey), the expectations the table's.
SELECT i.relname::text AS index_name, p.relname::text AS parent_index
  FROM pg_inherits h
  JOIN pg_class i ON i.oid = h.inhrelid AND i.relkind = 'i'
  JOIN pg_class p ON p.oid = h.inhparent
 WHERE i.relnamespace = 'public'::regnamespace
 ORDER BY 1;

-- name: index_names()
-- Every index of the public schema and its table.
SELECT i.relname::text AS index_name, t.relname::text AS table_name
  FROM pg_index x
  JOIN pg_class i ON i.oid = x.indexrelid
  JOIN pg_class t ON t.oid = x.indrelid
 WHERE t.relnamespace = 'public'::regnamespace
 ORDER BY 2, 1;

-- name: deadlocks()$
-- Deadlocks detected in the current database since the statistics were reset.
SELECT deadlocks FROM pg_stat_database WHERE datname = current_database();

-- name: server_settings()
-- The server settings that matter to the figures.
SELECT name, setting || coalesce(' ' || unit, '')
  FROM pg_settings
 WHERE name IN ('server_version', 'shared_buffers', 'work_mem', 'effective_cache_size',
                'random_page_cost', 'jit', 'synchronous_commit', 'fsync', 'max_connections',
                'shared_preload_libraries', 'plan_cache_mode')
 ORDER BY name;

-- name: pgss_available()$
-- Whether pg_stat_statements is loaded (shared_preload_libraries) and installed here.
SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')
       AND current_setting('shared_preload_libraries') LIKE '%pg_stat_statements%';

-- name: pgss_install#
-- Install pg_stat_statements in this database (when the server preloads it).
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;

-- name: pgss_reset#
-- Forget the statement statistics gathered so far.
SELECT pg_stat_statements_reset();

-- name: pgss_top(count)
-- The statements of this database that took the most server time since the last reset.
SELECT s.calls, round(s.total_exec_time::numeric, 2) AS total_ms,
       round((s.total_exec_time / greatest(s.calls, 1))::numeric, 4) AS mean_ms,
       s.rows, left(regexp_replace(s.query, '\s+', ' ', 'g'), 160) AS query
  FROM pg_stat_statements s
  JOIN pg_database d ON d.oid = s.dbid
 WHERE d.datname = current_database()
 ORDER BY s.total_exec_time DESC
 LIMIT :count::int;

-- name: submit_queue_create#
-- The attempts pgbench submits, one per transaction (prepared: started and answered through
-- the library); `submit_next` hands them out in order.
DROP TABLE IF EXISTS netplus_bench.submits;
DROP SEQUENCE IF EXISTS netplus_bench.submit_next;
CREATE TABLE netplus_bench.submits (
    n          integer PRIMARY KEY,
    attempt_id uuid    NOT NULL,
    user_id    uuid    NOT NULL
);
CREATE SEQUENCE netplus_bench.submit_next;

-- name: submit_queue_put(n, attempt_id, user_id)!
-- One prepared attempt for pgbench.
INSERT INTO netplus_bench.submits VALUES (:n, :attempt_id, :user_id);

-- name: invariant_attempt_totals(user_ids, since)
-- Attempts of these users finished since `since` whose totals differ from the sum of their
-- answers (score = points earned, counts = correct / wrong / skipped answers, one answer row
-- per question). Every row returned is a violation.
SELECT t.id, t.score, coalesce(a.points, 0) AS points, t.correct_answers, a.correct,
       t.incorrect_answers, a.incorrect, t.skipped_questions, a.skipped,
       coalesce(cardinality(t.question_order), 0) AS questions, a.rows
  FROM public.assessment_attempts t
  LEFT JOIN LATERAL (
        SELECT sum(x.points_earned) AS points,
               count(*) FILTER (WHERE x.is_correct) AS correct,
               count(*) FILTER (WHERE NOT x.is_correct AND x.user_answer IS NOT NULL
                                  AND x.user_answer <> '{}'::jsonb) AS incorrect,
               count(*) FILTER (WHERE x.user_answer IS NULL OR x.user_answer = '{}'::jsonb)
                   AS skipped,
               count(*) AS rows
          FROM public.assessment_answers x
         WHERE x.attempt_id = t.id) a ON true
 WHERE t.user_id = ANY (:user_ids::uuid[])
   AND t.status IN ('completed', 'timed_out')
   AND t.completed_at >= :since::timestamptz
   AND (t.score IS DISTINCT FROM coalesce(a.points, 0)
        OR t.correct_answers IS DISTINCT FROM a.correct
        OR t.incorrect_answers IS DISTINCT FROM a.incorrect
        OR t.skipped_questions IS DISTINCT FROM a.skipped
        OR coalesce(cardinality(t.question_order), 0) <> a.rows);

-- name: invariant_attempts_checked(user_ids, since)$
-- How many finished attempts of these users the totals check looked at.
SELECT count(*) FROM public.assessment_attempts t
 WHERE t.user_id = ANY (:user_ids::uuid[])
   AND t.status IN ('completed', 'timed_out')
   AND t.completed_at >= :since::timestamptz;

-- name: invariant_duplicate_progress(user_ids)
-- (user, component) pairs of these users with more than one progress row.
SELECT p.user_id, p.component_id, count(*)
  FROM public.user_progress p
 WHERE p.user_id = ANY (:user_ids::uuid[])
 GROUP BY p.user_id, p.component_id
HAVING count(*) > 1;

-- name: invariant_streaks(user_ids, since)
-- Streak rows of these users that disagree with their activity: the current streak above the
-- longest or the longest above the active days, a streak without a last day, or a user who
-- completed a component since `since` whose streak ends before the day of that completion in
-- the learner's time zone (learner_day, as update_learning_streak counts it since 0015).
SELECT s.user_id, s.current_streak, s.longest_streak, s.total_active_days,
       s.last_activity_date, s.streak_start_date
  FROM public.learning_streaks s
 WHERE s.user_id = ANY (:user_ids::uuid[])
   AND (s.current_streak > s.longest_streak
        OR s.longest_streak > s.total_active_days
        OR (s.current_streak > 0 AND s.last_activity_date IS NULL)
        OR s.streak_start_date > s.last_activity_date
        OR EXISTS (SELECT 1 FROM public.user_progress p
                    WHERE p.user_id = s.user_id
                      AND p.completion_date >= :since::timestamptz
                      AND (s.last_activity_date IS NULL
                           OR s.last_activity_date
                              < public.learner_day(s.user_id, p.completion_date))));

-- name: invariant_streaks_checked(user_ids, since)$
-- How many of these users completed a component since `since` (their streak must reach
-- that day in their time zone).
SELECT count(DISTINCT p.user_id) FROM public.user_progress p
 WHERE p.user_id = ANY (:user_ids::uuid[]) AND p.completion_date >= :since::timestamptz;

-- name: learning_backfill#
-- The study state of migration 0019 for the scale history, which is loaded as rows, not
-- submitted: mastery per learner and objective from every graded answer of submitted attempts
-- (weighted by age, as of now), and a review card (rated again at the attempt) for the latest
-- miss of each question in assessments that show their answers afterwards.
INSERT INTO objective_mastery (user_id, objective_id, successes, failures,
                               answers, correct_answers, evidence_at)
SELECT t.user_id, o.objective_id,
       sum(g.credit * mastery_decay(extract(epoch FROM (now() - t.completed_at)) / 86400)),
       sum((1 - g.credit) * mastery_decay(extract(epoch FROM (now() - t.completed_at)) / 86400)),
       count(*), count(*) FILTER (WHERE g.is_correct), now()
  FROM assessment_attempts t
  JOIN LATERAL (
        SELECT q.comptia_objectives, coalesce(a.is_correct, false) AS is_correct,
               CASE WHEN q.points > 0
                    THEN least(greatest(coalesce(a.points_earned, 0) / q.points, 0), 1)
                    ELSE 0 END::double precision AS credit
          FROM assessment_answers a
          JOIN question_bank q ON q.id = a.question_id
         WHERE a.attempt_id = t.id) AS g ON true
  JOIN exam_current_objectives() AS o ON o.code = ANY (g.comptia_objectives)
 WHERE t.status IN ('completed', 'timed_out') AND t.completed_at IS NOT NULL
 GROUP BY t.user_id, o.objective_id
ON CONFLICT DO NOTHING;

INSERT INTO review_cards (user_id, question_id, state, step, stability, difficulty, due,
                          last_review, reps, lapses)
SELECT m.user_id, m.question_id, s.state, s.step, s.stability, s.difficulty, s.due,
       m.completed_at, 1, 0
  FROM (SELECT DISTINCT ON (t.user_id, a.question_id) t.user_id, a.question_id, t.completed_at
          FROM assessment_attempts t
          JOIN assessments x ON x.id = t.assessment_id AND x.allow_review AND x.show_answers_after
          JOIN assessment_answers a ON a.attempt_id = t.id AND NOT coalesce(a.is_correct, false)
         WHERE t.status IN ('completed', 'timed_out') AND t.completed_at IS NOT NULL
         ORDER BY t.user_id, a.question_id, t.completed_at DESC) AS m
 CROSS JOIN LATERAL fsrs_step(NULL, NULL, NULL, NULL, NULL, 1::smallint, m.completed_at, NULL) AS s
ON CONFLICT DO NOTHING;

-- name: refresh_item_statistics()^
-- The item statistics over the whole history (timed by the build).
SELECT questions, answers, flagged FROM refresh_item_statistics();
