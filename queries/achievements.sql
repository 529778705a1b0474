-- Achievements and streaks.

-- name: list_achievements()
-- The active achievements catalog.
-- replica: yes
SELECT id, code, achievement_type, name, description, criteria, points, rarity
  FROM achievements
 WHERE is_active
 ORDER BY achievement_type, points, code;

-- name: user_achievements(user_id)
-- What a user has earned, newest first.
-- replica: yes
SELECT a.code, a.name, a.achievement_type, a.rarity, a.points, ua.earned_at, ua.progress_data
  FROM user_achievements ua
  JOIN achievements a ON a.id = ua.achievement_id
 WHERE ua.user_id = :user_id
 ORDER BY ua.earned_at DESC, a.code;

-- name: award_achievement(user_id, code)$
-- Award one achievement if its criteria are met and it is not yet earned (manual ones are
-- granted this way); true when awarded now (check_and_award_achievement): admin only, audited.
SELECT check_and_award_achievement(:user_id, :code);

-- name: achievement_summaries(codes)
-- The code, name and points of these achievements, by code (what the reward logic awarded).
-- row: AwardedAchievement
-- replica: yes
SELECT code, name, points
  FROM achievements
 WHERE code = ANY (:codes::text[])
 ORDER BY code;

-- name: get_streak(user_id)^
-- A user's streak.
-- replica: yes
SELECT user_id, current_streak, longest_streak, last_activity_date, streak_start_date,
       total_active_days, streak_frozen_days
  FROM learning_streaks
 WHERE user_id = :user_id;

-- name: leaderboard(period, page_size)
-- The top learners by achievement points, period 'all_time' or 'week' (leaderboard():
-- usernames and points only, learners who opted out left out: user_settings.privacy_settings
-- {"show_on_leaderboard": false}). Points are as of the last refresh_analytics_views()
-- (`as_of`). Works in a learner's transaction (as_user).
-- not-null: rank, username, points, as_of
-- replica: yes
SELECT rank, username, points, as_of FROM leaderboard(:period, :page_size);
