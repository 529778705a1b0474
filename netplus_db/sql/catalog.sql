-- Reading the live catalog of schema public, for the generated ERD and for tests.

-- name: tables()
-- Every ordinary table of schema public, with its comment.
SELECT c.relname, coalesce(obj_description(c.oid, 'pg_class'), '')
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
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
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
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
 WHERE k.contype = 'f' AND n.nspname = 'public'
 ORDER BY parent.relname, child.relname, 3;
