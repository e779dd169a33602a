"""What the review API answers, checked against the CLI and the store: the
scorecard is `beatbook-hq kpi --format json`; a drill-down lists exactly the
records a KPI figure counts; keyset pages cover a list once; a record page
shows every revision with its batch, whose signature is checked again; the
Devices page has the facts of `beatbook-hq devices --json`, gaps included;
a quarantined record is released once, after a fix, with the KPI facts in
step (`kpi --verify`); CSV is Excel-safe UTF-8 with a BOM.
"""
import csv
import io
import json

from ui_fixtures import FORMULA, kind_labels, needs_ui, ref_label, run_tool, world  # noqa: F401

pytestmark = needs_ui


def export(web, path, **params):
    status, hdrs, body = web.request("GET", path, dict(params, format="json"))
    assert status == 200, body[:300]
    assert hdrs["content-disposition"].startswith("attachment;")
    return json.loads(body)


def test_scorecard_is_the_kpi_command(world):
    w = world.web("reviewer")
    for args in [("107-03",), ("2018Q1",), ("107", "P06"), ("2018-03", "P08-S02"), ("106", "TC")]:
        params = {"period": args[0]}
        if len(args) > 1:
            params["org"] = args[1]
        status, card = w.get("/v1/kpi", **params)
        assert status == 200, card
        cli = world.kpi_json("--period", args[0], *(["--org", args[1]] if len(args) > 1 else []))
        assert card == cli, args
    status, card = w.get("/v1/kpi", period="107-03", lang="en")
    assert card == world.kpi_json("--period", "107-03", "--lang", "en")
    assert card["score"]["missing"] == 0           # the fixture feeds every KPI


def test_months_add_up_to_the_chart(world):
    w = world.web("reviewer")
    status, m = w.get("/v1/kpi/months", year="107")
    assert status == 200 and m["months"][0] == "2018-01" and len(m["months"]) == 12
    march = world.kpi_json("--period", "2018-03")
    for k, mk in zip(march["kpis"], m["kpis"]):
        assert mk["id"] == k["id"]
        assert mk["values"][2] == k["rounded"]
        assert mk["achieved"][2] == k["achieved"]
        assert mk["values"][5] is None and mk["missing"][5]      # nothing in June
        assert mk["achieved"][5] is None                         # neither achieved nor missed
        assert mk["target_text"] == k["target"]["text"]["zh-TW"]


def test_drill_down_lists_exactly_what_each_figure_counts(world):
    w = world.web("reviewer")
    card = world.kpi_json("--period", "107-03")
    checked = 0
    for k in card["kpis"]:
        for f in k["figures"]:
            if f["origin"] != "records":
                continue
            ans = export(w, "/v1/kpi/records", kpi=k["id"], figure=f["name"],
                         period=f["period"], org=f["org"])
            assert sum(i["measure"] for i in ans["items"]) == f["value"], (k["id"], f)
            assert f"{len(ans['items'])} " in f["detail"]        # "records via facts: N records"
            checked += 1
        for g in k.get("groups") or []:
            ans = export(w, "/v1/kpi/records", kpi=k["id"], figure="count", group=g["code"],
                         period="2018-03")
            assert sum(i["measure"] for i in ans["items"]) == g["now"], g
    assert checked >= 8


def test_keyset_pages_cover_each_record_once(world):
    w = world.web("reviewer")
    seen, after, pages = [], None, 0
    while True:
        params = {"limit": "3", "period": "2018"}
        if after:
            params["after"] = after
        status, doc = w.get("/v1/records", **params)
        assert status == 200
        seen += [i["id"] for i in doc["items"]]
        pages += 1
        after = doc["next"]
        if not after:
            break
    want = [r[0] for r in world.hq.query(
        "SELECT id FROM records WHERE occurred_unix >= 1514736000 AND occurred_unix < 1546272000"
        " ORDER BY occurred_unix DESC, rowid DESC")]
    assert seen == want and pages > 3
    status, doc = w.get("/v1/records", kind="parking_citation", org="P06", period="107-03")
    assert {i["kind"] for i in doc["items"]} == {"parking_citation"}


