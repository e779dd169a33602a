-- Attachments at HQ, version 6.  docs/FORMATS.md §5, docs/PROTOCOL.md.
-- Files are content-addressed beside hq.db:
--   <data>/attachments/<first 2 hex>/<sha256>       complete, hash verified
--   <data>/attachments/partial/<device>.<sha256>    an upload in progress
-- A file is stored once however many records and devices name it.

CREATE TABLE attachments (                   -- files HQ holds
    sha256      TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    type        TEXT NOT NULL,
    stored_at   TEXT NOT NULL,
    device      TEXT NOT NULL,               -- the device whose upload completed it
    exif_time   TEXT,
    exif_lat    REAL,
    exif_lon    REAL
);

CREATE TABLE record_attachments (            -- which merged revision names which file
    record_id   TEXT NOT NULL,
    rev         INTEGER NOT NULL,
    device      TEXT NOT NULL,
    field       TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    type        TEXT NOT NULL,
    name        TEXT,
    PRIMARY KEY (record_id, rev, field, sha256)
);
CREATE INDEX record_attachments_by_sha ON record_attachments (sha256);
CREATE INDEX record_attachments_by_device ON record_attachments (device, sha256);

CREATE TABLE attachment_uploads (            -- one per (device, file) in progress
    device      TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    head        BLOB NOT NULL,               -- the signed head, verified
    head_digest TEXT NOT NULL,               -- hex SHA-256 of its header
    size        INTEGER NOT NULL,
    type        TEXT NOT NULL,
    chunks      INTEGER NOT NULL,
    started_at  TEXT NOT NULL,
    PRIMARY KEY (device, sha256)
);

CREATE TABLE attachment_chunks (             -- chunks of an upload written and fsynced
    device      TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    idx         INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (device, sha256, idx)
);

CREATE TABLE attachment_receipts (           -- the signed receipt each device was given
    device      TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    receipt     TEXT NOT NULL,
    PRIMARY KEY (device, sha256)
);
