"""beatbook add: every kind, the accepted forms of values, JSON import, verbatim text."""
import datetime
import json
import time

import pytest

from conftest import (ENVELOPE_KEYS, EX_OK, KINDS, ORG_UNIT, OFFICER, TAIPEI_RE, UUID7_RE,
                      VALID, known_bug, parse_iso, uuid7_unix_ms)

TAIPEI = datetime.timezone(datetime.timedelta(hours=8))


def test_valid_table_covers_every_kind(bb, home):
    kinds = json.loads(bb(home, "kinds", "--json").out)
    assert sorted(k["kind"] for k in kinds) == KINDS


def check_fresh_record(store, rec, rid, kind, data, t0, t1):
    """What every newly added record carries."""
    assert rec["id"] == rid
    assert rec["kind"] == kind
    assert rec["status"] == "final"
    assert rec["rev"] == 1
    assert rec["officer"] == OFFICER
    assert rec["org_unit"] == ORG_UNIT
    assert rec["device"] == store.device
    assert rec["data"] == data
    recorded = parse_iso(rec["recorded_at"])
    assert TAIPEI_RE.match(rec["recorded_at"])
    assert t0 - 2 <= recorded.timestamp() <= t1 + 2
    # A UUIDv7 carries its creation time in milliseconds.
    assert t0 - 2 <= uuid7_unix_ms(rid) / 1000 <= t1 + 2


@pytest.mark.parametrize("kind", KINDS)
def test_add_every_kind(store, kind):
    args, data = VALID[kind]
    t0 = time.time()
    r = store.run("add", kind, *args, "occurred_at=2018-03-15 14:20", "location=24.15,120.67",
                  lang="en")
    t1 = time.time()
    assert r.rc == EX_OK, r
    assert r.err == ""
    rid = r.out.strip()
    assert r.out == rid + "\n"
    assert UUID7_RE.match(rid), rid
    recs = store.list()
    assert len(recs) == 1
    rec = recs[0]
    assert set(rec) == ENVELOPE_KEYS | {"location"}
    check_fresh_record(store, rec, rid, kind, data, t0, t1)
    assert rec["occurred_at"] == "2018-03-15T14:20:00+08:00"
    assert rec["location"] == {"lat": 24.15, "lon": 120.67}
    # The same in `show` and in the file itself; the outbox holds revision 1.
    shown = store.show(rid)
    assert shown["record"] == rec
    assert shown["revisions"] == [rec]
    rows = store.query("SELECT kind, rev, status, org_unit, officer, occurred_at, body "
                       "FROM records WHERE id = ?", (rid,))
    assert len(rows) == 1
    assert rows[0][:6] == (kind, 1, "final", ORG_UNIT, OFFICER, "2018-03-15T14:20:00+08:00")
    assert json.loads(rows[0][6]) == rec
    assert store.query("SELECT rev, status, batch_seq FROM revisions WHERE id = ?", (rid,)) == \
        [(1, "final", None)]
    st = store.status()
    assert (st["final"], st["drafts"], st["void"], st["unsent_revisions"]) == (1, 0, 0, 1)
    assert st["final_per_kind"] == {kind: 1}


def test_add_defaults_occurred_at_to_now_without_location(store):
    t0 = time.time()
    rid = store.add("complaint", "category=misconduct", "received_at=now")
    t1 = time.time()
    rec = store.get(rid)
    assert "location" not in rec
    check_fresh_record(store, rec, rid, "complaint", {"category": "misconduct",
                                                      "received_at": rec["data"]["received_at"]},
                       t0, t1)
    assert TAIPEI_RE.match(rec["occurred_at"]), rec["occurred_at"]
    assert t0 - 2 <= parse_iso(rec["occurred_at"]).timestamp() <= t1 + 2
    assert TAIPEI_RE.match(rec["data"]["received_at"])
    assert t0 - 2 <= parse_iso(rec["data"]["received_at"]).timestamp() <= t1 + 2


def test_ids_are_unique_and_sortable(store):
    ids = [store.add("complaint", "category=other", "received_at=now") for _ in range(5)]
    assert len(set(ids)) == 5
    assert ids == sorted(ids)   # UUIDv7: creation order


