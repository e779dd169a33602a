"""The same batch twice: posted twice over HTTPS, carried on a USB stick
(`beatbook export --to DIR`, `beatbook-hq import DIR`) before or after it
was posted, imported twice.  HQ never counts a record twice, and a laptop
accepts HQ's receipt whichever way the batch travelled."""
import hashlib
import json
import os
import stat

from conftest import EX_OK, VALID
from sync_fixtures import (check_exactly_once, hq, laptop_factory, needs_sync)

pytestmark = needs_sync
assert hq and laptop_factory   # fixtures, used by name


def export(lp, usb):
    r = lp.run("export", "--to", usb, lang="en")
    assert r.rc == EX_OK, r
    return r


def test_export_is_byte_for_byte_the_outbox(hq, laptop_factory, tmp_path):
    lp = laptop_factory()
    lp.write_config("batch_max_records = 4\n")
    lp.add_many(10)
    usb = tmp_path / "usb"
    usb.mkdir()
    r = export(lp, usb)
    assert "sealed 3 batches" in r.out
    # This laptop has never reached HQ: its signed registration travels too.
    reg = usb / f"{lp.device}.register.json"
    assert stat.S_IMODE(reg.stat().st_mode) == 0o600
    reg.unlink()
    # And its signed status report (hq import keeps it for the Devices page).
    report = usb / f"{lp.device}.status.json"
    assert json.loads(report.read_text())["unacked_records"] == 10
    report.unlink()
    files = sorted(usb.iterdir())
    assert [f.name for f in files] == [f"{lp.device}-{n:06d}.bbatch" for n in (1, 2, 3)]
    for f, (seq, blob, sha) in zip(files, lp.query("SELECT seq, bytes, sha256 FROM batches"
                                                   " ORDER BY seq")):
        assert f.read_bytes() == blob
        assert hashlib.sha256(blob).hexdigest() == sha
        assert f.read_bytes()[:8] == b"BBATCH\r\n"
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert not [p for p in usb.iterdir() if p.name.startswith(".")]
    # Exporting again rewrites the same files; nothing new is sealed.
    r = export(lp, usb)
    assert "sealed" not in r.out
    reg.unlink()
    report.unlink()
    assert sorted(usb.iterdir()) == files
    # A folder that is not there (stick not mounted) is an error, not a new folder.
    r = lp.run("export", "--to", tmp_path / "not-mounted", lang="en")
    assert r.rc != EX_OK and not (tmp_path / "not-mounted").exists()


def test_usb_import_then_post_counts_once(hq, laptop_factory, tmp_path):
    a = laptop_factory("P06-S03")
    b = laptop_factory("P01-S01")
    # HQ checks a batch's signature with the key the laptop registered, so a
    # laptop registers once (its first sync) before its batches can travel by USB.
    a.sync_once()
    for lp in (a, b):
        lp.add_many(5)
        lp.add("complaint", *VALID["complaint"][0])
    usb = tmp_path / "usb"
    usb.mkdir()
    export(a, usb)
    p = hq.import_(usb)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert len(hq.record_ids(a.device)) == 6
    # Import again: nothing changes.
    p2 = hq.import_(usb)
    assert p2.returncode == 0, (p2.stdout, p2.stderr)
    assert len(hq.record_ids(a.device)) == 6
    # Now the laptop posts the same batch: HQ answers with the stored receipt.
    a.sync_once()
    assert a.batches() == [(1, "acked", 6)]
    assert hq.query("SELECT source FROM batches WHERE device = ?", (a.device,)) == [("import",)]
    b.sync_once()
    check_exactly_once(hq, [a, b])
    assert len(hq.record_ids()) == 12


