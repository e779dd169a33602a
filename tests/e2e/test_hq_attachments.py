"""Photos and files on HQ's review side (hq/hq_attview.h, hq_thumb.h,
hq_export_zip.h, hq_attfile.h; docs/PROTOCOL.md "Attachments").

Real programs only: laptops record accidents with real JPEGs (made with
python3-pil, with EXIF time and GPS), `beatbook-syncd --once` carries the
records and the files to a real `beatbook-hq serve` over TLS, a third laptop
reaches HQ by USB stick with only its batches (its .bba files stay behind).
Then, through the review API as a browser calls it:

  - the record page lists each file of the current revision, its EXIF time
    and place beside the record's own, and a notice when they are over an
    hour or a kilometre apart; files not yet at HQ are a pending line
    ("1 張照片傳送中" / "1 photo on its way");
  - GET /api/attachments/<sha256> is the original, byte for byte, streamed,
    with its real type, a safe Content-Disposition (PDFs as downloads) and
    nosniff; /thumb is a JPEG within 320 px made by libvips and cached;
  - scope exactly like records: a precinct admin gets 404 for another
    precinct's photo by hash, 200 for its own; a bad hash is 400;
  - the Devices page lists what each laptop's records name that HQ lacks;
  - the ZIP export is the CSV export's bytes, the files HQ holds and a
    manifest of the missing ones, built in a temporary file that is gone after;
  - and the record page in real headless Chromium shows the thumbnail.
"""
import hashlib
import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from sync_fixtures import HQ, Laptop, needs_sync
from ui_fixtures import PASSWORDS, Web

pytestmark = needs_sync

OCCURRED = "2018-03-15T14:20:00+08:00"
LOCATION = "24.1477,120.6736"             # 臺中市 西屯區
THUMB_BOX = 320


def rational(deg):
    """Degrees as EXIF's degrees, minutes, seconds."""
    d = int(deg)
    m = int((deg - d) * 60)
    s = round(((deg - d) * 60 - m) * 60, 4)
    return (float(d), float(m), float(s))


def jpeg(path, size=(1200, 900), color=(200, 40, 40), exif_time=None, gps=None):
    """A real JPEG (libvips decodes it), optionally with DateTimeOriginal and GPS."""
    from PIL import Image, ImageDraw
    img = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(img)
    for i in range(0, size[0], 60):
        draw.line([(i, 0), (size[0] - i, size[1])], fill=(255, 255, 255), width=5)
    exif = Image.Exif()
    exif[0x0110] = "Beatbook test camera"
    # Sub-IFDs as dicts: Pillow 9 writes those (edits through get_ifd are lost).
    if exif_time:
        exif[0x8769] = {0x9003: exif_time}
    if gps:
        exif[0x8825] = {1: "N" if gps[0] >= 0 else "S", 2: rational(abs(gps[0])),
                        3: "E" if gps[1] >= 0 else "W", 4: rational(abs(gps[1]))}
    img.save(path, "JPEG", quality=90, exif=exif.tobytes())
    return path


