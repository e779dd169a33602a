"""Bad input: exit 64 (usage) or 65 (bad data), a message naming what is wrong, nothing stored.

Every test here starts from a store that already holds one record, runs the bad
command, and compares everything stored before and after.
"""
import json
import subprocess

import pytest

from conftest import (EX_DATAERR, EX_NOINPUT, EX_USAGE, beatbook_cmd, clean_env,
                      known_bug)

COMPLAINT = ["category=misconduct", "received_at=2018-03-15 14:20"]
PATROL = ["type=small_area", "mode=bicycle", "officers=2", "started_at=2018-03-15 14:00",
          "ended_at=2018-03-15 16:00"]
PARKING = ["method=stop", "source=police", "major=yes", "violation=red_line"]


@pytest.fixture
def seeded(store):
    store.add("complaint", *COMPLAINT)
    store.before = store.snapshot()
    return store


def assert_nothing_stored(store):
    assert store.snapshot() == store.before
    assert store.counts() == (1, 1)


# (args, exit code, strings the English message must contain)
USAGE_CASES = [
    (["add"], ["add", "kind"]),
    (["add", "parking_citation", *PARKING, "foo"], ['"foo"', "FIELD=VALUE", "parking_citation"]),
    (["add", "parking_citation", "=stop"], ['"=stop"', "FIELD=VALUE"]),
    (["add", "--bogus", "complaint", *COMPLAINT], ["add", "unknown option"]),
    (["add", "complaint", "--json", "x.json", *COMPLAINT], ["--json"]),
    (["frobnicate"], ['"frobnicate"', "unknown command"]),
    (["patrol"], ["patrol", "start or end"]),
    (["patrol", "begin"], ["patrol", "start or end"]),
    (["list", "--bogus"], ["list", "unknown option"]),
    (["list", "--kind", "nokind"], ['"nokind"']),
    (["list", "--status", "pending"], ['"pending"']),
    (["list", "--limit", "0"], ['"0"']),
    (["list", "--limit", "ten"], ['"ten"']),
    (["list", "--period", "2018Q5"], ["2018Q5"]),
    (["list", "--from", "2018-02-30"], ["--from", "2018-02-30"]),
    (["list", "--org-unit", "P99"], ['"P99"']),
    (["list", "--from", "2019-01-01", "--to", "2018-01-01"], ["--to", "--from"]),
    (["list", "extra"], ['"extra"']),
    (["report"], ["--period"]),
    (["report", "--period", "2018-13"], ["2018-13"]),
    (["show"], ["show"]),
    (["show", "abc"], ['"abc"', "6"]),
    (["edit", "abcdef"], ["edit"]),
    (["void"], ["void"]),
    (["status", "extra"], ['"extra"']),
]


@pytest.mark.parametrize("args, needles", USAGE_CASES, ids=[" ".join(c[0])[:40] for c in USAGE_CASES])
def test_usage_errors_exit_64(seeded, args, needles):
    r = seeded.run(*args, lang="en")
    assert r.rc == EX_USAGE, r
    assert r.out == ""
    for n in needles:
        assert n in r.err, (n, r.err)
    assert_nothing_stored(seeded)