def test_record_page_has_every_revision_batch_and_signature(world):
    w = world.web("reviewer")
    lp = world.laptops["jiguang"]
    rid = world.record_of("P01", "traffic_accident")
    lp.ok("edit", rid, "class=a2", "injuries=1")
    lp.sync_once()
    status, doc = w.get(f"/v1/records/{rid}")
    assert status == 200
    assert [v["rev"] for v in doc["revisions"]] == [1, 2]
    assert doc["record"]["rev"] == 2 and doc["record"]["data"]["injuries"] == 1
    for v in doc["revisions"]:
        b = v["batch"]
        sha, receipt = world.hq.query("SELECT sha256, receipt FROM batches WHERE device = ? "
                                      "AND seq = ?", (doc["device"]["id"], b["seq"]))[0]
        assert b["sha256"] == sha and b["receipt"] == json.loads(receipt)
        assert b["signature"]["verified"] is True and b["signature"]["result"] == "verified"
    assert [v["batch"]["current"] for v in doc["revisions"]] == [False, True]
    assert doc["device"]["org_unit"] == "P01-S01" and doc["device"]["device_key"]


def pair(zh, en):
    return {"zh-TW": zh, "en": en}


def test_answers_carry_labels_in_both_languages_beside_the_codes(world):
    w = world.web("reviewer")
    rid = world.hq.query("SELECT id FROM records WHERE kind = 'traffic_accident' AND org_unit = "
                         "'P06-S03' AND occurred_at LIKE '2018-03-15%'")[0][0]
    unit = pair(ref_label("units", "P06-S03") + " (P06-S03)",
                ref_label("units", "P06-S03", "en") + " (P06-S03)")
    for lang in ("zh-TW", "en"):        # the display pairs do not depend on ?lang
        status, doc = w.get(f"/v1/records/{rid}", lang=lang)
        assert status == 200
        r = doc["record"]
        assert (r["kind"], r["status"], r["org_unit"]) == ("traffic_accident", "final", "P06-S03")
        assert r["data"]["class"] == "a2" and r["data"]["intersection"] == "INT-13"
        d = r["display"]
        assert d["kind"] == pair("交通事故", "Traffic accident")
        assert d["status"] == pair("已完成", "Final")
        assert d["org_unit"] == unit
        assert d["occurred_at"] == pair("107/03/15 08:42", "2018-03-15 08:42")
        fields = {f["name"]: f for f in d["fields"]}
        assert [f["name"] for f in d["fields"]] == ["class", "deaths", "injuries",
                                                     "intersection", "vehicles", "cause"]
        assert fields["class"]["label"] == pair(kind_labels("traffic_accident", "class"),
                                                kind_labels("traffic_accident", "class",
                                                            lang="en"))
        assert fields["class"]["text"] == pair(
            kind_labels("traffic_accident", "class", "a2"),
            kind_labels("traffic_accident", "class", "a2", "en"))
        assert fields["class"]["type"] == "enum"
        assert fields["intersection"]["text"] == pair(
            ref_label("intersections", "INT-13") + " (INT-13)",
            ref_label("intersections", "INT-13", "en") + " (INT-13)")
        assert fields["deaths"]["text"] == pair("0", "0")
        assert doc["device"]["display"]["org_unit"] == unit
        assert doc["device"]["display"]["status"] == pair("使用中", "Active")
        for v in doc["revisions"]:
            assert v["display"]["status"] == pair("已完成", "Final")
            assert v["batch"]["display"]["source"] == pair("網路傳送", "Network (HTTPS)")
            assert v["batch"]["display"]["received_at"]["zh-TW"].startswith("1")    # ROC year
    # A boolean and a listed segment, in a list answer.
    status, doc = w.get("/v1/records", kind="parking_citation", org="P06-S03", period="107-03")
    item = [i for i in doc["items"] if i["data"].get("segment") == "SEG-0602"][0]
    fields = {f["name"]: f["text"] for f in item["display"]["fields"]}
    assert fields["major"] == pair("是", "Yes")
    assert fields["segment"] == pair(ref_label("segments", "SEG-0602") + " (SEG-0602)",
                                     ref_label("segments", "SEG-0602", "en") + " (SEG-0602)")
    assert fields["method"] == pair("攔停舉發", "Stopped on the spot")
    status, cat = w.get("/v1/catalog")
    assert [(s["code"], s["label"]) for s in cat["statuses"]] == \
        [("final", pair("已完成", "Final")), ("void", pair("已作廢", "Void"))]
    status, devs = w.get("/v1/devices", org="P06")
    xiehe = [x for x in devs["items"] if x["id"] == world.devices["xiehe"]][0]
    assert xiehe["display"]["org_unit"] == unit and xiehe["org_unit"] == "P06-S03"
    status, q = w.get("/v1/quarantine", state="all")
    crafted = [i for i in q["items"] if i["record_id"] == world.crafted["record"]][0]
    assert crafted["kind"] == "parking_citation"
    assert crafted["display"]["kind"] == pair("違規停車舉發", "Parking citation")
    assert crafted["display"]["org_unit"]["zh-TW"] == ref_label("units", "P08-S01") + " (P08-S01)"
    # JSON exports keep the codes, CSV adds the labels in the export's language.
    ans = export(w, "/v1/records", kind="parking_citation", org="P06-S03", period="107-03")
    assert {i["status"] for i in ans["items"]} == {"final"}
    for lang, yes, final in (("zh-TW", "是", "已完成"), ("en", "Yes", "Final")):
        status, hdrs, body = w.request("GET", "/v1/records", {
            "kind": "parking_citation", "org": "P06-S03", "period": "107-03", "format": "csv",
            "lang": lang, "header": "codes"})
        rows = list(csv.DictReader(io.StringIO(body[3:].decode(), newline="")))
        row = [r for r in rows if r["data.segment"] == "SEG-0602"][0]
        assert (row["status"], row["status_label"]) == ("final", final)
        assert (row["data.major"], row["data.major_label"]) == ("true", yes)
        assert row["data.segment_label"] == ref_label("segments", "SEG-0602", lang) + " (SEG-0602)"
        assert row["occurred_at_label"].startswith("107/03/15 " if lang == "zh-TW" else "2018-03-15 ")
        assert "data.notes_label" not in row        # text is its own label