def pdf(path):
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n"
                     b"%%EOF\n")
    return path


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class AttWorld:
    def __init__(self, root):
        self.root = Path(root)
        self.hq = HQ(self.root / "hq")
        self.files = {}

    def laptop(self, name, unit, officer):
        enroll = self.root / f"{name}.enroll"
        self.hq.enroll(unit, f"{unit} 筆電 {len(name)}", enroll)
        lp = Laptop(self.root / name, officer=officer)
        lp.init_enrolled(enroll)
        return lp

    def build(self):
        hq, root = self.hq, self.root
        hq.init().start()
        f = self.files
        # 協和 (P06): a photo taken 3 h before the record's time, 5 km away; another
        # with no EXIF at all; a complaint with a PDF.
        f["scene"] = jpeg(root / "IMG_0412.JPG", exif_time="2018:03:15 11:20:00",
                          gps=(24.1477 + 0.045, 120.6736))
        f["plain"] = jpeg(root / "現場 2.jpg", size=(640, 480), color=(30, 90, 200))
        f["doc"] = pdf(root / "statement.pdf")
        self.a = self.laptop("xiehe", "P06-S03", "A123456")
        self.rec_a = self.a.add("traffic_accident", "class=a3", "deaths=0", "injuries=0",
                                f"occurred_at={OCCURRED}", f"location={LOCATION}",
                                f"photos=@{f['scene']}", f"photos=@{f['plain']}")
        self.rec_pdf = self.a.add("complaint", "category=other",
                                  "received_at=2018-03-15T15:00:00+08:00",
                                  f"files=@{f['doc']}")
        # A "JPEG" by its magic that is not one: no decoder may choke the server.
        f["broken"] = root / "broken.jpg"
        f["broken"].write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(50_000))
        self.rec_broken = self.a.add("traffic_accident", "class=a3", "deaths=0", "injuries=0",
                                     f"occurred_at={OCCURRED}", f"photos=@{f['broken']}")
        self.a.sync_once()
        # 豐東 (P08): its own photo, taken where and when the record says.
        f["p08"] = jpeg(root / "p08.jpg", color=(20, 160, 60), exif_time="2018:03:15 14:25:00",
                        gps=(24.2543, 120.7226))
        self.b = self.laptop("fengdong", "P08-S02", "B234567")
        self.rec_b = self.b.add("traffic_accident", "class=a3", "deaths=0", "injuries=0",
                                f"occurred_at={OCCURRED}", "location=24.2543,120.7226",
                                f"photos=@{f['p08']}")
        self.b.sync_once()
        # Another P06 laptop by USB stick: HQ imports only the batches.
        f["usb"] = jpeg(root / "usb.jpg", color=(230, 200, 20))
        self.c = self.laptop("usb", "P06-S03", "C345678")
        self.rec_c = self.c.add("traffic_accident", "class=a3", "deaths=0", "injuries=0",
                                f"occurred_at={OCCURRED}", f"photos=@{f['usb']}")
        self.stick = root / "stick"
        self.stick.mkdir()
        r = self.c.run("export", "--to", self.stick, lang="en")
        assert r.rc == 0, r
        self.bba = sorted(self.stick.glob("*.bba"))
        assert len(self.bba) == 1, sorted(p.name for p in self.stick.iterdir())
        self.held_back = root / "held-back"
        self.held_back.mkdir()
        shutil.move(str(self.bba[0]), self.held_back / self.bba[0].name)
        p = hq.import_(self.stick)
        assert p.returncode == 0, p.stdout + p.stderr
        for name, role in (("reviewer", ["--role", "hq"]),
                           ("p06admin", ["--role", "precinct", "--org", "P06"])):
            pw = root / f"{name}.pw"
            pw.write_text(PASSWORDS[name] + "\n")
            os.chmod(pw, 0o600)
            hq.ok("user", "add", "--data", hq.data, "--name", name, *role, "--password-file", pw)
        return self

    def web(self, name):
        w = Web(self.hq)
        status, doc = w.signin(name)
        assert status == 200, doc
        return w


@pytest.fixture(scope="module")
def aw(tmp_path_factory):
    w = AttWorld(tmp_path_factory.mktemp("att")).build()
    yield w
    rc = w.hq.stop()
    assert rc == 0, w.hq.log_path.read_text(errors="replace")[-3000:]


def record(web, rid, lang="en"):
    status, doc = web.get(f"/v1/records/{rid}", lang=lang)
    assert status == 200, doc
    return doc


