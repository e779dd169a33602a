"""Precinct isolation and hostile input on the review API (hq/hq_api.h).

A precinct admin of P06 sees and exports only P06's records, devices,
quarantine and KPIs — whatever it puts in the URL; a record of another
precinct is "not found", exactly like one that does not exist.  Malformed,
oversized, unknown and repeated parameters are 400 with a JSON error that
names the parameter and nothing else.
"""
import json

import pytest

from ui_fixtures import XSS, needs_ui, world  # noqa: F401

pytestmark = needs_ui


def units_of(world, precinct):
    return {r[0] for r in world.hq.query(
        "SELECT DISTINCT org_unit FROM records WHERE org_unit = ? OR org_unit LIKE ?",
        (precinct, precinct + "-%"))}


def all_records(web, **params):
    """Every item of a list, page by page (keyset)."""
    items, after = [], None
    while True:
        p = dict(params, limit="7")
        if after:
            p["after"] = after
        status, doc = web.get("/v1/records", **p)
        assert status == 200, doc
        items += doc["items"]
        after = doc["next"]
        if not after:
            return items, doc


def test_precinct_admin_sees_only_its_records(world):
    admin = world.web("p06admin")
    items, doc = all_records(admin)
    assert items and all(i["org_unit"].startswith("P06") for i in items)
    want = world.hq.query("SELECT count(*) FROM records WHERE org_unit LIKE 'P06%'")[0][0]
    assert len(items) == want
    assert len({i["id"] for i in items}) == len(items)       # no page repeats a record
    # The city: narrowed to the admin's precinct, and it says so.
    items2, doc2 = all_records(admin, org="TC")
    assert doc2["limited"] is True and {i["id"] for i in items2} == {i["id"] for i in items}
    # A station of its own precinct is fine.
    status, doc = admin.get("/v1/records", org="P06-S03")
    assert status == 200 and all(i["org_unit"] == "P06-S03" for i in doc["items"])


@pytest.mark.parametrize("path,params", [
    ("/v1/records", {"org": "P08"}), ("/v1/records", {"org": "P08-S02"}),
    ("/v1/records", {"org": "P08", "format": "csv"}),
    ("/v1/records", {"org": "P01-S01", "format": "json"}),
    ("/v1/kpi", {"period": "107-03", "org": "P08"}), ("/v1/kpi", {"period": "107-03", "org": "TC"}),
    ("/v1/kpi", {"period": "107-03", "org": "P08", "format": "csv"}),
    ("/v1/kpi/months", {"year": "107", "org": "P01"}),
    ("/v1/kpi/records", {"kpi": "K4", "figure": "numerator", "period": "107-03", "org": "P08"}),
    ("/v1/devices", {"org": "P08"}), ("/v1/devices", {"org": "P08", "format": "csv"}),
    ("/v1/quarantine", {"org": "P08"}),
])
def test_other_precincts_by_url_are_403(world, path, params):
    admin = world.web("p06admin")
    status, hdrs, body = admin.request("GET", path, params)
    assert status == 403, (path, params, body[:200])
    doc = json.loads(body)
    assert doc["error"] == "forbidden"
    assert b"P08-S02" not in body and "content-disposition" not in hdrs


def test_another_precincts_record_is_not_found(world):
    admin = world.web("p06admin")
    other = world.record_of("P08")
    own = world.record_of("P06")
    status, doc = admin.get(f"/v1/records/{other}")
    assert status == 404 and doc["error"] == "not_found"
    status, doc = admin.get("/v1/records/0190a1b2-c3d4-7e5f-8a6b-000000000000")
    assert status == 404                                    # the same answer
    assert admin.get(f"/v1/records/{own}")[0] == 200
    assert world.web("reviewer").get(f"/v1/records/{other}")[0] == 200


def test_precinct_kpis_devices_and_quarantine(world):
    admin = world.web("p06admin")
    status, card = admin.get("/v1/kpi", period="107-03")
    assert status == 200 and card["org"]["code"] == "P06"
    assert card == world.kpi_json("--period", "107-03", "--org", "P06")
    status, devs = admin.get("/v1/devices")
    assert status == 200
    units = {d["org_unit"] for d in devs["items"]}
    assert units and all(u.startswith("P06") for u in units)
    # The crafted P06-S01 device's rejected citation (dated in P08) is P06's to see...
    status, q = admin.get("/v1/quarantine")
    assert status == 200 and len(q["items"]) == 1
    # ...but not to act on: quarantine actions are HQ's.
    qid = q["items"][0]["id"]
    status, doc = admin.json("POST", f"/v1/quarantine/records/{qid}/review")
    assert status == 403
    p08 = world.web("p08admin")
    status, q8 = p08.get("/v1/quarantine")
    assert status == 200 and q8["items"] == []
    status, d8 = p08.get("/v1/devices")
    assert {d["org_unit"] for d in d8["items"]} == {"P08-S02"}


def test_precinct_export_is_its_own_and_audited(world):
    admin = world.web("p06admin")
    status, hdrs, body = admin.request("GET", "/v1/records", {"format": "csv"})
    assert status == 200 and hdrs["content-type"].startswith("text/csv")
    assert 'attachment; filename="beatbook-records.csv"' == hdrs["content-disposition"]
    text = body.decode("utf-8-sig")
    lines = text.split("\r\n")[1:-1]
    want = world.hq.query("SELECT count(*) FROM records WHERE org_unit LIKE 'P06%'")[0][0]
    assert len(lines) == want
    assert all(',"P06' in ln for ln in lines)
    assert "P08" not in text and "P01-S01" not in text
    details = [r[0] for r in world.hq.query("SELECT detail FROM audit WHERE action = 'export'")]
    assert f"user=p06admin what=records format=csv rows={want}" in details


