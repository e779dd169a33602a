"""What HQ refuses for good, and how the laptop says so: a revoked laptop's
batches (403, kept in quarantine at HQ, never merged) and a laptop restored
from an old backup (409: the same seq with different content).  A refused
batch stops; the batches after it still go; `beatbook status` explains."""
import shutil

from conftest import VALID
from sync_fixtures import (EX_DATAERR, Laptop, check_exactly_once, copy_store, hq,
                           laptop_factory, needs_sync)

pytestmark = needs_sync
assert hq and laptop_factory   # fixtures, used by name


def test_revoked_laptop_is_refused_and_quarantined(hq, laptop_factory):
    lp = laptop_factory("P06-S03")
    other = laptop_factory("P06-S01")
    kept = lp.add("complaint", *VALID["complaint"][0])
    lp.sync_once()
    hq.revoke(lp.device, "stolen from a patrol car")
    late = [lp.add("parking_citation", *VALID["parking_citation"][0]) for _ in range(3)]
    p = lp.syncd("--once")
    assert p.returncode == EX_DATAERR, p
    assert p.stdout.splitlines()[0] == "sent 1, acknowledged 0, duplicates 0, rejected 1"
    assert lp.batches() == [(1, "acked", 1), (2, "rejected", 3)]
    ob = lp.outbox()
    assert ob["batches"]["rejected"] == 1
    [rej] = ob["rejected_batches"]
    assert rej["seq"] == 2 and rej["status"] == 403 and "revoked" in rej["reason"]
    text = lp.run("status", lang="en").out
    assert "REFUSED" in text and "revoked" in text
    # HQ kept the batch in quarantine and merged nothing of it.
    assert hq.query("SELECT seq FROM quarantined_batches WHERE device = ?", (lp.device,)) == \
        [(2,)]
    assert hq.record_ids(lp.device) == [kept]
    assert not set(late) & set(hq.record_ids())
    # A refused batch is not sent again; the next run has nothing to do.
    p = lp.syncd("--once")
    assert p.stdout.splitlines()[0] == "sent 0, acknowledged 0, duplicates 0, rejected 0"
    assert hq.query("SELECT count(*) FROM quarantined_batches") == [(1,)]
    # Other laptops are not affected.
    other.add("complaint", *VALID["complaint"][0])
    other.sync_once()
    check_exactly_once(hq, [other])


def test_laptop_restored_from_an_old_backup_gets_409(hq, laptop_factory, tmp_path):
    lp = laptop_factory()
    first = [lp.add("complaint", *VALID["complaint"][0]) for _ in range(2)]
    lp.sync_once()
    backup = tmp_path / "backup"
    copy_store(lp.home, backup)                 # taken before the last sync
    lost = lp.add("traffic_accident", *VALID["traffic_accident"][0])
    lp.sync_once()                              # batch 2 reaches HQ
    # The disk dies; the laptop comes back from the backup and records more.
    for name in ("field.db", "field.db-wal", "field.db-shm", "device.key"):
        (lp.home / name).unlink(missing_ok=True)
    shutil.copy2(backup / "field.db", lp.home / "field.db")
    shutil.copy2(backup / "device.key", lp.home / "device.key")
    restored = Laptop(lp.home, officer=lp.officer)
    restored.device = lp.device
    assert restored.batches() == [(1, "acked", 2)]
    new = restored.add("complaint", *VALID["complaint"][0])
    p = restored.syncd("--once")
    assert p.returncode == EX_DATAERR, p
    assert "rejected 1" in p.stdout.splitlines()[0]
    assert restored.batches() == [(1, "acked", 2), (2, "rejected", 1)]
    [rej] = restored.outbox()["rejected_batches"]
    assert rej["status"] == 409
    assert "restored from a backup" in rej["reason"] and "batch 2" in rej["reason"]
    text = restored.run("status", lang="en").out
    assert "restored from a backup" in text and "Call HQ support" in text
    # HQ still has exactly what it had: batch 2 is the one from before the crash.
    ids = hq.record_ids(lp.device)
    assert sorted(ids) == sorted(first + [lost]) and new not in ids
    assert hq.query("SELECT seq FROM batches WHERE device = ? ORDER BY seq", (lp.device,)) == \
        [(1,), (2,)]
    # Later batches chain to the refused one, so HQ refuses them too (never a
    # silent merge of a forked history).
    restored.add("complaint", *VALID["complaint"][0])
    p = restored.syncd("--once")
    assert p.returncode == EX_DATAERR
    assert restored.batches()[-1] == (3, "rejected", 1)
    assert len(hq.record_ids(lp.device)) == 3


def test_records_hq_rejects_are_shown_and_can_be_corrected(hq, laptop_factory):
    lp = laptop_factory("P06-S03")
    good = lp.add("complaint", *VALID["complaint"][0])
    # A unit outside this laptop's precinct: the collector takes it, HQ does not.
    bad = lp.add("complaint", *VALID["complaint"][0], "org_unit=P01-S01")
    p = lp.syncd("--once")
    assert p.returncode == EX_DATAERR, p            # acknowledged, but a record was refused
    assert p.stdout.splitlines()[0] == "sent 1, acknowledged 1, duplicates 0, rejected 0"
    assert "1 rejected by HQ" in p.stdout
    assert lp.batches() == [(1, "acked", 2)]
    ob = lp.outbox()
    [rej] = ob["rejected_records"]
    assert (rej["id"], rej["rev"], rej["kind"]) == (bad, 1, "complaint")
    assert "P01-S01" in rej["reason"]
    assert ob["records_rejected"] == 1 and ob["records_merged"] == 1
    text = lp.run("status", lang="en").out
    assert bad in text and "rejected by HQ" in text and f"beatbook edit {bad}" in text
    # HQ merged the good one and keeps the bad one in quarantine.
    assert hq.record_ids(lp.device) == [good]
    assert hq.query("SELECT record_id FROM quarantined_records") == [(bad,)]
    # Purging acknowledged data keeps what HQ rejected: it is still to be corrected.
    lp.ok("purge", "--days", "0")
    assert [x["id"] for x in lp.list()] == [bad]
    assert lp.query("SELECT id, rev FROM revisions") == [(bad, 1)]
    # The officer corrects it; the new revision goes and merges; status is clear.
    lp.ok("edit", bad, "org_unit=P06-S03")
    lp.sync_once()
    assert lp.outbox()["rejected_records"] == []
    lp.ok("purge", "--days", "0")
    assert lp.list() == [] and lp.query("SELECT count(*) FROM revisions") == [(0,)]
    assert sorted(hq.record_ids(lp.device)) == sorted([good, bad])
    assert hq.query("SELECT rev, org_unit FROM records WHERE id = ?", (bad,)) == [(2, "P06-S03")]
