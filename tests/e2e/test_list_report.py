"""list filters, status and report, over one store whose content is known by heart.

The store (unit P06-S03) is built once for the module and only read by the
tests.  Each record carries a tag (in a text field) so that tests can name it;
every expected figure below is worked out by hand from this table.
"""
import json

import pytest

from conftest import EX_OK, make_store

T8 = "+08:00"


def t(s):
    return s + T8


# tag: (kind, occurred_at, org_unit or None, data without the tag field)
RECORDS = {
    # criminal cases (tag in case_no)
    "C1": ("criminal_case", t("2018-01-10T09:00:00"), None, {"category": "theft"}),
    "C2": ("criminal_case", t("2018-03-20T22:15:00"), None, {"category": "fraud"}),
    "C3": ("criminal_case", t("2017-12-31T23:30:00"), None, {"category": "theft"}),
    "C4": ("criminal_case", t("2018-06-01T10:00:00"), "P06-S01", {"category": "drugs"}),
    "C5": ("criminal_case", t("2018-05-05T10:00:00"), None, {"category": "theft"}),  # voided
    # clearances (tag in case_no), counted by cleared_at
    "CL1": ("case_clearance", t("2018-02-01T10:00:00"), None,
            {"category": "theft", "cleared_at": t("2018-02-01T10:00:00")}),
    "CL2": ("case_clearance", t("2018-01-03T10:00:00"), None,
            {"category": "theft", "cleared_at": t("2017-12-30T10:00:00")}),
    "CL3": ("case_clearance", t("2017-12-31T20:00:00"), None,
            {"category": "fraud", "cleared_at": t("2018-01-02T09:00:00")}),
    # accidents (tag in notes)
    "TA1": ("traffic_accident", t("2018-04-01T08:00:00"), None,
            {"class": "a1", "deaths": 1, "injuries": 2, "intersection": "INT-03"}),
    "TA2": ("traffic_accident", t("2018-07-01T08:00:00"), None,
            {"class": "a2", "deaths": 0, "injuries": 1, "intersection": "INT-03"}),
    "TA3": ("traffic_accident", t("2018-08-01T08:00:00"), None,
            {"class": "a2", "deaths": 0, "injuries": 5, "place": "中清路"}),
    "TA4": ("traffic_accident", t("2017-11-01T08:00:00"), None,
            {"class": "a2", "deaths": 0, "injuries": 4, "intersection": "INT-05"}),
    "TA5": ("traffic_accident", t("2018-09-01T08:00:00"), "P06-S01",
            {"class": "a2", "deaths": 0, "injuries": 2, "intersection": "INT-07"}),
    # parking citations (tag in plate)
    "P1": ("parking_citation", t("2018-02-10T10:00:00"), None,
           {"method": "stop", "source": "police", "segment": "SEG-0601"}),
    "P2": ("parking_citation", t("2018-02-11T10:00:00"), None,
           {"method": "remote", "source": "police", "segment": "SEG-0602"}),
    "P3": ("parking_citation", t("2018-03-12T10:00:00"), None,
           {"method": "stop", "source": "police"}),
    "P4": ("parking_citation", t("2018-04-13T10:00:00"), None,
           {"method": "remote", "source": "citizen_report", "segment": "SEG-0601"}),
    "P5": ("parking_citation", t("2018-05-14T10:00:00"), None,
           {"method": "stop", "source": "citizen_report"}),
    "P6": ("parking_citation", t("2019-01-01T00:00:00"), None,
           {"method": "stop", "source": "police", "segment": "SEG-0603"}),
    "P7": ("parking_citation", t("2018-12-31T23:59:59"), None,
           {"method": "stop", "source": "police", "segment": "SEG-0603"}),
    # UTC times: P8 is 2018-01-01 00:00 in Taipei, P9 2019-01-01 00:00.
    "P8": ("parking_citation", "2017-12-31T16:00:00Z", None,
           {"method": "remote", "source": "police", "segment": "SEG-0604"}),
    "P9": ("parking_citation", "2018-12-31T16:00:00Z", None,
           {"method": "stop", "source": "police", "segment": "SEG-0604"}),
    # road works (tag in road)
    "R1": ("roadworks_inspection", t("2018-05-20T10:00:00"), None,
           {"violation_found": True, "violation": "no_permit", "action": "citation"}),
    "R2": ("roadworks_inspection", t("2018-05-21T10:00:00"), None, {"violation_found": False}),
    "R3": ("roadworks_inspection", t("2018-05-22T10:00:00"), None,   # voided
           {"violation_found": True, "violation": "out_of_area", "action": "warning"}),
    # complaints (tag in summary), counted by received_at
    "K1": ("complaint", t("2018-03-01T10:00:00"), None,
           {"category": "service_attitude", "received_at": t("2018-03-01T10:00:00")}),
    "K2": ("complaint", t("2018-01-05T10:00:00"), None,
           {"category": "service_attitude", "received_at": t("2017-12-20T10:00:00")}),
    "K3": ("complaint", t("2018-04-01T10:00:00"), None,
           {"category": "misconduct", "received_at": t("2018-04-01T10:00:00")}),
    "K4": ("complaint", t("2017-12-28T10:00:00"), None,
           {"category": "service_attitude", "received_at": t("2018-01-02T10:00:00")}),
    "K5": ("complaint", t("2018-06-01T10:00:00"), None,   # edited to service_attitude
           {"category": "misconduct", "received_at": t("2018-06-01T10:00:00")}),
    # others
    "PA1": ("patrol", t("2018-03-15T08:00:00"), None,
            {"type": "small_area", "mode": "car", "officers": 2,
             "started_at": t("2018-03-15T08:00:00"), "ended_at": t("2018-03-15T10:00:00")}),
    "E1": ("community_event", t("2018-10-10T19:00:00"), None,
           {"type": "safety_forum", "attendance": 30}),
    "D1": ("intersection_duty", t("2018-11-11T07:00:00"), None,
           {"intersection": "INT-01", "activity": "presence", "officers": 2,
            "started_at": t("2018-11-11T07:00:00"), "ended_at": t("2018-11-11T09:00:00")}),
}
TAG_FIELD = {"criminal_case": "case_no", "case_clearance": "case_no",
             "traffic_accident": "notes", "parking_citation": "plate",
             "roadworks_inspection": "road", "complaint": "summary", "patrol": "route",
             "community_event": "topic", "intersection_duty": "notes"}
