-- Attachments (photos and files) on records, version 6.  docs/FORMATS.md §5.
-- The files themselves live beside the store, content-addressed:
--   <store folder>/attachments/<first 2 hex>/<sha256>   (mode 0600)
-- written and fsynced before the revision that names them commits.
-- A revision names its attachments in its body (an attachment field's value
-- is [{"sha256","size","type","name"}]); revision_attachments indexes that.

CREATE TABLE attachments (
    sha256      TEXT PRIMARY KEY,            -- of the file's bytes, lowercase hex
    size        INTEGER NOT NULL CHECK (size >= 1),
    type        TEXT NOT NULL,               -- sniffed from the bytes
    name        TEXT,                        -- the file name it was added as
    added_at    TEXT NOT NULL,
    exif_time   TEXT,                        -- EXIF DateTimeOriginal, as written
    exif_lat    REAL,                        -- EXIF GPS, decimal degrees
    exif_lon    REAL,
    head        BLOB,                        -- sealed head for HQ (NULL until sealed)
    chunk_key   BLOB,                        -- the key of its chunks (with head)
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_attempt_at INTEGER,                 -- Unix time
    last_error  TEXT,                        -- of the last attempt, to retry
    refused     TEXT,                        -- HQ refused it for good: why (status shows it)
    receipt     TEXT,                        -- HQ's signed attachment receipt
    acked_at    INTEGER,                     -- Unix time that receipt was stored
    purged_at   INTEGER                      -- Unix time the file was freed
);

CREATE TABLE revision_attachments (
    record_id   TEXT NOT NULL,
    rev         INTEGER NOT NULL,
    field       TEXT NOT NULL,
    sha256      TEXT NOT NULL REFERENCES attachments (sha256),
    PRIMARY KEY (record_id, rev, field, sha256)
);
CREATE INDEX revision_attachments_by_sha ON revision_attachments (sha256);
