-- Achievements and streaks.

-- name: list_achievements()
-- The active achievements catalog.
SELECT id, code, achievement_type, name, description, criteria, points, rarity
  FROM achievements
 WHERE is_active
 ORDER BY achievement_type, points, code;

-- name: user_achievements(user_id)
-- What a user has earned, newest first.
SELECT a.code, a.name, a.achievement_type, a.rarity, a.points, ua.earned_at, ua.progress_data
  FROM user_achievements ua
  JOIN achievements a ON a.id = ua.achievement_id
 WHERE ua.user_id = :user_id
 ORDER BY ua.earned_at DESC, a.code;

-- name: award_achievement(user_id, code)$
-- Award one achievement if its criteria are met and it is not yet earned;
-- true when awarded now (check_and_award_achievement).
SELECT check_and_award_achievement(:user_id, :code);

-- name: evaluate_achievements(user_id)
-- Award every active, automatically evaluated achievement whose criteria the
-- user now meets (manual ones are granted explicitly); returns those awarded.
SELECT code, name, points
  FROM achievements
 WHERE is_active
   AND coalesce(criteria ->> 'type', 'manual') <> 'manual'
   AND NOT EXISTS (SELECT 1 FROM user_achievements ua
                    WHERE ua.user_id = :user_id AND ua.achievement_id = achievements.id)
   AND check_and_award_achievement(:user_id, code)
 ORDER BY code;

-- name: update_streak(user_id, activity_date)!
-- Count a day of activity in the user's streak (update_learning_streak);
-- activity_date NULL means today.
-- optional: activity_date
SELECT update_learning_streak(:user_id, coalesce(:activity_date::date, current_date));

-- name: get_streak(user_id)^
-- A user's streak.
SELECT user_id, current_streak, longest_streak, last_activity_date, streak_start_date,
       total_active_days, streak_frozen_days
  FROM learning_streaks
 WHERE user_id = :user_id;
