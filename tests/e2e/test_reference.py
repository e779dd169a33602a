"""HQ's reference data on the laptops (DESIGN.md §6, docs/PROTOCOL.md, FORMATS.md §2):
`GET /v1/reference` on a real `beatbook-hq serve` (ETag, 304, 405), `beatbook-syncd`
fetching, verifying and storing the signed bundle, and `beatbook` validating against it
from then on — proved with reference data that differs from what is compiled in (an
extra listed road segment, a new record kind) published with `beatbook-hq reference set`.
A bundle altered in field.db is ignored, an older bundle replayed by HQ is refused, and
neither stops batch delivery."""
import hashlib
import json
import sqlite3
import ssl
import urllib.error
import urllib.request

import pytest

from conftest import EX_OK, EX_USAGE, REPO
from sync_fixtures import EX_DATAERR, hq, laptop_factory, needs_sync, wait_for

pytestmark = needs_sync
assert hq and laptop_factory   # fixtures, used by name

EX_NOINPUT = 66
STAMP_KEYS = ("version", "issued_at", "hq_sign_key", "sig")
NEW_SEGMENT = "SEG-9901"
PARKING = ["method=stop", "source=police", "major=yes", "violation=red_line"]


def canonical(doc):
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_version(doc):
    """FORMATS.md §2: SHA-256 of the canonical bundle without its stamp and signature."""
    content = {k: v for k, v in doc.items() if k not in STAMP_KEYS}
    return hashlib.sha256(canonical(content).encode()).hexdigest()


