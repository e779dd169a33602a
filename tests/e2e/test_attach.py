"""Photos and files taken on the laptop (docs/FORMATS.md §5): `add … photos=@FILE`,
`beatbook attach ID FILE…`, `show` with the EXIF time and place beside the record's
own.  The type is told from the bytes; the file is kept content-addressed beside the
store, 0600, byte for byte, once however many records name it.  Every bad file is
refused with a message naming it, a non-zero exit, and the store unchanged."""
import os
import stat
import subprocess

import pytest

from conftest import EX_OK

EX_DATAERR = 65


def jpeg(path, size=2000):
    path.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(size - 4))
    return path


def exif_jpeg(path):
    """A real JPEG whose EXIF says 2018-03-15 14:19:02 at 24.1477 N, 120.6736 E."""
    code = ("from PIL import Image\n"
            "im = Image.new('RGB', (64, 48), (200, 10, 10)); ex = Image.Exif()\n"
            "ex[0x8769] = {0x9003: '2018:03:15 14:19:02'}\n"
            "ex[0x8825] = {1: 'N', 2: (24.0, 8.0, 51.72), 3: 'E', 4: (120.0, 40.0, 24.96)}\n"
            f"im.save({str(path)!r}, exif=ex)\n")
    subprocess.run(["/usr/bin/python3", "-c", code], check=True)
    return path


def stored(store, sha):
    return store.home / "attachments" / sha[:2] / sha


def counts(store):
    return (store.query("SELECT count(*) FROM records")[0][0],
            store.query("SELECT count(*) FROM attachments")[0][0],
            sorted(p.name for p in (store.home / "attachments").rglob("*") if p.is_file())
            if (store.home / "attachments").is_dir() else [])


def add(store, *files, lang="en"):
    return store.run("add", "traffic_accident", "class=a3", "deaths=0", "injuries=0",
                     *[f"photos=@{f}" for f in files], lang=lang)


def test_add_with_photos_keeps_them_byte_for_byte(store, tmp_path):
    a, b = jpeg(tmp_path / "a.jpg", 50_000), exif_jpeg(tmp_path / "b.jpg")
    png = tmp_path / "c.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(100))
    r = add(store, a, b, png)
    assert r.rc == EX_OK, r
    rec = store.get(r.out.strip())
    files = rec["data"]["photos"]
    assert [f["name"] for f in files] == ["a.jpg", "b.jpg", "c.png"]
    assert [f["type"] for f in files] == ["image/jpeg", "image/jpeg", "image/png"]
    for f, src in zip(files, (a, b, png)):
        p = stored(store, f["sha256"])
        assert p.read_bytes() == src.read_bytes()
        assert f["size"] == src.stat().st_size
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
        assert stat.S_IMODE(p.parent.stat().st_mode) == 0o700
    assert store.query("SELECT count(*) FROM revision_attachments") == [(3,)]


def test_show_puts_the_photos_exif_beside_the_record(store, tmp_path):
    f = exif_jpeg(tmp_path / "scene.jpg")
    rid = store.add("traffic_accident", "class=a3", "deaths=0", "injuries=0",
                    "location=24.1477,120.6736", f"photos=@{f}")
    out = store.ok("show", rid, lang="en").out
    assert "photos                 1 file(s): scene.jpg" in out
    assert "EXIF time 2018/03/15 14:19" in out and "GPS 24.147700,120.673600" in out
    assert "(not yet at HQ)" in out
    zh = store.ok("show", rid).out
    assert "EXIF 時間 2018/03/15 14:19" in zh and "尚未送達總局" in zh


def test_attach_makes_a_new_revision_and_keeps_history(store, tmp_path):
    rid = store.add("traffic_accident", "class=a3", "deaths=0", "injuries=0")
    a, b = jpeg(tmp_path / "a.jpg"), jpeg(tmp_path / "b.jpg")
    store.ok("attach", rid, a, lang="en")
    store.ok("attach", rid, "photos", f"@{b}", lang="en")
    rec = store.get(rid)
    assert rec["rev"] == 3 and [f["name"] for f in rec["data"]["photos"]] == ["a.jpg", "b.jpg"]
    revs = store.query("SELECT rev, body FROM revisions WHERE id = ? ORDER BY rev", (rid,))
    assert [r[0] for r in revs] == [1, 2, 3] and '"photos"' not in revs[0][1]
    r = store.run("attach", rid, a, lang="en")          # the same bytes again
    assert r.rc != EX_OK and "already attached" in r.err
    assert store.get(rid)["rev"] == 3
    r = store.run("attach", rid, lang="en")
    assert r.rc == 64 and "at least one file" in r.err


