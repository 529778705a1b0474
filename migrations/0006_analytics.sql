-- migrate:up
-- 0006 analytics
-- Creates the analytics tables of the ERD:
--   * user_activity_logs   activity audit trail; survives user deletion (user_id SET NULL)
--   * component_analytics  daily aggregated metrics per learning component
--   * performance_metrics  system performance and health measurements
-- Neither user_activity_logs nor performance_metrics is ever updated in
-- place (no updated_at in the ERD, so no trigger).

-- ---------------------------------------------------------------------------
-- user_activity_logs
-- ---------------------------------------------------------------------------
CREATE TABLE user_activity_logs (
    id                    uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id               uuid,                              -- NULL: anonymous or deleted user
    activity_type         varchar(100)  NOT NULL,
    activity_description  text,
    resource_type         varchar(100),
    resource_id           uuid,
    metadata              jsonb         NOT NULL DEFAULT '{}',
    ip_address            inet,
    user_agent            text,
    created_at            timestamptz   NOT NULL DEFAULT now(),

    CONSTRAINT user_activity_logs_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT user_activity_logs_activity_type_check
        CHECK (btrim(activity_type) <> '')
);

COMMENT ON TABLE user_activity_logs IS
    'Comprehensive user activity audit trail (kept, with user_id NULL, when the user is deleted).';

CREATE INDEX idx_user_activity_logs_user_id_created_at
    ON user_activity_logs (user_id, created_at DESC);
CREATE INDEX idx_user_activity_logs_activity_type
    ON user_activity_logs (activity_type);
CREATE INDEX idx_user_activity_logs_created_at
    ON user_activity_logs (created_at);

-- ---------------------------------------------------------------------------
-- component_analytics
-- ---------------------------------------------------------------------------
CREATE TABLE component_analytics (
    id                    uuid           PRIMARY KEY DEFAULT gen_random_uuid(),
    component_id          uuid           NOT NULL,
    date                  date           NOT NULL,
    views                 integer        NOT NULL DEFAULT 0,
    unique_users          integer        NOT NULL DEFAULT 0,
    completions           integer        NOT NULL DEFAULT 0,
    average_time_minutes  numeric(10,2),                     -- NULL when there was no activity
    average_score         numeric(5,2),                      -- percentage; NULL when nothing was scored
    engagement_rate       numeric(5,2),                      -- percentage
    bounce_rate           numeric(5,2),                      -- percentage
    created_at            timestamptz    NOT NULL DEFAULT now(),
    updated_at            timestamptz    NOT NULL DEFAULT now(),

    CONSTRAINT component_analytics_component_id_date_key
        UNIQUE (component_id, date),
    CONSTRAINT component_analytics_component_id_fkey
        FOREIGN KEY (component_id) REFERENCES learning_components (id) ON DELETE CASCADE,
    CONSTRAINT component_analytics_views_check
        CHECK (views >= 0),
    CONSTRAINT component_analytics_unique_users_check
        CHECK (unique_users >= 0),
    CONSTRAINT component_analytics_completions_check
        CHECK (completions >= 0),
    CONSTRAINT component_analytics_average_time_minutes_check
        CHECK (average_time_minutes >= 0),
    CONSTRAINT component_analytics_average_score_check
        CHECK (average_score BETWEEN 0 AND 100),
    CONSTRAINT component_analytics_engagement_rate_check
        CHECK (engagement_rate BETWEEN 0 AND 100),
    CONSTRAINT component_analytics_bounce_rate_check
        CHECK (bounce_rate BETWEEN 0 AND 100)
);

COMMENT ON TABLE component_analytics IS
    'Daily aggregated metrics per learning component (one row per component and date).';

-- (component_id, ...) is covered by the unique constraint above.

CREATE TRIGGER trg_component_analytics_updated_at
    BEFORE UPDATE ON component_analytics
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- ---------------------------------------------------------------------------
-- performance_metrics
-- ---------------------------------------------------------------------------
CREATE TABLE performance_metrics (
    id            uuid           PRIMARY KEY DEFAULT gen_random_uuid(),
    metric_type   varchar(100)   NOT NULL,
    metric_name   varchar(255)   NOT NULL,
    metric_value  numeric(20,6)  NOT NULL,
    unit          varchar(30),
    tags          jsonb          NOT NULL DEFAULT '{}',
    "timestamp"   timestamptz    NOT NULL DEFAULT now(),     -- time of measurement
    created_at    timestamptz    NOT NULL DEFAULT now(),

    CONSTRAINT performance_metrics_metric_type_check
        CHECK (btrim(metric_type) <> ''),
    CONSTRAINT performance_metrics_metric_name_check
        CHECK (btrim(metric_name) <> '')
);

COMMENT ON TABLE performance_metrics IS
    'System performance and health metrics (one measurement per row).';

CREATE INDEX idx_performance_metrics_metric_type_metric_name_timestamp
    ON performance_metrics (metric_type, metric_name, "timestamp" DESC);

-- migrate:down
-- Reverse order. Dropping a table also drops its indexes, constraints,
-- triggers and comments.

DROP TABLE performance_metrics;
DROP TABLE component_analytics;
DROP TABLE user_activity_logs;
