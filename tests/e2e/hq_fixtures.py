"""Helpers for the end-to-end tests of `beatbook-hq` on its own.

A real `beatbook-hq serve` runs on 127.0.0.1 (port 0: it picks a free port and
says which in its log) with real TLS; Python's ssl trusts the self-signed
certificate that `beatbook-hq init` made and checks the host name against it.
The device side comes from build/tests/hq_make_batch (tests/tools/hq_make_batch.c):
a device key, a registration signed with it, and sealed batches of synthetic or
given records.  hq.db is read with sqlite3, read-only.

Import the fixtures into a test module to use them (`from hq_fixtures import hq`).
"""
import base64
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BIN_DIR

HQ_BIN = BIN_DIR / "beatbook-hq"
MAKE_BATCH = BIN_DIR.parent / "tests" / "hq_make_batch"

EX_OK = 0
EX_USAGE = 64
EX_DATAERR = 65
EX_NOINPUT = 66
EX_CANTCREAT = 73
EX_CONFIG = 78

CT_BATCH = "application/vnd.beatbook.batch"
CT_JSON = "application/json"
ZEROS = "0" * 64

needs_hq = pytest.mark.skipif(
    not (HQ_BIN.is_file() and MAKE_BATCH.is_file()),
    reason=f"beatbook-hq and hq_make_batch must be built ({HQ_BIN}, {MAKE_BATCH})")


