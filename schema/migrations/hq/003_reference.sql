-- HQ store, version 3: the reference data HQ publishes to the laptops
-- (GET /v1/reference, hq/hq_reference.h, shared/bb_refbundle.h).
--
-- reference_data     what `beatbook-hq reference set` stored in place of the
--                    data compiled into the binary: a whole reference list
--                    (what 'list': units, intersections, segments,
--                    bikepaths) or one record kind's definition (what
--                    'kind', name = the kind).  body is canonical JSON as
--                    checked; removing the row (`reference unset`) goes back
--                    to the built-in data.
-- reference_bundles  every signed bundle HQ published, newest last: the
--                    content's version (SHA-256, the ETag), issued_at (each
--                    later than the one before, so laptops can refuse an
--                    older bundle) and the bundle byte for byte as served.
--                    A new row is written only when the content changes.

CREATE TABLE reference_data (
    what     TEXT NOT NULL CHECK (what IN ('list', 'kind')),
    name     TEXT NOT NULL,
    body     TEXT NOT NULL,
    sha256   TEXT NOT NULL,                    -- hex SHA-256 of body
    source   TEXT NOT NULL,                    -- the file it came from
    set_at   TEXT NOT NULL,
    PRIMARY KEY (what, name)
);

CREATE TABLE reference_bundles (
    id           INTEGER PRIMARY KEY,
    version      TEXT NOT NULL,
    issued_at    TEXT NOT NULL,
    issued_unix  INTEGER NOT NULL,
    body         TEXT NOT NULL
);
