-- Catalog look-ups of the typed-code generator (netplus_db/codegen.py).

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