def hq_env(data=None, extra=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BEATBOOK_") and k.lower() not in ("https_proxy", "http_proxy")}
    if data is not None:
        env["BEATBOOK_HQ_DATA"] = str(data)
    if extra:
        env.update(extra)
    return env


def run_hq(*args, env=None, timeout=60):
    p = subprocess.run([str(HQ_BIN)] + [str(a) for a in args], env=env or hq_env(),
                       capture_output=True, text=True, timeout=timeout)
    return p


def run_tool(*args, timeout=60):
    return subprocess.run([str(MAKE_BATCH)] + [str(a) for a in args], capture_output=True,
                          text=True, timeout=timeout)


def wait_for(cond, timeout=20.0, step=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# ---- DER, just enough to find a certificate's SubjectPublicKeyInfo ----

def _der_tlv(buf, pos):
    """(tag, start of value, end of value) of the DER element at pos."""
    tag = buf[pos]
    length = buf[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(buf[pos:pos + n], "big")
        pos += n
    return tag, pos, pos + length


def spki_pin(cert_der):
    """curl's pin of a certificate: sha256// + base64(SHA-256(SubjectPublicKeyInfo DER))."""
    _, cert_v, _ = _der_tlv(cert_der, 0)            # Certificate
    _, pos, _ = _der_tlv(cert_der, cert_v)          # tbsCertificate
    start = pos
    if cert_der[pos] == 0xA0:                       # [0] version
        pos = _der_tlv(cert_der, pos)[2]
    for _ in range(5):                              # serial, signature, issuer, validity, subject
        pos = _der_tlv(cert_der, pos)[2]
    assert pos > start
    end = _der_tlv(cert_der, pos)[2]
    return "sha256//" + base64.b64encode(hashlib.sha256(cert_der[pos:end]).digest()).decode()


def pem_to_der(pem):
    body = "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))
    return base64.b64decode(body)


def response_complete(data):
    """Whether data holds a whole HTTP response with a Content-Length body."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip() or 0)
    return False


class HQ:
    """One data folder and, when started, its `beatbook-hq serve`."""

    def __init__(self, data):
        self.data = Path(data)
        self.proc = None
        self.port = None
        self.log_path = self.data.parent / f"{self.data.name}-serve.log"
        self.init_out = None

    # -- CLI
    def run(self, *args, **kw):
        return run_hq(*args, env=hq_env(self.data), **kw)

    def ok(self, *args, **kw):
        p = self.run(*args, **kw)
        assert p.returncode == EX_OK, \
            f"beatbook-hq {' '.join(map(str, args))}: exit {p.returncode}\n{p.stdout}\n{p.stderr}"
        return p

    def init(self, *extra):
        p = self.ok("init", "--data", self.data, "--listen", "127.0.0.1:0",
                    "--url", "https://127.0.0.1:8443", "--json", *extra)
        self.init_out = json.loads(p.stdout)
        return self

    def set_conf(self, **settings):
        """Change settings in hq.conf (before start)."""
        conf = self.data / "hq.conf"
        lines = conf.read_text().splitlines()
        for key, value in settings.items():
            lines = [ln for ln in lines if not ln.startswith(f"{key} ")]
            lines.append(f"{key} = {value}")
        conf.write_text("\n".join(lines) + "\n")

    @property
    def db(self):
        return self.data / "hq.db"

    @property
    def cert(self):
        return self.data / "tls" / "cert.pem"

    def enroll(self, out, org_unit="P06-S03", label="P06-S03 laptop 1", *extra):
        self.ok("device", "enroll", "--org-unit", org_unit, "--label", label, "--out", out,
                *extra)
        return json.loads(Path(out).read_text())

    # -- server
    def start(self, *extra):
        assert self.proc is None
        log = open(self.log_path, "ab")
        start = self.log_path.stat().st_size
        self.proc = subprocess.Popen([str(HQ_BIN), "serve", *map(str, extra)],
                                     env=hq_env(self.data), stdout=log, stderr=log)
        log.close()

        def listening():
            if self.proc.poll() is not None:
                raise AssertionError(f"beatbook-hq serve exited {self.proc.returncode}:\n"
                                     + self.log())
            m = re.search(r"listening on https://127\.0\.0\.1:(\d+)",
                          self.log_path.read_bytes()[start:].decode(errors="replace"))
            return m and int(m.group(1))
        self.port = wait_for(listening, what="beatbook-hq serve to listen")
        return self

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            self.proc = None
        return rc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def ssl_context(self):
        return ssl.create_default_context(cafile=str(self.cert))

    def connect(self, timeout=30):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ssl_context(),
                                           timeout=timeout)

    def request(self, method, path, body=None, content_type=None, headers=None):
        """One request on a new connection: (status, headers dict, body bytes)."""
        h = dict(headers or {})
        if content_type:
            h["Content-Type"] = content_type
        c = self.connect()
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def post_batch(self, data):
        return self.request("POST", "/v1/batches", data, CT_BATCH)

    def register(self, doc_text):
        return self.request("POST", "/v1/devices/register", doc_text.encode(), CT_JSON)

    def raw(self, data, timeout=10):
        """Send raw bytes over TLS; read one whole answer (or until the server closes or
        goes quiet for `timeout` seconds); returns the bytes."""
        s = self.ssl_context().wrap_socket(
            socket.create_connection(("127.0.0.1", self.port), timeout=timeout),
            server_hostname="127.0.0.1")
        try:
            try:
                s.sendall(data)
            except OSError:
                pass
            out = b""
            while True:
                try:
                    d = s.recv(65536)
                except (OSError, ssl.SSLError):
                    break
                if not d:
                    break
                out += d
                if response_complete(out):
                    break
            return out
        finally:
            s.close()

    def healthy(self):
        status, _, body = self.request("GET", "/healthz")
        return status == 200 and json.loads(body) == {"status": "ok"}

    # -- the store, read-only
    def query(self, sql, params=()):
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def count(self, table, where="1", params=()):
        return self.query(f"SELECT count(*) FROM {table} WHERE {where}", params)[0][0]


class Device:
    """A laptop as far as HQ can tell: its enrollment file and its key."""

    def __init__(self, folder, enrollment_path, key_name="device.key"):
        self.folder = Path(folder)
        self.enrollment_path = Path(enrollment_path)
        self.enrollment = json.loads(self.enrollment_path.read_text())
        self.id = self.enrollment["device"]
        self.key = self.folder / key_name
        p = run_tool("key", self.key)
        assert p.returncode == 0, p.stderr
        self.key_id = json.loads(p.stdout)["device_key"]
        self.n = 0

    def registration(self, token=None, device=None):
        """The signed registration; token/device put other values in it, still signed."""
        extra = (["--token", token] if token else []) + (["--device", device] if device else [])
        p = run_tool("register", self.enrollment_path, self.key, *extra)
        assert p.returncode == 0, p.stderr
        return p.stdout.strip()

    def seal(self, seq, prev=None, prev_file=None, count=3, records=None, key=None,
             org_unit=None, device=None, name=None):
        """Seal a batch to a file; returns the tool's description plus the bytes."""
        self.n += 1
        out = self.folder / (name or f"{self.id}-{seq:06d}-{self.n}.bbatch")
        args = ["seal", self.enrollment_path, key or self.key, "--seq", seq, "--out", out,
                "--count", count]
        if prev_file:
            args += ["--prev-file", prev_file]
        elif prev:
            args += ["--prev", prev]
        if records is not None:
            rec_file = self.folder / f"records-{self.n}.json"
            rec_file.write_text(json.dumps(records, ensure_ascii=False))
            args += ["--records", rec_file]
        if org_unit:
            args += ["--org-unit", org_unit]
        if device:
            args += ["--device", device]
        p = run_tool(*args)
        assert p.returncode == 0, p.stderr
        desc = json.loads(p.stdout)
        desc["path"] = out
        desc["bytes"] = out.read_bytes()
        return desc


def record(device, rid, rev=1, org_unit="P06-S03", status="final", **data):
    """A valid parking citation (or one with changed fields, for tests)."""
    body = {"method": "stop", "source": "police", "major": True, "violation": "red_line"}
    body.update(data)
    r = {"id": rid, "kind": "parking_citation", "rev": rev, "status": status, "device": device,
         "officer": "A123456", "org_unit": org_unit,
         "occurred_at": "2018-03-15T14:20:00+08:00", "recorded_at": "2018-03-15T14:21:07+08:00",
         "data": body}
    if status == "void":
        r["void_reason"] = "entered twice"
    return r


def new_uuid7(n=0):
    """A UUIDv7-shaped id, unique per call."""
    ms = int(time.time() * 1000)
    rand = os.urandom(10)
    h = f"{ms:012x}" + "7" + rand[:2].hex()[1:] + "8" + rand[2:10].hex()[1:]
    h = h[:32]
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


# ---- fixtures ---------------------------------------------------------------

@pytest.fixture
def hq_data(tmp_path):
    """An initialised data folder, not serving."""
    return HQ(tmp_path / "hq").init()


@pytest.fixture
def hq(hq_data):
    """An initialised HQ, serving on a free loopback port; stopped (SIGTERM) after."""
    hq_data.start()
    yield hq_data
    if hq_data.alive():
        assert hq_data.stop() == 0, hq_data.log()


@pytest.fixture
def device(hq_data, tmp_path):
    """An enrolled (not yet registered) device of P06-S03 with its key."""
    folder = tmp_path / "dev1"
    folder.mkdir()
    hq_data.enroll(folder / "enroll.json")
    return Device(folder, folder / "enroll.json")


@pytest.fixture
def registered(hq, device):
    """The device, registered with the running HQ."""
    status, _, body = hq.register(device.registration())
    assert status == 201, body
    return device