def test_devices_view_is_the_devices_command_and_finds_gaps(world, tmp_path):
    c = world.crafted
    recs = tmp_path / "r.json"
    rec = json.loads((c["batch1"].parent / "records.json").read_text())[0]
    rec.update(id=rec["id"][:-4] + "beef", org_unit="P06-S01")
    recs.write_text(json.dumps([rec]))
    out = tmp_path / "b3.bbatch"
    run_tool("seal", c["enroll"], c["key"], "--seq", 3, "--out", out, "--records", recs,
             "--prev", "ab" * 32)
    status, body = world.hq.post("/v1/batches", out.read_bytes())
    assert status == 201, body
    w = world.web("reviewer")
    status, api = w.get("/v1/devices", lang="en")
    cli = json.loads(world.hq.ok("devices", "--json", "--lang", "en",
                                 "--data", world.hq.data).stdout)
    assert api["items"] == cli["items"]
    crafted = [d for d in api["items"] if d["id"] == c["device"]][0]
    assert crafted["missing"] == [[2, 2]] and crafted["missing_count"] == 1
    assert crafted["last_seq"] == 3 and crafted["batches"] == 2
    assert crafted["rejected_records"] == 1 and crafted["pending"] is None
    assert api["pending_reported"] is True and "beatbook status" in api["pending_note"]
    xiehe = [d for d in api["items"] if d["id"] == world.devices["xiehe"]][0]
    assert xiehe["missing"] == [] and xiehe["last_contact"] and xiehe["late"] is False
    table = world.hq.ok("devices", "--org", "P06", "--data", world.hq.data).stdout
    assert c["device"] in table and world.devices["fengdong"] not in table
    assert "2" in table.split(c["device"])[1].splitlines()[0]


