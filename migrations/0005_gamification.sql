-- migrate:up
-- 0005 gamification
-- Creates the progress-tracking / gamification tables of the ERD:
--   * achievements       achievement and badge definitions with jsonb criteria
--                        (vocabulary documented on check_and_award_achievement, 0007)
--   * user_achievements  achievements earned by users (at most once each)
--   * learning_streaks   daily engagement streaks, 1:1 with users
--   * study_goals        user-defined learning goals

-- ---------------------------------------------------------------------------
-- achievements
-- ---------------------------------------------------------------------------
CREATE TABLE achievements (
    id                uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    achievement_type  varchar(30)   NOT NULL,
    code              varchar(100)  NOT NULL,
    name              varchar(255)  NOT NULL,
    description       text,
    criteria          jsonb         NOT NULL DEFAULT '{}',   -- '{}' = awarded manually
    points            integer       NOT NULL DEFAULT 0,
    rarity            varchar(30)   NOT NULL DEFAULT 'common',
    is_active         boolean       NOT NULL DEFAULT true,
    created_at        timestamptz   NOT NULL DEFAULT now(),
    updated_at        timestamptz   NOT NULL DEFAULT now(),

    CONSTRAINT achievements_code_key
        UNIQUE (code),
    CONSTRAINT achievements_achievement_type_check
        CHECK (achievement_type IN ('badge', 'milestone', 'streak', 'mastery', 'special')),
    CONSTRAINT achievements_code_check
        CHECK (btrim(code) <> ''),
    CONSTRAINT achievements_name_check
        CHECK (btrim(name) <> ''),
    CONSTRAINT achievements_criteria_check
        CHECK (jsonb_typeof(criteria) = 'object'),
    CONSTRAINT achievements_points_check
        CHECK (points >= 0),
    CONSTRAINT achievements_rarity_check
        CHECK (rarity IN ('common', 'uncommon', 'rare', 'epic', 'legendary'))
);

COMMENT ON TABLE achievements IS
    'Achievement and badge definitions with jsonb earning criteria.';

CREATE INDEX idx_achievements_is_active ON achievements (is_active);

CREATE TRIGGER trg_achievements_updated_at
    BEFORE UPDATE ON achievements
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- ---------------------------------------------------------------------------
-- user_achievements (no updated_at in the ERD: rows are written once)
-- ---------------------------------------------------------------------------
CREATE TABLE user_achievements (
    id              uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid          NOT NULL,
    achievement_id  uuid          NOT NULL,
    earned_at       timestamptz   NOT NULL DEFAULT now(),
    progress_data   jsonb         NOT NULL DEFAULT '{}',

    CONSTRAINT user_achievements_user_id_achievement_id_key
        UNIQUE (user_id, achievement_id),
    CONSTRAINT user_achievements_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT user_achievements_achievement_id_fkey
        FOREIGN KEY (achievement_id) REFERENCES achievements (id) ON DELETE CASCADE
);

COMMENT ON TABLE user_achievements IS
    'Achievements earned by users, each at most once.';

CREATE INDEX idx_user_achievements_achievement_id ON user_achievements (achievement_id);

-- ---------------------------------------------------------------------------
-- learning_streaks (1:1 with users)
-- ---------------------------------------------------------------------------
CREATE TABLE learning_streaks (
    id                  uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             uuid          NOT NULL,
    current_streak      integer       NOT NULL DEFAULT 0,
    longest_streak      integer       NOT NULL DEFAULT 0,
    last_activity_date  date,                                -- NULL: no activity yet
    streak_start_date   date,
    total_active_days   integer       NOT NULL DEFAULT 0,
    streak_frozen_days  integer       NOT NULL DEFAULT 0,    -- missed days that may be bridged
    streak_history      jsonb         NOT NULL DEFAULT '[]', -- [{"start","end","length"}, ...]
    created_at          timestamptz   NOT NULL DEFAULT now(),
    updated_at          timestamptz   NOT NULL DEFAULT now(),

    CONSTRAINT learning_streaks_user_id_key
        UNIQUE (user_id),
    CONSTRAINT learning_streaks_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT learning_streaks_current_streak_check
        CHECK (current_streak >= 0),
    CONSTRAINT learning_streaks_longest_streak_check
        CHECK (longest_streak >= 0),
    CONSTRAINT learning_streaks_current_le_longest_check
        CHECK (current_streak <= longest_streak),
    CONSTRAINT learning_streaks_total_active_days_check
        CHECK (total_active_days >= 0),
    CONSTRAINT learning_streaks_streak_frozen_days_check
        CHECK (streak_frozen_days >= 0),
    CONSTRAINT learning_streaks_streak_history_check
        CHECK (jsonb_typeof(streak_history) = 'array')
);

COMMENT ON TABLE learning_streaks IS
    'Daily engagement streak tracking (1:1 with users); maintained by update_learning_streak().';

CREATE TRIGGER trg_learning_streaks_updated_at
    BEFORE UPDATE ON learning_streaks
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- ---------------------------------------------------------------------------
-- study_goals
-- ---------------------------------------------------------------------------
CREATE TABLE study_goals (
    id              uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid          NOT NULL,
    goal_type       varchar(30)   NOT NULL,
    title           varchar(255)  NOT NULL,
    target_value    integer       NOT NULL,
    current_value   integer       NOT NULL DEFAULT 0,
    metric          varchar(30)   NOT NULL,
    start_date      date          NOT NULL DEFAULT current_date,
    target_date     date,
    completed_date  date,
    status          varchar(30)   NOT NULL DEFAULT 'active',
    created_at      timestamptz   NOT NULL DEFAULT now(),
    updated_at      timestamptz   NOT NULL DEFAULT now(),

    CONSTRAINT study_goals_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT study_goals_goal_type_check
        CHECK (goal_type IN ('daily', 'weekly', 'monthly', 'exam_date', 'custom')),
    CONSTRAINT study_goals_title_check
        CHECK (btrim(title) <> ''),
    CONSTRAINT study_goals_target_value_check
        CHECK (target_value > 0),
    CONSTRAINT study_goals_current_value_check
        CHECK (current_value >= 0),
    CONSTRAINT study_goals_metric_check
        CHECK (metric IN ('minutes', 'components', 'assessments', 'score', 'streak')),
    CONSTRAINT study_goals_target_date_check
        CHECK (target_date >= start_date),
    CONSTRAINT study_goals_completed_date_check
        CHECK (completed_date >= start_date),
    CONSTRAINT study_goals_status_check
        CHECK (status IN ('active', 'completed', 'failed', 'abandoned'))
);

COMMENT ON TABLE study_goals IS
    'User-defined learning goals with target and current values.';

CREATE INDEX idx_study_goals_user_id_status ON study_goals (user_id, status);

CREATE TRIGGER trg_study_goals_updated_at
    BEFORE UPDATE ON study_goals
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- migrate:down
-- Reverse order. Dropping a table also drops its indexes, constraints,
-- triggers and comments.

DROP TABLE study_goals;
DROP TABLE learning_streaks;
DROP TABLE user_achievements;
DROP TABLE achievements;
