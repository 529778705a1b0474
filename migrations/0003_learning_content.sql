-- migrate:up
-- 0003 learning content
-- Creates the learning content tables of the ERD:
--   * learning_components  catalog of learning materials (soft delete)
--   * user_progress        per-user progress on each component
--   * learning_sessions    detailed session tracking for analytics
--   * bookmarks            per-user bookmarks on components
-- Content outlives its author: created_by is set to NULL when the author is
-- deleted. Everything owned by a user or a component cascades.

-- ---------------------------------------------------------------------------
-- learning_components
-- ---------------------------------------------------------------------------
CREATE TABLE learning_components (
    id                          uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    component_type              varchar(30)   NOT NULL,
    domain                      varchar(100)  NOT NULL,
    subdomain                   varchar(100),
    title                       varchar(255)  NOT NULL,
    slug                        varchar(255)  NOT NULL,
    description                 text,
    content                     jsonb         NOT NULL DEFAULT '{}',
    difficulty_level            varchar(30)   NOT NULL DEFAULT 'intermediate',
    estimated_duration_minutes  integer,
    prerequisites               uuid[]        NOT NULL DEFAULT '{}',  -- ids of learning_components
    objectives                  text[]        NOT NULL DEFAULT '{}',
    comptia_objectives          text[]        NOT NULL DEFAULT '{}',  -- exam objective codes, e.g. '1.1'
    is_published                boolean       NOT NULL DEFAULT false,
    view_count                  integer       NOT NULL DEFAULT 0,
    completion_count            integer       NOT NULL DEFAULT 0,
    average_rating              numeric(3,2),                         -- NULL until rated
    rating_count                integer       NOT NULL DEFAULT 0,
    created_by                  uuid,
    created_at                  timestamptz   NOT NULL DEFAULT now(),
    updated_at                  timestamptz   NOT NULL DEFAULT now(),
    deleted_at                  timestamptz,

    CONSTRAINT learning_components_slug_key
        UNIQUE (slug),
    CONSTRAINT learning_components_created_by_fkey
        FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT learning_components_component_type_check
        CHECK (component_type IN ('lesson', 'video', 'flashcard', 'quiz', 'lab', 'simulation',
                                  'assessment', 'reading', 'practice_exam', 'study_guide')),
    CONSTRAINT learning_components_domain_check
        CHECK (btrim(domain) <> ''),
    CONSTRAINT learning_components_title_check
        CHECK (btrim(title) <> ''),
    -- lowercase words of letters and digits joined by single hyphens (never empty)
    CONSTRAINT learning_components_slug_check
        CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    CONSTRAINT learning_components_difficulty_level_check
        CHECK (difficulty_level IN ('beginner', 'intermediate', 'advanced')),
    CONSTRAINT learning_components_estimated_duration_minutes_check
        CHECK (estimated_duration_minutes IS NULL OR estimated_duration_minutes > 0),
    CONSTRAINT learning_components_view_count_check
        CHECK (view_count >= 0),
    CONSTRAINT learning_components_completion_count_check
        CHECK (completion_count >= 0),
    CONSTRAINT learning_components_average_rating_check
        CHECK (average_rating BETWEEN 0 AND 5),
    CONSTRAINT learning_components_rating_count_check
        CHECK (rating_count >= 0)
);

COMMENT ON TABLE learning_components IS
    'Catalog of all learning materials (soft delete via deleted_at).';

-- Browsing only ever shows published, non-deleted components: partial indexes.
CREATE INDEX idx_learning_components_domain_subdomain
    ON learning_components (domain, subdomain)
    WHERE is_published AND deleted_at IS NULL;
CREATE INDEX idx_learning_components_component_type
    ON learning_components (component_type)
    WHERE is_published AND deleted_at IS NULL;
CREATE INDEX idx_learning_components_difficulty_level
    ON learning_components (difficulty_level)
    WHERE is_published AND deleted_at IS NULL;
-- Exam-objective lookups: comptia_objectives @> ARRAY['1.1']
CREATE INDEX idx_learning_components_comptia_objectives
    ON learning_components USING gin (comptia_objectives);
CREATE INDEX idx_learning_components_created_by
    ON learning_components (created_by);

