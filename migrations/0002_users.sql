-- migrate:up
-- 0002 users
-- Creates the core user tables of the ERD:
--   * users          authentication and authorization (soft delete via deleted_at)
--   * user_profiles  extended profile, 1:1 with users
--   * user_settings  application preferences, 1:1 with users
-- Email and username are unique case-insensitively among non-deleted users
-- (partial unique indexes on lower(...)), so a soft-deleted account frees its
-- email and username for a new registration.

-- ---------------------------------------------------------------------------
-- users
-- ---------------------------------------------------------------------------
CREATE TABLE users (
    id              uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
    email           varchar(255) NOT NULL,
    username        varchar(50)  NOT NULL,
    password_hash   text         NOT NULL,   -- bcrypt hash, computed by the application
    role            varchar(30)  NOT NULL DEFAULT 'student',
    email_verified  boolean      NOT NULL DEFAULT false,
    account_status  varchar(30)  NOT NULL DEFAULT 'active',
    created_at      timestamptz  NOT NULL DEFAULT now(),
    updated_at      timestamptz  NOT NULL DEFAULT now(),
    deleted_at      timestamptz,

    CONSTRAINT users_email_check
        CHECK (btrim(email) <> '' AND strpos(email, '@') > 0),
    CONSTRAINT users_username_check
        CHECK (btrim(username) <> ''),
    CONSTRAINT users_password_hash_check
        CHECK (btrim(password_hash) <> ''),
    CONSTRAINT users_role_check
        CHECK (role IN ('student', 'instructor', 'admin')),
    CONSTRAINT users_account_status_check
        CHECK (account_status IN ('active', 'suspended', 'deactivated', 'deleted'))
);

COMMENT ON TABLE users IS
    'Core authentication and authorization table (soft delete via deleted_at).';

-- Login looks users up by lower(email) / lower(username).
CREATE UNIQUE INDEX idx_users_lower_email    ON users (lower(email))    WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX idx_users_lower_username ON users (lower(username)) WHERE deleted_at IS NULL;
CREATE INDEX idx_users_role           ON users (role);
CREATE INDEX idx_users_account_status ON users (account_status);
CREATE INDEX idx_users_created_at     ON users (created_at);

CREATE TRIGGER trg_users_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- ---------------------------------------------------------------------------
-- user_profiles (1:1 with users)
-- ---------------------------------------------------------------------------
CREATE TABLE user_profiles (
    id              uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid         NOT NULL,
    first_name      varchar(100),
    last_name       varchar(100),
    display_name    varchar(100),
    bio             text,
    avatar_url      text,
    timezone        varchar(64)  NOT NULL DEFAULT 'UTC',
    locale          varchar(16)  NOT NULL DEFAULT 'en-US',
    certifications  text[]       NOT NULL DEFAULT '{}',
    created_at      timestamptz  NOT NULL DEFAULT now(),
    updated_at      timestamptz  NOT NULL DEFAULT now(),

    CONSTRAINT user_profiles_user_id_key
        UNIQUE (user_id),
    CONSTRAINT user_profiles_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT user_profiles_timezone_check
        CHECK (btrim(timezone) <> ''),
    CONSTRAINT user_profiles_locale_check
        CHECK (btrim(locale) <> '')
);

COMMENT ON TABLE user_profiles IS
    'Extended user information and preferences (1:1 with users).';

CREATE TRIGGER trg_user_profiles_updated_at
    BEFORE UPDATE ON user_profiles
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- ---------------------------------------------------------------------------
-- user_settings (1:1 with users)
-- ---------------------------------------------------------------------------
CREATE TABLE user_settings (
    id                     uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id                uuid         NOT NULL,
    theme                  varchar(30)  NOT NULL DEFAULT 'system',
    notifications_enabled  boolean      NOT NULL DEFAULT true,
    email_notifications    boolean      NOT NULL DEFAULT true,
    study_reminders        boolean      NOT NULL DEFAULT true,
    reminder_time          time,                                 -- NULL: no fixed reminder time
    reminder_days          integer[]    NOT NULL DEFAULT '{1,2,3,4,5,6,7}',  -- ISO weekdays, 1 = Monday
    accessibility_mode     boolean      NOT NULL DEFAULT false,
    high_contrast          boolean      NOT NULL DEFAULT false,
    font_size              varchar(30)  NOT NULL DEFAULT 'medium',
    daily_goal_minutes     integer      NOT NULL DEFAULT 30,
    privacy_settings       jsonb        NOT NULL DEFAULT '{}',
    created_at             timestamptz  NOT NULL DEFAULT now(),
    updated_at             timestamptz  NOT NULL DEFAULT now(),

    CONSTRAINT user_settings_user_id_key
        UNIQUE (user_id),
    CONSTRAINT user_settings_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT user_settings_theme_check
        CHECK (theme IN ('light', 'dark', 'system')),
    -- Every element must be an ISO weekday; a NULL element fails the test too.
    CONSTRAINT user_settings_reminder_days_check
        CHECK (reminder_days <@ ARRAY[1, 2, 3, 4, 5, 6, 7]),
    CONSTRAINT user_settings_font_size_check
        CHECK (font_size IN ('small', 'medium', 'large', 'x-large')),
    CONSTRAINT user_settings_daily_goal_minutes_check
        CHECK (daily_goal_minutes BETWEEN 1 AND 1440),
    CONSTRAINT user_settings_privacy_settings_check
        CHECK (jsonb_typeof(privacy_settings) = 'object')
);

COMMENT ON TABLE user_settings IS
    'Application preferences and configuration (1:1 with users).';

CREATE TRIGGER trg_user_settings_updated_at
    BEFORE UPDATE ON user_settings
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- migrate:down
-- Reverse order. Dropping a table also drops its indexes, constraints,
-- triggers and comments.

DROP TABLE user_settings;
DROP TABLE user_profiles;
DROP TABLE users;
