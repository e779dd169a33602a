"""Sign-in, sessions, CSRF, lockout and API tokens of the review UI's API, over
real HTTPS against a real `beatbook-hq serve` (hq/hq_auth.h, hq/hq_web.h).

Attackers' moves too: forged and expired session cookies, a missing or
foreign CSRF token, another site's Origin, guessing passwords until locked
out, a disabled user's old session — each gets its 4xx and changes nothing.
"""
import base64
import http.client
import json
import os
import sqlite3
import subprocess
import time

import pytest

from ui_fixtures import PASSWORDS, UIWorld, Web, needs_ui, world  # noqa: F401

pytestmark = needs_ui


def audit(world, action):
    return [r[0] for r in world.hq.query("SELECT detail FROM audit WHERE action = ? ORDER BY id",
                                         (action,))]


def hq_db_write(world, sql, params=()):
    """Move a session's clock as time would (the test's only write to hq.db)."""
    con = sqlite3.connect(str(world.hq.db), timeout=10)
    try:
        con.execute(sql, params)
        con.commit()
    finally:
        con.close()


def test_pages_are_public_data_is_not(world):
    w = Web(world.hq)
    status, hdrs, body = w.request("GET", "/ui")
    assert status == 303 and hdrs["location"] == "/ui/"
    status, hdrs, body = w.request("GET", "/ui/")
    assert status == 200 and hdrs["content-type"].startswith("text/html")
    csp = hdrs["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert hdrs["x-content-type-options"] == "nosniff"
    assert hdrs["x-frame-options"] == "DENY"
    assert b"<script" not in body.split(b"</head>")[1]          # no inline script
    status, hdrs, js = w.request("GET", "/ui/chart.min.js")
    assert status == 200 and b"Chart.js" in js[:200]
    etag = hdrs["etag"]
    status, _, _ = w.request("GET", "/ui/app.js", headers={"If-None-Match": etag})
    assert status == 200                                        # another file's tag
    status, _, _ = w.request("GET", "/ui/chart.min.js", headers={"If-None-Match": etag})
    assert status == 304
    for path in ["/v1/kpi?period=107", "/v1/records", "/v1/devices", "/v1/quarantine",
                 "/v1/records/x", "/v1/kpi/records?kpi=K1&figure=count&period=107",
                 "/v1/catalog", "/v1/session"]:
        status, hdrs, body = w.request("GET", path)
        assert status == 401, path
        doc = json.loads(body)
        assert doc["error"] == "unauthorized" and hdrs["cache-control"] == "no-store"
    assert w.request("GET", "/ui/../hq.db")[0] == 404
    assert w.request("GET", "/ui/nothing.js")[0] == 404


def test_sign_in_sets_a_strict_cookie_and_is_audited(world):
    w = Web(world.hq)
    status, hdrs, body = w.request("POST", "/v1/session", body={
        "name": "reviewer", "password": PASSWORDS["reviewer"]})
    assert status == 200, body
    cookie = hdrs["set-cookie"]
    name, value = cookie.split(";")[0].split("=", 1)
    assert name == "__Host-bb_session" and len(value) == 43
    attrs = [a.strip() for a in cookie.split(";")[1:]]
    assert {"Path=/", "Secure", "HttpOnly", "SameSite=Strict"} <= set(attrs)
    doc = json.loads(body)
    assert doc["user"] == {"name": "reviewer", "role": "hq", "org": None, "org_name": None}
    assert len(doc["csrf"]) == 64
    status, me = w.get("/v1/session")
    assert status == 200 and me["user"]["name"] == "reviewer" and me["csrf"] == doc["csrf"]
    assert any("user=reviewer" in d for d in audit(world, "signin"))
    # What is stored of the session is its hash, never the id or the password.
    stored = [r[0] for r in world.hq.query("SELECT id_hash FROM sessions")]
    assert value not in stored and len(stored[0]) == 64
    raw = world.hq.db.read_bytes() + world.hq.log_path.read_bytes()
    wal = world.hq.db.with_name("hq.db-wal")
    if wal.exists():
        raw += wal.read_bytes()
    assert value.encode() not in raw and PASSWORDS["reviewer"].encode() not in raw
    assert world.hq.query("SELECT pw_hash FROM users WHERE name = 'reviewer'")[0][0] \
        .startswith("$argon2id$v=19$m=19456,t=2,p=1$")


@pytest.mark.parametrize("name,password", [("reviewer", "wrong password!"),
                                           ("nobody", "wrong password!"),
                                           ("reviewer", ""), ("<script>", "x" * 300)])
def test_wrong_password_is_401_and_says_nothing_more(world, name, password):
    w = Web(world.hq)
    before = len(audit(world, "signin_failed"))
    status, hdrs, body = w.request("POST", "/v1/session", body={"name": name,
                                                                "password": password})
    assert status == 401
    assert json.loads(body)["error"] == "bad_credentials"
    assert "set-cookie" not in hdrs
    assert len(audit(world, "signin_failed")) == before + 1
    assert "<script>" not in audit(world, "signin_failed")[-1]


def test_malformed_sign_ins(world):
    w = Web(world.hq)
    assert w.request("POST", "/v1/session", body="name=reviewer",
                     content_type="application/x-www-form-urlencoded")[0] == 415
    for body in ["{", "[]", '{"name": 1, "password": "x"}', '{"name": "reviewer"}']:
        assert w.request("POST", "/v1/session", body=body)[0] == 400, body
    # Too large by its Content-Length: HQ answers 413 before the body and closes,
    # so send the headers alone (a client still writing the body may see the
    # connection closed under it instead of reading the answer).
    conn = http.client.HTTPSConnection("127.0.0.1", world.hq.port, context=w.ctx, timeout=60)
    try:
        conn.putrequest("POST", "/v1/session")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", "20000")
        conn.endheaders()
        assert conn.getresponse().status == 413
    finally:
        conn.close()
    status, _, _ = w.request("POST", "/v1/session", body={
        "name": "reviewer", "password": PASSWORDS["reviewer"]},
        headers={"Origin": "https://evil.example"})
    assert status == 403


def test_forged_and_malformed_cookies_are_401(world):
    w = Web(world.hq)
    forged = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    for cookie in [forged, "x", "a" * 5000, "../../etc/passwd", forged + "A"]:
        status, hdrs, body = w.request("GET", "/v1/kpi", {"period": "107"}, cookie=cookie)
        assert status == 401, cookie[:20]
        assert "Max-Age=0" in hdrs.get("set-cookie", "Max-Age=0")


def test_idle_and_absolute_expiry(world):
    for column, age in [("seen_unix", 31 * 60), ("created_unix", 13 * 3600)]:
        w = world.web("reviewer")
        assert w.get("/v1/session")[0] == 200
        hq_db_write(world, f"UPDATE sessions SET {column} = {column} - ?", (age,))
        status, doc = w.get("/v1/session")
        assert status == 401, column
        assert w.get("/v1/kpi", period="107")[0] == 401


def test_sign_out_needs_csrf_and_ends_the_session(world):
    w = world.web("reviewer")
    old = w.cookie
    status, doc = w.json("DELETE", "/v1/session", csrf=False)
    assert status == 403 and doc["error"] == "csrf"
    assert w.get("/v1/session")[0] == 200                       # still signed in
    status, hdrs, _ = w.request("DELETE", "/v1/session")
    assert status == 200 and "Max-Age=0" in hdrs["set-cookie"]
    assert w.request("GET", "/v1/session", cookie=old)[0] == 401
    assert any("user=reviewer" in d for d in audit(world, "signout"))


def test_changes_need_this_sessions_csrf_token_and_origin(world):
    w = world.web("reviewer")
    other = world.web("reviewer")
    qid = world.hq.query("SELECT id FROM quarantined_records")[0][0]
    path = f"/v1/quarantine/records/{qid}/review"
    cases = [({}, False), ({"X-CSRF-Token": "0" * 64}, False),
             ({"X-CSRF-Token": other.csrf}, False), ({"X-CSRF-Token": w.csrf[:-1]}, False)]
    for headers, _ in cases:
        status, doc = w.json("POST", path, headers=headers, csrf=False)
        assert status == 403 and doc["error"] == "csrf", headers
    status, doc = w.json("POST", path, headers={"Origin": "https://evil.example"})
    assert status == 403 and doc["error"] == "cross_origin"
    status, doc = w.json("POST", path, headers={"Sec-Fetch-Site": "cross-site"})
    assert status == 403
    assert world.hq.query("SELECT count(*) FROM quarantine_actions")[0][0] == 0


def test_a_user_is_locked_out_after_five_failures(world):
    w = Web(world.hq)
    for _ in range(5):
        assert w.signin("locked", "not the password")[0] == 401
    status, hdrs, body = w.request("POST", "/v1/session", body={
        "name": "locked", "password": PASSWORDS["locked"]}, params={"lang": "en"})
    assert status == 429
    assert 800 <= int(hdrs["retry-after"]) <= 900
    doc = json.loads(body)
    assert doc["error"] == "locked" and "for this user" in doc["message"]
    assert "15 minutes" in doc["message"]
    assert "reason=user_locked" in audit(world, "signin_failed")[-1]
    # Others still sign in; an unknown name locks the same way (no user enumeration).
    assert world.web("reviewer").cookie
    for _ in range(5):
        w.signin("no-such-user", "x" * 12)
    assert w.signin("no-such-user", "x" * 12)[0] == 429


def test_an_address_is_locked_out_after_twenty_failures(tmp_path):
    world = UIWorld(tmp_path)
    world.hq.init()
    world.hq.start()
    try:
        world.add_user("reviewer", "--role", "hq")
        w = Web(world.hq)
        for i in range(20):
            assert w.signin(f"guess{i}", "wrong password")[0] == 401
        status, hdrs, body = w.request("POST", "/v1/session", params={"lang": "en"}, body={
            "name": "reviewer", "password": PASSWORDS["reviewer"]})
        assert status == 429 and "from this address" in json.loads(body)["message"]
        assert int(hdrs["retry-after"]) > 0
    finally:
        world.stop()


def test_disabled_users_lose_their_sessions(world):
    w = world.web("disabled")
    assert w.get("/v1/session")[0] == 200
    world.hq.ok("user", "disable", "disabled", "--data", world.hq.data)
    assert w.get("/v1/session")[0] == 401
    assert Web(world.hq).signin("disabled")[0] == 401
    world.hq.ok("user", "enable", "disabled", "--data", world.hq.data)
    assert Web(world.hq).signin("disabled")[0] == 200


def test_api_tokens(world):
    p = world.hq.ok("user", "token", "p06admin", "--days", "2", "--data", world.hq.data)
    token = p.stdout.strip()
    assert token.startswith("bbt_") and len(token) == 47
    w = Web(world.hq, token=token)
    status, doc = w.get("/v1/kpi", period="107-03")
    assert status == 200 and doc["org"]["code"] == "P06"
    assert w.get("/v1/kpi", period="107-03", org="P08")[0] == 403
    stored = [r[0] for r in world.hq.query("SELECT token_hash FROM api_tokens")]
    assert token not in stored
    for bad in [token[:-1] + ("A" if token[-1] != "A" else "B"), "bbt_x", token + "x", ""]:
        assert Web(world.hq, token=bad).get("/v1/kpi", period="107")[0] == 401
    status, _, _ = Web(world.hq).request("GET", "/v1/kpi", {"period": "107"},
                                         headers={"Authorization": "Basic cmV2aWV3ZXI6eA=="})
    assert status == 401


def test_user_commands_never_take_a_password_on_the_command_line(world, tmp_path):
    hq = world.hq
    p = hq.run("user", "add", "--data", hq.data, "--name", "eve", "--role", "hq",
               "--password", "secret-secret")
    assert p.returncode == 64 and "never" in p.stderr
    p = subprocess.run([str(hq_bin()), "user", "add", "--data", str(hq.data), "--name", "eve",
                        "--role", "hq"], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, env=hq.env())
    assert p.returncode == 64 and "--password-file" in p.stderr
    short = tmp_path / "short.pw"
    short.write_text("short\n")
    p = hq.run("user", "add", "--data", hq.data, "--name", "eve", "--role", "hq",
               "--password-file", short)
    assert p.returncode == 64 and "10 characters" in p.stderr
    for args in [["--role", "precinct"], ["--role", "hq", "--org", "P06"],
                 ["--role", "precinct", "--org", "P99"], ["--role", "admin"]]:
        p = hq.run("user", "add", "--data", hq.data, "--name", "eve", *args,
                   "--password-file", short)
        assert p.returncode == 64, args
    p = hq.run("user", "add", "--data", hq.data, "--name", "bad name", "--role", "hq",
               "--password-file", short)
    assert p.returncode == 64
    good = tmp_path / "good.pw"
    good.write_text(PASSWORDS["reviewer"] + "\n")
    p = hq.run("user", "add", "--data", hq.data, "--name", "reviewer", "--role", "hq",
               "--password-file", good)
    assert p.returncode == 73
    listing = json.loads(hq.ok("user", "list", "--json", "--data", hq.data).stdout)
    assert {u["name"] for u in listing} >= {"reviewer", "p06admin", "p08admin"}
    assert [u for u in listing if u["name"] == "p06admin"][0]["org"] == "P06"


def hq_bin():
    from sync_fixtures import HQ_BIN
    return HQ_BIN


def test_a_password_change_revokes_the_users_api_tokens(world, tmp_path):
    """Whoever knew the old password may have made a token: a new password ends both."""
    hq = world.hq
    first, second = tmp_path / "first.pw", tmp_path / "second.pw"
    first.write_text("a-first-long-password\n")
    second.write_text("a-second-long-password\n")
    hq.ok("user", "add", "--data", hq.data, "--name", "rotated", "--role", "hq",
          "--password-file", first)
    token = hq.ok("user", "token", "rotated", "--data", hq.data).stdout.strip()
    other = hq.ok("user", "token", "reviewer", "--data", hq.data).stdout.strip()
    assert Web(hq, token=token).get("/v1/kpi", period="107-03")[0] == 200
    p = hq.ok("user", "password", "rotated", "--password-file", second, "--data", hq.data)
    assert "API tokens revoked" in p.stdout
    assert Web(hq, token=token).get("/v1/kpi", period="107-03")[0] == 401
    assert Web(hq, token=other).get("/v1/kpi", period="107-03")[0] == 200   # others' stay


def test_parallel_wrong_passwords_get_exactly_five_checks(tmp_path):
    """The lockout check and the count are one step: 19 guesses at once cannot all pass
    the check before any is counted (8 of 19 were verified before)."""
    from concurrent.futures import ThreadPoolExecutor
    world = UIWorld(tmp_path)
    world.hq.init()
    world.hq.start()
    try:
        world.add_user("reviewer", "--role", "hq")
        with ThreadPoolExecutor(max_workers=19) as pool:
            codes = list(pool.map(lambda _: Web(world.hq).signin("reviewer", "wrong password")[0],
                                  range(19)))
        assert sorted(set(codes)) == [401, 429] and codes.count(401) == 5, codes
        checked = world.hq.query("SELECT count(*) FROM audit WHERE action = 'signin_failed' "
                                 "AND detail LIKE '%reason=bad_password%'")[0][0]
        assert checked == 5
        # The right password is refused while locked, and nothing was half-counted.
        assert Web(world.hq).signin("reviewer")[0] == 429
    finally:
        world.stop()
