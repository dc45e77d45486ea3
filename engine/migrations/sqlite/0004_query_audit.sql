-- Append-only log of what regulators and admins looked at (who, when, what).
-- Keep in step with ../postgres/0004_query_audit.sql.
CREATE TABLE query_audit (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms     BIGINT NOT NULL,
    role      TEXT NOT NULL,
    token_id  TEXT NOT NULL,
    facility  TEXT,
    method    TEXT NOT NULL,
    path      TEXT NOT NULL,
    query     TEXT,
    status    BIGINT NOT NULL
);
CREATE INDEX query_audit_time ON query_audit (at_ms);

-- The database itself refuses to change or remove an entry.
CREATE TRIGGER query_audit_no_update BEFORE UPDATE ON query_audit
BEGIN SELECT RAISE(ABORT, 'query_audit is append-only'); END;
CREATE TRIGGER query_audit_no_delete BEFORE DELETE ON query_audit
BEGIN SELECT RAISE(ABORT, 'query_audit is append-only'); END;
