-- Foundation schema (SQLite). Keep in step with ../postgres/0001_foundation.sql:
-- the same tables, columns and indexes; only types and identity columns differ.
-- Times are epoch milliseconds (BIGINT) for ordering plus, where a source's own
-- offset matters, the RFC 3339 text it was given.

CREATE TABLE facilities (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    region      TEXT,
    province    TEXT,
    created_at  BIGINT NOT NULL
);

CREATE TABLE tokens (
    token_hash  TEXT PRIMARY KEY,
    role        TEXT NOT NULL,
    facility    TEXT,
    label       TEXT,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

-- Every payload received, stored raw before anything else happens to it.
-- status: pending (accepted, waiting for the worker), ok, error (parked with
-- its reason), rejected (refused at the door: unknown facility, unsupported
-- type), duplicate (a repeated control id; never processed).
CREATE TABLE messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at   BIGINT NOT NULL,
    channel       TEXT NOT NULL,
    format        TEXT NOT NULL,
    facility      TEXT,
    msg_type      TEXT,
    control_id    TEXT,
    charset       TEXT,
    raw           BLOB NOT NULL,
    status        TEXT NOT NULL,
    ack_code      TEXT,
    ack           BLOB,
    errors        TEXT,
    duplicate_of  BIGINT,
    processed_at  BIGINT,
    attempts      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX messages_pending ON messages (id) WHERE status = 'pending';
CREATE INDEX messages_facility_time ON messages (facility, received_at);
CREATE INDEX messages_status_time ON messages (status, received_at);

-- (facility, MSH-10 / documentId) of every accepted payload: the duplicate check.
CREATE TABLE message_keys (
    facility    TEXT NOT NULL,
    control_id  TEXT NOT NULL,
    message_id  BIGINT NOT NULL,
    PRIMARY KEY (facility, control_id)
);

-- Patients per hospital. Name and ID number are AES-256-GCM ciphertexts;
-- id_number_mac is a keyed hash (HMAC-SHA-256) for look-ups by ID number.
CREATE TABLE patients (
    facility       TEXT NOT NULL,
    patient_key    TEXT NOT NULL,
    id_type        TEXT,
    id_number_enc  TEXT,
    id_number_mac  TEXT,
    name_enc       TEXT,
    sex            TEXT,
    birth_date     TEXT,
    abo            TEXT,
    rh             TEXT,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (facility, patient_key)
);
CREATE INDEX patients_id_mac ON patients (id_number_mac);

-- One row per component (DIN + product); attributes merged from every source.
CREATE TABLE units (
    din          TEXT NOT NULL,
    product      TEXT NOT NULL,
    modifiers    TEXT,
    abo          TEXT,
    rh           TEXT,
    volume_ml    BIGINT,
    quantity     DOUBLE PRECISION,
    measure      TEXT NOT NULL,
    expires      TEXT,
    station      TEXT,
    donor_key    TEXT,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (din, product)
);
CREATE INDEX units_donor ON units (donor_key);

-- The chain links. event_key is the natural key of the fact (see
-- UnitEvent::natural_key): the same fact from two sources is stored once.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    event_key    TEXT NOT NULL UNIQUE,
    din          TEXT NOT NULL,
    product      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    at_ms        BIGINT NOT NULL,
    at_text      TEXT NOT NULL,
    facility     TEXT NOT NULL,
    patient_key  TEXT,
    detail       TEXT NOT NULL,
    message_id   BIGINT NOT NULL,
    channel      TEXT NOT NULL,
    recorded_at  BIGINT NOT NULL
);
CREATE INDEX events_unit ON events (din, product, at_ms);
CREATE INDEX events_patient ON events (facility, patient_key);
CREATE INDEX events_message ON events (message_id);
CREATE INDEX events_facility_time ON events (facility, at_ms);

-- Portal users (web login). Passwords as argon2id PHC strings; repeated
-- failures lock the account for a while.
CREATE TABLE users (
    username         TEXT PRIMARY KEY,
    role             TEXT NOT NULL,
    facility         TEXT,
    password_hash    TEXT NOT NULL,
    failed_attempts  BIGINT NOT NULL DEFAULT 0,
    locked_until     BIGINT,
    created_at       BIGINT NOT NULL
);
