-- HQ store, version 5: the latest signed status report of each laptop, and
-- the counter of its latest request for agreement digests
-- (docs/FORMATS.md §2 "Laptop status report", hq/hq_status.h), over
-- POST /v1/devices/status or from a USB export (`beatbook-hq import`).
--
-- One row per device: the report as received (canonical JSON, its device
-- signature verified), its counter (a report must be newer than the one
-- kept: replays are refused), the laptop's clock, and when and how it came.

CREATE TABLE device_status (
    device       TEXT PRIMARY KEY REFERENCES devices (id),
    counter      INTEGER NOT NULL CHECK (counter >= 1),
    clock        TEXT NOT NULL,            -- the laptop's clock when it made the report
    via          TEXT NOT NULL CHECK (via IN ('https', 'usb')),
    received_at  TEXT NOT NULL,            -- HQ's time, Taipei
    doc          TEXT NOT NULL             -- the signed report, canonical JSON
);

-- The counter of the latest signed request a device made for HQ's agreement
-- digests (POST /v1/devices/digests, hq/hq_digest.h): a request must carry a
-- greater one, so a recorded request cannot be replayed.
CREATE TABLE device_requests (
    device       TEXT PRIMARY KEY REFERENCES devices (id),
    counter      INTEGER NOT NULL CHECK (counter >= 1),
    at           TEXT NOT NULL
);
