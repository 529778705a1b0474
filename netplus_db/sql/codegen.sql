-- Catalog look-ups of the typed-code generator (netplus_db/ops/codegen.py, ops/check_enums.py).

-- name: type_names()
-- Every type's OID and name, to name parameter and column types.
SELECT oid::int, typname FROM pg_type;

-- name: column_not_null(table, attnum)$
-- Whether a table column is declared NOT NULL.
SELECT attnotnull FROM pg_attribute WHERE attrelid = :table::oid AND attnum = :attnum;

-- name: relation_oids(names)
-- The OIDs of tables of schema public, by name.
SELECT c.oid::int
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relname = ANY (:names);

-- name: value_list_checks()
-- The CHECK constraints on tables of schema public whose expression tests a value against a
-- list (`IN (...)`, `= ANY (...)`: a ScalarArrayOpExpr with useOr), each with its table, its
-- definition as PostgreSQL prints it, and the columns it names with whether they are NOT NULL.
-- Constraints a child table inherits are left to the parent that declares them.
SELECT con.conname::text AS constraint_name,
       rel.relname::text AS table_name,
       pg_get_constraintdef(con.oid) AS definition,
       array(SELECT a.attname::text
               FROM pg_attribute a
              WHERE a.attrelid = con.conrelid AND a.attnum = ANY (con.conkey)
              ORDER BY a.attnum) AS columns,
       array(SELECT a.attnotnull
               FROM pg_attribute a
              WHERE a.attrelid = con.conrelid AND a.attnum = ANY (con.conkey)
              ORDER BY a.attnum) AS not_null
  FROM pg_constraint con
  JOIN pg_class rel ON rel.oid = con.conrelid
  JOIN pg_namespace n ON n.oid = rel.relnamespace
 WHERE con.contype = 'c'
   AND con.conislocal
   AND NOT rel.relispartition  -- a partition's copy of its table's check
   AND n.nspname = 'public'
   AND con.conbin::text ~ '\{SCALARARRAYOPEXPR [^{]*:useOr true'
 ORDER BY rel.relname, con.conname;
