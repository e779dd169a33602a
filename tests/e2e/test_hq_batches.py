"""Real sealed batches against beatbook-hq: merge with a signed receipt, idempotent
retries byte for byte, conflicts, tampering, forgery, revoked devices, record-level
rules (validation, precinct, single writer, revisions), USB import through the same
ingest, and the per-device completeness report.  Counts are read from hq.db."""
import base64
import hashlib
import json
import shutil

import pytest

from hq_fixtures import (EX_DATAERR, EX_OK, ZEROS, Device, device, hq, hq_data, needs_hq,
                         new_uuid7, record, registered)

assert hq and hq_data and device and registered   # fixtures, used by name

pytestmark = needs_hq


def error_of(body):
    doc = json.loads(body)
    assert set(doc) == {"error", "message"} and doc["message"], doc
    return doc["error"]


def check_receipt(hq, body, batch, device):
    """The receipt names this batch and is signed by HQ's key (structurally)."""
    r = json.loads(body)
    assert set(r) == {"v", "batch", "device", "seq", "sha256", "received_at", "hq_sign_key",
                      "records", "sig"}
    assert (r["v"], r["batch"], r["device"], r["seq"]) == (1, batch["batch"], device.id,
                                                           batch["seq"])
    assert r["sha256"] == hashlib.sha256(batch["bytes"]).hexdigest() == batch["sha256"]
    assert r["hq_sign_key"] == hq.init_out["hq_sign_key"]
    assert len(base64.b64decode(r["sig"], validate=True)) == 64
    # Canonical JSON: what was sent is sorted and without blanks.
    assert body == json.dumps(r, sort_keys=True, separators=(",", ":"),
                              ensure_ascii=False).encode()
    return r


def totals(hq):
    return {t: hq.count(t) for t in ("batches", "records", "revisions", "quarantined_batches",
                                     "quarantined_records")}


def test_merge_and_idempotent_retry(hq, registered):
    dev = registered
    b1 = dev.seal(1, count=5)
    status, _, body = hq.post_batch(b1["bytes"])
    assert status == 201, body
    r = check_receipt(hq, body, b1, dev)
    assert [(x["id"], x["rev"], x["result"]) for x in r["records"]] == \
        [(i, 1, "merged") for i in b1["ids"]]
    assert totals(hq) == {"batches": 1, "records": 5, "revisions": 5, "quarantined_batches": 0,
                          "quarantined_records": 0}
    # The batch row keeps the bytes, the chain and the receipt exactly as sent.
    row = hq.query("SELECT seq, sha256, prev, count, merged, bytes, receipt, source FROM batches")
    assert row == [(1, b1["sha256"], ZEROS, 5, 5, b1["bytes"], body.decode(), "https")]
    assert hq.query("SELECT last_seq, last_contact IS NOT NULL FROM devices") == [(1, 1)]
    # The same bytes again (a retry after a lost answer): the same receipt, byte for byte.
    for _ in range(3):
        status, _, again = hq.post_batch(b1["bytes"])
        assert (status, again) == (201, body)
    assert totals(hq)["records"] == 5 and totals(hq)["revisions"] == 5
    assert hq.query("SELECT count(*) FROM audit WHERE action = 'merge'") == [(1,)]
    # The next batch chains on the first.
    b2 = dev.seal(2, prev_file=b1["path"], count=2)
    status, _, body2 = hq.post_batch(b2["bytes"])
    assert status == 201, body2
    check_receipt(hq, body2, b2, dev)
    assert totals(hq)["records"] == 7


def test_same_seq_other_bytes_is_409_and_changes_nothing(hq, registered):
    b1 = registered.seal(1)
    assert hq.post_batch(b1["bytes"])[0] == 201
    before = totals(hq)
    other = registered.seal(1)                 # same seq, other records
    status, _, body = hq.post_batch(other["bytes"])
    assert status == 409 and error_of(body) == "seq_conflict"
    assert "restored from a backup" in json.loads(body)["message"]
    assert totals(hq) == before


