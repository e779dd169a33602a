"""Fixtures for `beatbook ui`, the field laptop's forms page (collector/col_ui.h).

`UI` starts the real `beatbook ui --no-browser --port 0` on a store (with
browser=True it may open one: xdg-open on a display), reads the
address it prints (http://127.0.0.1:PORT/?s=SECRET) and stops it with SIGTERM
(checking it exits 0).  `Client` is a small HTTP client that does what the
page does: exchanges the secret for the session cookie, reads the CSRF token
from GET /api/session and sends it with every POST; every header can be
overridden to play an attacker.  `start_browser` is Debian's headless
Chromium through python3-selenium, at desktop size or emulating a 390 px
phone.
"""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import BEATBOOK, clean_env

URL_RE = re.compile(r"http://127\.0\.0\.1:(\d+)/\?s=([0-9a-f]{64})")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


class UI:
    """One `beatbook ui` process on the store in `home`."""

    def __init__(self, home, env=None, args=(), lang=None, browser=False):
        self.home = Path(home)
        self.log = self.home.parent / f"ui-{time.monotonic_ns()}.log"
        e = clean_env(home, env)
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                  "ALL_PROXY", "no_proxy", "NO_PROXY", "DISPLAY", "WAYLAND_DISPLAY"):
            e.pop(k, None)
        e.update(env or {})
        cmd = [str(BEATBOOK)] + (["--lang", lang] if lang else []) + ["ui", "--port", "0"] + \
            ([] if browser else ["--no-browser"]) + list(args)
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, env=e, stdout=subprocess.PIPE,
                                     stderr=open(self.log, "wb"), text=True)
        line = self.proc.stdout.readline()
        m = URL_RE.search(line)
        if not m:
            self.proc.kill()
            raise AssertionError(f"beatbook ui printed {line!r}; stderr: {self.stderr()}")
        self.url = m.group(0)
        self.port = int(m.group(1))
        self.secret = m.group(2)
        self.base = f"http://127.0.0.1:{self.port}"

    def stderr(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def client(self, enter=True):
        c = Client(self)
        if enter:
            c.enter()
        return c

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc.stdout.close()
        return rc


class Client:
    """What the page does over HTTP; every header can be replaced or dropped."""

    def __init__(self, ui):
        self.ui = ui
        self.cookie = None
        self.csrf = None
        self.lang = "en"

    def raw(self, method, path, body=None, headers=None, host=None, chunked=False):
        """(status, headers with lower-case names, body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.ui.port, timeout=60)
        h = {"Host": host or f"127.0.0.1:{self.ui.port}", "X-BB-Lang": self.lang}
        if self.cookie:
            h["Cookie"] = f"bb_ui_{self.ui.port}={self.cookie}"
        if body is not None:
            h["Content-Type"] = "application/json"
            if method == "POST" and self.csrf:
                h["X-CSRF-Token"] = self.csrf
            h["Origin"] = f"http://127.0.0.1:{self.ui.port}"
        for k, v in (headers or {}).items():
            if v is None:
                h.pop(k, None)
            else:
                h[k] = v
        if isinstance(body, (dict, list)):
            body = json.dumps(body, ensure_ascii=False)
        if isinstance(body, str):
            body = body.encode()
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for k, v in h.items():
                conn.putheader(k, v)
            if chunked:
                conn.putheader("Transfer-Encoding", "chunked")
            elif body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders()
            if body is not None:
                if chunked:
                    for i in range(0, len(body), 8192):
                        part = body[i:i + 8192]
                        conn.send(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                    conn.send(b"0\r\n\r\n")
                else:
                    conn.send(body)
            r = conn.getresponse()
            hdrs = {}
            for k, v in r.getheaders():
                k = k.lower()
                hdrs[k] = hdrs[k] + "\n" + v if k in hdrs else v
            data = r.read()
        finally:
            conn.close()
        return r.status, hdrs, data

    def json(self, method, path, body=None, **kw):
        status, hdrs, data = self.raw(method, path, body, **kw)
        try:
            doc = json.loads(data) if data else None
        except ValueError:
            doc = data
        return status, doc

    def get(self, path, **kw):
        return self.json("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.json("POST", path, body, **kw)

    def enter(self):
        status, hdrs, _ = self.raw("GET", f"/?s={self.ui.secret}")
        assert status == 303, (status, hdrs)
        m = re.match(rf"bb_ui_{self.ui.port}=([0-9a-f]{{64}});", hdrs.get("set-cookie", ""))
        assert m, hdrs
        self.cookie = m.group(1)
        status, doc = self.get("/api/session")
        assert status == 200, doc
        self.csrf = doc["csrf"]
        return doc

    def add(self, kind, answers, mode="new"):
        return self.post("/api/records", {"mode": mode, "kind": kind, "answers": answers})


@pytest.fixture
def ui(store):
    """`beatbook ui` on the test's store; stopped (and checked) at the end."""
    u = UI(store.home)
    yield u
    rc = u.stop()
    assert rc == 0, f"beatbook ui exited {rc}: {u.stderr()}"


def start_browser(phone=False):
    """Headless Chromium; phone: emulating a 390 x 844 screen (CSS pixels)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:
        pytest.skip(f"python3-selenium is not installed ({e}); `make deps` installs it")
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("chromium and chromium-driver are not installed; `make deps` installs them")
    profile = tempfile.mkdtemp(prefix="bb-chromium-")
    o = webdriver.ChromeOptions()
    o.binary_location = CHROMIUM
    for a in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--no-first-run", "--window-size=1366,900",
              f"--user-data-dir={profile}", "--lang=zh-TW"]:
        o.add_argument(a)
    if phone:
        o.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 3.0},
            "userAgent": "Mozilla/5.0 (Linux; Android 13) Mobile"})
    try:
        d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)
    except Exception as e:      # selenium raises several kinds here
        shutil.rmtree(profile, ignore_errors=True)
        pytest.skip(f"Chromium could not start: {str(e).splitlines()[0]}")
    d.set_page_load_timeout(60)
    d.profile_dir = profile
    return d


def stop_browser(d):
    d.quit()
    shutil.rmtree(d.profile_dir, ignore_errors=True)
