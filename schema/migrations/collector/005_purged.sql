-- Version 5: what a purge freed, kept small, so that the proof of agreement
-- with HQ (shared/bb_agree.h, `beatbook verify-hq`) still counts every record
-- this laptop sent and HQ acknowledged after its data is gone.
--
-- One row per record removed by `beatbook purge` (shared/bb_outbox.c), written
-- in the purge's own transaction: its id, kind, current revision, the instant
-- it happened (for the Taipei day of its group) and the SHA-256 (hex) of the
-- canonical body HQ holds.  No content of the record is kept.

CREATE TABLE purged_records (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    rev           INTEGER NOT NULL CHECK (rev >= 1),
    occurred_unix INTEGER NOT NULL,
    sha256        TEXT NOT NULL CHECK (length(sha256) = 64)
);
