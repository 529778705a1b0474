-- migrate:up
-- 0004 assessments
-- Creates the assessment tables of the ERD:
--   * question_bank        reusable question pool (soft delete)
--   * assessments          assessment definitions; questions by id array (soft delete)
--   * assessment_attempts  a user's attempts at an assessment, with scoring
--   * assessment_answers   one answer per question per attempt
-- Questions and assessments outlive their author (created_by SET NULL);
-- attempts and answers cascade from users, assessments, attempts and questions.

-- ---------------------------------------------------------------------------
-- question_bank
-- ---------------------------------------------------------------------------
CREATE TABLE question_bank (
    id                    uuid           PRIMARY KEY DEFAULT gen_random_uuid(),
    question_type         varchar(30)    NOT NULL,
    domain                varchar(100)   NOT NULL,
    subdomain             varchar(100),
    difficulty_level      varchar(30)    NOT NULL DEFAULT 'intermediate',
    question_text         text           NOT NULL,
    question_data         jsonb          NOT NULL DEFAULT '{}',  -- options etc., per question type
    correct_answer        jsonb          NOT NULL,
    explanation           text,
    hints                 text[]         NOT NULL DEFAULT '{}',
    points                integer        NOT NULL DEFAULT 1,
    comptia_objectives    text[]         NOT NULL DEFAULT '{}',
    usage_count           integer        NOT NULL DEFAULT 0,
    correct_count         integer        NOT NULL DEFAULT 0,
    incorrect_count       integer        NOT NULL DEFAULT 0,
    average_time_seconds  numeric(10,2),                         -- NULL until answered
    is_published          boolean        NOT NULL DEFAULT false,
    created_by            uuid,
    created_at            timestamptz    NOT NULL DEFAULT now(),
    updated_at            timestamptz    NOT NULL DEFAULT now(),
    deleted_at            timestamptz,

    CONSTRAINT question_bank_created_by_fkey
        FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT question_bank_question_type_check
        CHECK (question_type IN ('multiple_choice', 'multiple_select', 'true_false',
                                 'fill_blank', 'matching', 'simulation')),
    CONSTRAINT question_bank_domain_check
        CHECK (btrim(domain) <> ''),
    CONSTRAINT question_bank_difficulty_level_check
        CHECK (difficulty_level IN ('beginner', 'intermediate', 'advanced')),
    CONSTRAINT question_bank_question_text_check
        CHECK (btrim(question_text) <> ''),
    CONSTRAINT question_bank_points_check
        CHECK (points >= 0),
    CONSTRAINT question_bank_usage_count_check
        CHECK (usage_count >= 0),
    CONSTRAINT question_bank_correct_count_check
        CHECK (correct_count >= 0),
    CONSTRAINT question_bank_incorrect_count_check
        CHECK (incorrect_count >= 0),
    CONSTRAINT question_bank_average_time_seconds_check
        CHECK (average_time_seconds >= 0)
);

COMMENT ON TABLE question_bank IS
    'Reusable question pool for all assessments (soft delete via deleted_at).';

CREATE INDEX idx_question_bank_domain
    ON question_bank (domain);
CREATE INDEX idx_question_bank_question_type
    ON question_bank (question_type);
CREATE INDEX idx_question_bank_comptia_objectives
    ON question_bank USING gin (comptia_objectives);
CREATE INDEX idx_question_bank_created_by
    ON question_bank (created_by);

CREATE TRIGGER trg_question_bank_updated_at
    BEFORE UPDATE ON question_bank
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- ---------------------------------------------------------------------------
-- assessments
-- ---------------------------------------------------------------------------
CREATE TABLE assessments (
    id                   uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    assessment_type      varchar(30)   NOT NULL,
    title                varchar(255)  NOT NULL,
    slug                 varchar(255)  NOT NULL,
    description          text,
    domain               varchar(100),                       -- NULL: spans all domains
    difficulty_level     varchar(30),                        -- NULL: mixed difficulty
    time_limit_minutes   integer,                            -- NULL: untimed
    passing_score        integer       NOT NULL DEFAULT 70,  -- minimum passing percentage
    question_ids         uuid[]        NOT NULL DEFAULT '{}',  -- ids of question_bank rows
    randomize_questions  boolean       NOT NULL DEFAULT true,
    randomize_answers    boolean       NOT NULL DEFAULT false,
    show_answers_after   boolean       NOT NULL DEFAULT true,
    allow_review         boolean       NOT NULL DEFAULT true,
    max_attempts         integer,                            -- NULL: unlimited
    is_published         boolean       NOT NULL DEFAULT false,
    created_by           uuid,
    created_at           timestamptz   NOT NULL DEFAULT now(),
    updated_at           timestamptz   NOT NULL DEFAULT now(),
    deleted_at           timestamptz,

    CONSTRAINT assessments_slug_key
        UNIQUE (slug),
    CONSTRAINT assessments_created_by_fkey
        FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT assessments_assessment_type_check
        CHECK (assessment_type IN ('quiz', 'practice_exam', 'final_exam', 'checkpoint')),
    CONSTRAINT assessments_title_check
        CHECK (btrim(title) <> ''),
    CONSTRAINT assessments_slug_check
        CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    CONSTRAINT assessments_difficulty_level_check
        CHECK (difficulty_level IN ('beginner', 'intermediate', 'advanced')),
    CONSTRAINT assessments_time_limit_minutes_check
        CHECK (time_limit_minutes IS NULL OR time_limit_minutes > 0),
    CONSTRAINT assessments_passing_score_check
        CHECK (passing_score BETWEEN 0 AND 100),
    CONSTRAINT assessments_max_attempts_check
        CHECK (max_attempts IS NULL OR max_attempts > 0)
);

