-- Daily submissions (SQLite). Keep in step with ../postgres/0005_daily.sql.

-- Every version of every hospital's day, as computed: never updated, a new
-- version is a new row. body is the DailySubmission JSON; start_ms/end_ms
-- are the day's bounds in epoch ms (to find the days a late event touches).
CREATE TABLE daily_submissions (
    hospital     TEXT NOT NULL,
    day          TEXT NOT NULL,
    version      BIGINT NOT NULL,
    status       TEXT NOT NULL,
    start_ms     BIGINT NOT NULL,
    end_ms       BIGINT NOT NULL,
    computed_at  BIGINT NOT NULL,
    body         TEXT NOT NULL,
    PRIMARY KEY (hospital, day, version)
);
CREATE INDEX daily_submissions_span ON daily_submissions (hospital, start_ms);

-- Versions are history: refuse edits and deletes.
CREATE TRIGGER daily_submissions_no_update BEFORE UPDATE ON daily_submissions
BEGIN SELECT RAISE(ABORT, 'daily submissions are append-only'); END;
CREATE TRIGGER daily_submissions_no_delete BEFORE DELETE ON daily_submissions
BEGIN SELECT RAISE(ABORT, 'daily submissions are append-only'); END;

-- Events recorded after a moment (amendments look for them every minute).
CREATE INDEX events_recorded ON events (recorded_at);
-- One hospital's day by kind, with the patient (distinct patients
-- transfused, reactions, discards) without touching the table.
CREATE INDEX events_facility_kind_time ON events (facility, kind, at_ms, patient_key);
-- A hospital's events unit by unit, covering what the day's movements and
-- stock read, so that one pass groups them without touching the table.
CREATE INDEX events_facility_unit ON events (facility, din, product, at_ms, kind);
-- The unit columns the daily figures read, beside the key (index-only join).
CREATE INDEX units_daily_cover ON units (din, product, abo, rh, quantity, measure, volume_ml);

-- Stock colour thresholds per facility and product category, in the
-- category's measure: below low is "low", from high up is "high", between
-- is "medium", nothing is "none". facility '*' holds the defaults.
CREATE TABLE stock_thresholds (
    facility  TEXT NOT NULL,
    category  TEXT NOT NULL,
    low       DOUBLE PRECISION NOT NULL,
    high      DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (facility, category)
);
INSERT INTO stock_thresholds (facility, category, low, high) VALUES
    ('*', 'whole-blood', 5, 20),
    ('*', 'red-cells', 20, 50),
    ('*', 'platelets', 2, 5),
    ('*', 'plasma', 2000, 6000),
    ('*', 'cryoprecipitate', 10, 30),
    ('*', 'granulocytes', 1, 2);