def test_release_after_a_fix_merges_once_with_the_facts(world):
    w = world.web("reviewer")
    c = world.crafted
    qid = world.hq.query("SELECT id FROM quarantined_records WHERE record_id = ?",
                         (c["record"],))[0][0]
    before = world.kpi_json("--period", "107-03", "--org", "P08")
    status, doc = w.json("POST", f"/v1/quarantine/records/{qid}/release", body={})
    assert status == 409 and doc["error"] == "still_invalid" and "P08-S01" in doc["message"]
    assert world.hq.query("SELECT count(*) FROM records WHERE id = ?", (c["record"],))[0][0] == 0
    # The fix: HQ learns the laptop was enrolled for the wrong precinct.
    import sqlite3
    con = sqlite3.connect(str(world.hq.db))
    con.execute("UPDATE devices SET org_unit = 'P08-S01' WHERE id = ?", (c["device"],))
    con.commit()
    con.close()
    status, doc = w.json("POST", f"/v1/quarantine/records/{qid}/release",
                         body={"note": "device re-enrolled for P08-S01"})
    assert status == 200 and doc["action"] == "released" and doc["record_id"] == c["record"]
    assert world.hq.query("SELECT rev, org_unit FROM records WHERE id = ?",
                          (c["record"],)) == [(1, "P08-S01")]
    world.hq.ok("kpi", "--period", "107-03", "--verify", "--data", world.hq.data)
    after = world.kpi_json("--period", "107-03", "--org", "P08")
    den = lambda card: [f for f in card["kpis"][3]["figures"] if f["name"] == "denominator"][0]
    assert den(after)["value"] == den(before)["value"] + 1
    for action in ("release", "review"):
        status, doc = w.json("POST", f"/v1/quarantine/records/{qid}/{action}", body={})
        assert status == 409 and doc["error"] == "already_done"
    assert world.hq.query("SELECT count(*) FROM revisions WHERE id = ?", (c["record"],))[0][0] == 1
    details = [r[0] for r in world.hq.query(
        "SELECT detail FROM audit WHERE action = 'quarantine_release'")]
    assert any(f"quarantined_record={qid}" in d and "user=reviewer" in d for d in details)
    status, q = w.get("/v1/quarantine", state="all")
    item = [i for i in q["items"] if i["id"] == qid][0]
    assert item["action"]["action"] == "released" and item["action"]["user"] == "reviewer"
    assert item["action"]["note"] == "device re-enrolled for P08-S01"
    status, q = w.get("/v1/quarantine")
    assert qid not in [i["id"] for i in q["items"]]