def test_attach_refuses_a_kind_without_files_and_a_void_record(store, tmp_path):
    a = jpeg(tmp_path / "a.jpg")
    pid = store.add("patrol", "type=small_area", "mode=bicycle", "officers=2",
                    "started_at=2018-03-15T08:00:00+08:00", "ended_at=2018-03-15T09:00:00+08:00")
    r = store.run("attach", pid, a, lang="en")
    assert r.rc == 64 and "takes no photos or files" in r.err, r
    rid = store.add("traffic_accident", "class=a3", "deaths=0", "injuries=0")
    store.ok("void", rid, "--reason", "entered twice")
    r = store.run("attach", rid, a, lang="en")
    assert r.rc != EX_OK and "void" in r.err, r


def test_the_same_photo_on_two_records_is_stored_once(store, tmp_path):
    a = jpeg(tmp_path / "a.jpg", 30_000)
    add(store, a)
    add(store, a)
    assert store.query("SELECT count(*) FROM attachments") == [(1,)]
    assert store.query("SELECT count(*) FROM revision_attachments") == [(2,)]
    assert len(counts(store)[2]) == 1


def bad_files(tmp_path):
    """(path, words the message must hold) for each kind of bad file."""
    pdf = tmp_path / "scene.jpg"
    pdf.write_bytes(b"%PDF-1.4\n" + os.urandom(100))
    big = tmp_path / "big.jpg"
    with open(big, "wb") as f:
        f.write(b"\xff\xd8\xff\xe0")
        f.truncate(25 * 1024 * 1024 + 1)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    link = tmp_path / "link.jpg"
    link.symlink_to(jpeg(tmp_path / "real.jpg"))
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.jpg"
    folder.mkdir()
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo at all")
    return [(pdf, ["scene.jpg", "PDF"]), (big, ["big.jpg"]), (empty, ["empty.jpg"]),
            (link, ["link.jpg", "symbolic link"]), (fifo, ["pipe.jpg"]),
            (folder, ["folder.jpg"]), (text, ["notes.jpg"]),
            (tmp_path / "missing.jpg", ["missing.jpg"]), ("/dev/zero", ["/dev/zero", "device"])]


def test_every_bad_file_is_refused_and_nothing_is_stored(store, tmp_path):
    add(store, jpeg(tmp_path / "ok.jpg"))
    before = counts(store)
    for path, words in bad_files(tmp_path):
        r = add(store, path)
        assert r.rc == (66 if "missing" in str(path) else EX_DATAERR), (path, r)
        for w in words:
            assert w in r.err, (path, r.err)
        assert counts(store) == before, f"{path} left something in the store"
    # A good file beside a bad one: the whole command fails, the good one is not kept.
    good = jpeg(tmp_path / "fresh.jpg")
    r = add(store, good, tmp_path / "scene.jpg")
    assert r.rc != EX_OK
    assert counts(store) == before


def test_too_many_photos(store, tmp_path):
    files = [jpeg(tmp_path / f"p{i}.jpg", 600) for i in range(11)]
    before = counts(store)
    r = add(store, *files)
    assert r.rc != EX_OK and "10" in r.err, r
    assert counts(store) == before
    assert add(store, *files[:10]).rc == EX_OK


def test_a_pdf_goes_where_files_are_allowed(store, tmp_path):
    pdf = tmp_path / "statement.pdf"
    pdf.write_bytes(b"%PDF-1.7\n" + os.urandom(500))
    r = store.run("add", "complaint", "category=other",
                  "received_at=2018-03-15T14:20:00+08:00", "summary=民眾陳情",
                  f"files=@{pdf}", lang="en")
    assert r.rc == EX_OK, r
    assert store.get(r.out.strip())["data"]["files"][0]["type"] == "application/pdf"


@pytest.mark.parametrize("brands,expect", [(b"heic\0\0\0\0mif1heic", "image/heic"),
                                           (b"mif1\0\0\0\0mif1miaf", "image/heif")])
def test_heif_is_told_by_its_brand(store, tmp_path, brands, expect):
    f = tmp_path / "IMG_0001.HEIC"
    f.write_bytes(b"\x00\x00\x00\x18ftyp" + brands + os.urandom(200))
    r = add(store, f)
    assert r.rc == EX_OK, r
    assert store.get(r.out.strip())["data"]["photos"][0]["type"] == expect
