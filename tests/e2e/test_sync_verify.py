"""Proof of agreement (shared/bb_agree.h, POST /v1/devices/digests): `beatbook verify-hq`
compares HQ's signed digests per (kind, Taipei day) with the laptop's own, over HTTPS
or from a USB stick, says "HQ 與本機一致：N 筆紀錄（…）" after a clean sync, and names
the exact record when HQ lost one behind the laptop's back.  The request is signed by
the laptop; a replayed or forged one is refused."""
import json
import sqlite3

from conftest import EX_OK
from sync_fixtures import EX_DATAERR, hq, laptop_factory, needs_sync

pytestmark = needs_sync
assert hq and laptop_factory   # fixtures, used by name


def fill(lp):
    lp.add_many(4)
    lp.add("parking_citation", "method=stop", "source=police", "segment=SEG-0602",
           "major=yes", "violation=red_line", "occurred_at=2018-03-16 09:00")
    return lp


def remove_at_hq(hq, rid):
    con = sqlite3.connect(str(hq.db))
    with con:
        con.execute("DELETE FROM revisions WHERE id = ?", (rid,))
        con.execute("DELETE FROM records WHERE id = ?", (rid,))
    con.close()


def test_verify_hq_agrees_after_a_clean_sync_and_names_a_removed_record(hq, laptop_factory):
    lp = fill(laptop_factory("P06-S03"))
    lp.sync_once()
    r = lp.run("verify-hq")
    assert r.rc == EX_OK, r
    assert r.out.startswith("HQ 與本機一致：5 筆紀錄（107/03/15–107/03/16）"), r.out
    r = lp.run("verify-hq", lang="en")
    assert r.rc == EX_OK and "HQ agrees with this laptop: 5 records (2018-03-15–2018-03-16)" \
        in r.out, r
    # Not yet sent: not compared, and said so.
    lp.add_many(1)
    r = lp.run("verify-hq", lang="en")
    assert r.rc == EX_OK and "not compared: 1 record(s)" in r.out, r
    # HQ loses one record behind the laptop's back.
    rid = hq.query("SELECT id FROM records WHERE kind = 'criminal_case' ORDER BY id")[0][0]
    remove_at_hq(hq, rid)
    r = lp.run("verify-hq", lang="en")
    assert r.rc == EX_DATAERR, r
    assert "differ in 1 group(s)" in r.out
    assert "2018-03-15 criminal_case: this laptop 4, HQ 3 record(s)" in r.out
    assert f"{rid} rev 1: HQ does not have this record" in r.out
    assert r.out.count("HQ does not have") == 1
    r = lp.run("verify-hq")
    assert r.rc == EX_DATAERR and "總局沒有這筆紀錄" in r.out and rid in r.out


def test_verify_hq_from_a_usb_stick(hq, laptop_factory, tmp_path):
    lp = fill(laptop_factory("P08-S02"))
    usb = tmp_path / "usb"
    usb.mkdir()
    assert lp.run("export", "--to", usb, lang="en").rc == EX_OK
    assert hq.import_(usb).returncode == EX_OK
    back = tmp_path / "back"
    back.mkdir()
    hq.ok("export-receipts", "--data", hq.data, "--device", lp.device, "--to", back)
    assert lp.run("import", back, lang="en").rc == EX_OK
    r = lp.run("verify-hq", "--from", back, lang="en")
    assert r.rc == EX_OK and "HQ agrees with this laptop: 5 records" in r.out, r
    # A digests file changed on the stick is not HQ's word.
    f = back / f"{lp.device}.digests.json"
    doc = json.loads(f.read_text())
    doc["records"] = doc["records"][1:]
    f.write_text(json.dumps(doc))
    r = lp.run("verify-hq", "--from", back, lang="en")
    assert r.rc != EX_OK and "authentication failed" in r.err and "agree" not in r.out, r