PARKING_COMMON = {"major": True, "violation": "red_line"}


def tag_of(rec):
    return rec["data"].get(TAG_FIELD[rec["kind"]])


def tags(recs):
    return [tag_of(r) for r in recs]


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    store = make_store(tmp_path_factory.mktemp("list_report") / "home")
    by_kind = {}
    for tag, (kind, occurred, unit, data) in RECORDS.items():
        e = {"occurred_at": occurred, "data": dict(data, **{TAG_FIELD[kind]: tag})}
        if kind == "parking_citation":
            e["data"].update(PARKING_COMMON)
        if unit:
            e["org_unit"] = unit
        by_kind.setdefault(kind, []).append(e)
    for kind, items in by_kind.items():
        r = store.import_json(kind, items, lang="en")
        assert r.rc == EX_OK, r
    ids = {tag_of(r): r["id"] for r in store.list()}
    assert set(ids) == set(RECORDS)
    # A draft: an open patrol (occurred_at = its start).
    r = store.run("patrol", "start", "type=small_area", "mode=foot", "officers=1",
                  "started_at=2018-03-16 08:00", "route=PA2")
    assert r.rc == EX_OK, r
    ids["PA2"] = r.out.strip()
    # Two voids and an edit that moves K5 into the service-attitude count.
    for tag in ("C5", "R3"):
        assert store.run("void", ids[tag], "--reason", "test").rc == EX_OK
    assert store.run("edit", ids["K5"], "category=服務態度").rc == EX_OK
    store.ids = ids
    return store


def assert_order(got, want):
    """got == want, where "A|B" in want is two records at the same instant, either order."""
    groups = [w.split("|") for w in want]
    assert len(got) == sum(len(g) for g in groups), (got, want)
    i = 0
    for g in groups:
        assert sorted(got[i:i + len(g)]) == sorted(g), (got, want)
        i += len(g)


