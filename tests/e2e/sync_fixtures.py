"""Helpers for the end-to-end sync tests: a real `beatbook-hq` on loopback with
real TLS, enrolled laptops (`beatbook init --enroll`), `beatbook-syncd` runs,
and a TCP proxy that breaks connections on purpose.

Nothing here mocks a Beatbook part: every test drives the real binaries and
reads the real SQLite files (field.db on a laptop, hq.db at HQ) read-only.

HQ's tables (schema/migrations/hq/001_init.sql): devices, batches (one row
per merged batch, with its receipt), records (the current state of each
record), revisions (every revision merged), quarantined_batches,
quarantined_records.  A laptop's outbox: batches, batch_rejects, enrollment,
sync_state (schema/migrations/collector/003_sync.sql).
"""
import json
import os
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import BIN_DIR, EX_OK, Store, clean_env, db_query, run_beatbook

HQ_BIN = BIN_DIR / "beatbook-hq"
SYNCD_BIN = BIN_DIR / "beatbook-syncd"

EX_DATAERR = 65
EX_TEMPFAIL = 75
EX_CONFIG = 78

needs_sync = pytest.mark.skipif(
    not (HQ_BIN.is_file() and SYNCD_BIN.is_file()),
    reason=f"beatbook-hq and beatbook-syncd must be built in {BIN_DIR}")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def no_proxy_env(env):
    """Loopback tests talk to HQ directly, whatever proxy the machine has."""
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
              "ALL_PROXY", "no_proxy", "NO_PROXY"):
        env.pop(k, None)
    return env


