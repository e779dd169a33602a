"""`beatbook ui`: the field laptop's forms page (collector/col_ui.h).

Over plain HTTP (urllib-like, no browser): the gate — no secret or cookie,
another Host or Origin, no CSRF token, an oversized or malformed post, a
field not in the kind — each refused with the status and a message naming
what is wrong, and nothing stored; every rule violation, unknown reference
name, wrong number and non-existent date as a 422 with the problem beside
its field; records saved through the page equal those `beatbook add` makes;
edit, void, patrol start/end with their history; the CLI and the page at
once; a clean stop on SIGTERM; the browser opened through a 0600 redirect
file, never with the secret on a command line.

In real headless Chromium (tests named *browser*): every kind entered
through the page, a rule violation shown inline, a draft patrol started and
ended, an edit in the history, a void with its reason, a sync to a real HQ
from the page, and at 390 px (a phone) nothing scrolls sideways on any page.
Screenshots go to $BEATBOOK_SCREENSHOTS, else a folder of the test run
(printed).
"""
import json
import os
import re
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from collector_ui_fixtures import UI, start_browser, stop_browser, ui  # noqa: F401
from conftest import KINDS, REPO, VALID, make_store
from sync_fixtures import HQ, Laptop, SYNCD_BIN, needs_sync, wait_for

CAP = 64 * 1024


def kind_def(kind):
    return json.loads((REPO / "schema" / "records" / f"{kind}.json").read_text())


# When the record happened, for kinds not dated by a field of their own: before every
# time VALID's records hold, so that "not before it happened" rules hold on any day.
OCCURRED = "2018-03-15 06:00"


def cli_args(kind):
    """VALID's FIELD=VALUE arguments, dated on the day its times are."""
    args = list(VALID[kind][0])
    if not kind_def(kind).get("occurred_at_from"):
        args.append("occurred_at=" + OCCURRED)
    return args


def answers_of(kind):
    """VALID's FIELD=VALUE arguments as the page's answers (the same typed text)."""
    return dict(a.split("=", 1) for a in cli_args(kind))


# ---- the gate -------------------------------------------------------------------------


def test_without_secret_or_cookie_everything_is_403(store, ui):
    c = ui.client(enter=False)
    for path in ("/", "/app.js", "/app.css", "/index.html", "/api/session", "/api/home",
                 "/api/records", "/api/forms/patrol", "/api/sync"):
        status, hdrs, body = c.raw("GET", path)
        assert status == 403, (path, status, body)
    assert "beatbook ui" in c.raw("GET", "/")[2].decode()
    status, doc = c.post("/api/records", {"kind": "complaint", "answers": {}})
    assert status == 403 and doc["error"] == "no_session"
    # A wrong secret, and a cookie of another (earlier) start.
    assert c.raw("GET", "/?s=" + "0" * 64)[0] == 403
    assert c.raw("GET", "/?s=" + ui.secret[:-1])[0] == 403
    c.cookie = "ab" * 32
    assert c.raw("GET", "/api/session")[0] == 403
    assert c.raw("GET", "/")[0] == 403
    assert store.counts() == (0, 0)


def test_an_encoded_nul_in_the_path_is_400(store, ui):
    c = ui.client()
    assert c.raw("GET", "/app.js")[0] == 200
    for path in ("/app.js%00.html", "/api/records%00", "/%0aindex.html"):
        assert c.raw("GET", path)[0] == 400, path