def test_list_all_oldest_first(ds):
    recs = ds.list()
    assert len(recs) == 34
    got = tags(recs)
    assert got[:4] == ["TA4", "K4", "CL3", "C3"]
    assert_order(got[-3:], ["P7", "P6|P9"])


@pytest.mark.parametrize("opts, want", [
    (["--kind", "parking_citation"], ["P8", "P1", "P2", "P3", "P4", "P5", "P7", "P6|P9"]),
    (["--status", "void"], ["C5", "R3"]),
    (["--status", "draft"], ["PA2"]),
    (["--period", "2018-03"], ["K1", "P3", "PA1", "PA2", "C2"]),
    (["--period", "107-03"], ["K1", "P3", "PA1", "PA2", "C2"]),
    (["--period", "2018Q1", "--kind", "parking_citation"], ["P8", "P1", "P2", "P3"]),
    (["--period", "2018Q1"], ["P8", "CL2", "K2", "C1", "CL1", "P1", "P2", "K1", "P3", "PA1",
                              "PA2", "C2"]),
    (["--period", "2018-01..2018-03", "--kind", "parking_citation"], ["P8", "P1", "P2", "P3"]),
    (["--period", "107H2", "--kind", "traffic_accident"], ["TA2", "TA3", "TA5"]),
    (["--period", "2017"], ["TA4", "K4", "CL3", "C3"]),
    (["--from", "2018-12-31 23:00", "--to", "2019-01-01"], ["P7"]),
    (["--from", "2018-12-31T23:59:59+08:00", "--to", "2019-01-01T00:00:01+08:00"],
     ["P7", "P6|P9"]),
    (["--from", "2019-01-01"], ["P6|P9"]),
    (["--from", "107/05/20", "--to", "107/05/23"], ["R1", "R2", "R3"]),
    (["--org-unit", "P06-S01"], ["C4", "TA5"]),
    (["--org-unit", "P06-S03", "--kind", "criminal_case"], ["C3", "C1", "C2", "C5"]),
    (["--limit", "3"], ["TA4", "K4", "CL3"]),
    (["--kind", "complaint", "--status", "final", "--period", "2018"], ["K2", "K1", "K3", "K5"]),
    (["--kind", "complaint", "--status", "void"], []),
    (["--period", "2020"], []),
])
def test_list_filters(ds, opts, want):
    assert_order(tags(ds.list(*opts)), want)


def test_list_status_void_shows_latest_revision(ds):
    recs = {tag_of(r): r for r in ds.list("--status", "void")}
    assert recs["C5"]["rev"] == 2 and recs["C5"]["void_reason"] == "test"
    k5 = ds.list("--kind", "complaint", "--period", "2018-06")
    assert [(tag_of(r), r["rev"], r["data"]["category"]) for r in k5] == \
        [("K5", 2, "service_attitude")]