def get(hq, headers=None, method="GET"):
    """(status, headers, body bytes) of a request to /v1/reference."""
    ctx = ssl.create_default_context(cafile=str(hq.cert))
    req = urllib.request.Request(f"https://127.0.0.1:{hq.port}/v1/reference",
                                 method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def segments_with(tmp_path, *codes, drop=()):
    """schema/reference/segments.json plus new listed segments (in precinct P06)."""
    doc = json.loads((REPO / "schema" / "reference" / "segments.json").read_text())
    doc["segments"] = [s for s in doc["segments"] if s["code"] not in drop]
    for code in codes:
        doc["segments"].append({"code": code, "precinct": "P06", "road": "測試路",
                                "label": {"zh-TW": "測試路（西屯區）", "en": "Test Rd (Xitun)"}})
    f = tmp_path / f"segments-{'-'.join(codes) or 'dropped'}.json"
    f.write_text(json.dumps(doc, ensure_ascii=False, indent=2))
    return f


def publish(hq, *args):
    """`beatbook-hq reference ARGS`, then restart serve, which publishes at start."""
    p = hq.ok("reference", *args, "--data", hq.data)
    hq.stop()
    hq.start()
    return p


def stored(lp):
    rows = lp.query("SELECT version, issued_at, fetched_at, checked_at, body FROM reference")
    assert len(rows) <= 1
    return dict(zip(("version", "issued_at", "fetched_at", "checked_at", "body"), rows[0])) \
        if rows else None


def segment_codes(lp):
    return {s["code"] for s in json.loads(lp.ok("ref", "segments", "--json").out)}


# ---- HQ: GET /v1/reference ---------------------------------------------------------

def test_get_reference_etag_304_405(hq):
    status, headers, body = get(hq)
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "no-cache"
    doc = json.loads(body)
    assert body.decode() == canonical(doc)            # served canonical, as signed
    assert headers["ETag"] == f'"{doc["version"]}"'
    assert doc["version"] == content_version(doc)
    assert doc["v"] == 1 and doc["sig"] and doc["issued_at"].endswith("+08:00")
    # The compiled-in data: every list and kind, and the plan.
    for name in ("units", "intersections", "segments", "bikepaths"):
        file = json.loads((REPO / "schema" / "reference" / f"{name}.json").read_text())
        assert doc[name] == file[name]
    kinds = sorted(p.stem for p in (REPO / "schema" / "records").glob("*.json"))
    assert [k["kind"] for k in doc["kinds"]] == kinds
    assert doc["plan"]["id"] == "taichung-107"
    # HQ's signing key: the one laptops get in their enrollment file.
    enr = hq.data.parent / "enr-ref.json"
    hq.enroll("P06-S03", "ref check", enr)
    assert doc["hq_sign_key"] == json.loads(enr.read_text())["hq_sign_key"]

    etag = headers["ETag"]
    for inm in (etag, f"W/{etag}", "*", f'"0000", {etag}'):
        s, h, b = get(hq, {"If-None-Match": inm})
        assert (s, b) == (304, b""), inm
        assert h["ETag"] == etag and h["Cache-Control"] == "no-cache"
    for inm in ('"0000"', etag[1:-1], ""):              # other tag, unquoted, empty
        assert get(hq, {"If-None-Match": inm})[0] == 200, inm
    s, h, b = get(hq, method="HEAD")
    assert s == 200 and b == b"" and h["ETag"] == etag
    for method in ("POST", "PUT", "DELETE"):
        s, h, b = get(hq, method=method)
        assert s == 405 and h["Allow"] == "GET, HEAD"
        assert json.loads(b)["error"] == "method_not_allowed"
    # Signed once: a restart serves the same bytes (same ETag, same signature).
    hq.stop()
    hq.start()
    s, h, b2 = get(hq)
    assert s == 200 and h["ETag"] == etag and b2 == body
    assert hq.query("SELECT count(*) FROM reference_bundles") == [(1,)]


# ---- syncd: fetch, verify, store; 304 afterwards ----------------------------------------

def test_syncd_fetches_and_stores_then_304(hq, laptop_factory):
    lp = laptop_factory("P06-S03")
    assert lp.status()["reference"] == {"source": "built-in"}
    lp.add("parking_citation", *PARKING, "segment=SEG-0601")
    p = lp.sync_once()
    assert "reference data: updated from HQ" in p.stdout
    _, headers, body = get(hq)
    row = stored(lp)
    assert f'"{row["version"]}"' == headers["ETag"]
    assert row["body"] == body.decode()                # byte for byte what HQ signed
    assert row["issued_at"] == json.loads(body)["issued_at"]
    assert lp.acked() == 1                             # batches went as always

    p = lp.sync_once()
    assert "reference data" not in p.stdout            # nothing new
    again = stored(lp)
    assert again["body"] == row["body"] and again["fetched_at"] == row["fetched_at"]
    assert again["checked_at"] >= row["checked_at"]
    # HQ logs a request once it is answered: wait for the line.
    log = wait_for(lambda: (lambda t: "path=/v1/reference status=304" in t and t)(
        hq.log_path.read_text()), timeout=10, what="HQ's log line of the 304")
    assert log.count("path=/v1/reference status=200") == 2     # ours above, and syncd's first
    assert log.count("path=/v1/reference status=304") == 1     # syncd's second pass
    ref = lp.status()["reference"]
    assert ref["source"] == "hq" and ref["version"] == row["version"]
    assert ref["fetched_at"] == row["fetched_at"]
    text = lp.ok("status", lang="en").out
    assert f"reference data: from HQ, version {row['version'][:12]}" in text


# ---- the laptop validates against HQ's data --------------------------------------------

def test_laptop_validates_against_hq_reference(hq, laptop_factory, tmp_path):
    p = publish(hq, "set", "segments", segments_with(tmp_path, NEW_SEGMENT))
    assert "published: version" in p.stdout
    lp = laptop_factory("P06-S03")
    # Before the sync the laptop knows only the compiled-in segments.
    r = lp.run("add", "parking_citation", *PARKING, f"segment={NEW_SEGMENT}", lang="en")
    assert r.rc == EX_DATAERR and NEW_SEGMENT in r.err and "beatbook ref segments" in r.err
    assert NEW_SEGMENT not in segment_codes(lp)
    assert lp.counts() == (0, 0)

    lp.sync_once()
    assert NEW_SEGMENT in segment_codes(lp)
    rid = lp.add("parking_citation", *PARKING, f"segment={NEW_SEGMENT}")
    assert lp.get(rid)["data"]["segment"] == NEW_SEGMENT
    # Prompts and listings use it too; the built-in segments are all still there.
    assert "SEG-0101" in segment_codes(lp)
    txt = lp.ok("ref", "segments", lang="en").out
    assert NEW_SEGMENT in txt and "Test Rd (Xitun)" in txt
    # HQ validates the record against the same data: merged, not quarantined.
    s = lp.sync_once()
    assert "rejected 0" in s.stdout.splitlines()[0]
    assert hq.query("SELECT json_extract(body, '$.data.segment') FROM records WHERE id = ?",
                    (rid,)) == [(NEW_SEGMENT,)]
    assert hq.query("SELECT count(*) FROM quarantined_records") == [(0,)]


def test_new_kind_ships_as_reference_data(hq, laptop_factory, tmp_path):
    kind = {"kind": "lost_property", "version": 1,
            "label": {"zh-TW": "拾得物", "en": "Lost property"},
            "fields": [{"name": "item", "type": "text", "required": True, "max_length": 200,
                        "label": {"zh-TW": "物品", "en": "Item"}},
                       {"name": "value_twd", "type": "integer", "min": 0,
                        "label": {"zh-TW": "價值", "en": "Value (TWD)"}}]}
    f = tmp_path / "lost_property.json"
    f.write_text(json.dumps(kind, ensure_ascii=False))
    publish(hq, "set", "kind", f)
    lp = laptop_factory("P06-S03")
    assert lp.run("add", "lost_property", "item=錢包", lang="en").rc != EX_OK
    lp.sync_once()
    kinds = [k["kind"] for k in json.loads(lp.ok("kinds", "--json").out)]
    assert "lost_property" in kinds and "parking_citation" in kinds
    rid = lp.add("lost_property", "item=錢包", "value_twd=500")
    assert lp.get(rid)["data"] == {"item": "錢包", "value_twd": 500}
    r = lp.run("add", "lost_property", "item=錢包", "value_twd=-1", lang="en")
    assert r.rc == EX_DATAERR and "value_twd" in r.err
    lp.sync_once()
    assert hq.query("SELECT kind FROM records WHERE id = ?", (rid,)) == [("lost_property",)]


# ---- a stored bundle that no longer verifies ----------------------------------------------

def test_tampered_stored_bundle_is_ignored(hq, laptop_factory, tmp_path):
    publish(hq, "set", "segments", segments_with(tmp_path, NEW_SEGMENT))
    lp = laptop_factory("P06-S03")
    lp.sync_once()
    lp.add("parking_citation", *PARKING, f"segment={NEW_SEGMENT}")
    # Someone edits field.db to list a segment HQ never published.
    con = sqlite3.connect(str(lp.db))
    with con:
        con.execute("UPDATE reference SET body = replace(body, ?, ?)",
                    (f'"{NEW_SEGMENT}"', '"SEG-6666"'))
    con.close()
    for code in ("SEG-6666", NEW_SEGMENT):
        r = lp.run("add", "parking_citation", *PARKING, f"segment={code}", lang="en")
        assert r.rc == EX_DATAERR, r
        assert "warning: HQ's reference data stored here is not used" in r.err
        assert "authentication failed" in r.err
    codes = segment_codes(lp)
    assert NEW_SEGMENT not in codes and "SEG-6666" not in codes and "SEG-0601" in codes
    ref = lp.status()["reference"]
    assert ref["source"] == "built-in" and "authentication failed" in ref["ignored"]["error"]
    assert "is stored but ignored" in lp.ok("status", lang="en").out
    # The next sync does not trust it for If-None-Match: it fetches HQ's bundle again.
    p = lp.sync_once()
    assert "reference data: updated from HQ" in p.stdout
    assert lp.status()["reference"]["source"] == "hq"
    lp.add("parking_citation", *PARKING, f"segment={NEW_SEGMENT}")
    r = lp.run("add", "parking_citation", *PARKING, "segment=SEG-6666", lang="en")
    assert r.rc == EX_DATAERR and "warning" not in r.err


# ---- no rollback ------------------------------------------------------------------------

def test_older_bundle_is_refused_and_batches_still_go(hq, laptop_factory, tmp_path):
    lp = laptop_factory("P06-S03")
    lp.sync_once()
    first = stored(lp)
    publish(hq, "set", "segments", segments_with(tmp_path, NEW_SEGMENT))
    lp.sync_once()
    second = stored(lp)
    assert second["version"] != first["version"] and second["issued_at"] > first["issued_at"]
    # HQ is made to serve its first bundle again, byte for byte (a replay): the segment
    # override goes, and the bundles published since the first are deleted.
    hq.stop()
    hq.ok("reference", "unset", "segments", "--data", hq.data)
    con = sqlite3.connect(str(hq.db))
    with con:
        con.execute("DELETE FROM reference_bundles WHERE id > (SELECT min(id) FROM "
                    "reference_bundles)")
    con.close()
    hq.start()
    assert get(hq)[2].decode() == first["body"]
    # (HQ now validates against its first bundle too: a record on the new segment would
    # be rejected there, so this one is on a built-in segment.)
    rid = lp.add("parking_citation", *PARKING, "segment=SEG-0601")
    p = lp.sync_once()                                  # the batch is delivered ...
    assert p.stdout.splitlines()[0] == "sent 1, acknowledged 1, duplicates 0, rejected 0"
    assert "reference data: not updated" in p.stdout   # ... the old bundle is not taken
    assert "not newer" in p.stderr
    assert stored(lp)["body"] == second["body"]
    assert NEW_SEGMENT in segment_codes(lp)
    assert hq.query("SELECT count(*) FROM records WHERE id = ?", (rid,)) == [(1,)]


# ---- beatbook-hq reference: bad input changes nothing -------------------------------------

def test_reference_set_bad_input(hq, tmp_path):
    def snapshot():
        return (hq.query("SELECT * FROM reference_data"),
                hq.query("SELECT id, version FROM reference_bundles"))
    before = snapshot()
    good = segments_with(tmp_path, NEW_SEGMENT)
    assert hq.run("reference", "set", "roads", good, "--data", hq.data).returncode == EX_USAGE
    assert hq.run("reference", "set", "segments", "--data", hq.data).returncode == EX_USAGE
    assert hq.run("reference", "set", "segments", tmp_path / "nope.json",
                  "--data", hq.data).returncode == EX_NOINPUT
    dup = json.loads(good.read_text())
    dup["segments"].append(dict(dup["segments"][0]))
    f = tmp_path / "dup.json"
    f.write_text(json.dumps(dup))
    p = hq.run("reference", "set", "segments", f, "--data", hq.data)
    assert p.returncode == EX_DATAERR and "appears twice" in p.stderr and "dup.json" in p.stderr
    # Dropping a segment the stored plan lists would break the plan's KPIs: refused.
    p = hq.run("reference", "set", "segments", segments_with(tmp_path, drop=("SEG-0601",)),
               "--data", hq.data)
    assert p.returncode == EX_DATAERR and "SEG-0601" in p.stderr and "plan" in p.stderr
    bad_kind = tmp_path / "bad_kind.json"
    bad_kind.write_text('{"kind":"bad","version":1,"fields":[{"name":"x","type":"colour",'
                        '"label":{"en":"X"}}]}')
    p = hq.run("reference", "set", "kind", bad_kind, "--data", hq.data)
    assert p.returncode == EX_DATAERR and "bad_kind.json" in p.stderr
    p = hq.run("reference", "unset", "segments", "--data", hq.data)
    assert p.returncode == EX_NOINPUT and "built-in" in p.stderr
    assert snapshot() == before
    # And a good one, then show.
    hq.ok("reference", "set", "segments", good, "--data", hq.data)
    show = json.loads(hq.ok("reference", "show", "--json", "--data", hq.data).stdout)
    assert show["counts"]["segments"] == len(json.loads(good.read_text())["segments"])
    assert [(s["what"], s["name"]) for s in show["stored"]] == [("list", "segments")]
    assert show["published"]["version"] == show["current_version"]
    assert show["pending"] is False
    assert hq.query("SELECT action FROM audit WHERE action LIKE '%reference%' ORDER BY id") == \
        [("publish_reference",), ("set_reference",), ("publish_reference",)]