def test_csv_is_excel_safe_utf8_with_bom(world):
    w = world.web("reviewer")
    status, hdrs, body = w.request("GET", "/v1/records", {"kind": "parking_citation",
                                                         "format": "csv", "header": "codes"})
    assert status == 200 and body.startswith(b"\xef\xbb\xbf")
    assert hdrs["content-type"] == "text/csv; charset=utf-8"
    text = body[3:].decode("utf-8")
    assert "\r\n" in text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    want = world.hq.query("SELECT count(*) FROM records WHERE kind = 'parking_citation'")[0][0]
    assert len(rows) == want
    notes = [r["data.notes"] for r in rows if r["data.notes"]]
    assert notes == ["'" + FORMULA]                         # neutralised, not a formula
    assert {r["kind_label"] for r in rows} == {"違規停車舉發"}
    for r in rows:
        for v in r.values():
            assert not v or v[0] not in "=+@" and (v[0] != "-" or v.lstrip("-")[:1].isdigit()
                                                   or v.startswith("'"))
    status, hdrs, body = w.request("GET", "/v1/kpi", {"period": "107-03", "format": "csv"})
    assert status == 200 and body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body[3:].decode(), newline="")))
    card = world.kpi_json("--period", "107-03")
    # Headers as the plan's Part 4 table names them; the codes with header=codes.
    assert rows[0][:5] == ["策略績效目標", "編號", "指標代碼", "衡量指標", "實際值"]
    _, _, en = w.request("GET", "/v1/kpi", {"period": "107-03", "format": "csv", "lang": "en"})
    assert next(csv.reader(io.StringIO(en[3:].decode())))[:5] == \
        ["Strategic goal", "No.", "KPI", "Measure", "Value"]
    _, _, coded = w.request("GET", "/v1/kpi", {"period": "107-03", "format": "csv",
                                               "header": "codes"})
    assert next(csv.reader(io.StringIO(coded[3:].decode())))[:5] == \
        ["goal", "number", "kpi", "title", "value"]
    assert [r[2] for r in rows[1:7]] == [k["id"] for k in card["kpis"]]
    safe = lambda s: "'" + s if s[0] in "=+-@" else s            # "+45.18 pt" is neutralised
    assert [r[5] for r in rows[1:7]] == [safe(k["display"]) for k in card["kpis"]]
    # The plan's layout: the goal (一、二、三) on its first KPI, KPIs 1、2、3 within it.
    goals = {g["id"]: g["label"]["zh-TW"] for g in card["goals"]}
    assert [(r[0], r[1]) for r in rows[1:7]] == [
        (goals[k["goal"]] if i == 0 or card["kpis"][i - 1]["goal"] != k["goal"] else "",
         k["number"]) for i, k in enumerate(card["kpis"])]
    assert [r[1] for r in rows[1:7]] == ["1", "2", "1", "2", "3", "1"]
    assert rows[7][3] == card["score"]["text"]["zh-TW"]
    status, hdrs, body = w.request("GET", "/v1/devices", {"format": "csv"})
    assert status == 200 and len(body.decode("utf-8-sig").split("\r\n")) >= 5
    status, hdrs, body = w.request("GET", "/v1/quarantine", {"format": "csv", "state": "all"})
    assert status == 200 and b"P08-S01" in body


def test_batches_of_a_revoked_device_are_listed_and_reviewed_not_released(world, tmp_path):
    enroll = tmp_path / "enroll.json"
    world.hq.enroll("P08-S03", "lost laptop", enroll)
    dev = json.loads(enroll.read_text())["device"]
    key = tmp_path / "device.key"
    run_tool("key", key)
    status, body = world.hq.post("/v1/devices/register",
                                 run_tool("register", enroll, key).strip().encode(),
                                 "application/json")
    assert status == 201, body
    world.hq.revoke(dev, reason="lost on patrol")
    out = tmp_path / "b1.bbatch"
    run_tool("seal", enroll, key, "--seq", 1, "--out", out, "--count", 2)
    status, body = world.hq.post("/v1/batches", out.read_bytes())
    assert status == 403, body
    admin, hq_user = world.web("p08admin"), world.web("reviewer")
    status, q = admin.get("/v1/quarantine")
    batch = [b for b in q["batches"] if b["device"] == dev][0]
    assert batch["seq"] == 1 and batch["device_unit"] == "P08-S03" and batch["action"] is None
    assert world.web("p06admin").get("/v1/quarantine")[1]["batches"] == []
    status, doc = hq_user.json("POST", f"/v1/quarantine/batches/{batch['id']}/release", body={})
    assert status == 400
    status, doc = hq_user.json("POST", f"/v1/quarantine/batches/{batch['id']}/review",
                               body={"note": "laptop found, re-enrolled"})
    assert status == 200 and doc["action"] == "reviewed"
    assert world.hq.query("SELECT count(*) FROM records WHERE device = ?", (dev,))[0][0] == 0
    status, q = admin.get("/v1/quarantine", state="all")
    assert [b for b in q["batches"] if b["device"] == dev][0]["action"]["user"] == "reviewer"
    assert any(f"quarantined_batch={batch['id']}" in r[0] for r in world.hq.query(
        "SELECT detail FROM audit WHERE action = 'quarantine_review'"))
    status, d = admin.get("/v1/devices")
    lost = [x for x in d["items"] if x["id"] == dev][0]
    assert lost["status"] == "revoked" and lost["quarantined_batches"] == 1