def test_post_first_then_usb_import_and_double_post(hq, laptop_factory, tmp_path):
    lp = laptop_factory()
    lp.add_many(8)
    usb = tmp_path / "usb"
    usb.mkdir()
    export(lp, usb)
    lp.sync_once()
    [f] = list(usb.glob("*.bbatch"))
    body = f.read_bytes()
    receipt = lp.query("SELECT receipt FROM batches WHERE seq = 1")[0][0]
    # The same bytes posted twice more: 201 with the very same receipt, no double count.
    for _ in range(2):
        status, answer = hq.post("/v1/batches", body)
        assert status == 201
        assert answer.decode() == receipt
    # And imported from the stick after the fact.
    p = hq.import_(usb)
    assert p.returncode == 0, (p.stdout, p.stderr)
    check_exactly_once(hq, [lp])
    assert hq.query("SELECT count(*), sum(count) FROM batches") == [(1, 8)]
    assert len(hq.record_ids()) == 8
    # A tampered copy is refused and changes nothing.
    bad = bytearray(body)
    bad[len(bad) // 2] ^= 1
    status, answer = hq.post("/v1/batches", bytes(bad))
    assert status in (400, 401, 409), (status, answer)
    assert len(hq.record_ids()) == 8


def test_purge_removes_only_acknowledged_data(hq, laptop_factory):
    lp = laptop_factory()
    old = [lp.add("complaint", *VALID["complaint"][0]) for _ in range(3)]
    edited = old[0]
    draft = lp.run("patrol", "start", "type=small_area", "mode=foot", "officers=1",
                   lang="en").out.strip()
    lp.sync_once()
    lp.ok("edit", edited, "summary=更正")      # rev 2, not yet sent
    waiting = lp.add("complaint", *VALID["complaint"][0])
    lp.ok("seal")
    # The default retention (30 days) keeps everything.
    r = lp.ok("purge", lang="en")
    assert "purged 0" in r.out
    assert len(lp.list()) == 5
    r = lp.ok("purge", "--days", "0", lang="en")
    assert "purged 1 acknowledged batch(es): 3 revisions and 2 records" in r.out
    ids = {x["id"] for x in lp.list()}
    # Gone: acknowledged records with nothing newer.  Kept: the draft, the edited
    # record (its rev 2 is not acknowledged), the record still waiting.
    assert ids == {draft, edited, waiting}
    assert lp.query("SELECT seq, bytes IS NULL, receipt IS NOT NULL FROM batches ORDER BY seq") \
        == [(1, 1, 1), (2, 0, 0)]
    # The chain goes on: batch 2 names batch 1's sha256, which the purge kept.
    lp.sync_once()
    assert lp.batches() == [(1, "acked", 3), (2, "acked", 2)]
    lp.ok("purge", "--days", "0")
    assert {x["id"] for x in lp.list()} == {draft}
    assert lp.query("SELECT count(*) FROM revisions") == [(0,)]
    # HQ still has everything, each record once.
    assert sorted(hq.record_ids(lp.device)) == sorted(old + [waiting])
    assert hq.query("SELECT rev FROM records WHERE id = ?", (edited,)) == [(2,)]
    r = lp.run("purge", "--days", "-1", lang="en")
    assert r.rc == 64
    assert os.path.exists(lp.db)


def test_syncd_purges_after_acknowledgements(hq, laptop_factory):
    lp = laptop_factory()
    lp.write_config("retention_days = 0\n")
    lp.add_many(4)
    lp.sync_once()
    assert lp.list() == []
    assert lp.query("SELECT count(*) FROM revisions") == [(0,)]
    assert lp.query("SELECT state, bytes IS NULL FROM batches") == [("acked", 1)]
    assert len(hq.record_ids(lp.device)) == 4
    out = json.loads(lp.ok("status", "--json").out)["outbox"]
    assert out["batches"]["acknowledged"] == 1 and out["records_merged"] == 4


def test_laptop_that_never_reached_hq_syncs_by_usb_alone(hq, laptop_factory, tmp_path):
    """No network ever: the stick carries the laptop's signed registration
    with its batches; HQ binds the key first, then merges every record once.
    A later re-import, and a later sync over HTTPS, count nothing twice."""
    lp = laptop_factory("P08-S02")
    lp.write_config("batch_max_records = 3\n")
    lp.add_many(7)
    usb = tmp_path / "usb"
    usb.mkdir()
    export(lp, usb)
    assert (usb / f"{lp.device}.register.json").exists()
    r = hq.import_(usb)
    assert r.returncode == EX_OK, r
    assert "registered" in r.stdout and r.stdout.count("merged:") == 3
    assert hq.query("SELECT count(*) FROM records WHERE device = ?", (lp.device,))[0][0] == 7
    r = hq.import_(usb)
    assert r.returncode == EX_OK, r
    assert "already registered" in r.stdout and r.stdout.count("duplicate batch") == 3
    # A registration whose signature does not hold is refused, and nothing changes.
    doc = json.loads((usb / f"{lp.device}.register.json").read_text())
    doc["device_key"] = "0" * 16
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.register.json").write_text(json.dumps(doc))
    r = hq.import_(bad)
    assert r.returncode != EX_OK and "refused" in r.stdout
    # When the laptop later has network, its receipts come back; no record doubles.
    lp.sync_once()
    check_exactly_once(hq, [lp])
