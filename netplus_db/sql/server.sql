-- Catalog look-ups about the server and its databases.

-- name: database_exists(datname)$
-- Whether a database of that name exists on the server.
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = :datname);

-- name: version()^
-- The server's version as a number (150020) and as text (15.20).
SELECT current_setting('server_version_num')::int AS num,
       current_setting('server_version')          AS text;

-- name: whoami()^
-- The connected role and whether it bypasses row-level security.
SELECT current_user AS role, r.rolsuper AS superuser, r.rolbypassrls AS bypassrls
  FROM pg_roles r
 WHERE r.rolname = current_user;