# add KIND FIELD=VALUE... that must be refused as bad data, with what the message must name.
LONG = "x" * 2001
DATA_CASES = {
    "unknown kind": (["add", "parking", *PARKING], ['"parking"', "parking_citation"]),
    "unknown field": (["add", "complaint", *COMPLAINT, "bogus=1"],
                      ["complaint", '"bogus"', "received_at"]),
    "integer not a number": (["add", "complaint", *COMPLAINT, "officers_named=abc"],
                             ["complaint", '"officers_named"', '"abc"']),
    "integer with a fraction": (["add", "patrol", *PATROL[:2], "officers=2.5", *PATROL[3:]],
                                ["patrol", '"officers"', '"2.5"']),
    "number not a number": (["add", "patrol", *PATROL, "distance_km=far"],
                            ["patrol", '"distance_km"', '"far"']),
    "above maximum": (["add", "complaint", *COMPLAINT, "officers_named=51"],
                      ["complaint", '"officers_named"', "51", "50"]),
    "below minimum": (["add", "traffic_accident", "class=a2", "deaths=-1", "injuries=0"],
                      ["traffic_accident", '"deaths"', "-1", "0"]),
    "number above maximum": (["add", "patrol", *PATROL, "distance_km=500.5"],
                             ["patrol", '"distance_km"', "500.5"]),
    "unknown enum value": (["add", "parking_citation", *PARKING[:3], "violation=parked_badly"],
                           ["parking_citation", '"violation"', '"parked_badly"', "red_line"]),
    "unknown ref code": (["add", "parking_citation", *PARKING, "segment=SEG-9999"],
                         ["parking_citation", '"segment"', '"SEG-9999"', "beatbook ref segments"]),
    "unknown intersection": (["add", "traffic_accident", "class=a1", "deaths=1", "injuries=0",
                              "intersection=INT-26"],
                             ["traffic_accident", '"intersection"', '"INT-26"']),
    "bad boolean": (["add", "parking_citation", "method=stop", "source=police", "major=maybe",
                     "violation=red_line"], ["parking_citation", '"major"', '"maybe"']),
    "no such day": (["add", "complaint", "category=misconduct", "received_at=2018-02-30"],
                    ["complaint", '"received_at"', "2018-02-30"]),
    "no such ROC day": (["add", "complaint", "category=misconduct", "received_at=107/02/29 10:00"],
                        ["complaint", '"received_at"', "107/02/29"]),
    "bad hour": (["add", "complaint", "category=misconduct", "received_at=2018-03-15 24:00"],
                 ["complaint", '"received_at"', "2018-03-15 24:00"]),
    "not a date": (["add", "complaint", "category=misconduct", "received_at=yesterday"],
                   ["complaint", '"received_at"', "yesterday"]),
    "bad occurred_at": (["add", "complaint", *COMPLAINT, "occurred_at=2018-02-30 10:00"],
                        ["complaint", "occurred_at", "2018-02-30"]),
    "empty occurred_at": (["add", "complaint", *COMPLAINT, "occurred_at="],
                          ["complaint", "occurred_at"]),
    "missing required": (["add", "complaint", "category=misconduct"],
                         ["complaint", '"received_at"', "required"]),
    "required_if bike_path": (["add", "patrol", "type=bike_path", *PATROL[1:]],
                              ["patrol", '"bike_path"', "bike_path", "type"]),
    "required_if partner_unit": (["add", "patrol", "type=joint_patrol", *PATROL[1:]],
                                 ["patrol", '"partner_unit"', "joint_patrol"]),
    "required_if audience": (["add", "community_event", "type=anti_fraud", "attendance=10"],
                             ["community_event", '"audience"', "anti_fraud"]),
    "required_if violation": (["add", "roadworks_inspection", "violation_found=yes",
                               "action=warning", "road=中港路"],
                              ["roadworks_inspection", '"violation"', "true"]),
    "text too long": (["add", "complaint", *COMPLAINT, f"summary={LONG}"],
                      ["complaint", '"summary"', "2001", "2000"]),
    "final patrol needs ended_at": (["add", "patrol", *PATROL[:4]],
                                    ["patrol", '"ended_at"']),
    "ended before started": (["add", "patrol", *PATROL[:4], "ended_at=2018-03-15 13:59"],
                             ["patrol", '"ended_at"', "2018-03-15T13:59:00+08:00",
                              "2018-03-15T14:00:00+08:00"]),
    "duty ended before started": (["add", "intersection_duty", "intersection=INT-01",
                                   "activity=presence", "officers=1",
                                   "started_at=107/03/15 10:00", "ended_at=107/03/14 10:00"],
                                  ["intersection_duty", '"ended_at"']),
    "bad location text": (["add", "complaint", *COMPLAINT, "location=here"],
                          ["complaint", "location"]),
}

BUGGY_DATA_CASES = {
    "location out of range": (["add", "complaint", *COMPLAINT, "location=91,120"],
                              ["complaint", "location", "91,120"]),
    "unknown org_unit": (["add", "complaint", *COMPLAINT, "org_unit=P99-S01"],
                         ["complaint", "org_unit", "P99-S01"]),
}


def check_data_error(store, args, needles):
    r = store.run(*args, lang="en")
    assert r.rc == EX_DATAERR, r
    assert r.out == ""
    for n in needles:
        assert n in r.err, (n, r.err)
    assert_nothing_stored(store)


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_bad_data_exit_65(seeded, case):
    check_data_error(seeded, *DATA_CASES[case])


@pytest.mark.parametrize("case", sorted(BUGGY_DATA_CASES))
def test_bad_envelope_value_named_in_message(seeded, case):
    check_data_error(seeded, *BUGGY_DATA_CASES[case])


def test_bad_envelope_values_still_refused(seeded):
    # Whatever the wording, these are refused as bad data and store nothing.
    for args, _ in BUGGY_DATA_CASES.values():
        r = seeded.run(*args, lang="en")
        assert r.rc == EX_DATAERR, r
    assert_nothing_stored(seeded)


def test_messages_in_chinese(seeded):
    zh = seeded.run("add", "complaint", *COMPLAINT, "officers_named=abc", lang="zh-TW")
    assert zh.rc == EX_DATAERR
    assert "欄位" in zh.err and "officers_named" in zh.err and "abc" in zh.err
    assert "被投訴員警人數" in zh.err          # the field's zh-TW label
    en = seeded.run("add", "complaint", *COMPLAINT, "officers_named=abc", lang="en")
    assert "欄位" not in en.err and "field" in en.err
    assert "Officers complained about" in en.err
    missing = seeded.run("add", "complaint", "category=misconduct", lang="zh-TW")
    assert missing.rc == EX_DATAERR and "欄位" in missing.err and "必填" in missing.err
    kind = seeded.run("add", "nokind", lang="zh-TW")
    assert kind.rc == EX_DATAERR and "未知的紀錄類別" in kind.err
    assert_nothing_stored(seeded)