COMMENT ON TABLE assessments IS
    'Assessment definitions and configuration (soft delete via deleted_at).';

CREATE INDEX idx_assessments_assessment_type ON assessments (assessment_type);
CREATE INDEX idx_assessments_domain          ON assessments (domain);
CREATE INDEX idx_assessments_created_by      ON assessments (created_by);

CREATE TRIGGER trg_assessments_updated_at
    BEFORE UPDATE ON assessments
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- ---------------------------------------------------------------------------
-- assessment_attempts
-- ---------------------------------------------------------------------------
CREATE TABLE assessment_attempts (
    id                  uuid           PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             uuid           NOT NULL,
    assessment_id       uuid           NOT NULL,
    attempt_number      integer        NOT NULL DEFAULT 1,
    status              varchar(30)    NOT NULL DEFAULT 'in_progress',
    started_at          timestamptz    NOT NULL DEFAULT now(),
    completed_at        timestamptz,
    time_spent_minutes  integer        NOT NULL DEFAULT 0,
    score               numeric(10,2),                       -- points; NULL until graded
    percentage          numeric(5,2),                        -- NULL until graded
    passed              boolean        NOT NULL DEFAULT false,
    question_order      uuid[],                              -- order actually shown; NULL: assessment order
    correct_answers     integer        NOT NULL DEFAULT 0,
    incorrect_answers   integer        NOT NULL DEFAULT 0,
    skipped_questions   integer        NOT NULL DEFAULT 0,
    created_at          timestamptz    NOT NULL DEFAULT now(),
    updated_at          timestamptz    NOT NULL DEFAULT now(),

    CONSTRAINT assessment_attempts_user_id_assessment_id_attempt_number_key
        UNIQUE (user_id, assessment_id, attempt_number),
    CONSTRAINT assessment_attempts_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT assessment_attempts_assessment_id_fkey
        FOREIGN KEY (assessment_id) REFERENCES assessments (id) ON DELETE CASCADE,
    CONSTRAINT assessment_attempts_attempt_number_check
        CHECK (attempt_number >= 1),
    CONSTRAINT assessment_attempts_status_check
        CHECK (status IN ('in_progress', 'completed', 'abandoned', 'timed_out')),
    CONSTRAINT assessment_attempts_completed_at_check
        CHECK (completed_at >= started_at),
    CONSTRAINT assessment_attempts_time_spent_minutes_check
        CHECK (time_spent_minutes >= 0),
    CONSTRAINT assessment_attempts_score_check
        CHECK (score >= 0),
    CONSTRAINT assessment_attempts_percentage_check
        CHECK (percentage BETWEEN 0 AND 100),
    CONSTRAINT assessment_attempts_correct_answers_check
        CHECK (correct_answers >= 0),
    CONSTRAINT assessment_attempts_incorrect_answers_check
        CHECK (incorrect_answers >= 0),
    CONSTRAINT assessment_attempts_skipped_questions_check
        CHECK (skipped_questions >= 0)
);

COMMENT ON TABLE assessment_attempts IS
    'User assessment attempts with status, timing and scoring.';

-- (user_id, assessment_id, attempt_number) is covered by the unique constraint.
CREATE INDEX idx_assessment_attempts_assessment_id  ON assessment_attempts (assessment_id);
CREATE INDEX idx_assessment_attempts_user_id_status ON assessment_attempts (user_id, status);

CREATE TRIGGER trg_assessment_attempts_updated_at
    BEFORE UPDATE ON assessment_attempts
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- ---------------------------------------------------------------------------
-- assessment_answers
-- ---------------------------------------------------------------------------
CREATE TABLE assessment_answers (
    id                  uuid           PRIMARY KEY DEFAULT gen_random_uuid(),
    attempt_id          uuid           NOT NULL,
    question_id         uuid           NOT NULL,
    user_answer         jsonb,                               -- NULL: not answered (skipped)
    is_correct          boolean        NOT NULL DEFAULT false,
    points_earned       numeric(10,2)  NOT NULL DEFAULT 0,
    time_spent_seconds  integer        NOT NULL DEFAULT 0,
    flagged_for_review  boolean        NOT NULL DEFAULT false,
    created_at          timestamptz    NOT NULL DEFAULT now(),
    updated_at          timestamptz    NOT NULL DEFAULT now(),

    CONSTRAINT assessment_answers_attempt_id_question_id_key
        UNIQUE (attempt_id, question_id),
    CONSTRAINT assessment_answers_attempt_id_fkey
        FOREIGN KEY (attempt_id) REFERENCES assessment_attempts (id) ON DELETE CASCADE,
    CONSTRAINT assessment_answers_question_id_fkey
        FOREIGN KEY (question_id) REFERENCES question_bank (id) ON DELETE CASCADE,
    CONSTRAINT assessment_answers_points_earned_check
        CHECK (points_earned >= 0),
    CONSTRAINT assessment_answers_time_spent_seconds_check
        CHECK (time_spent_seconds >= 0)
);

COMMENT ON TABLE assessment_answers IS
    'Individual answers given for each question of an assessment attempt.';

CREATE INDEX idx_assessment_answers_question_id ON assessment_answers (question_id);

CREATE TRIGGER trg_assessment_answers_updated_at
    BEFORE UPDATE ON assessment_answers
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- migrate:down
-- Reverse order. Dropping a table also drops its indexes, constraints,
-- triggers and comments.

DROP TABLE assessment_answers;
DROP TABLE assessment_attempts;
DROP TABLE assessments;
DROP TABLE question_bank;
