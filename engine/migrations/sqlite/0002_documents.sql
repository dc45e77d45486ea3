-- Document facts that are not unit events (SQLite). Keep in step with
-- ../postgres/0002_documents.sql: the same tables, columns and indexes; only
-- identity columns differ.

-- A blood bank's stock as it counted it at one moment (Stock records of the
-- hospital document). One report per (facility, moment): the first stored
-- is kept, so a resent document or a replay writes nothing new.
CREATE TABLE stock_reports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    facility    TEXT NOT NULL,
    at_ms       BIGINT NOT NULL,
    at_text     TEXT NOT NULL,
    message_id  BIGINT NOT NULL,
    UNIQUE (facility, at_ms)
);

-- The lines of a report, in the product's measure (U, mL, dose); a zero
-- quantity is a group reported out of stock.
CREATE TABLE stock_items (
    report_id  BIGINT NOT NULL REFERENCES stock_reports (id),
    product    TEXT NOT NULL,
    abo        TEXT,
    rh         TEXT,
    quantity   DOUBLE PRECISION NOT NULL,
    measure    TEXT NOT NULL
);
CREATE INDEX stock_items_report ON stock_items (report_id);

-- Donations reported by blood stations, one per DIN. The donor's ID number
-- and name are AES-256-GCM ciphertexts; donor_id_mac is a keyed hash
-- (HMAC-SHA-256) of the ID number for look-ups (fee waivers).
CREATE TABLE donations (
    din             TEXT PRIMARY KEY,
    donor_key       TEXT NOT NULL,
    donor_id_mac    TEXT,
    donor_id_enc    TEXT,
    donor_name_enc  TEXT,
    kind            TEXT NOT NULL,
    volume_ml       BIGINT NOT NULL,
    at_ms           BIGINT NOT NULL,
    at_text         TEXT NOT NULL,
    station         TEXT NOT NULL,
    message_id      BIGINT NOT NULL
);
CREATE INDEX donations_donor ON donations (donor_key);
CREATE INDEX donations_donor_id_mac ON donations (donor_id_mac);
