-- The cache's listener (netplus_db/cache_listener.py): one connection per Database.

-- name: listen()!
-- Receive the notifications of migration 0020's triggers (channel netplus_cache).
LISTEN netplus_cache;

-- name: heartbeat()$
-- Prove the listener's connection still reaches its server and that the session it reaches
-- is still listening (a pooler that moved the client to another server connection: false).
SELECT 'netplus_cache' = ANY (ARRAY(SELECT pg_listening_channels()));

-- name: notify(payload)!
-- Send a notification on the cache channel (tests, and `netplus-db` tools that change content
-- outside the triggers' tables).
SELECT pg_notify('netplus_cache', :payload);
