"""Fixtures for the review UI and its JSON API (hq/hq_web.h, hq/hq_api.h).

`UIWorld` is a demo-like HQ, built with the real programs only: `beatbook-hq
init` and `serve` on loopback with real TLS, three laptops enrolled in three
precincts (協和 P06-S03, 豐東 P08-S02, 繼光 P01-S01) recording March 2018 and
March of the two years before (so that every KPI has its comparison figures)
with `beatbook --json` imports, and `beatbook-syncd --once` carrying the
batches to HQ.  On top of that:

  - a community event whose notes and topic hold HTML and script, and a
    parking citation whose notes start with "=" (a spreadsheet formula);
  - a quarantined record: a fourth device (enrolled for P06-S01, built with
    tests/tools/hq_make_batch) sends a citation dated in P08-S01, outside its
    precinct, so the merge rejects it;
  - users: `reviewer` (hq), `p06admin` (precinct P06), `p08admin` (precinct
    P08), each with a password from a 0600 file.

`Web` is a small HTTPS client that keeps the session cookie and the CSRF
token the way a browser page does.
"""
import http.client
import json
import os
import ssl
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import pytest

from conftest import BIN_DIR, REPO
from sync_fixtures import HQ, HQ_BIN, Laptop, SYNCD_BIN

MAKE_BATCH = BIN_DIR.parent / "tests" / "hq_make_batch"
CT_JSON = "application/json"
PASSWORDS = {"reviewer": "reviewer-password-107", "p06admin": "p06-admin-password",
             "p08admin": "p08-admin-password", "locked": "locked-user-password",
             "disabled": "disabled-user-password"}
XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
FORMULA = '=HYPERLINK("http://example.invalid","click")'

needs_ui = pytest.mark.skipif(
    not (HQ_BIN.is_file() and SYNCD_BIN.is_file() and MAKE_BATCH.is_file()),
    reason=f"beatbook-hq, beatbook-syncd and hq_make_batch must be built in {BIN_DIR}")


def ref_label(lst, code, lang="zh-TW"):
    """The label of a listed code in the built-in reference data (schema/reference)."""
    doc = json.loads((REPO / "schema" / "reference" / f"{lst}.json").read_text())
    return [i for i in doc[lst] if i["code"] == code][0]["label"][lang]


def kind_labels(kind, field=None, value=None, lang="zh-TW"):
    """The label of a kind, of one of its fields, or of one of a field's values."""
    k = json.loads((REPO / "schema" / "records" / f"{kind}.json").read_text())
    if field is None:
        return k["label"][lang]
    f = [x for x in k["fields"] if x["name"] == field][0]
    if value is None:
        return f["label"][lang]
    return [v for v in f["values"] if v["code"] == value][0]["label"][lang]


def t(day, hm="09:00"):
    """A Taipei time in 2018-03 (or another year-month given as 'YYYY-MM-DD')."""
    return f"{day}T{hm}:00+08:00"


