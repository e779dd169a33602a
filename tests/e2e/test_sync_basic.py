"""Enrollment and the ordinary day-end sync: real beatbook-hq on loopback with
real TLS, laptops enrolled with its files, records made offline, then
`beatbook-syncd --once`.  HQ must hold every record exactly once and every
laptop a verified receipt for every batch."""
import hashlib
import json
import signal
import sqlite3
import stat
import subprocess

import pytest

from conftest import EX_OK, EX_USAGE, KINDS, VALID, beatbook_cmd, clean_env, run_beatbook
from sync_fixtures import (EX_DATAERR, EX_TEMPFAIL, HQ, Laptop, check_exactly_once, hq,
                           laptop_factory, needs_sync, wait_for)

pytestmark = needs_sync
assert hq and laptop_factory   # fixtures, used by name

PATROL = ["type=small_area", "mode=bicycle", "officers=2"]


def summary(p):
    """The first line of syncd --once output as a dict: sent, acknowledged, ..."""
    first = p.stdout.splitlines()[0]
    return {k: int(v) for v, k in (part.strip().split(" ")[::-1] for part in first.split(","))}


def test_three_laptops_in_two_precincts_sync_exactly_once(hq, laptop_factory):
    a = laptop_factory("P06-S03", officer="A111111")
    b = laptop_factory("P06-S01", officer="B222222")
    c = laptop_factory("P01-S02", officer="C333333")
    assert len({a.device, b.device, c.device}) == 3
    # A day offline: every kind on a; edits and voids on b; a bulk import and an
    # open patrol (a draft, which must stay home) on c.
    for kind in KINDS:
        a.add(kind, *VALID[kind][0])
    r1 = b.add("complaint", *VALID["complaint"][0])
    r2 = b.add("parking_citation", *VALID["parking_citation"][0])
    b.ok("edit", r1, "summary=態度不佳，已道歉")
    b.ok("void", r2, "--reason", "entered twice")
    c.add_many(40)
    draft = c.run("patrol", "start", *PATROL, lang="en").out.strip()
    for lp in (a, b, c):
        assert lp.outbox()["records_waiting"] > 0
        p = lp.sync_once()
        s = summary(p)
        assert s["sent"] >= 1 and s["acknowledged"] == s["sent"]
        assert s["rejected"] == 0 and s["duplicates"] == 0
        # The admin's day-end answer, and the open patrol that stays home.
        assert "day end: everything finished on this laptop is at HQ" in p.stdout
        assert ("open patrols (drafts): 1" in p.stdout) == (lp is c)
    check_exactly_once(hq, [a, b, c])
    # b's record has all its revisions at HQ, the highest one counted.
    assert hq.query("SELECT rev, status FROM records WHERE id = ?", (r2,)) == [(2, "void")]
    assert hq.query("SELECT count(*) FROM revisions WHERE id = ?", (r1,)) == [(2,)]
    # The draft never left the laptop.
    assert hq.query("SELECT count(*) FROM records WHERE id = ?", (draft,)) == [(0,)]
    for lp in (a, b, c):
        for seq, batch, sha, receipt, blob in lp.query(
                "SELECT seq, batch, sha256, receipt, bytes FROM batches ORDER BY seq"):
            doc = json.loads(receipt)
            assert (doc["device"], doc["seq"], doc["batch"], doc["sha256"]) == \
                (lp.device, seq, batch, sha)
            assert hashlib.sha256(blob).hexdigest() == sha
            assert doc["sig"]
            # HQ stored the very receipt the laptop verified.
            assert hq.query("SELECT receipt FROM batches WHERE device = ? AND seq = ?",
                            (lp.device, seq)) == [(receipt,)]
        ob = lp.outbox()
        assert ob["enrolled"] and ob["registered"]
        n = len(lp.batches())
        assert ob["batches"]["acknowledged"] == ob["batches"]["sealed"] == n
        assert ob["batches"]["waiting"] == ob["batches"]["rejected"] == 0
        assert ob["records_waiting"] == 0 and ob["last_sync_error"] is None
        # Registration done: the one-time token is gone from the store.
        assert lp.query("SELECT token IS NULL, registered_at IS NOT NULL FROM enrollment") == \
            [(1, 1)]
        text = lp.run("status", lang="en").out
        assert f"{n} acknowledged" in text and "0 rejected" in text
    # HQ bound each device's key and knows its precinct.
    for lp in (a, b, c):
        assert hq.query("SELECT status, org_unit FROM devices WHERE id = ?", (lp.device,)) == \
            [("active", lp.org_unit)]
    # Nothing new: a second run sends nothing and says so.
    p = c.sync_once()
    assert summary(p) == {"sent": 0, "acknowledged": 0, "duplicates": 0, "rejected": 0}
    # The patrol ends; the next run brings it to HQ, once.
    assert c.run("patrol", "end", "distance_km=3", lang="en").rc == EX_OK
    assert summary(c.sync_once())["acknowledged"] == 1
    check_exactly_once(hq, [a, b, c])
    assert hq.query("SELECT status FROM records WHERE id = ?", (draft,)) == [("final",)]


