-- Collector store (one per field laptop), version 1.
-- `records` holds the current state of each record (latest revision or the
-- open draft); `revisions` keeps every finalized revision, which is what is
-- sealed and sent to HQ.  Drafts (rev 0) never appear in `revisions`.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE records (
    id            TEXT PRIMARY KEY,          -- UUIDv7 made on this device
    kind          TEXT NOT NULL,
    rev           INTEGER NOT NULL CHECK (rev >= 0),
    status        TEXT NOT NULL CHECK (status IN ('draft', 'final', 'void')),
    org_unit      TEXT NOT NULL,
    officer       TEXT NOT NULL,
    occurred_at   TEXT NOT NULL,             -- ISO 8601 with offset, as entered
    occurred_unix INTEGER NOT NULL,          -- the same instant, for range filters
    recorded_at   TEXT NOT NULL,             -- when the latest revision was saved
    body          TEXT NOT NULL              -- canonical JSON of the latest revision
);
CREATE INDEX records_by_time ON records (occurred_unix);
CREATE INDEX records_by_kind ON records (kind, occurred_unix);

CREATE TABLE revisions (
    seq         INTEGER PRIMARY KEY,         -- local order of finalization
    id          TEXT NOT NULL REFERENCES records (id),
    rev         INTEGER NOT NULL CHECK (rev >= 1),
    status      TEXT NOT NULL CHECK (status IN ('final', 'void')),
    recorded_at TEXT NOT NULL,
    body        TEXT NOT NULL,               -- canonical JSON, exactly as it will be sent
    UNIQUE (id, rev)
);
