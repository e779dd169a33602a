-- Version 3: enrollment with HQ and the sealed-batch outbox (shared/bb_outbox.h).
--
-- `enrollment` holds what HQ's signed enrollment file told this laptop (one
-- row, or none for a store made without --enroll).  The one-time `token` is
-- a secret: it is deleted (set NULL) once registration has succeeded.
--
-- `batches` is the outbox proper: every sealed batch, byte for byte as it is
-- POSTed or exported, in `seq` order, until HQ acknowledges it with a signed
-- receipt.  revisions.batch_seq points at the batch a revision was sealed in.
-- After the retention period the bytes of an acknowledged batch and the
-- local copies of its revisions are purged; the row and its receipt stay,
-- so `sha256` still chains the next batch (`prev`).

CREATE TABLE enrollment (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    hq_url          TEXT NOT NULL,
    tls_pin         TEXT NOT NULL,     -- sha256//<base64 SPKI hash>
    tls_ca          TEXT,              -- PEM; NULL: the system CAs
    hq_x25519       TEXT NOT NULL,     -- base64 of HQ's 32-byte X25519 public key
    hq_x25519_key   TEXT NOT NULL,     -- its key id
    hq_sign_pub     TEXT NOT NULL,     -- base64 SPKI DER of HQ's signing key
    hq_sign_key     TEXT NOT NULL,     -- its key id
    label           TEXT NOT NULL,
    issued_at       TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    device_key      TEXT NOT NULL,     -- key id of device.key
    enrolled_at     TEXT NOT NULL,
    token           TEXT,              -- one-time secret; NULL once registered
    registered_at   TEXT               -- NULL until HQ has bound device.key
);

CREATE TABLE batches (
    seq             INTEGER PRIMARY KEY CHECK (seq >= 1),
    batch           TEXT NOT NULL UNIQUE,  -- UUIDv7
    sha256          TEXT NOT NULL,         -- of the whole batch file
    prev            TEXT NOT NULL,         -- sha256 of batch seq-1, or 64 zeros
    created_at      TEXT NOT NULL,
    count           INTEGER NOT NULL CHECK (count >= 1),
    size            INTEGER NOT NULL,      -- bytes of the batch file
    bytes           BLOB,                  -- the batch file; NULL once purged
    state           TEXT NOT NULL DEFAULT 'sealed'
                    CHECK (state IN ('sealed', 'acked', 'rejected')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_attempt_at INTEGER,               -- Unix time
    last_error      TEXT,
    receipt         TEXT,                  -- HQ's signed receipt, as received
    acked_at        INTEGER,               -- Unix time
    merged          INTEGER,               -- per-record results of the receipt
    duplicates      INTEGER,
    rejected_records INTEGER,
    rejected_status INTEGER,               -- HTTP status that refused the batch
    rejected_reason TEXT,                  -- plain explanation for `beatbook status`
    purged_at       INTEGER,
    CHECK ((state = 'acked') = (receipt IS NOT NULL))
);
CREATE INDEX batches_by_state ON batches (state, seq);
CREATE INDEX revisions_by_batch ON revisions (batch_seq) WHERE batch_seq IS NOT NULL;

-- Records HQ rejected in a receipt, with its reason, to show and correct.
CREATE TABLE batch_rejects (
    batch_seq       INTEGER NOT NULL REFERENCES batches (seq),
    id              TEXT NOT NULL,
    rev             INTEGER NOT NULL,
    reason          TEXT NOT NULL,
    PRIMARY KEY (batch_seq, id, rev)
);

-- The last sync run as a whole (registration, TLS and network errors that
-- are not about one batch).  One row.
CREATE TABLE sync_state (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    last_attempt_at INTEGER,
    last_success_at INTEGER,
    last_error      TEXT
);