def test_batches_chain_and_respect_the_caps(hq, laptop_factory):
    lp = laptop_factory()
    lp.write_config("batch_max_records = 7\n")
    lp.add_many(30)
    r = lp.ok("seal", lang="en")
    assert "sealed 5 batches (1-5): 30 records" in r.out
    rows = lp.query("SELECT seq, prev, sha256, count FROM batches ORDER BY seq")
    assert [x[3] for x in rows] == [7, 7, 7, 7, 2]
    assert rows[0][1] == "0" * 64
    for before, after in zip(rows, rows[1:]):
        assert after[1] == before[2]          # prev = sha256 of the batch before
    # Revisions are in seq order across the batches.
    order = [x[0] for x in lp.query("SELECT batch_seq FROM revisions ORDER BY seq")]
    assert order == sorted(order)
    # A byte cap splits too (each record here is a few hundred bytes).
    lp.write_config("batch_max_records = 1000\nbatch_max_bytes = 64K\n")
    lp.add_many(400)
    lp.ok("seal")
    sizes = lp.query("SELECT count FROM batches WHERE seq > 5 ORDER BY seq")
    assert len(sizes) >= 2 and sum(x[0] for x in sizes) == 400
    assert summary(lp.sync_once())["acknowledged"] == 5 + len(sizes)
    check_exactly_once(hq, [lp])


def test_init_enroll_makes_key_and_store_and_records_offline(hq, tmp_path):
    enr = tmp_path / "e.json"
    device = hq.enroll("P06-S02", "P06-S02 laptop 7", enr)
    hq.stop()                                   # the laptop is offline from the start
    lp = Laptop(tmp_path / "lp")
    r = lp.init_enrolled(enr)
    token = json.loads(enr.read_text())["token"]
    assert token not in r.out + r.err
    assert device in r.out and hq.url in r.out
    key = lp.home / "device.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    # The store holds the token until the first sync: owner only.
    assert stat.S_IMODE((lp.home / "field.db").stat().st_mode) == 0o600
    assert token.encode() in (lp.home / "field.db").read_bytes()
    assert "EC PRIVATE KEY" in key.read_text()
    assert not [p for p in lp.home.iterdir() if p.name.startswith(".init-")]
    st = lp.status()
    assert (st["device"], st["org_unit"], st["officer"]) == (device, "P06-S02", "A123456")
    assert st["outbox"]["enrolled"] and not st["outbox"]["registered"]
    assert token not in json.dumps(st)
    assert lp.query("SELECT hq_url FROM enrollment") == [(hq.url,)]
    rid = lp.add("complaint", *VALID["complaint"][0])
    assert lp.get(rid)["device"] == device
    r = lp.ok("seal", lang="en")
    assert "sealed batch 1: 1 records" in r.out
    # No HQ: syncd says try again later, nothing is lost or marked delivered.
    p = lp.syncd("--once")
    assert p.returncode == EX_TEMPFAIL, p
    assert token not in p.stdout + p.stderr
    assert "day end: NOT everything is at HQ — 1 batch(es)" in p.stdout
    assert lp.batches() == [(1, "sealed", 1)]
    ob = lp.outbox()
    assert ob["last_sync_error"] and not ob["registered"]
    hq.start()
    lp.sync_once()
    assert hq.record_ids(device) == [rid]
    assert token not in hq.log_path.read_text(errors="replace")
    # Registered: the token is gone from the store, bytes and all (WAL included).
    for f in lp.home.iterdir():
        if f.name.startswith("field.db"):
            assert token.encode() not in f.read_bytes(), f.name