def test_record_page_lists_files_with_exif_beside_the_record(aw):
    doc = record(aw.web("reviewer"), aw.rec_a)
    att = doc["attachments"]
    items = att["items"]
    assert [i["sha256"] for i in items] == [sha(aw.files["scene"]), sha(aw.files["plain"])]
    scene, plain = items
    assert scene["name"] == "IMG_0412.JPG" and plain["name"] == "現場 2.jpg"
    assert scene["type"] == "image/jpeg"
    assert scene["size"] == aw.files["scene"].stat().st_size
    assert scene["stored"] is True and plain["stored"] is True
    assert scene["url"] == f"/api/attachments/{scene['sha256']}"
    assert scene["thumb"] == scene["url"] + "/thumb"
    assert att["pending"] == {"photos": 0, "files": 0, "bytes": 0}
    assert att["display"]["pending"] is None
    # EXIF: 3 hours before, 5 km north of the record's own time and place.
    assert scene["exif"]["time"] == "2018:03:15 11:20:00"
    assert abs(scene["exif"]["lat"] - (24.1477 + 0.045)) < 1e-4
    assert abs(scene["exif"]["lon"] - 120.6736) < 1e-4
    codes = {n["code"]: n for n in scene["notes"]}
    assert codes["time_differs"]["seconds"] == -3 * 3600
    assert 4.5 < codes["place_differs"]["km"] < 5.5
    texts = [n["en"] for n in scene["display"]["notes"]]
    assert any("3 h 0 min before" in t for t in texts), texts
    assert any("km from the record's location" in t for t in texts), texts
    zh = [n["zh-TW"] for n in scene["display"]["notes"]]
    assert any("相差 3 小時" in t for t in zh) and any("公里" in t for t in zh), zh
    assert scene["display"]["exif_time"]["en"].startswith("2018-03-15 11:20")
    # The record's own time and place are beside them.
    assert att["display"]["record_time"]["en"].startswith("2018-03-15 14:20")
    assert att["display"]["record_place"]["en"] == "24.147700, 120.673600"
    # No EXIF: nothing to compare, no notice.
    assert plain["exif"] is None and plain["notes"] == []
    # The field itself reads as the files' names, not as JSON.
    fields = {f["name"]: f for f in doc["record"]["display"]["fields"]}
    assert fields["photos"]["text"] == {"zh-TW": "2 張照片：IMG_0412.JPG、現場 2.jpg",
                                        "en": "2 photos: IMG_0412.JPG, 現場 2.jpg"}
    # A photo taken where and when its record says: no notice.
    b = record(aw.web("reviewer"), aw.rec_b)["attachments"]["items"][0]
    assert b["exif"]["time"] == "2018:03:15 14:25:00" and b["notes"] == []


def test_original_is_streamed_byte_for_byte(aw):
    web = aw.web("reviewer")
    digest = sha(aw.files["scene"])
    status, h, body = web.request("GET", f"/api/attachments/{digest}")
    assert status == 200, body[:300]
    assert body == aw.files["scene"].read_bytes()
    assert h["content-type"] == "image/jpeg"
    assert int(h["content-length"]) == len(body)
    assert h["x-content-type-options"] == "nosniff"
    assert h["content-disposition"] == \
        "inline; filename=\"IMG_0412.JPG\"; filename*=UTF-8''IMG_0412.JPG"
    assert "sandbox" in h["content-security-policy"]
    assert h["etag"] == f'"{digest}"' and h["cache-control"] == "private, no-cache"
    # HEAD: the same headers, no body.
    status, h2, body2 = web.request("HEAD", f"/api/attachments/{digest}")
    assert status == 200 and body2 == b"" and h2["content-length"] == h["content-length"]
    # Revalidation.
    status, _, body3 = web.request("GET", f"/api/attachments/{digest}",
                                   headers={"If-None-Match": h["etag"]})
    assert status == 304 and body3 == b""
    # A name that is not ASCII: an ASCII stand-in and the UTF-8 name.
    status, h, body = web.request("GET", f"/api/attachments/{sha(aw.files['plain'])}")
    assert status == 200 and body == aw.files["plain"].read_bytes()
    assert h["content-disposition"] == ("inline; filename=\"___2.jpg\"; "
                                        "filename*=UTF-8''%E7%8F%BE%E5%A0%B4%202.jpg")


def test_pdf_is_a_download_and_has_no_thumbnail(aw):
    web = aw.web("reviewer")
    item = record(web, aw.rec_pdf)["attachments"]["items"][0]
    assert item["type"] == "application/pdf" and item["thumb"] is None
    status, h, body = web.request("GET", item["url"])
    assert status == 200 and body == aw.files["doc"].read_bytes()
    assert h["content-type"] == "application/pdf"
    assert h["content-disposition"].startswith('attachment; filename="statement.pdf"')
    status, h, body = web.request("GET", item["url"] + "/thumb")
    assert status == 404 and json.loads(body)["error"] == "no_thumbnail"
    assert "etag" not in h and h["cache-control"] == "no-store"