def test_list_text_and_empty(ds):
    r = ds.run("list", "--kind", "intersection_duty", lang="en")
    assert r.rc == EX_OK
    lines = [line for line in r.out.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith(ds.ids["D1"]) and "intersection_duty" in lines[0]
    empty = ds.run("list", "--period", "2020", lang="en")
    assert empty.rc == EX_OK and empty.out == "" and "no records" in empty.err
    assert json.loads(ds.run("list", "--period", "2020", "--json").out) == []


def test_status_counts(ds):
    st = ds.status()
    assert st["drafts"] == 1
    assert st["final"] == 31
    assert st["void"] == 2
    # 33 finished records (31 final + 2 void) at rev 1, plus K5's edit and two voids.
    assert st["unsent_revisions"] == 36
    assert st["final_per_kind"] == {"criminal_case": 4, "case_clearance": 3,
                                    "traffic_accident": 5, "parking_citation": 9,
                                    "roadworks_inspection": 2, "complaint": 5, "patrol": 1,
                                    "community_event": 1, "intersection_duty": 1}
    assert ds.counts() == (34, 36)
    text = ds.ok("status", lang="en").out
    assert "36" in text and "31" in text


def report(ds, period):
    """The report as JSON, with kpi_inputs turned into {input: value} (the sum
    for summed inputs, else the record count) plus {input + "_by": groups}."""
    r = ds.run("report", "--period", period, "--json", lang="en")
    assert r.rc == EX_OK, r
    rep = json.loads(r.out)
    assert rep["plan"] == "taichung-107"
    flat = {}
    for i in rep["kpi_inputs"]:
        flat[i["input"]] = i.get("sum", i["records"])
        if "groups" in i:
            flat[i["input"] + "_by"] = i["groups"]
    rep["kpi_inputs"] = flat
    return rep


def test_report_2018(ds):
    rep = report(ds, "2018")
    assert rep["org_unit"] == "P06-S03"
    # Final records that happened in 2018 (Taipei time), whatever their unit.
    assert rep["records_per_kind"] == {
        "criminal_case": 3,         # C1 C2 C4 (C3 is 2017, C5 void)
        "case_clearance": 2,        # CL1 CL2 (CL3 happened in 2017)
        "traffic_accident": 4,      # TA1 TA2 TA3 TA5
        "parking_citation": 7,      # P1-P5 P7 P8 (P6 P9 are 2019 in Taipei)
        "roadworks_inspection": 2,  # R1 R2 (R3 void)
        "complaint": 4,             # K1 K2 K3 K5
        "patrol": 1,                # PA1 (PA2 is a draft)
        "community_event": 1,
        "intersection_duty": 1,
    }
    assert rep["kpi_inputs"] == {
        "criminal_cases": 2,                           # C1 C2
        "clearances": 2,                          # CL1 CL3, by cleared_at
        "intersection_casualties": 4,       # TA1 1+2, TA2 0+1
        "intersection_casualties_by": {"INT-03": 4},
        "parking_citations": 7,                        # P1-P5 P7 P8
        "listed_segment_citations": 4,        # P1 P2 P7 P8
        "roadworks_violations": 1,                     # R1
        "attitude_complaints": 3,              # K1 K4 K5, by received_at
    }


def test_report_107_is_2018(ds):
    a, b = report(ds, "107"), report(ds, "2018")
    assert a["records_per_kind"] == b["records_per_kind"]
    assert a["kpi_inputs"] == b["kpi_inputs"]


def test_report_ranges_agree(ds):
    q1 = report(ds, "2018Q1")
    assert report(ds, "2018-01..2018-03")["kpi_inputs"] == q1["kpi_inputs"]
    assert report(ds, "107-01..107-03")["records_per_kind"] == q1["records_per_kind"]
    assert q1["kpi_inputs"]["parking_citations"] == 4              # P8 P1 P2 P3
    assert q1["kpi_inputs"]["listed_segment_citations"] == 3   # P8 P1 P2
    assert q1["kpi_inputs"]["attitude_complaints"] == 2    # K4 K1


def test_report_107h1(ds):
    rep = report(ds, "107H1")
    assert rep["kpi_inputs"] == {
        "criminal_cases": 2,                           # C1 C2
        "clearances": 2,                          # CL1 CL3
        "intersection_casualties": 3,       # TA1
        "intersection_casualties_by": {"INT-03": 3},
        "parking_citations": 6,                        # P1-P5 P8
        "listed_segment_citations": 3,        # P1 P2 P8
        "roadworks_violations": 1,                     # R1
        "attitude_complaints": 3,              # K1 K4 K5
    }


def test_report_2017(ds):
    rep = report(ds, "2017")
    assert rep["records_per_kind"] == {"criminal_case": 1, "case_clearance": 1,
                                       "traffic_accident": 1, "complaint": 1}
    assert rep["kpi_inputs"] == {
        "criminal_cases": 1,                           # C3
        "clearances": 1,                          # CL2
        "intersection_casualties": 4,       # TA4
        "intersection_casualties_by": {"INT-05": 4},
        "parking_citations": 0,
        "listed_segment_citations": 0,
        "roadworks_violations": 0,
        "attitude_complaints": 1,              # K2
    }


def test_report_text(ds):
    r = ds.run("report", "--period", "2018", lang="en")
    assert r.rc == EX_OK, r
    assert "P06-S03" in r.out and "INT-03" in r.out
    zh = ds.run("report", "--period", "107", lang="zh-TW")
    assert zh.rc == EX_OK and "員警遭投訴（服務態度）件數" in zh.out
