-- Profiles and settings: what a learner sees and changes about themselves.

-- name: get_profile(user_id)^
-- A user's profile.
-- row: Profile
-- replica: yes
SELECT user_id, first_name, last_name, display_name, bio, avatar_url, timezone, locale,
       certifications, updated_at
  FROM user_profiles
 WHERE user_id = :user_id;

-- name: update_profile(user_id, first_name, last_name, display_name, bio, avatar_url, timezone, locale, certifications)<!
-- Replace a user's profile fields (send the current value for fields left unchanged).
-- row: Profile
-- optional: first_name, last_name, display_name, bio, avatar_url
UPDATE user_profiles
   SET first_name = :first_name, last_name = :last_name, display_name = :display_name,
       bio = :bio, avatar_url = :avatar_url, timezone = :timezone, locale = :locale,
       certifications = :certifications
 WHERE user_id = :user_id
RETURNING user_id, first_name, last_name, display_name, bio, avatar_url, timezone, locale,
          certifications, updated_at;

-- name: get_settings(user_id)^
-- A user's settings.
-- row: Settings
-- replica: yes
SELECT user_id, theme, notifications_enabled, email_notifications, study_reminders,
       reminder_time, reminder_days, accessibility_mode, high_contrast, font_size,
       daily_goal_minutes, privacy_settings, updated_at
  FROM user_settings
 WHERE user_id = :user_id;

-- name: update_settings(user_id, theme, notifications_enabled, email_notifications, study_reminders, reminder_time, reminder_days, accessibility_mode, high_contrast, font_size, daily_goal_minutes, privacy_settings)<!
-- Replace a user's settings (send the current value for fields left unchanged).
-- row: Settings
-- optional: reminder_time
UPDATE user_settings
   SET theme = :theme, notifications_enabled = :notifications_enabled,
       email_notifications = :email_notifications, study_reminders = :study_reminders,
       reminder_time = :reminder_time, reminder_days = :reminder_days,
       accessibility_mode = :accessibility_mode, high_contrast = :high_contrast,
       font_size = :font_size, daily_goal_minutes = :daily_goal_minutes,
       privacy_settings = :privacy_settings
 WHERE user_id = :user_id
RETURNING user_id, theme, notifications_enabled, email_notifications, study_reminders,
          reminder_time, reminder_days, accessibility_mode, high_contrast, font_size,
          daily_goal_minutes, privacy_settings, updated_at;
