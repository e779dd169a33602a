"""Receipts back by USB stick: `beatbook-hq export-receipts --device D|--org P --to DIR`
writes HQ's signed receipts and reference bundle; `beatbook import DIR` verifies all of
them and applies them as beatbook-syncd would, so a laptop that never has a network
frees its data (purge) and updates its lists.  Receipts of another laptop, or a
tampered stick, are refused with a clear message, and nothing is applied."""
import json

from conftest import EX_OK
from sync_fixtures import (hq, laptop_factory, needs_sync)

pytestmark = needs_sync
assert hq and laptop_factory   # fixtures, used by name


def usb_only(lp, hq, tmp_path, n=5, name="to-hq"):
    """Records on lp carried to HQ by stick (registration included)."""
    lp.add_many(n)
    stick = tmp_path / f"{name}-{lp.device}"
    stick.mkdir()
    r = lp.run("export", "--to", stick, lang="en")
    assert r.rc == EX_OK, r
    r = hq.import_(stick)
    assert r.returncode == EX_OK, r.stdout + r.stderr
    return stick


def export_receipts(hq, tmp_path, *sel, name="back"):
    back = tmp_path / name
    back.mkdir()
    p = hq.ok("export-receipts", "--data", hq.data, *sel, "--to", back)
    assert "receipt(s)" in p.stdout
    return back


def state(lp):
    return (lp.query("SELECT seq, state FROM batches ORDER BY seq"),
            lp.query("SELECT count(*) FROM revisions")[0][0],
            lp.query("SELECT count(*) FROM reference")[0][0])


def test_usb_only_laptop_frees_its_data_after_import_of_receipts(hq, laptop_factory, tmp_path):
    lp = laptop_factory("P08-S02")
    lp.write_config("batch_max_records = 2\n")
    usb_only(lp, hq, tmp_path)
    assert [s for _, s in lp.query("SELECT seq, state FROM batches")] == ["sealed"] * 3
    back = export_receipts(hq, tmp_path, "--device", lp.device)
    names = sorted(p.name for p in back.iterdir())
    assert names == [f"{lp.device}-{n:06d}.receipt.json" for n in (1, 2, 3)] + \
        [f"{lp.device}.digests.json", "reference.json"]
    # Byte for byte what HQ stored as its answer to the batch.
    assert (back / f"{lp.device}-000001.receipt.json").read_text() == hq.query(
        "SELECT receipt FROM batches WHERE device = ? AND seq = 1", (lp.device,))[0][0]
    r = lp.run("import", back, "--days", "0", lang="en")
    assert r.rc == EX_OK, r
    assert "receipts: 3 applied, 0 already here" in r.out
    assert "reference data: updated to version" in r.out
    assert "purged 3 acknowledged batch(es)" in r.out
    assert lp.acked() == 3
    assert lp.query("SELECT count(*) FROM revisions")[0][0] == 0
    assert lp.query("SELECT count(*) FROM records")[0][0] == 0
    ref = json.loads((back / "reference.json").read_text())
    assert lp.query("SELECT version FROM reference") == [(ref["version"],)]
    assert lp.status()["outbox"]
    # The same stick again: nothing new, no error.  zh-TW by default.
    r = lp.run("import", back)
    assert r.rc == EX_OK, r
    assert "回執：套用 0 張，3 張本機已有" in r.out
    # The next status report says HQ has everything.
    stick = tmp_path / "again"
    stick.mkdir()
    assert lp.run("export", "--to", stick, lang="en").rc == EX_OK
    assert hq.import_(stick).returncode == EX_OK
    view = json.loads(hq.ok("devices", "--json", "--lang", "en", "--data", hq.data).stdout)
    d = [x for x in view["items"] if x["id"] == lp.device][0]
    assert d["all_in"] is True and d["summary"] == "HQ has everything"


def test_receipts_of_another_laptop_or_a_tampered_stick_apply_nothing(hq, laptop_factory,
                                                                      tmp_path):
    a = laptop_factory("P06-S03")
    b = laptop_factory("P06-S01")
    usb_only(a, hq, tmp_path, 3)
    usb_only(b, hq, tmp_path, 3)
    before = state(a)
    # Only b's receipts on the stick.
    back_b = export_receipts(hq, tmp_path, "--device", b.device, name="back-b")
    r = a.run("import", back_b, lang="en")
    assert r.rc != EX_OK
    assert b.device in r.err and a.device in r.err and "nothing was applied" in r.err
    assert state(a) == before
    # b's receipt renamed as a's.
    back_a = export_receipts(hq, tmp_path, "--device", a.device, name="back-a")
    forged = tmp_path / "forged"
    forged.mkdir()
    (forged / f"{a.device}-000001.receipt.json").write_bytes(
        (back_b / f"{b.device}-000001.receipt.json").read_bytes())
    r = a.run("import", forged, lang="en")
    assert r.rc != EX_OK and "not this laptop" in r.err and "nothing was applied" in r.err
    assert state(a) == before
    # A receipt changed on the stick: HQ's signature no longer holds.
    tampered = tmp_path / "tampered"
    tampered.mkdir()
    for p in back_a.iterdir():
        (tampered / p.name).write_bytes(p.read_bytes())
    f = tampered / f"{a.device}-000001.receipt.json"
    doc = json.loads(f.read_text())
    doc["received_at"] = "2018-01-01T00:00:00+08:00"
    f.write_text(json.dumps(doc, separators=(",", ":"), sort_keys=True))
    r = a.run("import", tampered, lang="en")
    assert r.rc != EX_OK and "nothing was applied" in r.err
    assert state(a) == before
    # A tampered reference bundle with good receipts: still nothing applied.
    f.write_bytes((back_a / f.name).read_bytes())
    ref = json.loads((tampered / "reference.json").read_text())
    ref["issued_at"] = "2030-01-01T00:00:00+08:00"
    (tampered / "reference.json").write_text(json.dumps(ref))
    r = a.run("import", tampered, lang="en")
    assert r.rc != EX_OK and "reference.json" in r.err and "nothing was applied" in r.err
    assert state(a) == before
    # A precinct's stick: each laptop takes its own receipts and leaves the others'.
    back_p06 = export_receipts(hq, tmp_path, "--org", "P06", name="back-p06")
    r = a.run("import", back_p06, lang="en")
    assert r.rc == EX_OK, r
    assert "receipts: 1 applied" in r.out and "left alone: 1 receipt(s) of other laptops" in r.out
    assert a.acked() == 1 and b.acked() == 0
