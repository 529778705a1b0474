-- `netplus-db seed`: idempotent upserts of the seed files (netplus_db/seed.py).
--
-- Each upsert takes every row of one kind at once, as a jsonb array of objects read with
-- jsonb_to_recordset (JSON arrays become PostgreSQL arrays). A row that already holds the
-- seeded values is left alone (the DO UPDATE's WHERE ... IS DISTINCT FROM), so a re-run writes
-- nothing and no updated_at moves. RETURNING lists only the rows written; xmax = 0 tells an
-- inserted row from an updated one. What is not returned was unchanged.

-- name: lock(key)!
-- One seed at a time per database, until the seeding transaction ends.
SELECT pg_advisory_xact_lock(:key);

-- name: missing_tables(tables)
-- The tables of the list that do not exist in schema public (an unmigrated database).
SELECT t.name
  FROM unnest(CAST(:tables AS text[])) AS t(name)
 WHERE to_regclass('public.' || quote_ident(t.name)) IS NULL
 ORDER BY t.name;

-- name: upsert_achievements(rows)
-- Achievements by code.
INSERT INTO achievements AS a
       (code, achievement_type, name, description, criteria, points, rarity, is_active)
SELECT r.code, r.achievement_type, r.name, r.description, r.criteria, r.points, r.rarity,
       r.is_active
  FROM jsonb_to_recordset(:rows) AS r(code text, achievement_type text, name text,
                                      description text, criteria jsonb, points integer,
                                      rarity text, is_active boolean)
    ON CONFLICT (code) DO UPDATE
   SET achievement_type = excluded.achievement_type,
       name             = excluded.name,
       description      = excluded.description,
       criteria         = excluded.criteria,
       points           = excluded.points,
       rarity           = excluded.rarity,
       is_active        = excluded.is_active
 WHERE (a.achievement_type, a.name, a.description, a.criteria, a.points, a.rarity, a.is_active)
       IS DISTINCT FROM
       (excluded.achievement_type, excluded.name, excluded.description, excluded.criteria,
        excluded.points, excluded.rarity, excluded.is_active)
RETURNING a.code, a.xmax = 0 AS inserted;

-- name: upsert_components(rows)
-- Learning components by slug, published (a soft-deleted one is restored). Prerequisites are
-- left alone here: they name other components, which may not exist yet; see
-- seed_link_prerequisites.
INSERT INTO learning_components AS c
       (slug, component_type, domain, subdomain, title, description, content, difficulty_level,
        estimated_duration_minutes, objectives, comptia_objectives, is_published)
SELECT r.slug, r.component_type, r.domain, r.subdomain, r.title, r.description, r.content,
       r.difficulty_level, r.estimated_duration_minutes, r.objectives, r.comptia_objectives, true
  FROM jsonb_to_recordset(:rows) AS r(slug text, component_type text, domain text,
                                      subdomain text, title text, description text,
                                      content jsonb, difficulty_level text,
                                      estimated_duration_minutes integer, objectives text[],
                                      comptia_objectives text[])
    ON CONFLICT (slug) DO UPDATE
   SET component_type             = excluded.component_type,
       domain                     = excluded.domain,
       subdomain                  = excluded.subdomain,
       title                      = excluded.title,
       description                = excluded.description,
       content                    = excluded.content,
       difficulty_level           = excluded.difficulty_level,
       estimated_duration_minutes = excluded.estimated_duration_minutes,
       objectives                 = excluded.objectives,
       comptia_objectives         = excluded.comptia_objectives,
       is_published               = true,
       deleted_at                 = NULL
 WHERE (c.component_type, c.domain, c.subdomain, c.title, c.description, c.content,
        c.difficulty_level, c.estimated_duration_minutes, c.objectives, c.comptia_objectives,
        c.is_published, c.deleted_at)
       IS DISTINCT FROM
       (excluded.component_type, excluded.domain, excluded.subdomain, excluded.title,
        excluded.description, excluded.content, excluded.difficulty_level,
        excluded.estimated_duration_minutes, excluded.objectives, excluded.comptia_objectives,
        true, NULL::timestamptz)
RETURNING c.slug, c.xmax = 0 AS inserted;

-- name: link_prerequisites(rows)
-- Second pass: each component's prerequisites (slugs, in file order) become the ids of those
-- components. Only components whose ids differ are written; their slugs are returned.
WITH wanted AS (
    SELECT r.slug,
           ARRAY(SELECT p.id
                   FROM unnest(r.prerequisites) WITH ORDINALITY AS s(slug, n)
                   JOIN learning_components AS p ON p.slug = s.slug
                  ORDER BY s.n) AS ids
      FROM jsonb_to_recordset(:rows) AS r(slug text, prerequisites text[])
)
UPDATE learning_components AS c
   SET prerequisites = w.ids
  FROM wanted AS w
 WHERE c.slug = w.slug
   AND c.prerequisites IS DISTINCT FROM w.ids
RETURNING c.slug;

-- name: upsert_questions(rows)
-- Questions by id (uuid5 of their key), published (a soft-deleted one is restored). The
-- answer statistics (usage, correct and incorrect counts, average time) are left alone.
INSERT INTO question_bank AS q
       (id, question_type, domain, subdomain, difficulty_level, question_text, question_data,
        correct_answer, explanation, hints, points, comptia_objectives, is_published)
SELECT r.id, r.question_type, r.domain, r.subdomain, r.difficulty_level, r.question_text,
       r.question_data, r.correct_answer, r.explanation, r.hints, r.points,
       r.comptia_objectives, true
  FROM jsonb_to_recordset(:rows) AS r(id uuid, question_type text, domain text, subdomain text,
                                      difficulty_level text, question_text text,
                                      question_data jsonb, correct_answer jsonb,
                                      explanation text, hints text[], points integer,
                                      comptia_objectives text[])
    ON CONFLICT (id) DO UPDATE
   SET question_type      = excluded.question_type,
       domain             = excluded.domain,
       subdomain          = excluded.subdomain,
       difficulty_level   = excluded.difficulty_level,
       question_text      = excluded.question_text,
       question_data      = excluded.question_data,
       correct_answer     = excluded.correct_answer,
       explanation        = excluded.explanation,
       hints              = excluded.hints,
       points             = excluded.points,
       comptia_objectives = excluded.comptia_objectives,
       is_published       = true,
       deleted_at         = NULL
 WHERE (q.question_type, q.domain, q.subdomain, q.difficulty_level, q.question_text,
        q.question_data, q.correct_answer, q.explanation, q.hints, q.points,
        q.comptia_objectives, q.is_published, q.deleted_at)
       IS DISTINCT FROM
       (excluded.question_type, excluded.domain, excluded.subdomain, excluded.difficulty_level,
        excluded.question_text, excluded.question_data, excluded.correct_answer,
        excluded.explanation, excluded.hints, excluded.points, excluded.comptia_objectives,
        true, NULL::timestamptz)
RETURNING q.id, q.xmax = 0 AS inserted;

-- name: upsert_assessments(rows)
-- Assessments by slug, published (a soft-deleted one is restored), with the question ids the
-- loader selected by rule and, for one drawn per attempt, its draw settings.
INSERT INTO assessments AS a
       (slug, assessment_type, title, description, domain, difficulty_level,
        time_limit_minutes, passing_score, question_ids, randomize_questions, randomize_answers,
        show_answers_after, allow_review, max_attempts, draw_split, draw_size,
        draw_min_simulations, draw_avoid_recent, is_published)
SELECT r.slug, r.assessment_type, r.title, r.description, r.domain, r.difficulty_level,
       r.time_limit_minutes, r.passing_score, r.question_ids, r.randomize_questions,
       r.randomize_answers, r.show_answers_after, r.allow_review, r.max_attempts, r.draw_split,
       r.draw_size, r.draw_min_simulations, r.draw_avoid_recent, true
  FROM jsonb_to_recordset(:rows) AS r(slug text, assessment_type text, title text,
                                      description text, domain text, difficulty_level text,
                                      time_limit_minutes integer, passing_score integer,
                                      question_ids uuid[], randomize_questions boolean,
                                      randomize_answers boolean, show_answers_after boolean,
                                      allow_review boolean, max_attempts integer,
                                      draw_split jsonb, draw_size integer,
                                      draw_min_simulations integer, draw_avoid_recent integer)
    ON CONFLICT (slug) DO UPDATE
   SET assessment_type      = excluded.assessment_type,
       title                = excluded.title,
       description          = excluded.description,
       domain               = excluded.domain,
       difficulty_level     = excluded.difficulty_level,
       time_limit_minutes   = excluded.time_limit_minutes,
       passing_score        = excluded.passing_score,
       question_ids         = excluded.question_ids,
       randomize_questions  = excluded.randomize_questions,
       randomize_answers    = excluded.randomize_answers,
       show_answers_after   = excluded.show_answers_after,
       allow_review         = excluded.allow_review,
       max_attempts         = excluded.max_attempts,
       draw_split           = excluded.draw_split,
       draw_size            = excluded.draw_size,
       draw_min_simulations = excluded.draw_min_simulations,
       draw_avoid_recent    = excluded.draw_avoid_recent,
       is_published         = true,
       deleted_at           = NULL
 WHERE (a.assessment_type, a.title, a.description, a.domain, a.difficulty_level,
        a.time_limit_minutes, a.passing_score, a.question_ids, a.randomize_questions,
        a.randomize_answers, a.show_answers_after, a.allow_review, a.max_attempts,
        a.draw_split, a.draw_size, a.draw_min_simulations, a.draw_avoid_recent,
        a.is_published, a.deleted_at)
       IS DISTINCT FROM
       (excluded.assessment_type, excluded.title, excluded.description, excluded.domain,
        excluded.difficulty_level, excluded.time_limit_minutes, excluded.passing_score,
        excluded.question_ids, excluded.randomize_questions, excluded.randomize_answers,
        excluded.show_answers_after, excluded.allow_review, excluded.max_attempts,
        excluded.draw_split, excluded.draw_size, excluded.draw_min_simulations,
        excluded.draw_avoid_recent, true, NULL::timestamptz)
RETURNING a.slug, a.xmax = 0 AS inserted;

-- name: upsert_fixed_assessments(rows)
-- upsert_assessments on a database migrated to before 0018, which has no draw settings: every
-- assessment is its fixed list of question ids (the draw settings of the rows are ignored).
INSERT INTO assessments AS a
       (slug, assessment_type, title, description, domain, difficulty_level,
        time_limit_minutes, passing_score, question_ids, randomize_questions, randomize_answers,
        show_answers_after, allow_review, max_attempts, is_published)
SELECT r.slug, r.assessment_type, r.title, r.description, r.domain, r.difficulty_level,
       r.time_limit_minutes, r.passing_score, r.question_ids, r.randomize_questions,
       r.randomize_answers, r.show_answers_after, r.allow_review, r.max_attempts, true
  FROM jsonb_to_recordset(:rows) AS r(slug text, assessment_type text, title text,
                                      description text, domain text, difficulty_level text,
                                      time_limit_minutes integer, passing_score integer,
                                      question_ids uuid[], randomize_questions boolean,
                                      randomize_answers boolean, show_answers_after boolean,
                                      allow_review boolean, max_attempts integer)
    ON CONFLICT (slug) DO UPDATE
   SET assessment_type     = excluded.assessment_type,
       title               = excluded.title,
       description         = excluded.description,
       domain              = excluded.domain,
       difficulty_level    = excluded.difficulty_level,
       time_limit_minutes  = excluded.time_limit_minutes,
       passing_score       = excluded.passing_score,
       question_ids        = excluded.question_ids,
       randomize_questions = excluded.randomize_questions,
       randomize_answers   = excluded.randomize_answers,
       show_answers_after  = excluded.show_answers_after,
       allow_review        = excluded.allow_review,
       max_attempts        = excluded.max_attempts,
       is_published        = true,
       deleted_at          = NULL
 WHERE (a.assessment_type, a.title, a.description, a.domain, a.difficulty_level,
        a.time_limit_minutes, a.passing_score, a.question_ids, a.randomize_questions,
        a.randomize_answers, a.show_answers_after, a.allow_review, a.max_attempts,
        a.is_published, a.deleted_at)
       IS DISTINCT FROM
       (excluded.assessment_type, excluded.title, excluded.description, excluded.domain,
        excluded.difficulty_level, excluded.time_limit_minutes, excluded.passing_score,
        excluded.question_ids, excluded.randomize_questions, excluded.randomize_answers,
        excluded.show_answers_after, excluded.allow_review, excluded.max_attempts,
        true, NULL::timestamptz)
RETURNING a.slug, a.xmax = 0 AS inserted;

-- name: draw_columns_exist()$
-- Whether assessments has the draw settings of migration 0018.
SELECT EXISTS (SELECT 1 FROM pg_attribute
                WHERE attrelid = 'assessments'::regclass AND attname = 'draw_split'
                  AND NOT attisdropped);

-- name: demo_password_hashes(emails)
-- The password hash of each live account among these emails (case-insensitive).
SELECT lower(u.email), u.password_hash
  FROM users AS u
 WHERE u.deleted_at IS NULL
   AND lower(u.email) = ANY (SELECT lower(e) FROM unnest(CAST(:emails AS text[])) AS e);

-- name: upsert_users(rows)
-- Demo accounts by email among live accounts: active, email verified, with the given hash.
INSERT INTO users AS u
       (email, username, password_hash, role, email_verified, account_status)
SELECT r.email, r.username, r.password_hash, r.role, true, 'active'
  FROM jsonb_to_recordset(:rows) AS r(email text, username text, password_hash text,
                                      role text)
    ON CONFLICT (lower(email)) WHERE deleted_at IS NULL DO UPDATE
   SET email          = excluded.email,
       username       = excluded.username,
       password_hash  = excluded.password_hash,
       role           = excluded.role,
       email_verified = excluded.email_verified,
       account_status = excluded.account_status
 WHERE (u.email, u.username, u.password_hash, u.role, u.email_verified, u.account_status)
       IS DISTINCT FROM
       (excluded.email, excluded.username, excluded.password_hash, excluded.role,
        excluded.email_verified, excluded.account_status)
RETURNING u.email, u.xmax = 0 AS inserted;

-- name: upsert_profiles(rows)
-- The demo accounts' profiles (1:1 with users): the seeded fields only.
INSERT INTO user_profiles AS p
       (user_id, first_name, last_name, display_name, timezone, locale)
SELECT u.id, r.first_name, r.last_name, r.display_name, r.timezone, r.locale
  FROM jsonb_to_recordset(:rows) AS r(email text, first_name text, last_name text,
                                      display_name text, timezone text, locale text)
  JOIN users AS u ON lower(u.email) = lower(r.email) AND u.deleted_at IS NULL
    ON CONFLICT (user_id) DO UPDATE
   SET first_name   = excluded.first_name,
       last_name    = excluded.last_name,
       display_name = excluded.display_name,
       timezone     = excluded.timezone,
       locale       = excluded.locale
 WHERE (p.first_name, p.last_name, p.display_name, p.timezone, p.locale)
       IS DISTINCT FROM
       (excluded.first_name, excluded.last_name, excluded.display_name, excluded.timezone,
        excluded.locale)
RETURNING p.user_id, p.xmax = 0 AS inserted;

-- name: upsert_settings(rows)
-- The demo accounts' settings (1:1 with users): the seeded fields only.
INSERT INTO user_settings AS s (user_id, theme, daily_goal_minutes)
SELECT u.id, r.theme, r.daily_goal_minutes
  FROM jsonb_to_recordset(:rows) AS r(email text, theme text, daily_goal_minutes integer)
  JOIN users AS u ON lower(u.email) = lower(r.email) AND u.deleted_at IS NULL
    ON CONFLICT (user_id) DO UPDATE
   SET theme              = excluded.theme,
       daily_goal_minutes = excluded.daily_goal_minutes
 WHERE (s.theme, s.daily_goal_minutes)
       IS DISTINCT FROM (excluded.theme, excluded.daily_goal_minutes)
RETURNING s.user_id, s.xmax = 0 AS inserted;

-- name: create_streaks(emails)
-- A streak row for each demo account that has none; an existing streak is the learner's own
-- history and is never reset.
INSERT INTO learning_streaks (user_id)
SELECT u.id
  FROM users AS u
 WHERE u.deleted_at IS NULL
   AND lower(u.email) = ANY (SELECT lower(e) FROM unnest(CAST(:emails AS text[])) AS e)
    ON CONFLICT (user_id) DO NOTHING
RETURNING user_id, true AS inserted;

-- name: role_writes_catalog(role)$
-- Whether `role` exists and may insert into the catalog (migration 0013 applied); an older
-- database is seeded as the connecting role.
SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :role)
            THEN has_any_column_privilege(:role, 'learning_components', 'INSERT')
            ELSE false END;