@pytest.mark.parametrize("text, want", [
    ("2018-03-15 14:20", "2018-03-15T14:20:00+08:00"),
    ("107/03/15 14:20", "2018-03-15T14:20:00+08:00"),            # ROC year 107 = 2018
    ("107/3/5 9:05", "2018-03-05T09:05:00+08:00"),
    ("2018-03-15T14:20:00+08:00", "2018-03-15T14:20:00+08:00"),
    ("2018-03-15T14:20:00.250+08:00", "2018-03-15T14:20:00+08:00"),
    ("2018-03-15 14:20:30", "2018-03-15T14:20:30+08:00"),
    ("2018-03-15", "2018-03-15T00:00:00+08:00"),
])
def test_datetime_forms(store, text, want):
    rid = store.add("complaint", "category=misconduct", f"received_at={text}",
                    f"occurred_at={text}")
    rec = store.get(rid)
    assert rec["data"]["received_at"] == want
    assert rec["occurred_at"] == want


@pytest.mark.parametrize("text", ["2018-03-15T06:20:00Z", "2018-03-15T15:20:00+09:00"])
def test_datetime_with_other_offset_keeps_the_instant(store, text):
    # DESIGN §3: "Times carry their UTC offset"; the collector keeps the offset
    # typed in, in canonical form, and it must be the same instant.
    rid = store.add("complaint", "category=misconduct", f"received_at={text}",
                    f"occurred_at={text}")
    rec = store.get(rid)
    want = datetime.datetime(2018, 3, 15, 14, 20, tzinfo=TAIPEI)
    for value in (rec["data"]["received_at"], rec["occurred_at"]):
        assert parse_iso(value) == want, value


def test_datetime_now(store):
    t0 = time.time()
    rid = store.add("complaint", "category=misconduct", "received_at=now", "occurred_at=NOW")
    t1 = time.time()
    rec = store.get(rid)
    for value in (rec["data"]["received_at"], rec["occurred_at"]):
        assert TAIPEI_RE.match(value), value
        assert t0 - 2 <= parse_iso(value).timestamp() <= t1 + 2


@pytest.mark.parametrize("text, want", [
    ("yes", True), ("no", False), ("true", True), ("false", False), ("是", True), ("否", False),
    ("YES", True), ("False", False),
])
def test_boolean_forms(store, text, want):
    rid = store.add("parking_citation", "method=remote", "source=citizen_report",
                    f"major={text}", "violation=sidewalk")
    assert store.get(rid)["data"]["major"] is want


@pytest.mark.parametrize("text, want", [
    ("small_area", "small_area"),
    ("SMALL_AREA", "small_area"),
    ("小區域巡邏", "small_area"),                     # zh-TW label
    ("Small-area patrol", "small_area"),            # English label
    ("small-area PATROL", "small_area"),
    ("舉家外出住宅巡邏", "residence_watch"),
    ("Checkpoint / spot inspection", "checkpoint"),
])
def test_enum_labels_become_codes(store, text, want):
    rid = store.add("patrol", f"type={text}", "mode=徒步巡邏", "officers=1",
                    "started_at=2018-03-15 14:00", "ended_at=2018-03-15 15:00")
    data = store.get(rid)["data"]
    assert data["type"] == want
    assert data["mode"] == "foot"


@pytest.mark.parametrize("field, text, want", [
    ("intersection", "int-07", "INT-07"),           # ref codes are case-insensitive
    ("intersection", "INT-25", "INT-25"),
])
def test_ref_codes(store, field, text, want):
    rid = store.add("intersection_duty", f"{field}={text}", "activity=enforcement",
                    "started_at=2018-03-15 07:00", "ended_at=2018-03-15 08:00", "officers=1")
    assert store.get(rid)["data"][field] == want


@pytest.mark.parametrize("text, want", [
    ("24.15,120.67", {"lat": 24.15, "lon": 120.67}),
    ("24.1477, 120.6736", {"lat": 24.1477, "lon": 120.6736}),
    ("-33.5,-70", {"lat": -33.5, "lon": -70}),
    ("90,180", {"lat": 90, "lon": 180}),
])
def test_location(store, text, want):
    rid = store.add("complaint", "category=misconduct", "received_at=now", f"location={text}")
    assert store.get(rid)["location"] == want


def test_org_unit_can_be_set_per_record(store):
    rid = store.add("criminal_case", "case_no=X1", "category=theft", "org_unit=P06-S01")
    rec = store.get(rid)
    assert rec["org_unit"] == "P06-S01"
    assert rec["officer"] == OFFICER
    assert store.list("--org-unit", "P06-S01")[0]["id"] == rid


