-- HQ store (beatbook-hq), version 1.
--
-- devices     every enrolled laptop: pending until it registers its key with
--             the one-time token (stored only as its SHA-256), then active;
--             revoked devices stay, so their batches can still be identified.
-- batches     every merged batch, byte for byte, with the signed receipt as it
--             was sent (a retry gets exactly these bytes back) and the seq/prev
--             chain that proves completeness per device.
-- records     the current state of each record: its highest revision.
-- revisions   every revision ever merged (highest rev wins in `records`).
-- quarantined_batches   batches refused after their signature held (a revoked
--             device): kept for review, never merged, never lost.
-- quarantined_records   record revisions of merged batches that were
--             rejected (invalid, out of the device's precinct, conflicting).
-- audit       who did what and when: enrollments, registrations, revocations,
--             merges, quarantines.
-- Times are RFC 3339 text in Taipei time (+08:00); *_unix columns hold the
-- same instants where the code compares them.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE devices (
    id             TEXT PRIMARY KEY,           -- "d-" + 16 hex
    org_unit       TEXT NOT NULL,
    label          TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'active', 'revoked')),
    token_hash     TEXT NOT NULL,              -- hex SHA-256 of the one-time token
    token_expires  INTEGER NOT NULL,           -- Unix seconds
    token_used_at  TEXT,
    device_pub     BLOB,                       -- SubjectPublicKeyInfo DER, once registered
    device_key     TEXT,                       -- key id of device_pub
    registration   TEXT,                       -- the signed registration answer, as sent
    enrolled_at    TEXT NOT NULL,
    registered_at  TEXT,
    revoked_at     TEXT,
    revoke_reason  TEXT,
    last_contact   TEXT,
    last_seq       INTEGER
);

CREATE TABLE batches (
    id           INTEGER PRIMARY KEY,
    device       TEXT NOT NULL REFERENCES devices (id),
    seq          INTEGER NOT NULL CHECK (seq >= 1),
    batch        TEXT NOT NULL,                -- UUIDv7 from the header
    sha256       TEXT NOT NULL,                -- hex SHA-256 of the whole file
    prev         TEXT NOT NULL,                -- hex SHA-256 of batch seq - 1 (or zeros)
    created_at   TEXT NOT NULL,                -- from the header (device clock)
    received_at  TEXT NOT NULL,
    source       TEXT NOT NULL CHECK (source IN ('https', 'import')),
    count        INTEGER NOT NULL,
    merged       INTEGER NOT NULL,
    duplicates   INTEGER NOT NULL,
    rejected     INTEGER NOT NULL,
    bytes        BLOB NOT NULL,                -- the sealed batch file
    receipt      TEXT NOT NULL,                -- the signed receipt, byte for byte
    UNIQUE (device, seq)
);
CREATE INDEX batches_by_sha ON batches (sha256);

CREATE TABLE records (
    id            TEXT PRIMARY KEY,            -- UUIDv7 made on the device
    device        TEXT NOT NULL REFERENCES devices (id),   -- the only writer
    kind          TEXT NOT NULL,
    rev           INTEGER NOT NULL CHECK (rev >= 1),
    status        TEXT NOT NULL CHECK (status IN ('final', 'void')),
    org_unit      TEXT NOT NULL,
    officer       TEXT NOT NULL,
    occurred_at   TEXT NOT NULL,
    occurred_unix INTEGER NOT NULL,
    recorded_at   TEXT NOT NULL,
    batch_id      INTEGER NOT NULL REFERENCES batches (id),  -- brought the current revision
    body          TEXT NOT NULL                -- canonical JSON of the current revision
);
CREATE INDEX records_by_unit ON records (org_unit, occurred_unix);
CREATE INDEX records_by_kind ON records (kind, occurred_unix);
CREATE INDEX records_by_device ON records (device);

CREATE TABLE revisions (
    id        TEXT NOT NULL REFERENCES records (id),
    rev       INTEGER NOT NULL CHECK (rev >= 1),
    batch_id  INTEGER NOT NULL REFERENCES batches (id),
    body      TEXT NOT NULL,                   -- canonical JSON, as sent
    PRIMARY KEY (id, rev)
);
CREATE INDEX revisions_by_batch ON revisions (batch_id);

CREATE TABLE quarantined_batches (
    id          INTEGER PRIMARY KEY,
    device      TEXT NOT NULL REFERENCES devices (id),
    seq         INTEGER NOT NULL,
    batch       TEXT NOT NULL,
    sha256      TEXT NOT NULL UNIQUE,
    received_at TEXT NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('https', 'import')),
    reason      TEXT NOT NULL,
    bytes       BLOB NOT NULL
);
CREATE INDEX quarantined_batches_by_device ON quarantined_batches (device, seq);

CREATE TABLE quarantined_records (
    id           INTEGER PRIMARY KEY,
    batch_id     INTEGER NOT NULL REFERENCES batches (id),
    record_index INTEGER NOT NULL,             -- position in the batch, from 0
    record_id    TEXT,                         -- NULL when the record had no usable id
    record_rev   INTEGER,
    reason       TEXT NOT NULL,
    body         TEXT NOT NULL,                -- canonical JSON of what was sent
    UNIQUE (batch_id, record_index)
);
CREATE INDEX quarantined_records_by_id ON quarantined_records (record_id);

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,                     -- "cli", "https", "import"
    action  TEXT NOT NULL,                     -- "enroll", "register", "revoke", "merge", ...
    device  TEXT,
    detail  TEXT NOT NULL                      -- key=value words; never a secret
);
CREATE INDEX audit_by_device ON audit (device, id);
