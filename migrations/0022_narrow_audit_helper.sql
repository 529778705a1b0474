-- migrate:up
-- 0022 narrow the audit helper: content_editor no longer executes audit_acting_as_owner.
-- 0014 granted the four audit helpers to every role that writes an audited table, but this one
-- is used only in the WHEN clause of user_achievements' audit trigger, and content_editor can
-- write nothing in user_achievements; the grant served no duty (a mutation run found no test
-- that needed it). admin, which may write user_achievements, keeps it.

REVOKE EXECUTE ON FUNCTION audit_acting_as_owner(regclass) FROM content_editor;

-- migrate:down

GRANT EXECUTE ON FUNCTION audit_acting_as_owner(regclass) TO content_editor;