def test_integers_and_numbers_are_json_numbers(store):
    rid = store.add("patrol", "type=checkpoint", "mode=car", "officers=50", "volunteers=200",
                    "distance_km=0.5", "persons_checked=10000", "vehicles_checked=0",
                    "started_at=2018-03-15 22:00", "ended_at=2018-03-16 02:00")
    raw = store.query("SELECT body FROM records WHERE id = ?", (rid,))[0][0]
    data = json.loads(raw)["data"]
    assert data["officers"] == 50 and type(data["officers"]) is int
    assert data["persons_checked"] == 10000 and type(data["persons_checked"]) is int
    assert data["vehicles_checked"] == 0 and type(data["vehicles_checked"]) is int
    assert data["distance_km"] == 0.5
    assert '"officers":50' in raw.replace(" ", "")


def test_text_at_max_length_counts_characters(store):
    notes = "字" * 2000            # 2000 characters, 6000 bytes of UTF-8
    rid = store.add("complaint", "category=misconduct", "received_at=now", f"summary={notes}")
    assert store.get(rid)["data"]["summary"] == notes


HOSTILE = [
    '<script>alert("x")</script>',
    "<b>bold</b> & <i>it</i> &amp; &lt;tag&gt;",
    "Robert'); DROP TABLE records;--",
    "line1\nline2\ttab \\ backslash \"quoted\"",
    "{{7*7}} ${HOME} %s %n `id`",
    "</textarea><img src=x onerror=alert(1)>",
    "混合 text — em dash 🚓",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_html_and_script_stored_verbatim(store, text):
    rid = store.add("traffic_accident", "class=a3", "deaths=0", "injuries=0",
                    f"place={text}", f"notes={text}")
    rec = store.get(rid)
    assert rec["data"]["place"] == text
    assert rec["data"]["notes"] == text
    assert store.list()[0]["data"]["notes"] == text
    body = store.query("SELECT body FROM records WHERE id = ?", (rid,))[0][0]
    assert json.loads(body)["data"]["notes"] == text
    # Also through an import, and in the text table of `show`.
    r = store.import_json("complaint", {"occurred_at": "2018-03-15T14:20:00+08:00",
                                        "data": {"category": "other",
                                                 "received_at": "2018-03-15T14:20:00+08:00",
                                                 "summary": text}}, lang="en")
    assert r.rc == EX_OK, r
    assert store.get(r.out.strip())["data"]["summary"] == text
    if "\n" not in text:
        assert text in store.ok("show", rid, lang="en").out


# ---- import with --json ------------------------------------------------------------------

def element(i, **over):
    e = {"occurred_at": "2018-03-15T14:20:00+08:00",
         "location": {"lat": 24.15, "lon": 120.67},
         "data": {"case_no": f"C{i:06d}", "category": "theft", "victims": i % 7}}
    e.update(over)
    return e


def test_import_one_object(store):
    r = store.import_json("criminal_case", element(1, org_unit="P06-S01"), lang="en")
    assert r.rc == EX_OK, r
    rid = r.out.strip()
    assert UUID7_RE.match(rid)
    rec = store.get(rid)
    assert rec["org_unit"] == "P06-S01"
    assert rec["occurred_at"] == "2018-03-15T14:20:00+08:00"
    assert rec["location"] == {"lat": 24.15, "lon": 120.67}
    assert rec["data"] == {"case_no": "C000001", "category": "theft", "victims": 1}
    assert (rec["status"], rec["rev"], rec["officer"], rec["device"]) == \
        ("final", 1, OFFICER, store.device)


def test_import_array_from_stdin(store):
    items = [element(i) for i in range(300)]
    r = store.run("add", "criminal_case", "--json", "-", input=json.dumps(items), lang="en")
    assert r.rc == EX_OK, r
    assert "300" in r.out
    recs = store.list()
    assert len(recs) == 300
    assert sorted(x["data"]["case_no"] for x in recs) == [f"C{i:06d}" for i in range(300)]
    assert len({x["id"] for x in recs}) == 300
    assert all(x["status"] == "final" and x["rev"] == 1 for x in recs)
    assert store.counts() == (300, 300)


def test_import_ignores_nothing_and_takes_kind_key(store):
    r = store.import_json("complaint", [{"kind": "complaint", "data": {
        "category": "other", "received_at": "2018-03-15T14:20:00+08:00"}}], lang="en")
    assert r.rc == EX_OK, r
    assert store.counts() == (1, 1)


def test_import_normalises_times(store):
    r = store.import_json("complaint", {
        "occurred_at": "2018-03-15t06:20:00.123z",
        "data": {"category": "other", "received_at": "2018-03-15T14:20:00.5+08:00"}}, lang="en")
    assert r.rc == EX_OK, r
    rec = store.get(r.out.strip())
    want = datetime.datetime(2018, 3, 15, 14, 20, tzinfo=TAIPEI)
    assert parse_iso(rec["occurred_at"]) == want
    assert parse_iso(rec["data"]["received_at"]) == want
