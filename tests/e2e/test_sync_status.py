"""Laptop status reports (docs/FORMATS.md §2, docs/PROTOCOL.md POST /v1/devices/status):
each sync pass and each USB export carries a signed report of what the laptop still
holds; HQ keeps the latest per device and the Devices page / `beatbook-hq devices`
say "HQ has everything" or "3 records not sent, 1 patrol not ended, last contact ...".
A report arrives even when HQ answers the batches 503; forged, replayed and
other-device reports are refused with clear 4xx, and nothing changes."""
import json
import os
import socket
import time

from conftest import EX_OK
from sync_fixtures import (EX_TEMPFAIL, HQ, Laptop, hq, laptop_factory, needs_sync)
from ui_fixtures import Web

pytestmark = needs_sync
assert hq and laptop_factory   # fixtures, used by name

CT_JSON = "application/json"
START = ["type=small_area", "mode=bicycle", "officers=2"]


def enrolled(hq_, tmp_path, name, org_unit="P06-S03"):
    enr = tmp_path / f"{name}.enroll"
    hq_.enroll(org_unit, f"{org_unit} {name}", enr)
    lp = Laptop(tmp_path / name)
    lp.init_enrolled(enr)
    return lp


def devices(hq_, lang="en", *extra):
    out = hq_.ok("devices", "--json", "--lang", lang, "--data", hq_.data, *extra).stdout
    return json.loads(out)


def item(view, device):
    return [d for d in view["items"] if d["id"] == device][0]


def hold_ingest_slot(hq_):
    """A POST /v1/batches that sends its headers and a few bytes, then waits:
    with max_ingests = 1 HQ answers every other batch 503 meanwhile."""
    import ssl
    ctx = ssl.create_default_context(cafile=str(hq_.cert))
    raw = socket.create_connection(("127.0.0.1", hq_.port), timeout=60)
    s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    s.sendall(b"POST /v1/batches HTTP/1.1\r\nHost: hq\r\nContent-Type: "
              b"application/vnd.beatbook.batch\r\nContent-Length: 5000\r\n\r\nBBATCH\r\n")
    time.sleep(0.5)
    return s


def web(hq_, tmp_path):
    pw = tmp_path / "chen.pw"
    pw.write_text("chen-reviewer-password-107\n")
    os.chmod(pw, 0o600)
    hq_.ok("user", "add", "--data", hq_.data, "--name", "chen", "--role", "hq",
           "--password-file", pw)
    token = hq_.ok("user", "token", "chen", "--days", "1", "--data", hq_.data).stdout.strip()
    return Web(hq_, token=token.split()[-1])


def test_status_arrives_though_hq_answers_batches_503(tmp_path):
    h = HQ(tmp_path / "hq").init().set_conf(max_ingests=1).start()
    try:
        busy = enrolled(h, tmp_path, "laptop1")
        calm = enrolled(h, tmp_path, "laptop2")
        busy.sync_once()
        calm.sync_once()
        # Nothing outstanding after a clean sync.
        v = devices(h)
        assert item(v, busy.device)["all_in"] is True
        assert item(v, busy.device)["summary"] == "HQ has everything"
        assert item(devices(h, "zh-TW"), busy.device)["summary"] == "總局已收齊"
        # Three records and an open patrol; HQ is busy with another upload.
        for _ in range(3):
            busy.add("parking_citation", "method=stop", "source=police", "segment=SEG-0602",
                     "major=yes", "violation=red_line")
        r = busy.run("patrol", "start", *START, lang="en")
        assert r.rc == EX_OK, r
        slot = hold_ingest_slot(h)
        try:
            p = busy.syncd("--once")
            assert p.returncode == EX_TEMPFAIL, p.stdout + p.stderr
            assert "busy" in (p.stdout + p.stderr)
        finally:
            slot.close()
        assert h.query("SELECT count(*) FROM batches WHERE device = ?", (busy.device,)) == [(0,)]
        v = devices(h)
        d = item(v, busy.device)
        assert d["pending"] == 3 and d["open_patrols"] == 1 and d["open_drafts"] == 1
        assert d["all_in"] is False and d["stale"] is True
        assert d["summary"].startswith("3 records not sent, 1 patrol not ended")
        assert "last contact just now" in d["summary"]
        assert d["report"]["unacked_records"] == 3 and d["report"]["drafts"][0]["kind"] == "patrol"
        assert d["report"]["software"].startswith("beatbook-syncd ")
        assert d["report"]["received_via"] == "https"
        # Stale laptops first within their precinct, then a summary line per precinct.
        p06 = [x["id"] for x in v["items"] if x["org_unit"].startswith("P06")]
        assert p06.index(busy.device) < p06.index(calm.device)
        line = [p for p in v["precincts"] if p["precinct"] == "P06"][0]
        assert (line["devices"], line["all_in"], line["outstanding"], line["pending"]) == (2, 1, 1, 3)
        table = h.ok("devices", "--data", h.data).stdout
        assert "3 筆未送、1 個巡邏未結束、最早的草稿始於 剛剛、上次聯絡 剛剛" in table
        assert "筆電 2 台，1 台總局已收齊" in table
        # The review UI's API shows the same.
        status, api = web(h, tmp_path).get("/v1/devices", lang="en")
        assert status == 200, api
        a = item(api, busy.device)
        assert a["summary"] == d["summary"] and a["display"]["summary"]["zh-TW"].startswith(
            "3 筆未送、1 個巡邏未結束")
        assert api["precincts"][0]["summary"]
        # HQ free again: the batch goes; only the open patrol is left, then nothing.
        busy.sync_once()
        d = item(devices(h), busy.device)
        assert d["pending"] == 0 and d["open_patrols"] == 1 and d["all_in"] is False
        r = busy.run("patrol", "end", "distance_km=5", lang="en")
        assert r.rc == EX_OK, r
        busy.sync_once()
        d = item(devices(h), busy.device)
        assert d["all_in"] is True and d["summary"] == "HQ has everything"
    finally:
        h.stop()