def wait_for(cond, timeout=30.0, step=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class HQ:
    """One beatbook-hq data folder and (when started) its server process."""

    def __init__(self, data, port=None, url_port=None):
        self.data = Path(data)
        self.port = port or free_port()
        self.url_port = url_port or self.port
        self.url = f"https://127.0.0.1:{self.url_port}"
        self.proc = None
        self.log_path = self.data.parent / f"{self.data.name}-serve.log"
        self.logs = []

    def env(self):
        env = no_proxy_env({k: v for k, v in os.environ.items()
                            if not k.startswith("BEATBOOK_")})
        env["BEATBOOK_HQ_DATA"] = str(self.data)
        return env

    def run(self, *args, timeout=60):
        p = subprocess.run([str(HQ_BIN)] + [str(a) for a in args], env=self.env(),
                           capture_output=True, text=True, timeout=timeout)
        return p

    def ok(self, *args, **kw):
        p = self.run(*args, **kw)
        assert p.returncode == 0, f"beatbook-hq {' '.join(map(str, args))}: {p.returncode}\n" \
                                  f"{p.stdout}\n{p.stderr}"
        return p

    def init(self):
        self.ok("init", "--data", self.data, "--listen", f"127.0.0.1:{self.port}",
                "--url", self.url)
        return self

    def set_conf(self, **settings):
        """Change settings in hq.conf (before start), e.g. rate_burst=1000."""
        conf = self.data / "hq.conf"
        lines = conf.read_text().splitlines()
        for key, value in settings.items():
            found = [i for i, l in enumerate(lines) if l.split("=")[0].strip() == key]
            assert found, f"no {key} in hq.conf"
            lines[found[0]] = f"{key} = {value}"
        conf.write_text("\n".join(lines) + "\n")
        return self

    @property
    def db(self):
        return self.data / "hq.db"

    @property
    def cert(self):
        return self.data / "tls" / "cert.pem"

    def start(self):
        assert self.proc is None
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([str(HQ_BIN), "serve", "--data", str(self.data)],
                                     env=self.env(), stdout=log, stderr=log)
        log.close()
        ctx = ssl.create_default_context(cafile=str(self.cert))

        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"beatbook-hq serve exited {self.proc.returncode}:\n"
                                     + self.log_path.read_text(errors="replace"))
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{self.port}/healthz",
                                            context=ctx, timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False
        wait_for(up, timeout=20, what="beatbook-hq serve to answer /healthz")
        return self

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        return rc

    def kill(self):
        return self.stop(signal.SIGKILL)

    def enroll(self, org_unit, label, out):
        self.ok("device", "enroll", "--data", self.data, "--org-unit", org_unit,
                "--label", label, "--out", out)
        doc = json.loads(Path(out).read_text())
        return doc["device"]

    def revoke(self, device, reason="laptop lost"):
        return self.ok("device", "revoke", device, "--data", self.data, "--reason", reason)

    def import_(self, *paths):
        return self.run("import", "--data", self.data, *paths)

    def query(self, sql, params=()):
        return db_query(self.db, sql, params)

    def record_ids(self, device=None):
        """Every record id HQ holds (for one device), as a list (duplicates would show)."""
        if device:
            return [r[0] for r in self.query("SELECT id FROM records WHERE device = ?", (device,))]
        return [r[0] for r in self.query("SELECT id FROM records")]

    def post(self, path, body, content_type="application/vnd.beatbook.batch"):
        """POST raw bytes with Python's own TLS client; returns (status, body bytes)."""
        ctx = ssl.create_default_context(cafile=str(self.cert))
        req = urllib.request.Request(f"https://127.0.0.1:{self.port}{path}", data=body,
                                     method="POST", headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()


class Laptop(Store):
    """A field laptop: an enrolled store plus helpers for beatbook-syncd."""

    def __init__(self, home, officer="A123456"):
        super().__init__(home, officer=officer, org_unit=None)
        self.daemon = None
        self.daemon_log = Path(str(home) + "-syncd.log")

    def init_enrolled(self, enrollment):
        r = run_beatbook(self.home, "init", "--enroll", enrollment, "--officer", self.officer,
                         lang="en")
        assert r.rc == EX_OK, f"init --enroll failed: {r}"
        st = self.status()
        self.device, self.org_unit = st["device"], st["org_unit"]
        return r

    def env(self, extra=None):
        env = no_proxy_env(clean_env(self.home))
        env.update(extra or {})
        return env

    def syncd_cmd(self, *args):
        # English, as every test here reads syncd's words (its default follows LANG,
        # which clean_env removes: zh-TW; test_locale checks that).
        return [str(SYNCD_BIN), "--lang", "en", "--home", str(self.home)] + [str(a) for a in args]

    def syncd(self, *args, env=None, timeout=120):
        """beatbook-syncd --home HOME ARGS; returns a CompletedProcess."""
        return subprocess.run(self.syncd_cmd(*args), env=self.env(env), capture_output=True,
                              text=True, timeout=timeout)

    def sync_once(self, expect=EX_OK, **kw):
        p = self.syncd("--once", **kw)
        assert p.returncode == expect, \
            f"syncd --once: exit {p.returncode}, expected {expect}\n{p.stdout}\n{p.stderr}"
        return p

    def start_daemon(self, *args, env=None):
        assert self.daemon is None
        log = open(self.daemon_log, "ab")
        self.daemon = subprocess.Popen(self.syncd_cmd(*args), env=self.env(env), stdout=log,
                                       stderr=log)
        log.close()
        return self.daemon

    def stop_daemon(self, sig=signal.SIGTERM, timeout=60):
        if self.daemon is None:
            return None
        if self.daemon.poll() is None:
            self.daemon.send_signal(sig)
        try:
            rc = self.daemon.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait()
            raise
        finally:
            self.daemon = None
        return rc

    def daemon_output(self):
        return self.daemon_log.read_text(errors="replace") if self.daemon_log.exists() else ""

    def batches(self):
        """(seq, state, count) of every batch in the outbox."""
        return self.query("SELECT seq, state, count FROM batches ORDER BY seq")

    def acked(self):
        return self.query("SELECT count(*) FROM batches WHERE state = 'acked'")[0][0]

    def outbox(self):
        return self.status()["outbox"]

    def add_many(self, n, noise=0):
        """n criminal_case records in one import.  noise: that many random hex
        characters in each summary, so that batches do not compress to nothing."""
        payload = [{"occurred_at": "2018-03-15T14:20:00+08:00",
                    "data": {"case_no": f"K{i:07d}-{time.monotonic_ns() % 10**9}",
                             "category": "theft", "victims": 1,
                             "summary": "機車失竊 " + os.urandom(noise // 2).hex()}}
                   for i in range(n)]
        kind = "criminal_case"
        r = self.import_json(kind, payload)
        assert r.rc == EX_OK, r
        return r

    def write_config(self, text):
        (self.home / "syncd.conf").write_text(text)


def check_exactly_once(hq, laptops):
    """HQ holds every finalized record of every laptop exactly once, at its latest
    revision, and every revision once; every laptop batch is acknowledged."""
    all_ids = hq.record_ids()
    assert len(all_ids) == len(set(all_ids)), "a record is counted twice at HQ"
    for lp in laptops:
        local = {r[0]: r[1] for r in lp.query(
            "SELECT id, rev FROM records WHERE status != 'draft'")}
        at_hq = {r[0]: r[1] for r in hq.query(
            "SELECT id, rev FROM records WHERE device = ?", (lp.device,))}
        assert at_hq == local, f"{lp.device}: HQ and laptop disagree"
        revs = lp.query("SELECT id, rev FROM revisions ORDER BY id, rev")
        hq_revs = hq.query("SELECT v.id, v.rev FROM revisions v JOIN records r ON r.id = v.id"
                           " WHERE r.device = ? ORDER BY v.id, v.rev", (lp.device,))
        assert hq_revs == revs
        states = {s for _, s, _ in lp.batches()}
        assert states <= {"acked"}, f"{lp.device}: batches not all acknowledged: {lp.batches()}"
        seqs = [r[0] for r in hq.query("SELECT seq FROM batches WHERE device = ? ORDER BY seq",
                                       (lp.device,))]
        assert seqs == [s for s, _, _ in lp.batches()], "HQ's batches differ from the laptop's"


class CuttingProxy:
    """A TCP proxy on loopback in front of HQ that breaks some connections.

    mode "request": the first `cuts` connections that carry more than `after`
    bytes towards HQ are closed right there (midway through a request body).
    mode "response": the client's bytes all reach HQ, but once more than
    `after` bytes went up, HQ's next bytes (its answer) are dropped and the
    connection closed: HQ has merged, the laptop never hears of it.
    mode "delay": like "response", but HQ's answer is held `delay` seconds and
    then delivered; `holding` is set while it is held (a request in flight).
    """

    def __init__(self, target_port, mode="request", after=6000, cuts=3, port=None, delay=0):
        self.target = target_port
        self.mode = mode
        self.delay = delay
        self.holding = threading.Event()
        self.after = after
        self.cuts_left = cuts
        self.cut_count = 0
        self.connections = 0
        self.port = port or free_port()
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(16)
        self.stopped = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _take_cut(self):
        with self.lock:
            if self.cuts_left > 0:
                self.cuts_left -= 1
                self.cut_count += 1
                return True
            return False

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, client):
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target), timeout=30)
        except OSError:
            client.close()
            return
        state = {"up": 0, "cut": False, "armed": None}

        def close_both():
            state["cut"] = True
            for s in (client, upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        def pump(src, dst, upward):
            try:
                while not state["cut"]:
                    data = src.recv(65536)
                    if not data:
                        break
                    if upward:
                        if self.mode == "request" and state["up"] + len(data) > self.after \
                                and state["armed"] is not False:
                            if state["armed"] is None:
                                state["armed"] = self._take_cut()
                            if state["armed"]:
                                dst.sendall(data[:max(0, self.after - state["up"])])
                                close_both()
                                break
                        state["up"] += len(data)
                    elif self.mode in ("response", "delay") and state["up"] > self.after \
                            and state["armed"] is not False:
                        if state["armed"] is None:
                            state["armed"] = self._take_cut()
                        if state["armed"] and self.mode == "delay":
                            state["armed"] = False
                            self.holding.set()
                            time.sleep(self.delay)
                        elif state["armed"]:
                            close_both()
                            break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        t = threading.Thread(target=pump, args=(upstream, client, False), daemon=True)
        t.start()
        pump(client, upstream, True)
        t.join(timeout=60)
        client.close()
        upstream.close()

    def close(self):
        self.stopped = True
        try:
            self.sock.close()
        except OSError:
            pass


class ByteCutProxy:
    """A TCP proxy in front of HQ that cuts the link at given byte offsets of
    everything it carries towards HQ (counted across connections), and counts
    those bytes: `up` is the total that reached HQ.  Each offset in `cuts`
    closes the connection that carries it, after forwarding exactly up to it."""

    def __init__(self, target_port, cuts=(), rate=None):
        self.target = target_port
        self.rate = rate                 # bytes/s towards HQ, or None: as fast as it goes
        self.cuts = sorted(cuts)
        self.up = 0
        self.cut_count = 0
        self.lock = threading.Lock()
        self.port = free_port()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, client):
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target), timeout=60)
        except OSError:
            client.close()
            return
        cut = threading.Event()

        def close_both():
            cut.set()
            for s in (client, upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        def down():
            try:
                while not cut.is_set():
                    d = upstream.recv(65536)
                    if not d:
                        break
                    client.sendall(d)
            except OSError:
                pass
            finally:
                try:
                    client.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        t = threading.Thread(target=down, daemon=True)
        t.start()
        try:
            while not cut.is_set():
                d = client.recv(65536)
                if not d:
                    break
                with self.lock:
                    nxt = self.cuts[0] if self.cuts else None
                    if nxt is not None and self.up + len(d) >= nxt:
                        d = d[:nxt - self.up]
                        self.cuts.pop(0)
                        self.cut_count += 1
                        do_cut = True
                    else:
                        do_cut = False
                    self.up += len(d)
                if d:
                    upstream.sendall(d)
                    if self.rate:
                        time.sleep(len(d) / self.rate)
                if do_cut:
                    close_both()
                    break
        except OSError:
            pass
        finally:
            try:
                upstream.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        t.join(timeout=60)
        client.close()
        upstream.close()

    def arm(self, offsets):
        """Cut at these offsets counted from now (bytes still to go up)."""
        with self.lock:
            self.cuts = sorted(self.up + o for o in offsets)

    def close(self):
        self.sock.close()


class ConnectProxy:
    """A minimal HTTP CONNECT proxy on loopback (what https_proxy points at);
    it records the targets it was asked for."""

    def __init__(self):
        self.port = free_port()
        self.targets = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 8192:
            chunk = c.recv(4096)
            if not chunk:
                c.close()
                return
            head += chunk
        line = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        if len(line) < 2 or line[0] != "CONNECT":
            c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            c.close()
            return
        self.targets.append(line[1])
        host, port = line[1].rsplit(":", 1)
        try:
            up = socket.create_connection((host, int(port)), timeout=30)
        except OSError:
            c.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            c.close()
            return
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

        def pipe(a, b):
            try:
                while True:
                    d = a.recv(65536)
                    if not d:
                        break
                    b.sendall(d)
            except OSError:
                pass
            finally:
                try:
                    b.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
        t = threading.Thread(target=pipe, args=(up, c), daemon=True)
        t.start()
        pipe(c, up)
        t.join(timeout=60)
        c.close()
        up.close()

    def close(self):
        self.sock.close()


# ---- pytest fixtures (import them into a test module to use them) ----

@pytest.fixture
def hq(tmp_path):
    """An initialised and running HQ on a free loopback port."""
    h = HQ(tmp_path / "hq").init().start()
    yield h
    h.stop()


@pytest.fixture
def laptop_factory(tmp_path, hq):
    """make(org_unit, officer=..., hq=...) -> an enrolled Laptop (not yet synced)."""
    made = []

    def make(org_unit="P06-S03", officer="A123456", at=None, label=None):
        at = at or hq
        n = len(made) + 1
        enr = tmp_path / f"enroll-{n}.json"
        at.enroll(org_unit, label or f"{org_unit} laptop {n}", enr)
        lp = Laptop(tmp_path / f"laptop{n}", officer=officer)
        lp.init_enrolled(enr)
        lp.enrollment_file = enr
        made.append(lp)
        return lp
    yield make
    for lp in made:
        if lp.daemon is not None:
            lp.stop_daemon(signal.SIGKILL)


def copy_store(src_home, dst_home):
    """A consistent copy of a laptop's field.db (SQLite backup API) and device.key."""
    dst_home.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(str(src_home / "field.db"))
    dst = sqlite3.connect(str(dst_home / "field.db"))
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    shutil.copy2(src_home / "device.key", dst_home / "device.key")
    os.chmod(dst_home / "device.key", 0o600)
