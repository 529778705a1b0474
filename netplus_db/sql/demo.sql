-- What `make demo` shows a newcomer.

-- name: catalog_by_domain()
-- Published components and questions per domain.
SELECT d.domain,
       (SELECT count(*) FROM learning_components c
         WHERE c.domain = d.domain AND c.is_published AND c.deleted_at IS NULL) AS components,
       (SELECT count(*) FROM question_bank q
         WHERE q.domain = d.domain AND q.is_published AND q.deleted_at IS NULL) AS questions
  FROM (SELECT DISTINCT domain FROM learning_components
        UNION SELECT DISTINCT domain FROM question_bank) AS d
 ORDER BY d.domain;

-- name: accounts()
-- The demo accounts and their roles.
SELECT email, username, role, account_status
  FROM users
 WHERE email LIKE '%@network.test' AND deleted_at IS NULL
 ORDER BY role, email;

-- name: answer_keys(attempt_id)
-- The keys of an attempt's questions: only the scripted demo learner peeks at these.
SELECT q.id, q.question_type, q.question_data, q.correct_answer
  FROM assessment_attempts t
 CROSS JOIN LATERAL unnest(t.question_order) WITH ORDINALITY AS o(question_id, position)
  JOIN question_bank q ON q.id = o.question_id
 WHERE t.id = :attempt_id
 ORDER BY o.position;
