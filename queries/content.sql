-- The catalog: browsing published learning components, one component, prerequisites.

-- name: browse_components(domain, subdomain, component_type, difficulty_level, after_title, after_id, page_size)
-- Published, live components, filtered by any of domain, subdomain, type and
-- difficulty (NULL: any), ordered by title; keyset pagination: pass the last
-- row's title and id to get the next page.
-- optional: domain, subdomain, component_type, difficulty_level, after_title, after_id
-- replica: yes
SELECT id, slug, title, description, component_type, domain, subdomain, difficulty_level,
       estimated_duration_minutes, comptia_objectives
  FROM learning_components
 WHERE is_published AND deleted_at IS NULL
   AND (:domain::text IS NULL OR domain = :domain::text)
   AND (:subdomain::text IS NULL OR subdomain = :subdomain::text)
   AND (:component_type::text IS NULL OR component_type = :component_type::text)
   AND (:difficulty_level::text IS NULL OR difficulty_level = :difficulty_level::text)
   AND (:after_title::text IS NULL OR (title, id) > (:after_title::text, :after_id::uuid))
 ORDER BY title, id
 LIMIT :page_size::int;

-- name: get_component(slug)^
-- One published, live component with its content, by slug.
-- row: Component
-- replica: yes
SELECT id, slug, title, description, component_type, domain, subdomain, difficulty_level,
       estimated_duration_minutes, objectives, comptia_objectives, prerequisites, content,
       view_count, completion_count, average_rating, rating_count
  FROM learning_components
 WHERE slug = :slug AND is_published AND deleted_at IS NULL;

-- name: get_component_by_id(component_id)^
-- One published, live component with its content, by id (the id record_progress takes).
-- row: Component
-- replica: yes
SELECT id, slug, title, description, component_type, domain, subdomain, difficulty_level,
       estimated_duration_minutes, objectives, comptia_objectives, prerequisites, content,
       view_count, completion_count, average_rating, rating_count
  FROM learning_components
 WHERE id = :component_id AND is_published AND deleted_at IS NULL;

-- name: prerequisites(user_id, component_id)
-- The prerequisites of a component and whether the user has met each one
-- (completed or mastered it).
-- not-null: met
-- replica: yes
SELECT p.id, p.slug, p.title,
       coalesce(up.status IN ('completed', 'mastered'), false) AS met
  FROM learning_components c
 CROSS JOIN LATERAL unnest(c.prerequisites) AS pre(id)
  JOIN learning_components p ON p.id = pre.id
  LEFT JOIN user_progress up ON up.component_id = p.id AND up.user_id = :user_id
 WHERE c.id = :component_id
 ORDER BY p.title;

-- name: count_view(component_id)!
-- Count one view of a component (a catalog statistic: admin only).
UPDATE learning_components SET view_count = view_count + 1 WHERE id = :component_id;
