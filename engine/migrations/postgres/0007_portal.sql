-- Web portal sessions. The cookie carries a random session id; only its
-- SHA-256 hash is stored, so a copy of the database cannot be replayed as a
-- login. Each session has its own CSRF synchronizer token, an idle limit
-- (last_seen) and an absolute limit (expires_at), both in epoch ms.
CREATE TABLE portal_sessions (
    id_hash     TEXT PRIMARY KEY,
    username    TEXT NOT NULL,
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX portal_sessions_username ON portal_sessions (username);
CREATE INDEX portal_sessions_expires ON portal_sessions (expires_at);
