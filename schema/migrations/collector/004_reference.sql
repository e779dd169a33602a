-- Version 4: HQ's reference data on the laptop (shared/bb_refbundle.h).
--
-- `reference` holds the signed reference bundle beatbook-syncd last fetched
-- from GET /v1/reference (one row, or none: then the data compiled into the
-- binary is used).  `body` is the bundle as canonical JSON with HQ's
-- signature; it is verified with HQ's signing key from `enrollment` every
-- time it is read, so an altered copy is never used.  `version` (the SHA-256
-- of the content, HQ's ETag) and `issued_at` repeat what the bundle says:
-- syncd sends `version` as If-None-Match and refuses a bundle issued before
-- the stored one (no rollback).  `fetched_at`: when this bundle was stored;
-- `checked_at`: the last time HQ was asked (an answer 200 or 304).

CREATE TABLE reference (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    version      TEXT NOT NULL,             -- 64 hex
    issued_at    TEXT NOT NULL,             -- RFC 3339, from the bundle
    issued_unix  INTEGER NOT NULL,          -- the same instant
    fetched_at   TEXT NOT NULL,             -- RFC 3339, Taipei time
    checked_at   TEXT NOT NULL,
    body         TEXT NOT NULL              -- the signed bundle, canonical JSON
);
