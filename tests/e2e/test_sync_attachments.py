"""Photos and files travel from the laptop to HQ with the guarantees of records
(docs/PROTOCOL.md "Attachments"): over HTTPS and by USB stick, byte for byte;
resumable over a link that breaks (each chunk sent at most twice, counted at a
proxy); stored once however many records name the same photo; exactly once
through kill -9 of syncd or of HQ; freed on the laptop only after HQ's signed
receipt names them.

Real programs on loopback: beatbook, beatbook-syncd, beatbook-hq serve over
TLS, the real SQLite files and HQ's file store read-only.
"""
import hashlib
import os
import random
import signal
import stat

import pytest

from conftest import EX_OK
from sync_fixtures import (EX_TEMPFAIL, HQ, ByteCutProxy, Laptop, free_port, hq,  # noqa: F401
                           laptop_factory, needs_sync, wait_for)

pytestmark = needs_sync

CHUNK = 1024 * 1024


def photo(path, size, seed):
    """A file that is a JPEG by its bytes (the magic), size bytes of noise after it."""
    rnd = random.Random(seed)
    body = bytes(rnd.getrandbits(8) for _ in range(min(size, 4096)))
    data = (b"\xff\xd8\xff\xe0" + (body * (size // len(body) + 1)))[:size]
    # Noise that does not repeat within a chunk: zstd or a dedup would hide bugs.
    data = data[:4] + os.urandom(size - 4) if size > 8192 else data
    path.write_bytes(data)
    return path


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def at_hq(hq, digest):
    return hq.data / "attachments" / digest[:2] / digest


def add_accident(lp, *files):
    return lp.add("traffic_accident", "class=a3", "deaths=0", "injuries=0",
                  "occurred_at=2018-03-15T14:20:00+08:00", *[f"photos=@{f}" for f in files])


def partial_files(hq):
    d = hq.data / "attachments" / "partial"
    return sorted(p.name for p in d.iterdir()) if d.is_dir() else []


def test_three_photos_over_https_arrive_byte_for_byte(hq, laptop_factory, tmp_path):
    lp = laptop_factory()
    files = [photo(tmp_path / "scene-1.jpg", 300_000, 1),
             photo(tmp_path / "scene-2.jpg", 2 * CHUNK + 12345, 2),   # three chunks
             photo(tmp_path / "scene-3.jpg", CHUNK, 3)]              # exactly one
    rid = add_accident(lp, *files)
    p = lp.sync_once()
    assert "photos and files: 3 at HQ" in p.stdout, p.stdout
    for f in files:
        stored = at_hq(hq, sha(f))
        assert stored.read_bytes() == f.read_bytes()
        assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert partial_files(hq) == []
    assert hq.query("SELECT count(*) FROM attachments") == [(3,)]
    assert sorted(r[0] for r in hq.query(
        "SELECT sha256 FROM record_attachments WHERE record_id = ?", (rid,))) == \
        sorted(sha(f) for f in files)
    # The laptop holds HQ's signed receipt for each, and says so.
    assert lp.query("SELECT count(*) FROM attachments WHERE receipt IS NOT NULL") == [(3,)]
    out = lp.ok("status", lang="en").out
    assert "photos and files: 0 waiting" in out and "3 at HQ" in out, out
    # A second pass sends nothing again.
    p = lp.sync_once()
    assert "photos and files" not in p.stdout
    assert hq.query("SELECT count(*) FROM attachments") == [(3,)]


def test_three_photos_by_usb_stick_and_receipts_back(hq, laptop_factory, tmp_path):
    lp = laptop_factory()
    files = [photo(tmp_path / f"p{i}.jpg", s, i)
             for i, s in enumerate((150_000, CHUNK + 1, 900_000))]
    add_accident(lp, *files)
    stick, again = tmp_path / "stick", tmp_path / "stick-again"
    stick.mkdir()
    again.mkdir()
    r = lp.ok("export", "--to", stick, lang="en")
    assert "exported 3 photo/file attachment(s)" in r.out, r.out
    lp.ok("export", "--to", again, lang="en")
    bba = sorted(stick.glob("*.bba"))
    assert len(bba) == 3
    # The sealed objects are made once: a second stick carries the same bytes.
    for f in bba:
        assert (again / f.name).read_bytes() == f.read_bytes()
    r = hq.import_(stick)
    assert r.returncode == 0, r.stdout + r.stderr
    for f in files:
        assert at_hq(hq, sha(f)).read_bytes() == f.read_bytes()
    # The same stick again changes nothing.
    r = hq.import_(again)
    assert r.returncode == 0, r.stdout + r.stderr
    assert hq.query("SELECT count(*) FROM attachments") == [(3,)]
    back = tmp_path / "back"
    back.mkdir()
    hq.ok("export-receipts", "--data", hq.data, "--device", lp.device, "--to", back)
    assert len(list(back.glob("*.att-receipt.json"))) == 3
    r = lp.ok("import", back, lang="en")
    assert "photo/file receipts: 3 applied" in r.out, r.out
    assert lp.query("SELECT count(*) FROM attachments WHERE receipt IS NOT NULL") == [(3,)]
    r = lp.ok("import", back, lang="en")
    assert "photo/file receipts: 0 applied, 3 already here" in r.out, r.out
    # Nothing is left for HTTPS to carry.
    p = lp.sync_once()
    assert "photos and files" not in p.stdout


def test_a_forged_attachment_receipt_on_a_stick_applies_nothing(hq, laptop_factory, tmp_path):
    lp = laptop_factory()
    f = photo(tmp_path / "p.jpg", 50_000, 7)
    add_accident(lp, f)
    stick = tmp_path / "stick"
    stick.mkdir()
    lp.ok("export", "--to", stick)
    assert hq.import_(stick).returncode == 0
    back = tmp_path / "back"
    back.mkdir()
    hq.ok("export-receipts", "--data", hq.data, "--device", lp.device, "--to", back)
    (rc,) = list(back.glob("*.att-receipt.json"))
    rc.write_text(rc.read_text().replace('"size":50000', '"size":50001'))
    r = lp.run("import", back, lang="en")
    assert r.rc == 65, r
    assert "nothing was applied" in r.err
    assert lp.query("SELECT count(*) FROM attachments WHERE receipt IS NOT NULL") == [(0,)]


@pytest.mark.slow
def test_twenty_megabytes_cut_at_ten_points(tmp_path):
    """A 20 MB photo over a link cut at 10 random byte offsets: it arrives whole,
    and the bytes that went up are the file once plus at most one chunk per cut."""
    hq_port = free_port()
    proxy = ByteCutProxy(hq_port)
    h = HQ(tmp_path / "hq", port=hq_port, url_port=proxy.port).init().start()
    try:
        enr = tmp_path / "e.json"
        h.enroll("P06-S03", "behind a bad link", enr)
        lp = Laptop(tmp_path / "lp")
        lp.init_enrolled(enr)
        big = photo(tmp_path / "big.jpg", 20_000_000, 20)
        add_accident(lp, big)
        rnd = random.Random(2026)
        proxy.arm(sorted(rnd.sample(range(50_000, 20_000_000), 10)))
        codes = []
        for _ in range(20):
            p = lp.syncd("--once")
            codes.append(p.returncode)
            if p.returncode == 0:
                break
            assert p.returncode == EX_TEMPFAIL, (codes, p.stdout, p.stderr)
        assert codes[-1] == 0, codes
        assert proxy.cut_count == 10
        assert at_hq(h, sha(big)).read_bytes() == big.read_bytes()
        assert partial_files(h) == []
        # Counted at the proxy: the file once, plus at most one chunk (sealed,
        # with its HTTP and TLS framing) lost per cut, plus the handshakes,
        # the batch, the heads and the status reports of every run.
        framing = 0.01 * 20_000_000 + 64_000 * len(codes)
        assert proxy.up <= 20_000_000 + 10 * (CHUNK + 16) + framing, proxy.up
        assert lp.query("SELECT count(*) FROM attachments WHERE receipt IS NOT NULL") == [(1,)]
    finally:
        h.stop()
        proxy.close()


def test_the_same_photo_on_two_records_is_stored_once(hq, laptop_factory, tmp_path):
    one, two = laptop_factory("P06-S03"), laptop_factory("P06-S01")
    f = photo(tmp_path / "same.jpg", CHUNK * 2 + 5, 9)
    r1 = add_accident(one, f)
    r1b = add_accident(one, f)         # the same file on a second record, same laptop
    r2 = add_accident(two, f)          # and on another laptop's record
    one.sync_once()
    p = two.sync_once()
    # HQ already held it: the second laptop sent no chunk at all.
    assert "1 at HQ (0 chunks" in p.stdout, p.stdout
    assert hq.query("SELECT count(*) FROM attachments") == [(1,)]
    assert sorted(r[0] for r in hq.query("SELECT record_id FROM record_attachments")) == \
        sorted([r1, r1b, r2])
    files = [p for p in (hq.data / "attachments").rglob("*") if p.is_file()
             and "partial" not in p.parts and "thumbs" not in p.parts]
    assert [p.name for p in files] == [sha(f)]
    assert one.query("SELECT count(*) FROM attachments") == [(1,)]
    for lp in (one, two):
        assert lp.query("SELECT count(*) FROM attachments WHERE receipt IS NOT NULL") == [(1,)]


def slow_link_setup(tmp_path, size):
    """HQ behind a proxy that carries 4 MB/s, a laptop with one big photo."""
    hq_port = free_port()
    proxy = ByteCutProxy(hq_port, rate=4_000_000)
    h = HQ(tmp_path / "hq", port=hq_port, url_port=proxy.port).init().start()
    enr = tmp_path / "e.json"
    h.enroll("P06-S03", "slow link", enr)
    lp = Laptop(tmp_path / "lp")
    lp.init_enrolled(enr)
    lp.write_config("interval = 1\n")
    big = photo(tmp_path / "big.jpg", size, 11)
    add_accident(lp, big)
    return h, proxy, lp, big


def chunks_at_hq(h):
    rows = h.query("SELECT count(*) FROM attachment_chunks")
    return rows[0][0] if rows else 0


@pytest.mark.slow
def test_syncd_killed_mid_upload_then_exactly_once(tmp_path):
    h, proxy, lp, big = slow_link_setup(tmp_path, 12_000_000)
    try:
        lp.start_daemon()
        wait_for(lambda: chunks_at_hq(h) >= 3, timeout=60, what="3 chunks at HQ")
        assert h.query("SELECT count(*) FROM attachments") == [(0,)], "finished too soon"
        lp.stop_daemon(signal.SIGKILL)
        held = chunks_at_hq(h)
        proxy.rate = None
        before = proxy.up
        lp.sync_once()
        assert at_hq(h, sha(big)).read_bytes() == big.read_bytes()
        assert h.query("SELECT count(*) FROM attachments") == [(1,)]
        # The chunks HQ held were not sent again.
        assert proxy.up - before <= (12 - held + 1) * (CHUNK + 16) + 200_000
        assert partial_files(h) == []
    finally:
        lp.stop_daemon(signal.SIGKILL)
        h.stop()
        proxy.close()


@pytest.mark.slow
def test_hq_killed_mid_upload_then_exactly_once(tmp_path):
    h, proxy, lp, big = slow_link_setup(tmp_path, 12_000_000)
    try:
        lp.start_daemon()
        wait_for(lambda: chunks_at_hq(h) >= 3, timeout=60, what="3 chunks at HQ")
        assert h.query("SELECT count(*) FROM attachments") == [(0,)], "finished too soon"
        h.kill()
        h.start()
        proxy.rate = None
        wait_for(lambda: lp.query("SELECT count(*) FROM attachments WHERE receipt IS NOT NULL")
                 == [(1,)], timeout=90, what="the laptop to hold HQ's receipt")
        lp.stop_daemon()
        assert at_hq(h, sha(big)).read_bytes() == big.read_bytes()
        assert h.query("SELECT count(*) FROM attachments") == [(1,)]
        assert h.query("SELECT count(*) FROM attachment_uploads") == [(0,)]
        assert partial_files(h) == []
    finally:
        lp.stop_daemon(signal.SIGKILL)
        h.stop()
        proxy.close()


def test_files_are_freed_only_after_hqs_receipt(hq, laptop_factory, tmp_path):
    lp = laptop_factory()
    f = photo(tmp_path / "p.jpg", 80_000, 5)
    add_accident(lp, f)
    local = lp.home / "attachments" / sha(f)[:2] / sha(f)
    assert local.read_bytes() == f.read_bytes()
    hq.stop()
    lp.sync_once(expect=EX_TEMPFAIL)
    lp.ok("purge", "--days", "0")
    assert local.exists(), "freed before HQ's receipt named it"
    hq.start()
    lp.sync_once()
    r = lp.ok("purge", "--days", "0", lang="en")
    assert not local.exists()
    assert lp.query("SELECT count(*) FROM attachments WHERE purged_at IS NOT NULL") == [(1,)]
    assert "1 freed" in lp.ok("status", lang="en").out
    assert at_hq(hq, sha(f)).read_bytes() == f.read_bytes()
    del r


def test_devices_page_does_not_say_everything_while_a_photo_is_missing(hq, laptop_factory,
                                                                       tmp_path):
    """The records came by stick without their .bba: HQ itself knows a file is missing."""
    import json
    lp = laptop_factory()
    add_accident(lp, photo(tmp_path / "p.jpg", 60_000, 4))
    stick = tmp_path / "stick"
    stick.mkdir()
    lp.ok("export", "--to", stick)
    r = hq.import_(*sorted(stick.glob("*.bbatch")), *stick.glob("*.json"))
    assert r.returncode == 0, r.stdout + r.stderr

    def mine():
        out = hq.ok("devices", "--json", "--lang", "en", "--data", hq.data).stdout
        return [d for d in json.loads(out)["items"] if d["id"] == lp.device][0]
    d = mine()
    assert d["all_in"] is False and d["files_missing"] == 1
    assert "1 photo/file not yet at HQ" in d["summary"], d["summary"]
    assert hq.import_(*stick.glob("*.bba")).returncode == 0
    d = mine()
    assert d["files_missing"] == 0 and "not yet at HQ" not in d["summary"]


def test_hq_disk_full_mid_upload_then_the_next_sync_continues(hq, laptop_factory, tmp_path):
    """HQ's attachments folder on a 3 MB tmpfs, a 5 MB photo: 507 mid-upload,
    nothing half-noted; with room again the upload continues where it stopped."""
    import subprocess
    lp = laptop_factory()
    f = photo(tmp_path / "big.jpg", 5 * CHUNK, 12)
    add_accident(lp, f)
    store = hq.data / "attachments"
    store.mkdir(exist_ok=True)
    m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", str(store)],
                       capture_output=True, text=True)
    if m.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {m.stderr.strip()}")
    try:
        p = lp.syncd("--once")
        assert p.returncode == EX_TEMPFAIL, p.stdout + p.stderr
        assert "507" in p.stderr and "disk is full" in p.stderr, p.stderr
        held = hq.query("SELECT count(*) FROM attachment_chunks")[0][0]
        assert 1 <= held < 5
        assert hq.query("SELECT count(*) FROM attachments") == [(0,)]
        subprocess.run(["mount", "-o", "remount,size=30m", str(store)], check=True)
        lp.sync_once()
        assert at_hq(hq, sha(f)).read_bytes() == f.read_bytes()
        assert partial_files(hq) == []
    finally:
        hq.stop()
        subprocess.run(["umount", str(store)], capture_output=True)
        hq.start()