def laptop_records(year):
    """What each laptop records in March of `year` (fewer in earlier years)."""
    d = f"{year}-03-15"
    big = year == 2018
    xiehe = {
        "criminal_case": [{"occurred_at": t(d, f"0{i}:30"), "data": {
            "case_no": f"{year}0315-06{i:02d}", "category": "theft", "victims": 1,
            "summary": "機車失竊，西屯路二段"}} for i in range(1, 5 if big else 6)],
        "case_clearance": [{"occurred_at": t(d, "15:40"), "data": {
            "case_no": f"{year}0302-06{i:02d}", "category": "theft", "method": "arrest",
            "cleared_at": t(d, "15:40")}} for i in range(1, 4 if big else 2)],
        "parking_citation": [{"occurred_at": t(d, f"1{i}:05"), "data": {
            "method": "stop", "source": "police", "segment": "SEG-0602", "major": True,
            "violation": "red_line"}} for i in range(0, 6 if big else 4)] + [
            {"occurred_at": t(d, "11:48"), "data": {"method": "remote", "source": "citizen_report",
                                                   "segment": "SEG-0601", "major": True,
                                                   "violation": "double_parking"}}],
        "traffic_accident": [{"occurred_at": t(d, "08:42"), "data": {
            "class": "a2", "deaths": 0, "injuries": 1 if big else 3, "intersection": "INT-13",
            "cause": "failure_to_yield", "vehicles": 2}}],
        "roadworks_inspection": [{"occurred_at": t(d, "13:20"), "data": {
            "violation_found": True, "violation": "out_of_hours", "action": "citation",
            "road": "西屯路"}} for _ in range(1 if big else 3)],
        "complaint": [{"occurred_at": t(d, "10:05"), "data": {
            "category": "service_attitude", "channel": "hotline_1999",
            "received_at": t(d, "10:05"), "summary": "受理報案時態度不佳"}}
            for _ in range(1 if big else 2)],
    }
    if big:
        xiehe["community_event"] = [{"occurred_at": t(d, "19:00"), "data": {
            "type": "anti_fraud", "audience": "elderly", "attendance": 42,
            "venue": "協和里活動中心", "topic": XSS, "notes": "notes: " + XSS}}]
        xiehe["parking_citation"].append({"occurred_at": t(d, "17:20"), "data": {
            "method": "remote", "source": "police", "major": False, "violation": "sidewalk",
            "notes": FORMULA}})
    fengdong = {
        "criminal_case": [{"occurred_at": t(d, "02:30"), "data": {
            "case_no": f"{year}0315-08{i:02d}", "category": "fraud"}} for i in range(1, 3)],
        "roadworks_inspection": [{"occurred_at": t(d, "14:10"), "data": {
            "violation_found": i == 0, "road": "三豐路",
            **({"violation": "no_permit", "action": "citation"} if i == 0 else {})}}
            for i in range(2)],
        "traffic_accident": [{"occurred_at": t(d, "17:55"), "data": {
            "class": "a2", "deaths": 0, "injuries": 1, "intersection": "INT-16",
            "cause": "speeding", "vehicles": 1}}],
        "parking_citation": [{"occurred_at": t(d, "09:10"), "data": {
            "method": "stop", "source": "police", "segment": "SEG-0801", "major": True,
            "violation": "red_line"}} for _ in range(3)],
        "complaint": [{"occurred_at": t(d, "16:05"), "data": {
            "category": "service_attitude", "received_at": t(d, "16:05")}}],
    }
    jiguang = {
        "criminal_case": [{"occurred_at": t(d, "11:00"), "data": {
            "case_no": f"{year}0315-01{i:02d}", "category": "theft"}} for i in range(1, 3)],
        "parking_citation": [{"occurred_at": t(d, f"0{9 if i < 2 else 8}:{10 + i}"), "data": {
            "method": "stop", "source": "police", "segment": "SEG-0101", "major": True,
            "violation": "double_parking"}} for i in range(4 if big else 2)],
        "traffic_accident": [{"occurred_at": t(d, "12:15"), "data": {
            "class": "a3" if big else "a2", "deaths": 0, "injuries": 0 if big else 2, "intersection": "INT-01",
            "cause": "following_too_close", "vehicles": 2}}],
    }
    return {"xiehe": xiehe, "fengdong": fengdong, "jiguang": jiguang}


LAPTOPS = [("xiehe", "P06-S03", "協和派出所 筆電 1", "A123456"),
           ("fengdong", "P08-S02", "豐東派出所 筆電 1", "B234567"),
           ("jiguang", "P01-S01", "繼光派出所 筆電 1", "C345678")]