CREATE TRIGGER trg_learning_components_updated_at
    BEFORE UPDATE ON learning_components
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- ---------------------------------------------------------------------------
-- user_progress
-- ---------------------------------------------------------------------------
CREATE TABLE user_progress (
    id                   uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id              uuid          NOT NULL,
    component_id         uuid          NOT NULL,
    status               varchar(30)   NOT NULL DEFAULT 'not_started',
    progress_percentage  integer       NOT NULL DEFAULT 0,
    time_spent_minutes   integer       NOT NULL DEFAULT 0,
    last_position        jsonb,                              -- resume point; NULL until opened
    best_score           numeric(5,2),                       -- percentage, NULL until scored
    latest_score         numeric(5,2),                       -- percentage, NULL until scored
    completion_date      timestamptz,
    mastery_date         timestamptz,
    created_at           timestamptz   NOT NULL DEFAULT now(),
    updated_at           timestamptz   NOT NULL DEFAULT now(),

    CONSTRAINT user_progress_user_id_component_id_key
        UNIQUE (user_id, component_id),
    CONSTRAINT user_progress_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT user_progress_component_id_fkey
        FOREIGN KEY (component_id) REFERENCES learning_components (id) ON DELETE CASCADE,
    CONSTRAINT user_progress_status_check
        CHECK (status IN ('not_started', 'in_progress', 'completed', 'mastered')),
    CONSTRAINT user_progress_progress_percentage_check
        CHECK (progress_percentage BETWEEN 0 AND 100),
    CONSTRAINT user_progress_time_spent_minutes_check
        CHECK (time_spent_minutes >= 0),
    CONSTRAINT user_progress_best_score_check
        CHECK (best_score BETWEEN 0 AND 100),
    CONSTRAINT user_progress_latest_score_check
        CHECK (latest_score BETWEEN 0 AND 100),
    -- The milestone dates are required only in one direction: a completed or
    -- mastered row must say when. The converse is deliberately not enforced,
    -- so a row reopened to in_progress (or demoted from mastered) keeps its
    -- dates as history and such writes are not blocked.
    CONSTRAINT user_progress_completion_date_check
        CHECK (status NOT IN ('completed', 'mastered') OR completion_date IS NOT NULL),
    CONSTRAINT user_progress_mastery_date_check
        CHECK (status <> 'mastered' OR mastery_date IS NOT NULL)
);

COMMENT ON TABLE user_progress IS
    'Individual progress tracking per user and learning component.';

-- (user_id, ...) is covered by the unique constraint above.
CREATE INDEX idx_user_progress_component_id   ON user_progress (component_id);
CREATE INDEX idx_user_progress_user_id_status ON user_progress (user_id, status);

CREATE TRIGGER trg_user_progress_updated_at
    BEFORE UPDATE ON user_progress
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- ---------------------------------------------------------------------------
-- learning_sessions
-- ---------------------------------------------------------------------------
CREATE TABLE learning_sessions (
    id                   uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id              uuid          NOT NULL,
    component_id         uuid          NOT NULL,
    session_start        timestamptz   NOT NULL DEFAULT now(),
    session_end          timestamptz,                        -- NULL while the session is open
    duration_minutes     integer       NOT NULL DEFAULT 0,
    interaction_count    integer       NOT NULL DEFAULT 0,
    completion_achieved  boolean       NOT NULL DEFAULT false,
    device_type          varchar(30),
    session_data         jsonb         NOT NULL DEFAULT '{}',
    created_at           timestamptz   NOT NULL DEFAULT now(),

    CONSTRAINT learning_sessions_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT learning_sessions_component_id_fkey
        FOREIGN KEY (component_id) REFERENCES learning_components (id) ON DELETE CASCADE,
    CONSTRAINT learning_sessions_session_end_check
        CHECK (session_end >= session_start),
    CONSTRAINT learning_sessions_duration_minutes_check
        CHECK (duration_minutes >= 0),
    CONSTRAINT learning_sessions_interaction_count_check
        CHECK (interaction_count >= 0),
    CONSTRAINT learning_sessions_device_type_check
        CHECK (device_type IN ('desktop', 'tablet', 'mobile'))
);

COMMENT ON TABLE learning_sessions IS
    'Detailed learning session tracking for analytics.';

CREATE INDEX idx_learning_sessions_user_id_session_start
    ON learning_sessions (user_id, session_start DESC);
CREATE INDEX idx_learning_sessions_component_id_session_start
    ON learning_sessions (component_id, session_start);

-- ---------------------------------------------------------------------------
-- bookmarks
-- ---------------------------------------------------------------------------
CREATE TABLE bookmarks (
    id            uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid          NOT NULL,
    component_id  uuid          NOT NULL,
    position      jsonb,                                     -- NULL: the component as a whole
    note          text,
    created_at    timestamptz   NOT NULL DEFAULT now(),
    updated_at    timestamptz   NOT NULL DEFAULT now(),

    CONSTRAINT bookmarks_user_id_component_id_key
        UNIQUE (user_id, component_id),
    CONSTRAINT bookmarks_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT bookmarks_component_id_fkey
        FOREIGN KEY (component_id) REFERENCES learning_components (id) ON DELETE CASCADE
);

COMMENT ON TABLE bookmarks IS
    'Learning components bookmarked by users, with an optional position and note.';

CREATE INDEX idx_bookmarks_component_id ON bookmarks (component_id);

CREATE TRIGGER trg_bookmarks_updated_at
    BEFORE UPDATE ON bookmarks
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- migrate:down
-- Reverse order. Dropping a table also drops its indexes, constraints,
-- triggers and comments.

DROP TABLE bookmarks;
DROP TABLE learning_sessions;
DROP TABLE user_progress;
DROP TABLE learning_components;