def test_chain_broken_both_ways_is_409(hq, registered):
    b1 = registered.seal(1)
    assert hq.post_batch(b1["bytes"])[0] == 201
    # prev that is not batch 1.
    bad = registered.seal(2, prev="ab" * 32)
    status, _, body = hq.post_batch(bad["bytes"])
    assert status == 409 and error_of(body) == "chain_broken"
    # Batch 4 arrives first (a gap is fine), then a batch 3 that 4 does not name.
    b3 = registered.seal(3, prev="cd" * 32)
    b4 = registered.seal(4, prev_file=b3["path"])
    assert hq.post_batch(b4["bytes"])[0] == 201
    other3 = registered.seal(3, prev="cd" * 32)
    status, _, body = hq.post_batch(other3["bytes"])
    assert status == 409 and error_of(body) == "chain_broken"
    assert hq.post_batch(b3["bytes"])[0] == 201
    assert [r[0] for r in hq.query("SELECT seq FROM batches ORDER BY seq")] == [1, 3, 4]


def test_tampered_truncated_and_forged_batches(hq, registered, tmp_path):
    dev = registered
    b = dev.seal(1)
    data = b["bytes"]
    hlen = int.from_bytes(data[12:16], "big")
    plen = int.from_bytes(data[16:20], "big")
    assert len(data) == 84 + hlen + plen
    # A flipped bit in the payload or the signature: the signature fails, 401.
    for pos in (20 + hlen + plen // 2, 20 + hlen, len(data) - 1, len(data) - 64):
        flipped = bytearray(data)
        flipped[pos] ^= 0x01
        status, _, body = hq.post_batch(bytes(flipped))
        assert status == 401 and error_of(body) == "bad_signature", pos
    # A flipped bit in the magic, version, lengths or the header's JSON: refused, 400.
    for pos in (0, 9, 13, 19, 20):
        flipped = bytearray(data)
        flipped[pos] ^= 0x01
        status, _, body = hq.post_batch(bytes(flipped))
        assert status in (400, 413) and error_of(body) in ("malformed_batch", "too_large"), pos
    # A flipped bit inside a header value that still parses: the signature fails, 401.
    flipped = bytearray(data)
    flipped[data.index(b'"created_at":"') + 15] ^= 0x01
    status, _, body = hq.post_batch(bytes(flipped))
    assert status in (400, 401), body
    # Truncated anywhere, or with a byte more: 400.
    for cut in (10, 50, len(data) - 1):
        status, _, body = hq.post_batch(data[:cut])
        assert status == 400 and error_of(body) == "malformed_batch", cut
    status, _, body = hq.post_batch(data + b"\0")
    assert status == 400 and error_of(body) == "malformed_batch"
    # Sealed and signed with another key (not the one this device registered): 401.
    thief = Device(tmp_path / "dev1", dev.enrollment_path, key_name="thief.key")
    forged = dev.seal(1, key=thief.key)
    status, _, body = hq.post_batch(forged["bytes"])
    assert status == 401 and error_of(body) == "bad_signature"
    # Nothing of all that was stored; the real batch still merges.
    assert totals(hq) == {"batches": 0, "records": 0, "revisions": 0,
                          "quarantined_batches": 0, "quarantined_records": 0}
    assert hq.post_batch(data)[0] == 201
    assert hq.healthy()


def test_revoked_device_batch_is_quarantined_never_merged(hq, registered):
    b1 = registered.seal(1)
    assert hq.post_batch(b1["bytes"])[0] == 201
    hq.ok("device", "revoke", registered.id, "--reason", "lost on patrol")
    b2 = registered.seal(2, prev_file=b1["path"], count=4)
    for _ in range(2):
        status, _, body = hq.post_batch(b2["bytes"])
        assert status == 403 and error_of(body) == "device_revoked"
    assert totals(hq) == {"batches": 1, "records": 3, "revisions": 3, "quarantined_batches": 1,
                          "quarantined_records": 0}
    assert hq.query("SELECT seq, sha256, reason, bytes FROM quarantined_batches") == \
        [(2, b2["sha256"], "device revoked", b2["bytes"])]
    assert hq.count("audit", "action = 'quarantine'") == 1
    # A revoked device gets 403 for everything, even a batch merged before; that one is
    # not quarantined a second time.
    status, _, _ = hq.post_batch(b1["bytes"])
    assert status == 403
    assert hq.count("quarantined_batches") == 1
    rep = json.loads(hq.ok("batches", "--device", registered.id, "--json").stdout)
    assert rep["received"] == [[1, 1]] and [q["seq"] for q in rep["quarantined"]] == [2]
    assert rep["status"] == "revoked"


def test_record_rules_reject_into_quarantine(hq, registered, tmp_path):
    dev = registered
    good = record(dev.id, new_uuid7())
    records = [
        good,
        record(dev.id, new_uuid7(), violation="parked_on_the_moon"),       # invalid enum
        record("d-00000000feedf00d", new_uuid7()),                          # another device
        record(dev.id, new_uuid7(), org_unit="P01-S01"),                    # other precinct
        record(dev.id, new_uuid7(), org_unit="P06-S01"),                    # same precinct: ok
        record(dev.id, new_uuid7(), status="draft", rev=0),                 # drafts never sync
        {"id": "not-a-uuid", "kind": "parking_citation"},                   # garbage
        good,                                                               # same in same batch
        dict(record(dev.id, good["id"]), officer="B999999"),                # same id+rev, changed
    ]
    b = dev.seal(1, records=records)
    status, _, body = hq.post_batch(b["bytes"])
    assert status == 201, body
    res = json.loads(body)["records"]
    assert [x["result"] for x in res] == ["merged", "rejected", "rejected", "rejected", "merged",
                                          "rejected", "rejected", "duplicate", "rejected"]
    reasons = [x.get("reason", "") for x in res]
    assert "parked_on_the_moon" in reasons[1]
    assert "d-00000000feedf00d" in reasons[2]
    assert "P01-S01" in reasons[3] and "P06" in reasons[3]
    assert (res[6]["id"], res[6]["rev"]) == ("not-a-uuid", None)
    assert all(reasons[i] for i in (1, 2, 3, 5, 6, 8))
    assert hq.count("records") == 2 and hq.count("revisions") == 2
    q = hq.query("SELECT record_index, record_id, reason FROM quarantined_records "
                 "ORDER BY record_index")
    assert [x[0] for x in q] == [1, 2, 3, 5, 6, 8]
    assert hq.query("SELECT merged, duplicates, rejected FROM batches") == [(2, 1, 6)]


def test_revisions_highest_wins_and_single_writer(hq, registered, hq_data, tmp_path):
    dev = registered
    rid = new_uuid7()
    b1 = dev.seal(1, records=[record(dev.id, rid, rev=1)])
    assert hq.post_batch(b1["bytes"])[0] == 201
    # Rev 3 arrives before rev 2 (USB and network in any order): rev 3 stays current.
    b3 = dev.seal(3, prev="ef" * 32,
                  records=[record(dev.id, rid, rev=3, status="void")])
    assert hq.post_batch(b3["bytes"])[0] == 201
    b2 = dev.seal(2, prev_file=b1["path"], records=[record(dev.id, rid, rev=2, plate="ABC-1")])
    # b3's prev is not b2, so b2 breaks the chain as HQ knows it: resend b3 properly instead.
    status, _, body = hq.post_batch(b2["bytes"])
    assert status == 409 and error_of(body) == "chain_broken"
    b4 = dev.seal(4, prev_file=b3["path"], records=[record(dev.id, rid, rev=2, plate="ABC-1"),
                                                    record(dev.id, rid, rev=1)])
    status, _, body = hq.post_batch(b4["bytes"])
    assert status == 201, body
    assert [x["result"] for x in json.loads(body)["records"]] == ["merged", "duplicate"]
    assert hq.query("SELECT rev, status FROM records WHERE id = ?", (rid,)) == [(3, "void")]
    assert hq.query("SELECT rev FROM revisions WHERE id = ? ORDER BY rev", (rid,)) == \
        [(1,), (2,), (3,)]
    # Another device may not revise it, even with a valid record of its own.
    folder = tmp_path / "dev2"
    folder.mkdir()
    hq.enroll(folder / "e.json", "P06-S02", "laptop 2")
    other = Device(folder, folder / "e.json")
    assert hq.register(other.registration())[0] == 201
    b = other.seal(1, records=[record(other.id, rid, rev=4, org_unit="P06-S02")])
    status, _, body = hq.post_batch(b["bytes"])
    assert status == 201
    res = json.loads(body)["records"][0]
    assert res["result"] == "rejected" and "另一台裝置" in res["reason"]   # zh-TW by default
    assert hq.query("SELECT rev, device FROM records WHERE id = ?", (rid,)) == [(3, dev.id)]


def test_receipt_reasons_follow_the_configured_language(hq_data, device):
    hq_data.set_conf(lang="en")
    hq_data.start()
    try:
        assert hq_data.register(device.registration())[0] == 201
        b = device.seal(1, records=[record(device.id, new_uuid7(), org_unit="P01-S01")])
        status, _, body = hq_data.post_batch(b["bytes"])
        assert status == 201
        assert "outside this device's precinct" in json.loads(body)["records"][0]["reason"]
    finally:
        assert hq_data.stop() == 0


def test_import_uses_the_same_ingest_and_never_counts_twice(hq, registered, tmp_path):
    dev = registered
    b1 = dev.seal(1, count=4)
    b2 = dev.seal(2, prev_file=b1["path"], count=3)
    b3 = dev.seal(3, prev_file=b2["path"], count=2)
    b5 = dev.seal(5, prev="aa" * 32, count=1)
    assert hq.post_batch(b1["bytes"])[0] == 201            # over HTTPS first
    usb = tmp_path / "usb"
    usb.mkdir()
    # Names in reverse order: import sorts by seq per device.
    for b, name in ((b1, "z.bbatch"), (b2, "y.bbatch"), (b3, "x.bbatch"), (b5, "w.bbatch")):
        shutil.copy(b["path"], usb / name)
    (usb / "notes.txt").write_text("not a batch")
    p = hq.run("import", usb)
    assert p.returncode == EX_OK, p.stdout + p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 4
    assert "z.bbatch: duplicate batch" in lines[0]
    assert "y.bbatch: merged" in lines[1] and "x.bbatch: merged" in lines[2]
    assert "w.bbatch: merged" in lines[3]
    assert totals(hq)["records"] == 10 and totals(hq)["batches"] == 4
    # Again, whole: every file is a duplicate, nothing changes.
    before = totals(hq)
    p = hq.run("import", usb, b1["path"])
    assert p.returncode == EX_OK
    assert p.stdout.count("duplicate batch") == 5
    assert totals(hq) == before
    assert hq.query("SELECT source FROM batches ORDER BY seq") == \
        [("https",), ("import",), ("import",), ("import",)]
    # And a retry over HTTPS of an imported batch gets the receipt stored by the import.
    stored = hq.query("SELECT receipt FROM batches WHERE seq = 2")[0][0]
    status, _, body = hq.post_batch(b2["bytes"])
    assert (status, body.decode()) == (201, stored)
    # Completeness: 1-3 and 5 received, 4 missing.
    rep = json.loads(hq.ok("batches", "--device", dev.id, "--json").stdout)
    assert (rep["received"], rep["missing"], rep["last_seq"]) == ([[1, 3], [5, 5]], [[4, 4]], 5)
    text = hq.ok("batches", "--device", dev.id).stdout
    assert "batches 1\u20133, 5 received" in text and "missing: 4" in text
    listed = json.loads(hq.ok("device", "list", "--json").stdout)
    assert [(d["last_seq"], d["batches"], d["records"]) for d in listed] == [(5, 4, 10)]


def test_import_reports_refusals_and_exits_65(hq, registered, tmp_path):
    b1 = registered.seal(1)
    bad = tmp_path / "bad.bbatch"
    bad.write_bytes(b1["bytes"][:-5])
    conflict = registered.seal(1)
    p = hq.run("import", b1["path"], bad, conflict["path"])
    assert p.returncode == EX_DATAERR, p
    out = p.stdout
    assert f"{b1['path']}: merged" in out
    assert f"{conflict['path']}: refused" in out and "seq_conflict" in out
    assert "bad.bbatch: refused" in out and "malformed_batch" in out
    assert "2 of 3 file(s) refused" in p.stderr
    assert totals(hq)["batches"] == 1


def test_import_of_a_revoked_device_quarantines(hq_data, device):
    hq_data.start()
    assert hq_data.register(device.registration())[0] == 201
    assert hq_data.stop() == 0
    b = device.seal(1)
    hq_data.ok("device", "revoke", device.id, "--reason", "lost")
    p = hq_data.run("import", b["path"])
    assert p.returncode == EX_DATAERR and "device_revoked" in p.stdout
    assert hq_data.query("SELECT seq, source FROM quarantined_batches") == [(1, "import")]
    assert hq_data.count("records") == 0


def test_many_devices_at_once(hq, tmp_path):
    """Several devices posting in parallel: every batch merged once, nothing lost."""
    import concurrent.futures
    devs = []
    for i in range(4):
        folder = tmp_path / f"p{i}"
        folder.mkdir()
        hq.enroll(folder / "e.json", "P06-S03", f"laptop {i}")
        d = Device(folder, folder / "e.json")
        assert hq.register(d.registration())[0] == 201
        devs.append(d)
    work = []
    for d in devs:
        prev = None
        for seq in range(1, 4):
            b = d.seal(seq, prev_file=prev, count=10)
            prev = b["path"]
            work.append(b)

    def post_chain(d):
        out = []
        for b in [w for w in work if w["path"].parent == d.folder]:
            out.append(hq.post_batch(b["bytes"])[0])
            out.append(hq.post_batch(b["bytes"])[0])          # and a retry
        return out
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        results = list(ex.map(post_chain, devs))
    assert all(s == 201 for r in results for s in r), results
    assert totals(hq)["batches"] == 12 and totals(hq)["records"] == 120
    assert hq.healthy()


def test_cross_field_rules_hold_at_ingest_from_their_kind_version(hq, registered):
    """HQ runs the kinds' rules on ingest, but a rule never rejects a record made
    under an older kind version (no kind_version = version 1, before rules)."""
    dev = registered

    def accident(version, deaths, occurred="2018-03-15T14:20:00+08:00"):
        r = record(dev.id, new_uuid7())
        r["kind"] = "traffic_accident"
        r["occurred_at"] = occurred
        r["data"] = {"class": "a3", "deaths": deaths, "injuries": 0, "intersection": "INT-13"}
        if version:
            r["kind_version"] = version
        return r

    records = [
        accident(None, 1),                                     # made before the rules: merged
        accident(1, 1),                                        # version 1: merged
        accident(2, 1),                                        # A3 with a death: rejected
        accident(2, 0),                                        # fine
        accident(2, 0, occurred="2018-03-15T14:40:00+08:00"),  # 19 min after recorded_at
        accident(2, 0, occurred="2011-12-31T23:00:00+08:00"),  # before the plan's years
    ]
    b = dev.seal(1, records=records)
    status, _, body = hq.post_batch(b["bytes"])
    assert status == 201, body
    res = json.loads(body)["records"]
    assert [x["result"] for x in res] == ["merged", "merged", "rejected", "merged", "rejected",
                                          "rejected"], res
    assert "A3" in res[2]["reason"] and "deaths" in res[2]["reason"]
    assert "10" in res[4]["reason"] and "occurred_at" in res[4]["reason"]
    assert "101" in res[5]["reason"] or "2012" in res[5]["reason"]
    assert hq.count("records") == 3
    assert hq.count("quarantined_records") == 3