def test_forged_replayed_and_other_device_reports_are_refused(hq, laptop_factory, tmp_path):
    a = laptop_factory("P06-S03")
    b = laptop_factory("P06-S01")
    a.sync_once()
    b.sync_once()
    usb = tmp_path / "usb"
    usb.mkdir()
    assert a.run("export", "--to", usb, lang="en").rc == EX_OK
    older = (usb / f"{a.device}.status.json").read_bytes()
    assert a.run("export", "--to", usb, lang="en").rc == EX_OK
    newer = (usb / f"{a.device}.status.json").read_bytes()
    doc = json.loads(newer)
    assert doc["device"] == a.device and doc["via"] == "usb"
    assert doc["counter"] == json.loads(older)["counter"] + 1

    def kept():
        return hq.query("SELECT counter, doc FROM device_status WHERE device = ?", (a.device,))

    before = kept()
    status, body = hq.post("/v1/devices/status", newer, CT_JSON)
    assert status == 200, body
    assert json.loads(body)["counter"] == doc["counter"]
    after = kept()
    assert after != before and after[0][0] == doc["counter"]

    def refused(raw, code, err):
        status, body = hq.post("/v1/devices/status", raw, CT_JSON)
        assert status == code and json.loads(body)["error"] == err, body
        assert kept() == after
        return json.loads(body)["message"]

    # The same report again, and an older one: replays.
    assert "not newer" in refused(newer, 409, "replayed")
    refused(older, 409, "replayed")
    # A changed figure: the signature no longer holds.
    forged = dict(doc, unsealed=0, counter=doc["counter"] + 5)
    refused(json.dumps(forged).encode(), 401, "bad_signature")
    # A's report presented as B's: signed by another device's key.
    assert "another device" in refused(json.dumps(dict(doc, device=b.device)).encode(),
                                       401, "wrong_key")
    b_key = hq.query("SELECT device_key FROM devices WHERE id = ?", (b.device,))[0][0]
    refused(json.dumps(dict(doc, device=b.device, device_key=b_key)).encode(), 401,
            "bad_signature")
    refused(json.dumps(dict(doc, device="d-0000000000000000")).encode(), 401, "unknown_device")
    refused(b"{not json", 400, "malformed")
    refused(json.dumps({"v": 1, "device": a.device}).encode(), 400, "malformed")
    status, body = hq.post("/v1/devices/status", newer, "text/plain")
    assert status == 415
    # A revoked laptop's reports are not kept.
    assert a.run("export", "--to", usb, lang="en").rc == EX_OK
    hq.revoke(a.device)
    refused((usb / f"{a.device}.status.json").read_bytes(), 403, "device_revoked")


def test_usb_export_carries_the_status_to_import(hq, laptop_factory, tmp_path):
    lp = laptop_factory("P08-S02")
    lp.add_many(4)
    r = lp.run("patrol", "start", *START, lang="en")
    assert r.rc == EX_OK, r
    usb = tmp_path / "usb"
    usb.mkdir()
    assert lp.run("export", "--to", usb, lang="en").rc == EX_OK
    r = hq.import_(usb)
    assert r.returncode == EX_OK, r
    assert "status report of " + lp.device + " kept" in r.stdout
    d = item(devices(hq), lp.device)
    # The batch is at HQ now: only the open patrol is outstanding.
    assert d["pending"] == 0 and d["open_patrols"] == 1
    assert d["report"]["received_via"] == "usb" and d["report"]["unacked_records"] == 4
    # A laptop of the same precinct that never reported counts apart, not as work.
    laptop_factory("P08-S01")
    v = devices(hq)
    line = [p for p in v["precincts"] if p["precinct"] == "P08"][0]
    assert (line["devices"], line["unreported"], line["outstanding"], line["pending"],
            line["open_drafts"]) == (2, 1, 1, 0, 1)
    assert "1 not reported yet" in line["summary"]
    # The same stick again: nothing changes, no error.
    r = hq.import_(usb)
    assert r.returncode == EX_OK, r
    assert "already received" in r.stdout
    # A tampered report on the stick is refused, and import says so.
    bad = tmp_path / "bad"
    bad.mkdir()
    doc = json.loads((usb / f"{lp.device}.status.json").read_text())
    doc.update(counter=doc["counter"] + 1, drafts_count=0, drafts=[])
    (bad / f"{lp.device}.status.json").write_text(json.dumps(doc))
    r = hq.import_(bad)
    assert r.returncode != EX_OK and "refused" in r.stdout and "bad_signature" in r.stdout
    assert item(devices(hq), lp.device)["open_patrols"] == 1
