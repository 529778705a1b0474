-- Bookmarks: a learner's saved places in components.

-- name: save_bookmark(user_id, component_id, position, note)<!
-- Bookmark a component, or move an existing bookmark and replace its note.
-- optional: position, note
INSERT INTO bookmarks (user_id, component_id, position, note)
VALUES (:user_id, :component_id, :position, :note)
ON CONFLICT (user_id, component_id) DO UPDATE
   SET position = EXCLUDED.position, note = EXCLUDED.note
RETURNING id, user_id, component_id, position, note, updated_at;

-- name: delete_bookmark(user_id, component_id)!
-- Remove a bookmark (0 rows: there was none).
DELETE FROM bookmarks WHERE user_id = :user_id AND component_id = :component_id;

-- name: list_bookmarks(user_id)
-- A user's bookmarks with the component's title and slug, newest first.
-- replica: yes
SELECT b.component_id, c.slug, c.title, b.position, b.note, b.updated_at
  FROM bookmarks b
  JOIN learning_components c ON c.id = b.component_id
 WHERE b.user_id = :user_id
 ORDER BY b.updated_at DESC, b.component_id;