def test_default_language_without_lang_is_zh_tw(seeded):
    r = seeded.run("add", "complaint", *COMPLAINT, "officers_named=abc")
    assert r.rc == EX_DATAERR
    assert "欄位" in r.err


# ---- import with --json: all or nothing --------------------------------------------------

def elem(i):
    return {"occurred_at": "2018-03-15T14:20:00+08:00",
            "data": {"case_no": f"C{i:06d}", "category": "theft"}}


def run_import(store, payload, kind="criminal_case"):
    path = store.home.parent / "import.json"
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return store.run("add", kind, "--json", path, lang="en"), str(path)


def test_import_500th_bad_stores_nothing(seeded):
    items = [elem(i) for i in range(1000)]
    items[499]["data"]["category"] = "jaywalking"
    r, path = run_import(seeded, items)
    assert r.rc == EX_DATAERR, r
    assert "record 500 of 1000" in r.err
    assert path in r.err
    assert '"category"' in r.err and '"jaywalking"' in r.err and "criminal_case" in r.err
    assert_nothing_stored(seeded)


@pytest.mark.parametrize("name, payload, needles", [
    ("invalid JSON", "{not json", ["invalid JSON"]),
    ("truncated", json.dumps([elem(i) for i in range(50)])[:-40], ["invalid JSON"]),
    ("empty file", "", ["JSON"]),
    ("empty array", "[]", ["0"]),
    ("unknown key", [elem(0), dict(elem(1), status="final")], ["record 2 of 2", '"status"']),
    ("unknown key id", [dict(elem(0), id="01900000-0000-7000-8000-000000000001")],
     ["record 1 of 1", '"id"']),
    ("wrong kind", [dict(elem(0), kind="complaint")], ["record 1 of 1", "kind"]),
    ("not an object", [elem(0), 42], ["record 2 of 2"]),
    ("data missing", [{"occurred_at": "2018-03-15T14:20:00+08:00"}], ['"data"']),
    ("unknown field", [{"data": {"case_no": "C1", "category": "theft", "weapon": "knife"}}],
     ["criminal_case", '"weapon"']),
    ("string for integer", [{"data": {"case_no": "C1", "category": "theft", "victims": "2"}}],
     ["criminal_case", '"victims"']),
    ("float for integer", [{"data": {"case_no": "C1", "category": "theft", "victims": 1.5}}],
     ["criminal_case", '"victims"']),
    ("loose time", [dict(elem(0), occurred_at="2018-03-15 14:20")], ["occurred_at"]),
    ("time without offset", [dict(elem(0), occurred_at="2018-03-15T14:20:00")],
     ["occurred_at", "offset"]),
    ("bad location", [dict(elem(0), location={"lat": 24.1})], ["location"]),
    ("duplicate field", '[{"data": {"case_no": "C1", "case_no": "C2", "category": "theft"}}]',
     ['"case_no"', "twice"]),
    ("text too long", [{"data": {"case_no": "C" * 33, "category": "theft"}}],
     ['"case_no"', "33"]),
])
def test_bad_import_exit_65(seeded, name, payload, needles):
    r, path = run_import(seeded, payload)
    assert r.rc == EX_DATAERR, r
    assert r.out == ""
    assert path in r.err
    for n in needles:
        assert n in r.err, (n, r.err)
    assert_nothing_stored(seeded)


def test_import_missing_file_exit_66(seeded):
    r = seeded.run("add", "criminal_case", "--json", seeded.home.parent / "nope.json", lang="en")
    assert r.rc == EX_NOINPUT, r
    assert "nope.json" in r.err
    assert_nothing_stored(seeded)


def test_import_bad_stdin(seeded):
    r = seeded.run("add", "criminal_case", "--json", "-", input='[{"data": {', lang="en")
    assert r.rc == EX_DATAERR, r
    assert "standard input" in r.err
    assert_nothing_stored(seeded)


def test_bad_utf8_text_refused(seeded):
    # Arguments are bytes: an invalid UTF-8 sequence must not reach the store.
    args = beatbook_cmd("add", "complaint", *COMPLAINT, lang="en")
    args = [a.encode() for a in args] + [b"summary=\xff\xfe bad"]
    p = subprocess.run(args, env=clean_env(seeded.home), capture_output=True)
    assert p.returncode == EX_DATAERR, p
    assert b"summary" in p.stderr and b"UTF-8" in p.stderr
    assert_nothing_stored(seeded)
