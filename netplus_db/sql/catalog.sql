-- Reading the live catalog of schema public, for the generated ERD and for tests.

-- name: tables()
-- Every ordinary and partitioned table of schema public (not the partitions), with its comment.
SELECT c.relname, coalesce(obj_description(c.oid, 'pg_class'), '')
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
 ORDER BY c.relname;

-- name: columns()
-- Every column of those tables, in table order, with its type, nullability and key roles.
SELECT c.relname,
       a.attname,
       format_type(a.atttypid, a.atttypmod),
       a.attnotnull,
       EXISTS (SELECT 1 FROM pg_constraint k
                WHERE k.conrelid = c.oid AND k.contype = 'p' AND a.attnum = ANY (k.conkey)),
       EXISTS (SELECT 1 FROM pg_constraint k
                WHERE k.conrelid = c.oid AND k.contype = 'f' AND a.attnum = ANY (k.conkey)),
       EXISTS (SELECT 1 FROM pg_index i
                WHERE i.indrelid = c.oid AND i.indisunique AND NOT i.indisprimary
                  AND i.indnatts = 1 AND i.indkey[0] = a.attnum)
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
 ORDER BY c.relname, a.attnum;

-- name: foreign_keys()
-- Every foreign key: child, its columns, parent, on-delete rule, and whether the child
-- side is unique (1:1) and mandatory (NOT NULL).
SELECT child.relname,
       parent.relname,
       (SELECT string_agg(a.attname, ', ' ORDER BY a.attnum)
          FROM pg_attribute a
         WHERE a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)),
       CASE k.confdeltype
            WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT'
            WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END,
       EXISTS (SELECT 1 FROM pg_index i
                WHERE i.indrelid = k.conrelid AND i.indisunique AND i.indpred IS NULL
                  AND i.indnatts = cardinality(k.conkey)
                  AND (i.indkey::int2[])[0:] @> k.conkey AND (i.indkey::int2[])[0:] <@ k.conkey),
       NOT EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
                      AND NOT a.attnotnull)
  FROM pg_constraint k
  JOIN pg_class child  ON child.oid = k.conrelid
  JOIN pg_class parent ON parent.oid = k.confrelid
  JOIN pg_namespace n  ON n.oid = child.relnamespace
 WHERE k.contype = 'f' AND n.nspname = 'public' AND NOT child.relispartition
 ORDER BY parent.relname, child.relname, 3;

-- name: relation_privileges(roles)
-- Every table, view and materialized view of schema public, per role: the table-level
-- privileges the role holds (membership and PUBLIC included), whether it holds some privilege on
-- a column only, and the table's row-level security flags.
SELECT c.relname,
       CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'
                      WHEN 'm' THEN 'materialized view' END,
       c.relrowsecurity,
       c.relforcerowsecurity,
       r.role,
       ARRAY(SELECT p.name
               FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',
                                 'REFERENCES', 'TRIGGER']) WITH ORDINALITY AS p(name, n)
              WHERE has_table_privilege(r.role, c.oid, p.name)
              ORDER BY p.n),
       ARRAY(SELECT p.name
               FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'REFERENCES'])
                    WITH ORDINALITY AS p(name, n)
              WHERE NOT has_table_privilege(r.role, c.oid, p.name)
                AND has_any_column_privilege(r.role, c.oid, p.name)
              ORDER BY p.n)
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN unnest(CAST(:roles AS text[])) WITH ORDINALITY AS r(role, n)
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
 ORDER BY c.relname, r.n;

-- name: column_privileges(roles)
-- Every column of those relations, per role: the privileges the role holds on it (from the
-- table or the column itself).
SELECT c.relname,
       a.attname,
       r.role,
       ARRAY(SELECT p.name
               FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'REFERENCES'])
                    WITH ORDINALITY AS p(name, n)
              WHERE has_column_privilege(r.role, c.oid, a.attnum, p.name)
              ORDER BY p.n)
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 CROSS JOIN unnest(CAST(:roles AS text[])) WITH ORDINALITY AS r(role, n)
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
 ORDER BY c.relname, a.attnum, r.n;

-- name: function_privileges(roles)
-- Every function of schema public with its identity arguments, whether it is SECURITY
-- DEFINER, its pinned settings, and per role (and PUBLIC) whether it may EXECUTE it.
SELECT p.proname,
       pg_get_function_identity_arguments(p.oid),
       p.prosecdef,
       coalesce(array_to_string(p.proconfig, '; '), ''),
       r.role,
       has_function_privilege(r.role, p.oid, 'EXECUTE')
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
 CROSS JOIN unnest(CAST(:roles AS text[]) || ARRAY['public']) WITH ORDINALITY AS r(role, n)
 WHERE n.nspname = 'public' AND p.prokind IN ('f', 'p')
 ORDER BY p.proname, 2, r.n;

-- name: policies()
-- Every row-level security policy of schema public: table, name, command, permissive, roles.
SELECT c.relname,
       pol.polname,
       CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                       WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
       pol.polpermissive,
       ARRAY(SELECT CASE WHEN x.role = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.role) END
               FROM unnest(pol.polroles) AS x(role)
              ORDER BY 1)
  FROM pg_policy pol
  JOIN pg_class c ON c.oid = pol.polrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public'
 ORDER BY c.relname, pol.polname;

-- name: partitions()
-- The partitions of schema public's partitioned tables, by name: the monthly ones change with
-- the calendar, so the generated schema files leave them out (they are the parent's copies).
SELECT c.relname
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relispartition AND c.relkind IN ('r', 'p')
 ORDER BY c.relname;