def run_tool(*args):
    p = subprocess.run([str(MAKE_BATCH)] + [str(a) for a in args], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


class Web:
    """A browser-like HTTPS client: the session cookie and the CSRF token."""

    def __init__(self, hq, token=None):
        self.hq = hq
        self.cookie = None
        self.csrf = None
        self.token = token
        self.ctx = ssl.create_default_context(cafile=str(hq.cert))

    def request(self, method, path, params=None, body=None, headers=None, csrf=True,
                content_type=CT_JSON, cookie=None):
        """(status, headers with lower-case names, body bytes)."""
        url = path + ("?" + urlencode(params) if params else "")
        h = {}
        if body is not None:
            h["Content-Type"] = content_type
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode()
        c = cookie if cookie is not None else self.cookie
        if c:
            h["Cookie"] = f"__Host-bb_session={c}"
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        h.update(headers or {})
        conn = http.client.HTTPSConnection("127.0.0.1", self.hq.port, context=self.ctx,
                                           timeout=60)
        try:
            conn.request(method, url, body=body, headers=h)
            r = conn.getresponse()
            hdrs = {}
            for k, v in r.getheaders():
                k = k.lower()
                hdrs[k] = hdrs[k] + "\n" + v if k in hdrs else v
            data = r.read()
        finally:
            conn.close()
        sc = hdrs.get("set-cookie", "")
        if sc.startswith("__Host-bb_session="):
            value = sc.split(";")[0].split("=", 1)[1]
            self.cookie = value or None
        return r.status, hdrs, data

    def json(self, method, path, params=None, body=None, **kw):
        status, hdrs, data = self.request(method, path, params, body, **kw)
        try:
            doc = json.loads(data) if data else None
        except ValueError:
            doc = data
        return status, doc

    def get(self, path, **params):
        return self.json("GET", path, params or None)

    def signin(self, name, password=None):
        status, doc = self.json("POST", "/v1/session", None,
                                {"name": name, "password": password or PASSWORDS[name]})
        if status == 200:
            self.csrf = doc["csrf"]
        return status, doc


class UIWorld:
    def __init__(self, root):
        self.root = Path(root)
        self.hq = HQ(self.root / "hq")
        self.laptops = {}
        self.devices = {}           # laptop name -> device id
        self.crafted = None         # the device that sent a quarantined record

    # -- building
    def build(self):
        hq = self.hq
        hq.init()
        hq.start()
        for name, unit, label, officer in LAPTOPS:
            enroll = self.root / f"{name}.enroll"
            hq.enroll(unit, label, enroll)
            lp = Laptop(self.root / name, officer=officer)
            lp.init_enrolled(enroll)
            self.laptops[name] = lp
            self.devices[name] = lp.device
        for year in (2016, 2017, 2018):
            for name, kinds in laptop_records(year).items():
                for kind, payload in kinds.items():
                    r = self.laptops[name].import_json(kind, payload)
                    assert r.rc == 0, r
        for lp in self.laptops.values():
            lp.sync_once()
        self.quarantine_one()
        for name in PASSWORDS:
            role = ["--role", "hq"]
            if name == "p06admin":
                role = ["--role", "precinct", "--org", "P06"]
            elif name == "p08admin":
                role = ["--role", "precinct", "--org", "P08"]
            self.add_user(name, *role)
        return self

    def add_user(self, name, *role):
        pw = self.root / f"{name}.pw"
        pw.write_text(PASSWORDS.get(name, name + "-password") + "\n")
        os.chmod(pw, 0o600)
        self.hq.ok("user", "add", "--data", self.hq.data, "--name", name, *role,
                   "--password-file", pw)

    def quarantine_one(self):
        """A device of P06-S01 sends a citation of P08-S01: rejected, quarantined."""
        folder = self.root / "crafted"
        folder.mkdir()
        enroll = folder / "enroll.json"
        self.hq.enroll("P06-S01", "crafted laptop", enroll)
        dev = json.loads(enroll.read_text())["device"]
        key = folder / "device.key"
        run_tool("key", key)
        doc = run_tool("register", enroll, key).strip()
        status, body = self.hq.post("/v1/devices/register", doc.encode(), CT_JSON)
        assert status == 201, body
        rid = "0190a1b2-c3d4-7e5f-8a6b-" + os.urandom(6).hex()
        rec = {"id": rid, "kind": "parking_citation", "rev": 1, "status": "final",
               "device": dev, "officer": "D456789", "org_unit": "P08-S01",
               "occurred_at": "2018-03-15T10:00:00+08:00",
               "recorded_at": "2018-03-15T10:01:00+08:00",
               "data": {"method": "stop", "source": "police", "major": True,
                        "violation": "red_line", "segment": "SEG-0801"}}
        recfile = folder / "records.json"
        recfile.write_text(json.dumps([rec]))
        out = folder / "b1.bbatch"
        run_tool("seal", enroll, key, "--seq", 1, "--out", out, "--records", recfile)
        status, body = self.hq.post("/v1/batches", out.read_bytes())
        assert status == 201, body
        self.crafted = {"device": dev, "record": rid, "enroll": enroll, "key": key,
                        "batch1": out}

    def stop(self):
        rc = self.hq.stop()
        assert rc == 0, f"beatbook-hq serve exited {rc}:\n" + \
            self.hq.log_path.read_text(errors="replace")[-3000:]

    # -- looking
    def web(self, name=None):
        w = Web(self.hq)
        if name:
            status, doc = w.signin(name)
            assert status == 200, doc
        return w

    def kpi_json(self, *args):
        p = self.hq.ok("kpi", "--data", self.hq.data, "--format", "json", *args)
        return json.loads(p.stdout)

    def record_of(self, unit_prefix, kind=None):
        sql = "SELECT id FROM records WHERE org_unit LIKE ?"
        params = [unit_prefix + "%"]
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        return self.hq.query(sql + " ORDER BY id LIMIT 1", params)[0][0]

    def xss_record(self):
        return self.hq.query("SELECT id FROM records WHERE kind = 'community_event'")[0][0]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = UIWorld(tmp_path_factory.mktemp("ui")).build()
    yield w
    w.stop()