def csv_rows(w, path, **params):
    status, hdrs, body = w.request("GET", path, dict(params, format="csv"))
    assert status == 200 and body.startswith(b"\xef\xbb\xbf"), body[:300]
    return list(csv.reader(io.StringIO(body[3:].decode(), newline="")))


def test_csv_headers_in_the_language_or_codes(world):
    w = world.web("reviewer")
    q = {"kind": "parking_citation", "org": "P06-S03", "period": "107-03"}
    seg, method = (kind_labels("parking_citation", "segment"),
                   kind_labels("parking_citation", "method"))
    zh = csv_rows(w, "/v1/records", **q)[0]
    assert zh[:6] == ["編號", "類別（代碼）", "類別", "版次", "狀態（代碼）", "狀態"]
    assert f"{seg}（代碼）" in zh and seg in zh and f"{method}（代碼）" in zh
    assert kind_labels("parking_citation", "notes") in zh
    assert not [h for h in zh if h.startswith("data.") or h.endswith("_label")]
    en = csv_rows(w, "/v1/records", lang="en", **q)[0]
    assert en[:6] == ["Id", "Kind (code)", "Kind", "Rev", "Status (code)", "Status"]
    assert kind_labels("parking_citation", "segment", lang="en") + " (code)" in en
    codes = csv_rows(w, "/v1/records", header="codes", **q)[0]
    assert codes[:6] == ["id", "kind", "kind_label", "rev", "status", "status_label"]
    assert "data.segment" in codes and "data.segment_label" in codes
    assert len(zh) == len(en) == len(codes)
    # The drill-down, devices and quarantine too.
    drill = csv_rows(w, "/v1/kpi/records", kpi="K4", figure="numerator", period="107-03")
    assert drill[0][:3] == ["編號", "類別（代碼）", "類別"] and "計量" in drill[0]
    assert csv_rows(w, "/v1/devices")[0][:3] == ["裝置", "單位（代碼）", "單位"]
    assert csv_rows(w, "/v1/devices", header="codes")[0][:3] == ["id", "org_unit", "org_unit_name"]
    assert csv_rows(w, "/v1/quarantine", state="all", lang="en")[0][:3] == ["Id", "Record id", "Rev"]
    status, doc = w.get("/v1/records", format="csv", header="labels")
    assert status == 400 and "header" in doc["message"]


def test_csv_keeps_negative_numbers_and_neutralises_formulas(world):
    """-0.5% and -12 are numbers to a spreadsheet: no apostrophe; -1+2, =, + and @ would
    run: neutralised."""
    lp = world.laptops["jiguang"]
    cases = {"-0.5%": "-0.5%", "-12": "-12", "-1+2": "'-1+2", "-A1": "'-A1",
             "+1": "'+1", "@SUM(A1)": "'@SUM(A1)", "-": "'-"}
    payload = [{"occurred_at": "2018-03-20T09:00:00+08:00", "data": {
        "case_no": f"20180320-01{i:02d}", "category": "theft", "victims": 1, "summary": text}}
        for i, text in enumerate(cases)]
    r = lp.import_json("criminal_case", payload)
    assert r.rc == 0, r
    lp.sync_once()
    w = world.web("reviewer")
    rows = csv_rows(w, "/v1/records", kind="criminal_case", org="P01-S01", period="2018-03-20",
                    header="codes")
    col = rows[0].index("data.summary")
    got = {r[col] for r in rows[1:]}
    assert set(cases.values()) <= got, got


