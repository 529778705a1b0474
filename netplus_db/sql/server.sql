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

-- name: set_statement_timeout(timeout)$
-- Bound (or with '0' unbound) every later statement of this session.
SELECT set_config('statement_timeout', :timeout, false);

-- name: sessions_on(datname)
-- The other sessions connected to a database: pid, user, application, client, state.
SELECT pid,
       coalesce(usename, '?'),
       coalesce(application_name, ''),
       coalesce(host(client_addr), 'local socket'),
       coalesce(state, 'unknown')
  FROM pg_stat_activity
 WHERE datname = :datname
   AND pid <> pg_backend_pid()
   AND backend_type = 'client backend'
 ORDER BY pid;
