-- Direct-waiver claims (用血费用直接减免) and the per-donor ledger row that
-- serializes every decision against one donor (see docs/waivers.md).

CREATE TABLE waiver_claims (
    hospital          TEXT NOT NULL,
    claim_id          TEXT NOT NULL,
    donor_id_mac      TEXT NOT NULL,
    relationship      TEXT NOT NULL,
    blood_fee_fen     BIGINT NOT NULL,
    volume_ml         BIGINT NOT NULL,
    waived_ml         BIGINT NOT NULL,
    waived_fen        BIGINT NOT NULL,
    patient_pays_fen  BIGINT NOT NULL,
    decision          TEXT NOT NULL,
    rule_id           TEXT NOT NULL,
    rule_version      TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'granted'
                      CHECK (status IN ('granted', 'cancelled')),
    decided_at        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    cancelled_at      BIGINT,
    patient_key       TEXT,
    PRIMARY KEY (hospital, claim_id)
);
CREATE INDEX waiver_claims_donor ON waiver_claims (donor_id_mac, status);

-- One row per donor; every claim or cancellation writes it first, which
-- takes the write lock (SQLite) or the row lock (PostgreSQL).
CREATE TABLE donor_ledgers (
    donor_id_mac  TEXT PRIMARY KEY,
    version       BIGINT NOT NULL
);