def test_init_enroll_refuses_a_bad_file(hq, tmp_path):
    enr = tmp_path / "e.json"
    hq.enroll("P06-S03", "laptop", enr)
    doc = json.loads(enr.read_text())
    cases = {
        "tampered": dict(doc, org_unit="P01-S01"),
        "unsigned": {k: v for k, v in doc.items() if k != "sig"},
        "forged-sig": dict(doc, sig=doc["sig"][:10] + ("A" if doc["sig"][10] != "A" else "B")
                           + doc["sig"][11:]),
    }
    for name, bad in cases.items():
        f = tmp_path / f"{name}.json"
        f.write_text(json.dumps(bad))
        home = tmp_path / name
        r = run_beatbook(home, "init", "--enroll", f, "--officer", "A1", lang="en")
        assert r.rc == EX_DATAERR, (name, r)
        assert "enrollment file" in r.err
        assert doc["token"] not in r.err + r.out
        assert not (home / "field.db").exists() and not (home / "device.key").exists()
    f = tmp_path / "garbage.json"
    f.write_text("{not json")
    r = run_beatbook(tmp_path / "g", "init", "--enroll", f, "--officer", "A1", lang="en")
    assert r.rc == EX_DATAERR and "enrollment file" in r.err
    r = run_beatbook(tmp_path / "m", "init", "--enroll", tmp_path / "missing.json",
                     "--officer", "A1", lang="en")
    assert r.rc != EX_OK and not (tmp_path / "m" / "field.db").exists()
    r = run_beatbook(tmp_path / "u", "init", "--enroll", enr, "--officer", "A1",
                     "--org-unit", "P06-S03", lang="en")
    assert r.rc == EX_USAGE
    # The good file works once; a second init in the same place is refused and
    # leaves the first store and key as they were.
    lp = Laptop(tmp_path / "ok")
    lp.init_enrolled(enr)
    key = (lp.home / "device.key").read_bytes()
    snap = lp.snapshot()
    r = run_beatbook(lp.home, "init", "--enroll", enr, "--officer", "A1", lang="en")
    assert r.rc == 73, r
    assert (lp.home / "device.key").read_bytes() == key and lp.snapshot() == snap


def test_unenrolled_store_records_but_cannot_sync(store, tmp_path):
    store.add("complaint", *VALID["complaint"][0])
    r = store.run("seal", lang="en")
    assert r.rc == EX_DATAERR and "this store is not enrolled" in r.err
    r = store.run("export", "--to", tmp_path, lang="en")
    assert r.rc == EX_DATAERR and "this store is not enrolled" in r.err
    lp = Laptop(store.home)
    p = lp.syncd("--once")
    assert p.returncode == EX_DATAERR and "this store is not enrolled" in p.stderr
    assert "not enrolled" in store.run("status", lang="en").out
    assert store.status()["outbox"]["enrolled"] is False


def test_syncd_usage_and_missing_store(tmp_path):
    lp = Laptop(tmp_path / "nothing")
    p = lp.syncd("--once")
    assert p.returncode == 66 and "no store" in p.stderr
    p = lp.syncd("--bogus")
    assert p.returncode == EX_USAGE
    p = lp.syncd("--help")
    assert p.returncode == 0 and "--once" in p.stdout


@pytest.mark.slow
def test_seal_killed_midway_leaves_whole_batches(tmp_path, laptop_factory):
    """kill -9 while sealing: every batch is whole (its revisions all marked,
    its bytes stored), the rest still waits; sealing again and syncing
    delivers every record exactly once."""
    hq = HQ(tmp_path / "fast-hq").init().set_conf(rate_burst=10000, rate_per_sec=10000).start()
    try:
        _seal_kill_and_sync(hq, laptop_factory(at=hq))
    finally:
        hq.stop()


def _seal_kill_and_sync(hq, lp):
    lp.write_config("batch_max_records = 40\n")
    lp.add_many(16000)
    p = subprocess.Popen(beatbook_cmd("seal"), env=clean_env(lp.home),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def some_sealed():
        if p.poll() is not None:
            return True
        try:
            return lp.query("SELECT count(*) FROM batches")[0][0] >= 20
        except sqlite3.OperationalError:
            return False
    wait_for(some_sealed, timeout=60)
    if p.poll() is not None:
        pytest.skip("sealing finished before it could be killed")
    p.send_signal(signal.SIGKILL)
    p.wait()
    batches = lp.query("SELECT seq, count, prev, sha256, length(bytes) FROM batches ORDER BY seq")
    assert 0 < len(batches) < 400
    assert [b[0] for b in batches] == list(range(1, len(batches) + 1))
    for before, after in zip(batches, batches[1:]):
        assert after[2] == before[3]
    marked = dict(lp.query("SELECT batch_seq, count(*) FROM revisions"
                           " WHERE batch_seq IS NOT NULL GROUP BY batch_seq"))
    assert marked == {b[0]: b[1] for b in batches}
    assert lp.outbox()["records_waiting"] == 16000 - sum(b[1] for b in batches)
    lp.ok("seal")
    assert len(lp.batches()) == 400
    lp.write_config("batch_max_records = 40\ninterval = 1\n")
    lp.start_daemon()
    wait_for(lambda: lp.acked() == 400, timeout=300, what="400 batches acknowledged")
    assert lp.stop_daemon() == 0
    check_exactly_once(hq, [lp])