def test_secret_becomes_an_httponly_strict_cookie(store, ui):
    c = ui.client(enter=False)
    status, hdrs, body = c.raw("GET", f"/?s={ui.secret}")
    assert status == 303
    assert hdrs["location"] == "/"                       # the secret leaves the address
    cookie = hdrs["set-cookie"]
    assert cookie.startswith(f"bb_ui_{ui.port}=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert ui.secret not in cookie
    c.cookie = cookie.split(";")[0].split("=", 1)[1]
    status, hdrs, body = c.raw("GET", "/")
    assert status == 200 and hdrs["content-type"].startswith("text/html")
    assert b"app.js" in body
    csp = hdrs["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert hdrs["x-frame-options"] == "DENY" and hdrs["x-content-type-options"] == "nosniff"
    # Everything is compiled in: no CDN, no other host in the page or script.
    for f in ("/", "/app.js", "/app.css"):
        text = c.raw("GET", f)[2].decode()
        assert not re.search(r"https?://(?!127\.0\.0\.1)", text), f
    status, doc = c.get("/api/session")
    assert status == 200 and re.fullmatch(r"[0-9a-f]{64}", doc["csrf"])
    assert doc["officer"] == store.officer and doc["org_unit"] == store.org_unit
    assert {k["name"] for k in doc["kinds"]} == set(KINDS)


def test_other_hosts_and_origins_are_refused(store, ui):
    c = ui.client()
    answers = answers_of("complaint")
    for host in ("evil.example", f"evil.example:{ui.port}", f"127.0.0.1:{ui.port + 1}",
                 "127.0.0.1", f"10.0.0.1:{ui.port}"):
        status, doc = c.get("/api/session", host=host)
        assert status == 403 and doc["error"] == "wrong_host", host
        status, doc = c.post("/api/records", {"kind": "complaint", "answers": answers},
                             host=host)
        assert status == 403, host
    assert c.raw("GET", f"/?s={ui.secret}", host=f"rebind.example:{ui.port}")[0] == 403
    for origin in (f"http://127.0.0.1:{ui.port + 1}", "http://evil.example",
                   f"https://127.0.0.1:{ui.port}", "null"):
        status, doc = c.post("/api/records", {"kind": "complaint", "answers": answers},
                             headers={"Origin": origin})
        assert status == 403 and doc["error"] == "wrong_origin", origin
    status, doc = c.post("/api/records", {"kind": "complaint", "answers": answers},
                         headers={"Sec-Fetch-Site": "same-site"})
    assert status == 403 and doc["error"] == "wrong_origin"
    assert store.counts() == (0, 0)
    # localhost:PORT is this server too.
    status, doc = c.get("/api/session", host=f"localhost:{ui.port}")
    assert status == 200


def test_post_without_csrf_token_is_403(store, ui):
    c = ui.client()
    body = {"kind": "complaint", "answers": answers_of("complaint")}
    status, doc = c.post("/api/records", body, headers={"X-CSRF-Token": None})
    assert status == 403 and doc["error"] == "csrf"
    status, doc = c.post("/api/records", body, headers={"X-CSRF-Token": "0" * 64})
    assert status == 403 and doc["error"] == "csrf"
    # Another session's token does not do either.
    other = ui.client()
    status, doc = c.post("/api/records", body, headers={"X-CSRF-Token": other.csrf})
    assert status == 403
    status, doc = c.post("/api/sync", {}, headers={"X-CSRF-Token": None})
    assert status == 403
    assert store.counts() == (0, 0)
    status, doc = c.post("/api/records", body)
    assert status == 201, doc
    assert store.counts() == (1, 1)


def test_oversized_post_is_413(store, ui):
    c = ui.client()
    big = json.dumps({"kind": "complaint",
                      "answers": {**answers_of("complaint"), "summary": "x" * (CAP + 10)}})
    # Announced too big: answered from the headers alone.
    conn_status = c.raw("POST", "/api/records", body=None,
                        headers={"Content-Type": "application/json", "X-CSRF-Token": c.csrf,
                                 "Content-Length": str(len(big))})
    assert conn_status[0] == 413, conn_status
    assert json.loads(conn_status[2])["error"] == "too_large"
    # Chunked, so the size shows only while reading: 413 at the end.
    status, doc = c.post("/api/records", big, chunked=True)
    assert status == 413 and doc["error"] == "too_large"
    assert store.counts() == (0, 0)
    # Just under the cap is read (and refused for what it says, not for its size).
    fits = json.dumps({"kind": "complaint",
                       "answers": {**answers_of("complaint"), "summary": "y" * (CAP - 400)}})
    status, doc = c.post("/api/records", fits)
    assert status == 422, doc
    assert doc["problems"][0]["field"] == "summary"
    assert store.counts() == (0, 0)


@pytest.mark.parametrize("body,what", [
    ("{not json", "line"),
    ("", "no body"),
    ("[]", "object"),
    ('"text"', "object"),
    ('{"kind": "complaint", "answers": [1, 2]}', "answers"),
    ('{"kind": "complaint", "answers": {"summary": {"a": 1}}}', "text"),
    ('{"kind": "complaint", "answers": {}, "extra": 1}', "extra"),
    ('{"mode": "sideways", "kind": "complaint", "answers": {}}', "mode"),
])
def test_malformed_post_is_400(store, ui, body, what):
    c = ui.client()
    status, doc = c.post("/api/records", body)
    assert status == 400, (status, doc)
    assert what in doc["message"], doc
    assert store.counts() == (0, 0)


def test_not_utf8_and_wrong_media_type(store, ui):
    c = ui.client()
    status, _, data = c.raw("POST", "/api/records",
                            body=b'{"kind": "complaint", "answers": {"summary": "\xff\xfe"}}')
    assert status == 400 and b"UTF-8" in data
    status, _, data = c.raw("POST", "/api/records", body=b"kind=complaint",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 415
    assert store.counts() == (0, 0)


def test_unknown_field_or_kind_is_400_naming_it(store, ui):
    c = ui.client()
    status, doc = c.add("parking_citation", {**answers_of("parking_citation"), "bogus_field": "1"})
    assert status == 400 and doc["error"] == "unknown_field"
    assert "bogus_field" in doc["message"] and "segment" in doc["message"]   # lists the fields
    status, doc = c.add("no_such_kind", {"a": "1"})
    assert status == 400 and "no_such_kind" in doc["message"]
    # occurred_at is no question of a patrol (started_at dates it); recorded_at of none.
    status, doc = c.add("patrol", {**answers_of("patrol"), "occurred_at": "now"})
    assert status == 400 and "occurred_at" in doc["message"]
    status, doc = c.add("complaint", {**answers_of("complaint"), "recorded_at": "now"})
    assert status == 400 and "recorded_at" in doc["message"]
    assert store.counts() == (0, 0)


def test_every_problem_is_a_422_beside_its_field(store, ui):
    c = ui.client()
    # A rule across fields: an A3 accident has no casualties.
    status, doc = c.add("traffic_accident", {"class": "a3", "deaths": "1", "injuries": "0",
                                             "intersection": "INT-03"})
    assert status == 422
    p = {x["field"]: x["message"] for x in doc["problems"]}
    assert "deaths" in p and "A3" in p["deaths"] and "1" in p["deaths"]
    # Several at once: an unknown reference name, a wrong number, a date that does not exist.
    status, doc = c.add("traffic_accident", {"class": "a2", "deaths": "two", "injuries": "1",
                                             "intersection": "東豐路口",
                                             "occurred_at": "107/02/30 10:00"})
    assert status == 422
    p = {x["field"]: x["message"] for x in doc["problems"]}
    assert "two" in p["deaths"]
    assert "東豐路口" in p["intersection"] and "beatbook ref intersections" in p["intersection"]
    assert "30" in p["occurred_at"] and "2018-02" in p["occurred_at"]
    # A value out of range, a required field missing, a required-if field missing.
    status, doc = c.add("patrol", {"type": "bike_path", "mode": "bicycle",
                                   "started_at": "2018-03-15 08:00",
                                   "ended_at": "2018-03-15 09:00", "officers": "99"})
    assert status == 422
    p = {x["field"]: x["message"] for x in doc["problems"]}
    assert "99" in p["officers"] and "50" in p["officers"]
    assert "bike_path" in p
    # The officer's language: zh-TW unless the page says en.
    c.lang = "zh-TW"
    status, doc = c.add("traffic_accident", {"class": "a3", "deaths": "1", "injuries": "0"})
    assert status == 422 and "死亡人數" in doc["problems"][0]["message"]
    assert store.counts() == (0, 0)
    # The check endpoint says the same without storing anything.
    status, doc = c.post("/api/check", {"mode": "new", "kind": "traffic_accident",
                                        "answers": {"class": "a3", "deaths": "1",
                                                    "injuries": "0"}})
    assert status == 200 and any(x["field"] == "deaths" for x in doc["problems"])
    assert store.counts() == (0, 0)


@pytest.mark.parametrize("kind", KINDS)
def test_page_saves_what_the_cli_saves(store, ui, tmp_path, kind):
    """The same typed text through the page and through `beatbook add` gives the same data."""
    c = ui.client()
    status, doc = c.add(kind, answers_of(kind))
    assert status == 201, doc
    via_page = store.get(doc["id"])
    cli_store = make_store(tmp_path / "cli")
    via_cli = cli_store.get(cli_store.add(kind, *cli_args(kind)))
    assert via_page["data"] == via_cli["data"] == VALID[kind][1]
    for key in ("kind", "kind_version", "rev", "status", "officer", "org_unit"):
        assert via_page[key] == via_cli[key], key
    assert via_page["device"] == store.device
    # Durable and in the outbox, as `add` leaves it.
    assert store.query("SELECT count(*) FROM revisions WHERE id = ?", (doc["id"],))[0][0] == 1
    assert doc["message"].startswith("saved ")


def test_review_shows_answers_as_people_read_them(store, ui):
    c = ui.client()
    c.lang = "zh-TW"
    status, doc = c.post("/api/check", {"mode": "new", "kind": "patrol",
                                        "answers": answers_of("patrol")})
    assert status == 200 and doc["problems"] == []
    shown = {r["name"]: r["display"] for r in doc["review"]}
    assert shown["type"] == "自行車道巡邏"
    assert shown["bike_path"].startswith("東豐") and "BP-DF" in shown["bike_path"]
    assert shown["started_at"] == "107/03/15 08:00"
    assert store.counts() == (0, 0)


def test_forms_carry_the_model(store, ui):
    c = ui.client()
    status, doc = c.get("/api/forms/patrol")
    assert status == 200
    form = doc["form"]
    qs = {q["name"]: q for q in form["questions"]}
    assert [p["id"] for p in form["pages"]] == ["start", "end"]
    assert qs["bike_path"]["relevant_if"] == {"field": "type", "in": ["bike_path"]}
    assert any(o["code"] == "BP-DF" for o in qs["bike_path"]["options"])
    assert "occurred_at" not in qs                        # dated by started_at
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", doc["defaults"]["started_at"])
    assert doc["defaults"]["org_unit"] == store.org_unit
    status, doc = c.get("/api/forms/nope")
    assert status == 404 and "nope" in doc["message"]


def test_last_values_are_offered_next_time(store, ui):
    c = ui.client()
    assert c.add("parking_citation", answers_of("parking_citation"))[0] == 201
    status, doc = c.get("/api/forms/parking_citation")
    assert doc["defaults"]["segment"] == "SEG-0601"       # "default": "last"


def test_patrol_draft_end_edit_void_and_history(store, ui):
    c = ui.client()
    start = {"type": "bike_path", "mode": "bicycle", "bike_path": "BP-DF",
             "started_at": "2018-03-15 08:00", "officers": "2"}
    status, doc = c.add("patrol", start, mode="draft")
    assert status == 201, doc
    pid = doc["id"]
    rec = store.get(pid)
    assert rec["status"] == "draft" and rec["rev"] == 0
    assert store.query("SELECT count(*) FROM revisions WHERE id = ?", (pid,))[0][0] == 0
    status, home = c.get("/api/home")
    assert [d["id"] for d in home["drafts"]] == [pid]
    # Only a patrol can be a draft.
    status, doc = c.add("complaint", answers_of("complaint"), mode="draft")
    assert status == 400
    # End it: final, rev 1, expect_rev 0 — as `beatbook patrol end`.
    status, doc = c.post(f"/api/records/{pid}/end",
                         {"rev": 0, "answers": {"ended_at": "2018-03-15 10:30",
                                                "distance_km": "24"}})
    assert status == 200, doc
    rec = store.get(pid)
    assert rec["status"] == "final" and rec["rev"] == 1
    assert rec["data"]["ended_at"] == "2018-03-15T10:30:00+08:00"
    assert rec["data"]["distance_km"] == 24
    assert rec["occurred_at"] == "2018-03-15T08:00:00+08:00"
    status, doc = c.post(f"/api/records/{pid}/end", {"rev": 1, "answers": {}})
    assert status == 409                                   # not open any more
    # Edit: a new revision with what changed; a stale revision number is a conflict.
    status, doc = c.post(f"/api/records/{pid}/edit", {"rev": 1, "answers": {"officers": "3"}})
    assert status == 200 and doc["rev"] == 2
    status, doc = c.post(f"/api/records/{pid}/edit", {"rev": 1, "answers": {"officers": "4"}})
    assert status == 409 and "2" in doc["message"]
    status, doc = c.post(f"/api/records/{pid}/edit", {"rev": 2, "answers": {"officers": "3"}})
    assert status == 422 and "nothing changed" in doc["message"]
    status, doc = c.post(f"/api/records/{pid}/edit", {"rev": 2, "answers": {"officers": "0"}})
    assert status == 422 and doc["problems"][0]["field"] == "officers"
    # Void needs a reason.
    status, doc = c.post(f"/api/records/{pid}/void", {"rev": 2, "reason": "  "})
    assert status == 422 and doc["problems"][0]["field"] == "reason"
    assert store.get(pid)["rev"] == 2
    status, doc = c.post(f"/api/records/{pid}/void", {"rev": 2, "reason": "entered twice"})
    assert status == 200, doc
    rec = store.get(pid)
    assert rec["status"] == "void" and rec["rev"] == 3 and rec["void_reason"] == "entered twice"
    status, doc = c.post(f"/api/records/{pid}/edit", {"rev": 3, "answers": {"officers": "5"}})
    assert status == 409
    # The record page: every revision and what changed; the same as `beatbook show`.
    status, page = c.get(f"/api/records/{pid}")
    assert status == 200 and not page["editable"]
    revs = page["revisions"]
    assert [r["rev"] for r in revs] == [1, 2, 3]
    assert [(x["name"], x["before"], x["after"]) for x in revs[1]["changes"]] == \
        [("officers", "2", "3")]
    assert any(x["name"] == "status" for x in revs[2]["changes"])
    assert revs[2]["void_reason"] == "entered twice"
    assert [r["rev"] for r in store.show(pid)["revisions"]] == [1, 2, 3]


def test_records_of_another_device_are_view_only(store, ui):
    c = ui.client()
    rid = store.add("complaint", *cli_args("complaint"))
    # Pretend another device made it (a store restored from another laptop, say).
    con = sqlite3.connect(store.db)
    body = json.loads(con.execute("SELECT body FROM records WHERE id = ?", (rid,)).fetchone()[0])
    body["device"] = "d-00000000000000aa"
    con.execute("UPDATE records SET body = ? WHERE id = ?", (json.dumps(body), rid))
    con.commit()
    con.close()
    status, page = c.get(f"/api/records/{rid}")
    assert status == 200 and not page["editable"] and not page["mine"]
    status, doc = c.post(f"/api/records/{rid}/edit", {"rev": 1, "answers": {"summary": "x"}})
    assert status == 409 and "another device" in doc["message"]


def test_lists_and_home(store, ui):
    c = ui.client()
    ids = [c.add(k, answers_of(k))[1]["id"] for k in ("complaint", "criminal_case")]
    cli_id = store.add("parking_citation", *cli_args("parking_citation"))
    status, doc = c.get("/api/records")
    assert status == 200 and doc["count"] == 3
    assert [r["id"] for r in doc["records"]][0] in ids + [cli_id]
    status, doc = c.get("/api/records?kind=complaint")
    assert [r["id"] for r in doc["records"]] == [ids[0]]
    status, doc = c.get("/api/records?from=107/03/15&to=107/03/15")
    assert doc["count"] == 3                               # all happened on 2018-03-15
    status, doc = c.get("/api/records?from=2018-03-16")
    assert doc["count"] == 0
    for bad in ("kind=nope", "status=maybe", "from=107/02/30", "limit=0"):
        assert c.get("/api/records?" + bad)[0] == 400, bad
    status, doc = c.get("/api/records/" + ids[0][-12:])   # a unique suffix, as `show`
    assert status == 200 and doc["record"]["id"] == ids[0]
    assert c.get("/api/records/ffffffff")[0] == 404
    status, home = c.get("/api/home")
    assert status == 200
    assert home["outbox"]["pending"] == 3 and home["outbox"]["last_sync_at"] is None


def test_cli_and_page_at_the_same_time(store, ui):
    """The page holds no transaction: `beatbook add` in a terminal works meanwhile."""
    c = ui.client()
    for i in range(5):
        assert c.add("complaint", answers_of("complaint"))[0] == 201
        store.add("criminal_case", *cli_args("criminal_case"))
        status, doc = c.get("/api/records")
        assert doc["count"] == 2 * (i + 1)
    r = store.run("add", "complaint", *cli_args("complaint"), lang="en")
    assert r.rc == 0
    assert store.counts() == (11, 11)


def test_sigterm_and_sigint_stop_it_cleanly(store):
    for sig in ("TERM", "INT"):
        u = UI(store.home)
        c = u.client()
        assert c.add("complaint", answers_of("complaint"))[0] == 201
        rc = u.stop(getattr(signal, "SIG" + sig))
        assert rc == 0, u.stderr()
        assert "表單頁面：結束" in u.stderr()       # zh-TW: no LANG here


def test_no_store_and_bad_options(tmp_path, bb):
    r = bb(tmp_path / "none", "ui", "--no-browser", lang="en")
    assert r.rc == 66 and "no store" in r.err
    r = bb(tmp_path / "none", "ui", "--port", "70000", lang="en")
    assert r.rc == 64
    r = bb(tmp_path / "none", "ui", "--help")
    assert r.rc == 0 and "127.0.0.1" in r.out


def test_port_in_use(store, ui, bb):
    r = bb(store.home, "ui", "--no-browser", "--port", str(ui.port), lang="en")
    assert r.rc == 69 and str(ui.port) in r.err


def test_xdg_open_gets_a_redirect_file_never_the_secret(store, tmp_path):
    """xdg-open gets a 0600 file that redirects to the URL; the URL is never an argument."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    seen = tmp_path / "xdg-open.args"
    fake = bindir / "xdg-open"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {seen}\n'
                    f'stat -c %a "$1" >> {seen}\ncat "$1" >> {seen}\n')
    fake.chmod(0o755)
    u = UI(store.home, env={"PATH": f"{bindir}:/usr/bin:/bin", "DISPLAY": ":99"}, browser=True)
    try:
        wait_for(lambda: seen.exists() and "http" in seen.read_text(), timeout=10,
                 what="the fake xdg-open to run")
        arg, mode, *html = seen.read_text().splitlines()
        assert u.secret not in arg and arg.endswith(".html")
        assert mode == "600"
        assert u.url in "\n".join(html)
    finally:
        assert u.stop() == 0
    assert not Path(arg).exists()                          # removed at exit
    # Without a display nothing is opened and nothing fails.
    seen.unlink()
    u = UI(store.home, env={"PATH": f"{bindir}:/usr/bin:/bin"}, browser=True)
    time.sleep(0.3)
    assert u.stop() == 0 and not seen.exists()


def test_sync_button_without_syncd_says_so(store, tmp_path):
    u = UI(store.home, env={"BEATBOOK_SYNCD": str(tmp_path / "missing-syncd")})
    try:
        c = u.client()
        status, doc = c.post("/api/sync", {})
        assert status == 503 and "beatbook-syncd" in doc["message"]
    finally:
        assert u.stop() == 0


@needs_sync
def test_sync_from_the_api_reaches_hq(tmp_path):
    hq = HQ(tmp_path / "hq").init().start()
    try:
        lp = Laptop(tmp_path / "laptop")
        hq.enroll("P06-S03", "協和 laptop", tmp_path / "l.enroll")
        lp.init_enrolled(tmp_path / "l.enroll")
        u = UI(lp.home, env={"BEATBOOK_SYNCD": str(SYNCD_BIN)})
        try:
            c = u.client()
            ids = [c.add(k, answers_of(k))[1]["id"] for k in ("complaint", "parking_citation")]
            status, home = c.get("/api/home")
            assert home["outbox"]["pending"] == 2 and home["outbox"]["enrolled"] is True
            status, doc = c.post("/api/sync", {})
            assert status == 202 and doc["running"]
            assert c.post("/api/sync", {})[0] in (409, 202)   # one run at a time
            doc = wait_for(lambda: (lambda s: s if not s["running"] else None)(
                c.get("/api/sync")[1]), timeout=60, what="the sync to finish")
            assert doc["exit"] == 0, doc
            assert doc["day_end"]["state"] == "done", doc
            assert any(l.startswith("sent ") for l in doc["lines"]), doc["lines"]
            assert sorted(hq.record_ids(lp.device)) == sorted(ids)
            status, home = c.get("/api/home")
            assert home["outbox"]["pending"] == 0 and home["outbox"]["last_sync_ok_at"]
        finally:
            assert u.stop() == 0
    finally:
        hq.stop()


# ---- in a real browser ------------------------------------------------------------------


@pytest.fixture(scope="module")
def shots(tmp_path_factory, request):
    folder = os.environ.get("BEATBOOK_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("collector-ui-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    taken = []
    yield lambda d, name: (d.save_screenshot(str(path / f"{name}.png")), taken.append(name))
    if taken:
        line = f"\nscreenshots of the forms page ({len(taken)}): {path}"
        capman = request.config.pluginmanager.get_plugin("capturemanager")
        if capman:
            with capman.global_and_fixture_disabled():
                print(line)
        else:
            print(line)


class Page:
    """The forms page in a browser, with waits on what app.js says it drew."""

    def __init__(self, ui, driver, shots=None, prefix=""):
        self.ui = ui
        self.d = driver
        self.shots = shots
        self.prefix = prefix
        self.d.get(ui.url)
        self.wait(lambda: self.ready() == "#/", what="the home page")

    def ready(self):
        return self.d.execute_script("return document.body.getAttribute('data-ready')")

    def seq(self):
        return int(self.d.execute_script("return document.body.getAttribute('data-seq') || 0"))

    def wait(self, cond, timeout=30, what="the page"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                v = cond()
            except Exception:       # an element that is being replaced
                v = None
            if v:
                return v
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; at {self.d.current_url}, drawn "
                             f"{self.ready()!r}: {self.d.find_element('tag name', 'main').text[:800]}")

    def go(self, hash_, ready=None):
        before = self.seq()
        self.d.execute_script("location.hash = arguments[0]", hash_)
        self.wait(lambda: self.seq() > before and self.ready() == (ready or hash_), what=hash_)

    def css(self, sel):
        return self.d.find_elements("css selector", sel)

    def one(self, sel):
        return self.d.find_element("css selector", sel)

    def click(self, sel):
        before = self.seq()
        self.one(sel).click()
        self.wait(lambda: self.seq() > before and self.ready(), what=f"a draw after {sel}")
        return self.ready()

    def shot(self, name):
        if self.shots:
            self.shots(self.d, self.prefix + name)

    def no_sideways_scroll(self, where):
        w = self.d.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]")
        assert w[0] <= w[1], f"{where}: the page is {w[0]} px wide in a {w[1]} px window"

    # -- filling a form
    def fill(self, q, value):
        from selenium.webdriver.support.ui import Select
        e = self.one("#q-" + q["name"])
        if q["type"] in ("enum", "boolean"):
            Select(e).select_by_value(value)
        elif q["type"] == "ref":
            e.click()
            self.clear(e)
            e.send_keys(value["search"])
            self.wait(lambda: self.css(f'#list-{q["name"]} li[data-code="{value["code"]}"]'),
                      what=f'{value["code"]} among the choices for {value["search"]}')
            self.one(f'#list-{q["name"]} li[data-code="{value["code"]}"]').click()
        else:
            e.click()
            self.clear(e)
            if value:
                e.send_keys(value)

    def clear(self, e):
        """Empty an input as a person would (Ctrl-A does not survive typed CJK in chromedriver)."""
        self.d.execute_script("arguments[0].value = '';"
                              "arguments[0].dispatchEvent(new Event('input'))", e)

    def fill_form(self, answers, per_page=None, check_width=False, name=""):
        """Fill each page of the form with answers, step on, stop at the review."""
        form = self.d.execute_script("return document.getElementById('form-title') && 1")
        assert form
        done = set()
        step = 0
        while self.ready() != "review":
            if check_width:
                self.no_sideways_scroll(f"{name} page {step}")
            for box in self.css(".q[data-q]"):
                qname = box.get_attribute("data-q")
                if qname in answers and box.is_displayed() and qname not in done:
                    q = self.question(qname)
                    self.fill(q, answers[qname])
                    done.add(qname)
            # A question can become relevant by an answer on the same page.
            for box in self.css(".q[data-q]"):
                qname = box.get_attribute("data-q")
                if qname in answers and box.is_displayed() and qname not in done:
                    self.fill(self.question(qname), answers[qname])
                    done.add(qname)
            if step == 0:
                self.shot(f"{name}-form")
            state = self.click("#next")
            assert not self.css(".q .error:not(:empty)"), \
                [e.text for e in self.css(".q .error:not(:empty)")]
            step += 1
            assert step < 10, state
        missing = set(answers) - done
        assert not missing, f"never asked: {missing}"

    def question(self, name):
        return self.d.execute_script(
            "const e = document.querySelector('[data-q=\"' + arguments[0] + '\"]');"
            "const i = document.getElementById('q-' + arguments[0]);"
            "return {name: arguments[0], type: i.tagName === 'SELECT' ? "
            "(i.querySelector('option[value=true]') ? 'boolean' : 'enum') : "
            "(i.getAttribute('role') === 'combobox' ? 'ref' : 'text')};", name)


def page_answers(kind):
    """VALID[kind]'s stored values as what an officer picks and types on the page."""
    fields = {f["name"]: f for f in kind_def(kind)["fields"]}
    fields["occurred_at"] = {"type": "datetime"}
    searches = {"BP-DF": "東豐", "INT-03": "int-03", "INT-01": "INT-01",
                "SEG-0601": "SEG-0601", "P06-S03": "協和"}
    out = {}
    for name, v in VALID[kind][1].items():
        t = fields[name]["type"]
        if t == "boolean":
            out[name] = "true" if v else "false"
        elif t == "ref":
            out[name] = {"code": v, "search": searches.get(v, v)}
        elif t == "datetime":
            out[name] = v[:10] + " " + v[11:16]
        else:
            out[name] = str(v)
    if not kind_def(kind).get("occurred_at_from"):
        out["occurred_at"] = OCCURRED
    return out


@pytest.fixture
def browser():
    d = start_browser()
    yield d
    stop_browser(d)


def test_browser_every_kind_through_the_page(store, ui, browser, shots, tmp_path):
    p = Page(ui, browser, shots)
    p.shot("home")
    cli_store = make_store(tmp_path / "cli")
    for kind in KINDS:
        before = p.seq()
        p.d.execute_script("location.hash = arguments[0]", f"#/new/{kind}")
        p.wait(lambda: p.seq() > before and (p.ready() or "").startswith("form:"),
               what=f"the {kind} form")
        p.fill_form(page_answers(kind), name=kind, check_width=True)      # 1366 px
        p.shot(f"{kind}-review")
        review = {e.get_attribute("data-field"): e.text for e in p.css("#review dd")}
        assert review, kind
        before = p.seq()
        p.one("#save").click()
        p.wait(lambda: p.seq() > before and (p.ready() or "").startswith("#/record/"),
               what=f"the saved {kind}")
        rid = p.ready().split("/")[-1]
        assert p.one("#flash").text.startswith("已儲存")
        p.shot(f"{kind}-saved")
        via_cli = cli_store.get(cli_store.add(kind, *cli_args(kind)))
        assert store.get(rid)["data"] == via_cli["data"] == VALID[kind][1], kind
    assert store.counts()[0] == len(KINDS)


def test_browser_rule_violation_is_shown_inline_and_nothing_saved(store, ui, browser, shots):
    p = Page(ui, browser, shots)
    p.go("#/new/traffic_accident", ready="form:basics")
    assert p.one("#q-deaths").get_attribute("inputmode") == "numeric"
    p.fill({"name": "class", "type": "enum"}, "a3")
    p.fill({"name": "deaths", "type": "integer"}, "1")
    p.fill({"name": "injuries", "type": "integer"}, "0")
    assert p.click("#next") == "form:basics"              # stays on the page
    err = p.one("#err-deaths").text
    assert "A3" in err and "死亡" in err
    assert p.one("#q-deaths").get_attribute("aria-invalid") == "true"
    p.shot("rule-violation")
    # A wrong number and a date that does not exist, inline too.
    p.fill({"name": "deaths", "type": "integer"}, "兩")
    assert p.click("#next") == "form:basics"
    assert "兩" in p.one("#err-deaths").text
    p.fill({"name": "deaths", "type": "integer"}, "0")
    assert p.click("#next") == "form:place"
    # The list picker searches other names too: 中港路 is the old name of 臺灣大道.
    codes = lambda: [e.get_attribute("data-code") for e in p.css("#list-intersection li[data-code]")]
    p.one("#q-intersection").click()
    p.one("#q-intersection").send_keys("中港路")
    p.wait(lambda: codes() == ["INT-01", "INT-11", "INT-20"], what="the alias search")
    p.shot("picker-alias")
    p.clear(p.one("#q-intersection"))
    p.one("#q-intersection").send_keys("台灣大道與文心")     # 台 for 臺, as people type it
    p.wait(lambda: codes() == ["INT-11"], what="the search to narrow")
    p.one('#list-intersection li[data-code="INT-11"]').click()
    p.click("#next")
    # When it happened: now, in the ROC calendar first; Gregorian at a switch.
    roc = p.one("#q-occurred_at").get_attribute("value")
    assert re.fullmatch(r"\d{2,3}/\d\d/\d\d \d\d:\d\d", roc), roc
    from selenium.webdriver.support.ui import Select
    Select(p.one("#cal")).select_by_value("greg")
    p.wait(lambda: re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d",
                                p.one("#q-occurred_at").get_attribute("value")), what="西元")
    greg = p.one("#q-occurred_at").get_attribute("value")
    assert int(greg[:4]) - 1911 == int(roc.split("/")[0]) and greg[-5:] == roc[-5:]
    assert p.one("#pick-occurred_at").get_attribute("type") == "datetime-local"
    Select(p.one("#cal")).select_by_value("roc")
    p.fill({"name": "occurred_at", "type": "datetime"}, "107/02/30 10:00")
    assert p.click("#next") == "form:details"
    assert "30" in p.one("#err-occurred_at").text
    assert store.counts() == (0, 0)


def test_browser_draft_patrol_started_and_ended(store, ui, browser, shots):
    p = Page(ui, browser, shots)
    p.click("#start-patrol")
    assert p.ready() == "form:start"
    # The bike path appears only for a bike-path patrol; the search narrows by name.
    assert not p.one("#box-bike_path").is_displayed()
    p.fill({"name": "type", "type": "enum"}, "bike_path")
    assert p.one("#box-bike_path").is_displayed()
    p.fill({"name": "mode", "type": "enum"}, "bicycle")
    p.one("#q-bike_path").click()
    assert len(p.css("#list-bike_path li[data-code]")) == 3   # every bike path, at first
    p.one("#q-bike_path").send_keys("東豐")
    p.wait(lambda: [e.get_attribute("data-code") for e in p.css("#list-bike_path li[data-code]")]
           == ["BP-DF"], what="the search to narrow to 東豐")
    p.shot("patrol-picker")
    p.one('#list-bike_path li[data-code="BP-DF"]').click()
    assert not p.one("#list-bike_path").is_displayed()        # closed after the pick
    assert "BP-DF" in p.one("#q-bike_path").get_attribute("value")
    p.fill({"name": "officers", "type": "integer"}, "2")
    p.shot("patrol-start")
    assert p.click("#next") == "review"
    p.shot("patrol-start-review")
    before = p.seq()
    p.one("#save").click()
    p.wait(lambda: p.seq() > before and p.ready().startswith("#/record/"), what="the draft")
    pid = p.ready().split("/")[-1]
    rec = store.get(pid)
    assert rec["status"] == "draft" and rec["rev"] == 0
    assert rec["data"]["bike_path"] == "BP-DF"
    p.go("#/")
    assert p.css(f'#drafts a[data-end="{pid}"]')
    p.shot("home-open-patrol")
    p.click(f'#drafts a[data-end="{pid}"]')
    assert p.ready() == "form:end"
    p.fill({"name": "distance_km", "type": "number"}, "24")
    p.shot("patrol-end")
    assert p.click("#next") == "review"
    before = p.seq()
    p.one("#save").click()
    p.wait(lambda: p.seq() > before and p.ready() == f"#/record/{pid}", what="the ended patrol")
    rec = store.get(pid)
    assert rec["status"] == "final" and rec["rev"] == 1 and rec["data"]["distance_km"] == 24
    assert "ended_at" in rec["data"]
    assert store.query("SELECT rev FROM revisions WHERE id = ?", (pid,)) == [(1,)]
    p.shot("patrol-ended")


def test_browser_edit_shows_in_history_and_void_with_reason(store, ui, browser, shots):
    c = ui.client()
    rid = c.add("traffic_accident", answers_of("traffic_accident"))[1]["id"]
    p = Page(ui, browser, shots)
    p.go(f"#/record/{rid}")
    p.click("#edit-link")
    assert p.ready() == "form:basics"
    p.fill({"name": "injuries", "type": "integer"}, "3")
    while p.ready() != "review":
        p.click("#next")
    assert p.one('#review dd[data-field="injuries"]').text == "3"
    before = p.seq()
    p.one("#save").click()
    p.wait(lambda: p.seq() > before and p.ready() == f"#/record/{rid}", what="the edit")
    rec = store.get(rid)
    assert rec["rev"] == 2 and rec["data"]["injuries"] == 3
    change = p.one('#revisions li[data-rev="2"] li[data-field="injuries"]')
    assert "2" in change.find_element("css selector", ".before").text
    assert "3" in change.find_element("css selector", ".after").text
    p.shot("record-edited")
    # Void: a reason is required.
    p.one("#void-open").click()
    p.one("#void-submit").click()
    p.wait(lambda: p.one("#void-error").text, what="the void error")
    assert store.get(rid)["status"] == "final"
    p.one("#void-reason").send_keys("重複登錄")
    before = p.seq()
    p.one("#void-submit").click()
    p.wait(lambda: p.seq() > before and p.ready() == f"#/record/{rid}", what="the void")
    rec = store.get(rid)
    assert rec["status"] == "void" and rec["void_reason"] == "重複登錄" and rec["rev"] == 3
    assert "重複登錄" in p.one("#envelope").text
    assert not p.css("#edit-link")
    p.shot("record-void")


def test_browser_text_is_never_html(store, ui, browser):
    c = ui.client()
    xss = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    rid = c.add("community_event", {**answers_of("community_event"), "topic": xss,
                                    "notes": xss})[1]["id"]
    p = Page(ui, browser)
    p.go(f"#/record/{rid}")
    assert xss in p.one('#fields dd[data-field="topic"]').text
    p.go("#/")
    assert p.d.execute_script("return window.__xss") is None


def test_browser_english_switch(store, ui, browser):
    p = Page(ui, browser)
    assert "今日紀錄" in p.one("main").text
    before = p.seq()
    p.one("#lang").click()
    p.wait(lambda: p.seq() > before and p.ready() == "#/", what="the English page")
    assert "Today's entries" in p.one("main").text
    p.go("#/new/traffic_accident", ready="form:basics")
    p.fill({"name": "class", "type": "enum"}, "a3")
    p.fill({"name": "deaths", "type": "integer"}, "1")
    p.fill({"name": "injuries", "type": "integer"}, "0")
    p.click("#next")
    assert "A3 accident" in p.one("#err-deaths").text


def test_browser_phone_width_nothing_scrolls_sideways(store, ui, shots):
    c = ui.client()
    rid = c.add("patrol", answers_of("patrol"))[1]["id"]
    c.post(f"/api/records/{rid}/edit", {"rev": 1, "answers": {"route": "后里→石岡 東豐綠廊 " * 8}})
    d = start_browser(phone=True)
    try:
        p = Page(ui, d, shots, prefix="phone-")
        assert d.execute_script("return window.innerWidth") == 390
        p.no_sideways_scroll("home")
        p.shot("home")
        for kind in KINDS:
            before = p.seq()
            d.execute_script("location.hash = arguments[0]", f"#/new/{kind}")
            p.wait(lambda: p.seq() > before and (p.ready() or "").startswith("form:"), what=kind)
            p.fill_form(page_answers(kind), check_width=True, name=kind)
            p.no_sideways_scroll(f"{kind} review")
            p.shot(f"{kind}-review")
        for h in (f"#/record/{rid}", "#/records", "#/sync", "#/"):
            p.go(h)
            p.no_sideways_scroll(h)
            p.shot(h.strip("#/").replace("/", "-")[:20] or "home-again")
        # The list picker open with its choices.
        p.go("#/new/complaint", ready="form:main")
        p.one("#q-subject_unit").click()
        p.no_sideways_scroll("an open list picker")
        p.shot("picker-open")
    finally:
        stop_browser(d)


@needs_sync
def test_browser_sync_to_a_real_hq(tmp_path, browser, shots):
    hq = HQ(tmp_path / "hq").init().start()
    try:
        lp = Laptop(tmp_path / "laptop")
        hq.enroll("P06-S03", "協和 laptop", tmp_path / "l.enroll")
        lp.init_enrolled(tmp_path / "l.enroll")
        u = UI(lp.home, env={"BEATBOOK_SYNCD": str(SYNCD_BIN)})
        try:
            c = u.client()
            ids = [c.add(k, answers_of(k))[1]["id"] for k in KINDS]
            p = Page(u, browser, shots, prefix="sync-")
            assert "9 筆待同步" in p.one("#sync-line").text
            assert "尚未同步" in p.one("#sync-line").text
            p.shot("before")
            p.one("#sync-button").click()
            p.wait(lambda: p.ready() == "#/sync" and
                   p.d.execute_script("return document.body.getAttribute('data-sync')") == "done",
                   timeout=90, what="the sync to finish")
            day_end = p.one("#day-end")
            assert day_end.get_attribute("data-state") == "done", day_end.text
            assert "總局" in day_end.text
            assert "已傳送 1，已確認 1" in p.one("#sync-output").text   # syncd, in zh-TW
            p.shot("done")
            assert sorted(hq.record_ids(lp.device)) == sorted(ids)
            out = hq.ok("batches", "--data", hq.data, "--device", lp.device).stdout
            assert lp.device in out or "1" in out
            p.go("#/")
            assert "0 筆待同步" in p.one("#sync-line").text
            assert "上次同步" in p.one("#sync-line").text
        finally:
            assert u.stop() == 0
    finally:
        hq.stop()
