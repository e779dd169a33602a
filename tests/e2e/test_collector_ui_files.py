"""The forms page takes photos (`beatbook ui`, POST /api/attachments): the raw file
behind the page's own gate (origin, CSRF), capped by the field before a byte is
read, checked by its bytes exactly as `add FIELD=@FILE`; the record then names it
by the value the upload answered.  GET /api/attachments/<sha> serves only files
this store holds."""
import json
import os
import urllib.parse

from collector_ui_fixtures import ui  # noqa: F401

OCTETS = "application/octet-stream"


def upload(c, data, name="現場 1.jpg", kind="traffic_accident", field="photos", **hdr):
    headers = {"Content-Type": OCTETS, "X-Kind": kind, "X-Field": field,
               "X-File-Name": urllib.parse.quote(name)}
    headers.update(hdr)
    status, _, body = c.raw("POST", "/api/attachments", data, headers=headers)
    return status, json.loads(body) if body else None


def files_in(store):
    d = store.home / "attachments"
    return sorted(p.name for p in d.rglob("*") if p.is_file()) if d.is_dir() else []


def test_upload_then_save_a_record_naming_it(ui, store):
    c = ui.client()
    data = b"\xff\xd8\xff\xe0" + os.urandom(30_000)
    status, v = upload(c, data)
    assert status == 201, v
    assert v["type"] == "image/jpeg" and v["size"] == len(data) and v["name"] == "現場 1.jpg"
    status, _, got = c.raw("GET", f"/api/attachments/{v['sha256']}")
    assert status == 200 and got == data
    status, doc = c.add("traffic_accident", {"class": "a3", "deaths": "0", "injuries": "0",
                                             "photos": [v]})
    assert status == 201, doc
    rid = doc["id"] if "id" in doc else doc["record"]["id"]
    rec = store.get(rid)
    assert rec["data"]["photos"] == [{k: v[k] for k in ("sha256", "size", "type", "name")}]
    p = store.home / "attachments" / v["sha256"][:2] / v["sha256"]
    assert p.read_bytes() == data


def test_uploads_are_refused_plainly_and_nothing_is_kept(ui, store):
    c = ui.client()
    before = files_in(store)
    status, doc = upload(c, b"%PDF-1.4\n" + os.urandom(100), name="scene.jpg")
    assert (status, doc["error"]) == (400, "bad_file") and "PDF" in doc["message"]
    status, doc = upload(c, b"")
    assert (status, doc["error"]) == (400, "bad_file")
    status, doc = upload(c, b"\xff\xd8\xff", field="notes")
    assert (status, doc["error"]) == (400, "bad_request")
    status, doc = upload(c, b"\xff\xd8\xff", kind="patrol", field="photos")
    assert (status, doc["error"]) == (400, "bad_request")
    status, doc = upload(c, b"\xff\xd8\xff\xe0", name="a/b.jpg")
    assert (status, doc["error"]) == (400, "bad_request")
    status, _, body = c.raw("POST", "/api/attachments", None, headers={
        "Content-Type": OCTETS, "X-Kind": "traffic_accident", "X-Field": "photos",
        "Content-Length": str(25 * 1024 * 1024 + 1), "X-CSRF-Token": c.csrf,
        "Origin": f"http://127.0.0.1:{ui.port}"})
    assert status == 413, body
    status, doc = upload(c, b"\xff\xd8\xff\xe0xx", **{"Content-Type": "image/jpeg"})
    assert (status, doc["error"]) == (415, "unsupported_media_type")
    status, doc = upload(c, b"\xff\xd8\xff\xe0xx", **{"X-CSRF-Token": "0" * 64})
    assert (status, doc["error"]) == (403, "csrf")
    status, doc = upload(c, b"\xff\xd8\xff\xe0xx", Origin="http://evil.example")
    assert (status, doc["error"]) == (403, "wrong_origin")
    assert files_in(store) == before
    # Only files this store holds are served, by hash.
    assert c.raw("GET", "/api/attachments/" + "a" * 64)[0] == 404
    assert c.raw("GET", "/api/attachments/..%2f..%2ffield.db")[0] == 400


def real_jpeg(path):
    import subprocess
    subprocess.run(["/usr/bin/python3", "-c",
                    "from PIL import Image; Image.new('RGB', (120, 90), (30, 120, 200))"
                    f".save({str(path)!r}, quality=90)"], check=True)
    return path


def test_browser_photo_picked_shown_and_saved(store, ui, tmp_path):
    from collector_ui_fixtures import start_browser, stop_browser
    from test_collector_ui import Page
    photo = real_jpeg(tmp_path / "scene.jpg")
    d = start_browser()
    try:
        p = Page(ui, d)
        p.go("#/new/traffic_accident", ready="form:basics")
        p.fill({"name": "class", "type": "enum"}, "a3")
        p.fill({"name": "deaths", "type": "integer"}, "0")
        p.fill({"name": "injuries", "type": "integer"}, "0")
        for _ in range(6):
            if p.css("#q-photos"):
                break
            p.click("#next")
        p.one("#q-photos").send_keys(str(photo))
        p.wait(lambda: p.d.execute_script(
            "const i = document.querySelector('#files-photos img');"
            "return i && i.complete && i.naturalWidth"), what="the photo's thumbnail")
        assert p.d.execute_script(
            "return document.querySelector('#files-photos img').naturalWidth") == 120
        d.save_screenshot(str(tmp_path / "forms-page-photo.png"))
        while p.ready() != "review":
            p.click("#next")
        before = p.seq()
        p.one("#save").click()
        p.wait(lambda: p.seq() > before and (p.ready() or "").startswith("#/record/"),
               what="the saved record")
        rec = store.get(p.ready().split("/")[-1])
        (f,) = rec["data"]["photos"]
        assert f["name"] == "scene.jpg" and f["type"] == "image/jpeg"
        assert (store.home / "attachments" / f["sha256"][:2] / f["sha256"]).read_bytes() == \
            photo.read_bytes()
    finally:
        stop_browser(d)