def test_digest_requests_must_be_signed_and_fresh(hq, laptop_factory):
    a = laptop_factory("P06-S03")
    b = laptop_factory("P06-S01")
    a.sync_once()
    b.sync_once()
    status, body = hq.post("/v1/devices/digests", json.dumps(
        {"v": 1, "device": a.device, "device_key": "0" * 16, "counter": 99, "clock":
         "2018-03-15T00:00:00+08:00", "nonce": "x", "want": [], "sig": "AAAA"}).encode(),
        "application/json")
    assert status == 401 and json.loads(body)["error"] == "wrong_key"
    key = hq.query("SELECT device_key FROM devices WHERE id = ?", (a.device,))[0][0]
    status, body = hq.post("/v1/devices/digests", json.dumps(
        {"v": 1, "device": a.device, "device_key": key, "counter": 99, "clock":
         "2018-03-15T00:00:00+08:00", "nonce": "x", "want": [], "sig": "A" * 88}).encode(),
        "application/json")
    assert status == 401 and json.loads(body)["error"] == "bad_signature"
    # A good request works once; the same bytes again are a replay.
    assert a.run("verify-hq", lang="en").rc == EX_OK
    last = hq.query("SELECT counter FROM device_requests WHERE device = ?", (a.device,))[0][0]
    assert last >= 1
    good = signed_request(a, key, last + 1)
    status, body = hq.post("/v1/devices/digests", good, "application/json")
    assert status == 200, body
    answer = json.loads(body)
    assert answer["device"] == a.device and answer["nonce"] == "n-1" and answer["sig"]
    status, body = hq.post("/v1/devices/digests", good, "application/json")
    assert status == 409 and json.loads(body)["error"] == "replayed"
    status, body = hq.post("/v1/devices/digests", signed_request(a, key, last), "application/json")
    assert status == 409
    # a's signed request presented for b: not b's key.
    doc = json.loads(signed_request(a, key, last + 5))
    doc["device"] = b.device
    status, body = hq.post("/v1/devices/digests", json.dumps(doc).encode(), "application/json")
    assert status == 401 and json.loads(body)["error"] == "wrong_key"


def signed_request(lp, key_id, counter):
    """A digest request signed with lp's device.key, as bb_sigdoc signs (FORMATS.md §2)."""
    import base64
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    key = serialization.load_pem_private_key((lp.home / "device.key").read_bytes(), None)
    doc = {"v": 1, "device": lp.device, "device_key": key_id, "counter": counter,
           "clock": "2018-03-15T18:00:00+08:00", "nonce": "n-1", "want": []}
    canon = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    der = key.sign(b"beatbook digest request v1\x00" + canon.encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    doc["sig"] = base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()
    return json.dumps(doc).encode()


def test_records_freed_by_purge_still_count_and_the_day_end_run_proves_agreement(hq,
                                                                                 laptop_factory):
    """`purge` keeps each freed record's id, rev and hash (collector migration 005), so the
    proof still holds when the laptop no longer has the data; `beatbook-syncd --once` ends
    with the same proof."""
    lp = fill(laptop_factory("P06-S03"))
    r = lp.sync_once()
    assert "HQ agrees with this laptop: 5 records" in r.stdout, r.stdout   # fixtures use en
    assert lp.run("purge", "--days", "0").rc == EX_OK
    assert lp.run("list", "--json").out.strip() in ("[]", "")
    r = lp.run("verify-hq", lang="en")
    assert r.rc == EX_OK and "HQ agrees with this laptop: 5 records" in r.out, r
    # HQ loses one that the laptop has freed: still named, from what purge kept.
    rid = hq.query("SELECT id FROM records WHERE kind = 'parking_citation'")[0][0]
    remove_at_hq(hq, rid)
    r = lp.run("verify-hq", lang="en")
    assert r.rc == EX_DATAERR and "2018-03-16 parking_citation: this laptop 1, HQ 0" in r.out, r