def test_api_errors_in_the_request_language(world):
    w = world.web("reviewer")
    status, doc = w.get("/v1/records", period="2018Q9")
    assert status == 400 and "不是期間" in doc["message"]
    status, doc = w.get("/v1/records", period="2018Q9", lang="en")
    assert status == 400 and "is not a period" in doc["message"]
    # Accept-Language when the page does not say (scripts, a browser's address bar).
    status, _, body = w.request("GET", "/v1/records", {"period": "2018Q9"},
                                headers={"Accept-Language": "en-US,en;q=0.9"})
    assert status == 400 and "is not a period" in json.loads(body)["message"]
    status, _, body = w.request("GET", "/v1/records", {"period": "2018Q9"},
                                headers={"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.5"})
    assert status == 400 and "不是期間" in json.loads(body)["message"]
    # Every 4xx of the API, in both languages: no English in zh-TW, none of zh-TW in English.
    cases = [("GET", "/v1/records", {"kind": "nothing"}), ("GET", "/v1/records", {"x": "1"}),
             ("GET", "/v1/kpi/records", {"kpi": "K9", "figure": "count", "period": "107"}),
             ("GET", "/v1/kpi/records", {"period": "107"}),
             ("GET", "/v1/records/%3Cx%3E", {}), ("PUT", "/v1/kpi", {}),
             ("GET", "/v1/quarantine", {"state": "x"}), ("GET", "/v1/records", {"limit": "0"}),
             ("GET", "/v1/records", {"format": "xml"}), ("GET", "/v1/records/none", {})]
    cjk = lambda s: any("\u4e00" <= ch <= "\u9fff" for ch in s)
    for method, path, params in cases:
        for lang in ("zh-TW", "en"):
            status, _, body = w.request(method, path, dict(params, lang=lang))
            assert 400 <= status < 500, (path, params, status)
            msg = json.loads(body)["message"]
            assert cjk(msg) == (lang == "zh-TW"), (path, params, lang, msg)
    anon = world.web()
    status, doc = anon.get("/v1/records", lang="en")
    assert status == 401 and doc["message"] == "sign in first"
    status, doc = anon.get("/v1/records")
    assert status == 401 and doc["message"] == "請先登入"


def test_drill_down_says_its_condition_in_words(world):
    """From the plan input's conditions, with field, value and list labels: no codes."""
    w = world.web("reviewer")
    status, d = w.get("/v1/kpi/records", kpi="K4", figure="numerator", period="107-03")
    assert status == 200
    lab = lambda *a, lang="zh-TW": kind_labels("parking_citation", *a, lang=lang)
    assert d["display"]["counts"]["zh-TW"] == (
        f"{lab()}：{lab('segment')}屬計畫列管的 60 個路段；{lab('method')}為"
        f"{lab('method', 'stop')}或{lab('method', 'remote')}；{lab('source')}為"
        f"{lab('source', 'police')}；依發生時間計入期間")
    en = d["display"]["counts"]["en"]
    for words in (lab(lang="en"), lab("segment", lang="en"), lab("method", "remote", lang="en"),
                  lab("source", "police", lang="en"), "one of the plan's 60 listed road segments"):
        assert words in en, (words, en)
    status, d = w.get("/v1/kpi/records", kpi="K3", figure="count", period="107-03")
    ta = lambda f: kind_labels("traffic_accident", f)
    assert f"計算{ta('deaths')}＋{ta('injuries')}" in d["display"]["counts"]["zh-TW"]
    assert d["input"]["counts"].startswith("traffic_accident where")     # scripts keep theirs