@pytest.mark.parametrize("path,params,word", [
    ("/v1/records", {"limit": "0"}, "limit"), ("/v1/records", {"limit": "201"}, "limit"),
    ("/v1/records", {"limit": "abc"}, "limit"), ("/v1/records", {"limit": "-5"}, "limit"),
    ("/v1/records", {"after": "garbage"}, "after"), ("/v1/records", {"after": "1.2.3"}, "after"),
    ("/v1/records", {"period": "2018Q9"}, "period"), ("/v1/records", {"period": "<b>"}, "period"),
    ("/v1/records", {"org": "<script>alert(1)</script>"}, "org"),
    ("/v1/records", {"org": "P99"}, "org"), ("/v1/records", {"kind": "bogus"}, "kind"),
    ("/v1/records", {"status": "draft"}, "status"), ("/v1/records", {"officer": "a b"}, "officer"),
    ("/v1/records", {"nonsense": "1"}, "nonsense"), ("/v1/records", {"format": "xml"}, "format"),
    ("/v1/records", {"lang": "fr"}, "lang"), ("/v1/records", {"org": "P06" * 100}, "org"),
    ("/v1/kpi", {}, "period"), ("/v1/kpi", {"period": "107", "plan": "../x"}, "plan"),
    ("/v1/kpi/records", {"kpi": "K1", "period": "107"}, "figure"),
    ("/v1/kpi/records", {"kpi": "K1", "figure": "ratio", "period": "107"}, "figure"),
    ("/v1/kpi/records", {"kpi": "K3", "figure": "count", "period": "107", "group": "INT-99"},
     "group"),
    ("/v1/kpi/months", {"year": "2018-03"}, "year"),
    ("/v1/quarantine", {"state": "closed"}, "state"), ("/v1/quarantine", {"after": "x"}, "after"),
])
def test_malformed_parameters_are_400(world, path, params, word):
    w = world.web("reviewer")
    status, hdrs, body = w.request("GET", path, params)
    assert status == 400, (path, params, body[:200])
    doc = json.loads(body)
    assert doc["error"] == "bad_request" and word in doc["message"]
    assert "<script>" not in doc["message"] and "SELECT" not in doc["message"]


def test_oversized_repeated_and_odd_requests(world):
    w = world.web("reviewer")
    status, _, body = w.request("GET", "/v1/records?kind=patrol&kind=complaint")
    assert status == 400 and "重複" in body.decode()            # zh-TW unless asked
    status, _, body = w.request("GET", "/v1/records?kind=patrol&kind=complaint&lang=en")
    assert status == 400 and b"twice" in body
    status, _, body = w.request("GET", "/v1/records", {"officer": "A" * 5000})
    assert status in (400, 414, 431)
    many = "&".join(f"x{i}=1" for i in range(40))
    assert w.request("GET", "/v1/records?" + many)[0] == 400
    assert w.request("PUT", "/v1/kpi", {"period": "107"})[0] == 405
    status, hdrs, _ = w.request("POST", "/v1/records", body={})
    assert status == 405 and hdrs["allow"] == "GET, HEAD"
    assert w.request("GET", "/v1/records/%3Cscript%3E")[0] == 400
    assert w.request("GET", "/v1/nothing")[0] == 404
    assert w.request("POST", "/v1/quarantine/records/abc/release", body={})[0] == 404
    assert w.request("POST", "/v1/quarantine/records/1/explode", body={})[0] == 404
    assert w.request("POST", "/v1/quarantine/records/999999/review", body={})[0] == 404
    status, _, _ = w.request("POST", "/v1/quarantine/records/1/review", body="{",)
    assert status == 400
    status, _, _ = w.request("POST", "/v1/quarantine/records/1/review",
                             body={"note": "x" * 600})
    assert status == 400
    assert world.hq.query("SELECT count(*) FROM quarantine_actions")[0][0] == 0
    # HQ still serves the devices' protocol as before.
    assert w.request("GET", "/healthz")[0] == 200


def test_record_text_comes_back_as_data(world):
    w = world.web("reviewer")
    rid = world.xss_record()
    status, hdrs, body = w.request("GET", f"/v1/records/{rid}")
    assert status == 200 and hdrs["content-type"] == "application/json"
    assert hdrs["x-content-type-options"] == "nosniff"
    doc = json.loads(body)
    assert doc["record"]["data"]["topic"] == XSS


@pytest.mark.parametrize("query", ["period=107-03&org=P06%00P08", "period=107%0003",
                                   "period=107-03&org=P06%0A", "period=107-03&lang=en%00"])
def test_an_encoded_nul_or_control_character_in_a_parameter_is_400(world, query):
    """%00 would cut a value silently (org=P06%00P08 read as P06): refused instead."""
    w = world.web("p06admin")
    status, _, body = w.request("GET", "/v1/kpi?" + query)
    assert status == 400, body
    assert "NUL" in json.loads(body)["message"]


@pytest.mark.parametrize("path", ["/ui/app.js%00.html", "/v1/kpi%00", "/ui/%0aapp.js"])
def test_an_encoded_nul_in_the_path_is_400(world, path):
    status, _, body = world.web("reviewer").request("GET", path)
    assert status == 400, (path, status, body[:200])
