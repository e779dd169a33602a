-- HQ store, version 4: people who use the review UI and the JSON API
-- (hq/hq_auth.h), what they did to quarantine, and indexes for paging
-- through records (hq/hq_api.h).
--
-- users          reviewers (role 'hq': every unit) and precinct admins (role
--                'precinct': org_unit and the units under it).  Passwords are
--                argon2id encoded hashes ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
-- sessions       one row per signed-in browser: the SHA-256 of the session id
--                (the cookie holds the id itself, never stored), when it was made
--                and last used (idle and absolute expiry are checked against them).
-- api_tokens     bearer tokens from `beatbook-hq user token`, stored as SHA-256.
-- signin_failures  failed sign-ins in the current window, per user name
--                ('user:NAME', known or not) and per client address ('addr:ADDR'),
--                for the lockout.
-- quarantine_actions  a reviewer's decision on a quarantined record or batch:
--                'released' (re-validated and merged) or 'reviewed' (looked at,
--                left out).  A quarantined item is acted on at most once.
-- Times are RFC 3339 text in Taipei time; *_unix columns the same instants.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,          -- [A-Za-z0-9._-]{1,40}
    role          TEXT NOT NULL CHECK (role IN ('hq', 'precinct')),
    org_unit      TEXT,                          -- NULL for hq; the precinct for precinct
    pw_hash       TEXT NOT NULL,                 -- argon2id, encoded
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    last_signin   TEXT,
    CHECK ((role = 'hq') = (org_unit IS NULL))
);

CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,              -- hex SHA-256 of the session id
    user_id       INTEGER NOT NULL REFERENCES users (id),
    created_unix  INTEGER NOT NULL,
    seen_unix     INTEGER NOT NULL,
    address       TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE api_tokens (
    token_hash    TEXT PRIMARY KEY,              -- hex SHA-256 of the token
    user_id       INTEGER NOT NULL REFERENCES users (id),
    label         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_unix  INTEGER NOT NULL
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

CREATE TABLE signin_failures (
    key           TEXT PRIMARY KEY,              -- 'user:NAME' or 'addr:ADDRESS'
    failures      INTEGER NOT NULL,
    first_unix    INTEGER NOT NULL,
    locked_until  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE quarantine_actions (
    id            INTEGER PRIMARY KEY,
    item          TEXT NOT NULL CHECK (item IN ('record', 'batch')),
    item_id       INTEGER NOT NULL,              -- quarantined_records.id / quarantined_batches.id
    action        TEXT NOT NULL CHECK (action IN ('released', 'reviewed')),
    user_name     TEXT NOT NULL,
    at            TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    UNIQUE (item, item_id)
);

-- Records newest first, city-wide (keyset: occurred_unix, rowid).  By kind and
-- by unit, records_by_kind and records_by_unit (001) already end in rowid.
CREATE INDEX records_by_time ON records (occurred_unix);