def test_thumbnail_is_a_small_jpeg_made_once(aw):
    from PIL import Image
    web = aw.web("reviewer")
    digest = sha(aw.files["scene"])
    cached = aw.hq.data / "attachments" / "thumbs" / f"{digest}.jpg"
    assert not cached.exists()
    status, h, body = web.request("GET", f"/api/attachments/{digest}/thumb")
    assert status == 200, body[:300]
    assert h["content-type"] == "image/jpeg" and int(h["content-length"]) == len(body)
    assert h["x-content-type-options"] == "nosniff"
    im = Image.open(io.BytesIO(body))
    assert im.format == "JPEG" and im.size == (THUMB_BOX, 240)
    assert not im.getexif(), "the thumbnail keeps no EXIF (no GPS position)"
    assert cached.read_bytes() == body
    assert not [p for p in cached.parent.iterdir() if p.name.startswith(".")], "temp files left"
    mtime = cached.stat().st_mtime_ns
    status, _, again = web.request("GET", f"/api/attachments/{digest}/thumb")
    assert status == 200 and again == body and cached.stat().st_mtime_ns == mtime
    # A photo smaller than the box is not enlarged beyond it; it still fits.
    status, _, body = web.request("GET", f"/api/attachments/{sha(aw.files['plain'])}/thumb")
    assert status == 200 and Image.open(io.BytesIO(body)).size == (THUMB_BOX, 240)
    # Not something else under the file's address.
    status, doc = web.json("GET", f"/api/attachments/{digest}/thumb/x")
    assert status == 404


def test_a_photo_libvips_cannot_read_has_no_thumbnail(aw):
    web = aw.web("reviewer")
    item = record(web, aw.rec_broken)["attachments"]["items"][0]
    status, doc = web.json("GET", item["thumb"], {"lang": "en"})
    assert status == 404 and doc["error"] == "no_thumbnail", doc
    status, _, body = web.request("GET", item["url"])
    assert status == 200 and body == aw.files["broken"].read_bytes()
    assert not (aw.hq.data / "attachments" / "thumbs" / f"{item['sha256']}.jpg").exists()


def test_precinct_admin_fetches_only_its_precincts_files(aw):
    admin = aw.web("p06admin")
    own, other = sha(aw.files["scene"]), sha(aw.files["p08"])
    status, _, body = admin.request("GET", f"/api/attachments/{own}")
    assert status == 200 and body == aw.files["scene"].read_bytes()
    status, _, body = admin.request("GET", f"/api/attachments/{own}/thumb")
    assert status == 200 and body[:3] == b"\xff\xd8\xff"
    # Another precinct's photo, by its hash: exactly as one that does not exist.
    for path in (f"/api/attachments/{other}", f"/api/attachments/{other}/thumb",
                 f"/api/attachments/{'0' * 64}", f"/api/attachments/{'0' * 64}/thumb"):
        status, doc = admin.json("GET", path, {"lang": "en"})
        assert status == 404 and doc == {"error": "not_found", "message": "no such attachment"}, \
            (path, doc)
    # The reviewer (all units) gets it.
    status, _, body = aw.web("reviewer").request("GET", f"/api/attachments/{other}")
    assert status == 200 and body == aw.files["p08"].read_bytes()


@pytest.mark.parametrize("bad", ["abc", "A" * 64, "0" * 63, "0" * 65, "g" * 64,
                                 "%2e%2e%2fhq.db", "0" * 62 + "%00" + "0"])
def test_bad_hash_is_400(aw, bad):
    status, doc = aw.web("reviewer").json("GET", f"/api/attachments/{bad}")
    assert status == 400 and doc["error"] == "bad_request", doc
    status, doc = aw.web("reviewer").json("GET", f"/api/attachments/{bad}/thumb")
    assert status == 400, doc


def test_files_need_a_session(aw):
    w = Web(aw.hq)
    status, doc = w.json("GET", f"/api/attachments/{sha(aw.files['scene'])}")
    assert status == 401
    status, doc = aw.web("reviewer").json("POST", f"/api/attachments/{sha(aw.files['scene'])}",
                                          body={})
    assert status == 405


