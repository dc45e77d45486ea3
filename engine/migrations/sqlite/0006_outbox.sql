-- The durable outbox: every message for a remote party (provincial
-- platform, Shanghai platform, FHIR server) is a row here before any send,
-- and the log of every attempt. See docs/delivery.md.
-- Keep in step with ../postgres/0006_outbox.sql.
CREATE TABLE outbox_items (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    route            TEXT NOT NULL,
    kind             TEXT NOT NULL,
    -- The idempotency key, sent as `Idempotency-Key`; one item per key and
    -- route, so that queueing the same thing twice is a no-op.
    item_key         TEXT NOT NULL,
    hospital         TEXT,
    content_type     TEXT NOT NULL,
    body             BLOB NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    delivered_at     BIGINT,
    UNIQUE (route, item_key)
);
CREATE INDEX outbox_items_due ON outbox_items (route, status, next_attempt_at);
CREATE INDEX outbox_items_status ON outbox_items (status, id);

-- A manual retry starts the count of attempts again, so `attempt` repeats:
-- the log is ordered by `id`.
CREATE TABLE outbox_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id      BIGINT NOT NULL REFERENCES outbox_items (id),
    attempt      BIGINT NOT NULL,
    at_ms        BIGINT NOT NULL,
    url          TEXT NOT NULL,
    http_status  BIGINT,
    error        TEXT,
    excerpt      TEXT,
    duration_ms  BIGINT NOT NULL
);
CREATE INDEX outbox_attempts_item ON outbox_attempts (item_id, id);
