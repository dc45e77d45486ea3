-- Append-only log of what regulators and admins looked at (who, when, what).
-- Keep in step with ../sqlite/0004_query_audit.sql.
CREATE TABLE query_audit (
    id        BIGSERIAL PRIMARY KEY,
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
CREATE FUNCTION query_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'query_audit is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER query_audit_no_change BEFORE UPDATE OR DELETE ON query_audit
FOR EACH ROW EXECUTE FUNCTION query_audit_append_only();