def test_pending_line_while_a_file_is_on_its_way(aw):
    digest = sha(aw.files["usb"])
    web = aw.web("reviewer")
    att = record(web, aw.rec_c)["attachments"]
    item = att["items"][0]
    assert item["sha256"] == digest and item["stored"] is False
    assert item["url"] is None and item["thumb"] is None
    assert att["pending"] == {"photos": 1, "files": 0, "bytes": aw.files["usb"].stat().st_size}
    assert att["display"]["pending"] == {"zh-TW": "1 張照片傳送中", "en": "1 photo on its way"}
    status, doc = web.json("GET", f"/api/attachments/{digest}")
    assert status == 404
    # The Devices page: what that laptop's records name and HQ lacks.
    status, doc = web.get("/v1/devices", lang="en")
    assert status == 200
    devs = {d["id"]: d for d in doc["items"]}
    c, a = devs[aw.c.device], devs[aw.a.device]
    assert c["attachments_missing"] == 1
    assert c["attachments_missing_bytes"] == aw.files["usb"].stat().st_size
    assert c["attachments_missing_list"] == [{
        "sha256": digest, "type": "image/jpeg", "size": aw.files["usb"].stat().st_size,
        "name": "usb.jpg", "record_id": aw.rec_c, "display": c["attachments_missing_list"][0]["display"]}]
    assert c["display"]["attachments_missing"]["en"].startswith("1 attachment not yet at HQ")
    assert c["display"]["attachments_missing"]["zh-TW"].startswith("1 個附件未到")
    assert a["attachments_missing"] == 0 and a["attachments_missing_list"] == []
    assert a["display"]["attachments_missing"] is None


def test_zip_export_holds_the_csv_and_the_files(aw):
    web = aw.web("reviewer")
    params = {"org": "P06", "lang": "en"}
    status, h, csv = web.request("GET", "/v1/records?" + "&".join(
        f"{k}={v}" for k, v in dict(params, format="csv").items()))
    assert status == 200
    status, h, body = web.request("GET", "/v1/records?" + "&".join(
        f"{k}={v}" for k, v in dict(params, format="zip").items()))
    assert status == 200, body[:300]
    assert h["content-type"] == "application/zip"
    assert h["content-disposition"] == 'attachment; filename="beatbook-records.zip"'
    assert int(h["content-length"]) == len(body)
    z = zipfile.ZipFile(io.BytesIO(body))
    assert z.testzip() is None
    names = set(z.namelist())
    assert z.read("beatbook-records.csv") == csv
    f = aw.files
    for key, ext in (("scene", ".jpg"), ("plain", ".jpg"), ("doc", ".pdf"), ("broken", ".jpg")):
        entry = f"attachments/{sha(f[key])}{ext}"
        assert entry in names, names
        assert z.read(entry) == f[key].read_bytes()
    assert f"attachments/{sha(f['p08'])}.jpg" not in names          # P08: not in the filter
    assert f"attachments/{sha(f['usb'])}.jpg" not in names          # not at HQ yet
    man = json.loads(z.read("attachments/MANIFEST.json"))
    assert man["included"] == 4 and man["missing"] == 1
    by = {m["sha256"]: m for m in man["attachments"]}
    assert by[sha(f["usb"])]["state"] == "missing" and by[sha(f["usb"])]["path"] is None
    assert by[sha(f["usb"])]["records"] == [aw.rec_c]
    assert by[sha(f["scene"])]["state"] == "included"
    assert by[sha(f["scene"])]["records"] == [aw.rec_a]
    # The temporary file is gone.
    assert not [p for p in aw.hq.data.iterdir() if p.name.startswith(".export-")]
    # A precinct admin: the same scope as its CSV export.
    admin = aw.web("p06admin")
    status, _, body = admin.request("GET", "/v1/records?format=zip")
    assert status == 200
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert f"attachments/{sha(f['scene'])}.jpg" in names
    assert f"attachments/{sha(f['p08'])}.jpg" not in names
    status, _, body = admin.request("GET", "/v1/records?format=zip&org=P08")
    assert status == 403
    # zip is for records only.
    status, doc = web.json("GET", "/v1/devices", {"format": "zip"})
    assert status == 400


