-- HQ store, version 2: plans and incremental KPI facts (DESIGN.md §7,
-- shared/bb_kpi.h).
--
-- plans       every plan loaded (`beatbook-hq plan load`; the built-in 107 plan
--             at init): its canonical JSON, as checked, and where it came from.
-- kpi_inputs  one row per (plan, input): the small integer facts are keyed by.
-- kpi_facts   per (input, org unit, group, Taipei day): n records and v (their
--             measure summed: 1 each for a count, deaths + injuries for K3).
--             A record counts in the row of its own org unit AND of every unit
--             above it (station, precinct, city), so any unit's figure for any
--             period is one range scan.  Only the highest revision of a final
--             record counts; the merge adjusts these rows in the same
--             transaction as the records (+new, -old +new, -void), and
--             `beatbook-hq kpi --verify` recomputes them from `revisions`.
--             Rows that fall to n = 0 and v = 0 are deleted.  day is the
--             Taipei day number (days since 1970-01-01); grp is '' when the
--             input is not grouped.

CREATE TABLE plans (
    id         TEXT PRIMARY KEY,               -- "taichung-107"
    year       INTEGER NOT NULL,               -- Gregorian (2018)
    sha256     TEXT NOT NULL,                  -- hex SHA-256 of body
    body       TEXT NOT NULL,                  -- canonical JSON of the plan
    source     TEXT NOT NULL,                  -- "built-in" or the file loaded
    loaded_at  TEXT NOT NULL
);

CREATE TABLE kpi_inputs (
    id     INTEGER PRIMARY KEY,
    plan   TEXT NOT NULL REFERENCES plans (id),
    input  TEXT NOT NULL,                      -- the input's id in the plan
    UNIQUE (plan, input)
);

CREATE TABLE kpi_facts (
    input     INTEGER NOT NULL,                -- kpi_inputs.id
    org_unit  TEXT NOT NULL,
    grp       TEXT NOT NULL,
    day       INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    v         INTEGER NOT NULL,
    PRIMARY KEY (input, org_unit, grp, day)
) WITHOUT ROWID;