def test_ui_record_page_shows_the_thumbnail(aw, tmp_path):
    from test_ui_browser import latin_words, start_browser, stop_browser
    d = start_browser()
    base = f"https://127.0.0.1:{aw.hq.port}/ui/"
    try:
        def wait(cond, what):
            import time
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    v = cond()
                except Exception:
                    v = None
                if v:
                    return v
                time.sleep(0.05)
            raise AssertionError(f"timed out waiting for {what}: "
                                 f"{d.find_element('tag name', 'main').text[:800]}")

        ready = lambda: d.execute_script("return document.body.getAttribute('data-ready')")  # noqa
        d.get(base)
        wait(lambda: ready() == "signin", "the sign-in form")
        d.find_element("css selector", "#signin-name").send_keys("reviewer")
        d.find_element("css selector", "#signin-password").send_keys(PASSWORDS["reviewer"])
        d.find_element("css selector", "#signin-submit").click()
        wait(lambda: ready() not in (None, "signin"), "the first page")
        d.get(base + "#/record/" + aw.rec_a)
        wait(lambda: ready() == "#/record/" + aw.rec_a, "the record page")
        thumbs = wait(lambda: d.find_elements("css selector", "#rec-attachments img.att-thumb"),
                      "the thumbnails")
        assert len(thumbs) == 2
        wait(lambda: all(d.execute_script("return arguments[0].complete && "
                                          "arguments[0].naturalWidth", t) for t in thumbs),
             "the thumbnails to load")
        assert d.execute_script("return arguments[0].naturalWidth", thumbs[0]) == THUMB_BOX
        link = thumbs[0].find_element("xpath", "..")
        assert link.get_attribute("href").endswith(f"/api/attachments/{sha(aw.files['scene'])}")
        text = d.find_element("css selector", "#rec-attachments").text
        assert "IMG_0412.JPG" in text and "相差 3 小時" in text and "公里" in text, text
        d.save_screenshot(str(tmp_path / "record-attachments.png"))
        # zh-TW words, not codes or English (file names and hashes aside).
        words = latin_words(d.find_element("tag name", "main").text.replace("IMG_0412.JPG", " ")
                            .replace("現場 2.jpg", " "))
        assert not words, words
        # The pending line on the record whose photo is still on the stick.
        d.get(base + "#/record/" + aw.rec_c)
        wait(lambda: ready() == "#/record/" + aw.rec_c, "the record page")
        assert d.find_element("css selector", "#att-pending").text == "1 張照片傳送中"
        d.save_screenshot(str(tmp_path / "record-pending.png"))
        # The device's page lists the file HQ lacks.
        d.get(base + "#/device/" + aw.c.device)
        wait(lambda: ready() == "#/device/" + aw.c.device, "the device page")
        rows = d.find_elements("css selector", "#dev-att-missing tbody tr")
        assert len(rows) == 1 and "usb.jpg" in rows[0].text
        d.save_screenshot(str(tmp_path / "device-missing.png"))
        assert (tmp_path / "record-attachments.png").stat().st_size > 0
    finally:
        stop_browser(d)


def test_a_damaged_file_is_never_served(aw):
    """Bytes changed on HQ's disk: the hash no longer holds, nothing is handed out."""
    digest = sha(aw.files["doc"])
    stored = aw.hq.data / "attachments" / digest[:2] / digest
    good = stored.read_bytes()
    try:
        stored.write_bytes(good[:-2] + b"XX")
        web = aw.web("reviewer")
        status, h, body = web.request("GET", f"/api/attachments/{digest}")
        assert status == 500 and b"%PDF" not in body
        status, _, body = web.request("GET", "/v1/records?format=zip&org=P06")
        assert status == 200
        z = zipfile.ZipFile(io.BytesIO(body))
        assert f"attachments/{digest}.pdf" not in z.namelist()
        man = {m["sha256"]: m for m in json.loads(z.read("attachments/MANIFEST.json"))["attachments"]}
        assert man[digest]["state"] == "damaged"
        assert "damaged" in aw.hq.log_path.read_text(errors="replace")
    finally:
        stored.write_bytes(good)


def test_the_file_arrives_and_the_pending_line_goes(aw):
    """Last: the stick's .bba is imported; the record and the device are complete."""
    digest = sha(aw.files["usb"])
    shutil.move(str(aw.held_back / aw.bba[0].name), aw.stick / aw.bba[0].name)
    p = aw.hq.import_(aw.stick)
    assert p.returncode == 0, p.stdout + p.stderr
    web = aw.web("reviewer")
    att = record(web, aw.rec_c)["attachments"]
    assert att["items"][0]["stored"] is True and att["display"]["pending"] is None
    status, _, body = web.request("GET", f"/api/attachments/{digest}")
    assert status == 200 and body == aw.files["usb"].read_bytes()
    status, doc = web.get("/v1/devices")
    c = [d for d in doc["items"] if d["id"] == aw.c.device][0]
    assert c["attachments_missing"] == 0 and c["attachments_missing_list"] == []
