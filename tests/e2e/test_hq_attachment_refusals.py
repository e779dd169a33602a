"""What HQ refuses of photos and files, and that nothing is half-stored
(docs/PROTOCOL.md "Attachments"): a head no record names, a chunk with a bad
tag, out of range or of the wrong length, a chunk of another device's upload,
a hash collision attempt (a head that names one file's hash over another
file's bytes), a revoked device, malformed requests.  After each refusal the
genuine upload still goes through.

The laptop is real (beatbook add, beatbook export, the records merged by
beatbook-hq import); the hostile requests are made with the device's own key
by tests/tools/hq_make_attachment, and sent over real TLS.
"""
import http.client
import json
import os
import ssl
import subprocess

from conftest import BIN_DIR
from sync_fixtures import hq, laptop_factory, needs_sync  # noqa: F401

pytestmark = needs_sync

MAKE_ATTACHMENT = BIN_DIR.parent / "tests" / "hq_make_attachment"
CT_HEAD = "application/vnd.beatbook.attachment"
CT_CHUNK = "application/octet-stream"
CHUNK = 1024 * 1024


def jpeg(path, size):
    path.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(size - 4))
    return path


def request(hq, method, path, body, ctype, headers=None):
    ctx = ssl.create_default_context(cafile=str(hq.cert))
    conn = http.client.HTTPSConnection("127.0.0.1", hq.port, context=ctx, timeout=30)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": ctype, **(headers or {})})
        r = conn.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)
    finally:
        conn.close()


def announce(hq, method, path, length, ctype, headers=None):
    """Only the headers of a request whose body would be `length` bytes: HQ must
    answer from Content-Length alone, before reading any body."""
    ctx = ssl.create_default_context(cafile=str(hq.cert))
    conn = http.client.HTTPSConnection("127.0.0.1", hq.port, context=ctx, timeout=30)
    try:
        conn.putrequest(method, path)
        for k, v in {"Content-Type": ctype, "Content-Length": str(length),
                     **(headers or {})}.items():
            conn.putheader(k, v)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"null")
    finally:
        conn.close()


class Sealed:
    """A .bba made with a laptop's own key: its head and chunks."""

    def __init__(self, lp, file, out, claim=None):
        hq_pub = lp.query("SELECT hq_x25519 FROM enrollment")[0][0]
        args = [str(MAKE_ATTACHMENT), str(lp.home / "device.key"), hq_pub, lp.device, str(file),
                str(out)] + (["--claim", str(claim)] if claim else [])
        p = subprocess.run(args, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        self.info = json.loads(p.stdout)
        self.sha = self.info["sha256"]
        self.device = lp.device
        data = out.read_bytes()
        n = self.info["head_len"]
        self.head = data[:n]
        self.chunks = []
        off = n
        for i in range(self.info["chunks"]):
            size = min(CHUNK, self.info["size"] - i * CHUNK) + 16
            self.chunks.append(data[off:off + size])
            off += size

    def post_head(self, hq, body=None):
        return request(hq, "POST", "/v1/attachments", self.head if body is None else body,
                       CT_HEAD)

    def put(self, hq, i, body=None, device=None):
        return request(hq, "PUT", f"/v1/attachments/{self.sha}/{i}",
                       self.chunks[i] if body is None else body, CT_CHUNK,
                       {"X-Beatbook-Device": device or self.device})


def named_at_hq(hq, lp, tmp_path, *files):
    """A record naming files, merged at HQ by a stick with only its batch."""
    lp.add("traffic_accident", "class=a3", "deaths=0", "injuries=0",
           *[f"photos=@{f}" for f in files])
    stick = tmp_path / f"stick-{lp.device}"
    stick.mkdir()
    lp.ok("export", "--to", stick)
    r = hq.import_(*sorted(stick.glob("*.bbatch")), *stick.glob("*.register.json"))
    assert r.returncode == 0, r.stdout + r.stderr


def nothing_stored(hq, sha):
    assert hq.query("SELECT count(*) FROM attachments WHERE sha256 = ?", (sha,)) == [(0,)]
    assert not (hq.data / "attachments" / sha[:2] / sha).exists()


def test_a_head_no_record_names_is_refused(hq, laptop_factory, tmp_path):
    lp = laptop_factory()
    named_at_hq(hq, lp, tmp_path, jpeg(tmp_path / "named.jpg", 5000))
    other = Sealed(lp, jpeg(tmp_path / "other.jpg", 5000), tmp_path / "o.bba")
    status, doc = other.post_head(hq)
    assert (status, doc["error"]) == (409, "not_named")
    assert "send its batch first" in doc["message"]
    assert hq.query("SELECT count(*) FROM attachment_uploads") == [(0,)]
    # Its chunk has no upload to go to.
    status, doc = other.put(hq, 0)
    assert (status, doc["error"]) == (404, "no_upload")
    nothing_stored(hq, other.sha)


def test_bad_chunks_are_refused_and_nothing_is_written(hq, laptop_factory, tmp_path):
    lp = laptop_factory()
    f = jpeg(tmp_path / "p.jpg", 2 * CHUNK + 100)
    named_at_hq(hq, lp, tmp_path, f)
    s = Sealed(lp, f, tmp_path / "p.bba")
    status, doc = s.post_head(hq)
    assert status == 200 and doc == {"state": "partial", "chunks": 3, "have": []}
    bad = bytearray(s.chunks[0])
    bad[100] ^= 1
    status, doc = s.put(hq, 0, bytes(bad))
    assert (status, doc["error"]) == (400, "bad_chunk")
    status, doc = s.put(hq, 1, s.chunks[0])             # chunk 0's bytes at index 1
    assert (status, doc["error"]) == (400, "bad_chunk")
    status, doc = s.put(hq, 3, s.chunks[2])
    assert (status, doc["error"]) == (416, "out_of_range")
    status, doc = s.put(hq, 2, s.chunks[2][:-1])
    assert (status, doc["error"]) == (400, "bad_length")
    status, doc = s.put(hq, 2, s.chunks[2] + b"x")
    assert (status, doc["error"]) == (400, "bad_length")
    assert hq.query("SELECT count(*) FROM attachment_chunks") == [(0,)]
    partial = hq.data / "attachments" / "partial" / f"{lp.device}.{s.sha}"
    assert not partial.exists() or partial.stat().st_size == 0
    # The genuine chunks, in any order, complete it; a chunk sent twice is held once.
    assert s.put(hq, 2)[0] == 200
    status, doc = s.put(hq, 2)
    assert status == 200 and doc["have"] == [[2, 3]]
    assert s.put(hq, 0)[0] == 200
    status, receipt = s.put(hq, 1)
    assert status == 201 and receipt["attachment"] == s.sha and receipt["state"] == "stored"
    assert (hq.data / "attachments" / s.sha[:2] / s.sha).read_bytes() == f.read_bytes()
    assert not partial.exists()
    # The head again: HQ holds it, the same signed receipt comes back.
    status, again = s.post_head(hq)
    assert status == 200 and again == receipt


def test_a_chunk_of_another_devices_upload_does_not_land(hq, laptop_factory, tmp_path):
    one, two = laptop_factory("P06-S03"), laptop_factory("P06-S01")
    f1, f2 = jpeg(tmp_path / "a.jpg", 30_000), jpeg(tmp_path / "b.jpg", 30_000)
    named_at_hq(hq, one, tmp_path, f1)
    named_at_hq(hq, two, tmp_path, f2)
    s1 = Sealed(one, f1, tmp_path / "a.bba")
    s2 = Sealed(two, f2, tmp_path / "b.bba")
    assert s1.post_head(hq)[0] == 200 and s2.post_head(hq)[0] == 200
    # Two's chunk under one's name and file: it does not authenticate under one's head.
    status, doc = request(hq, "PUT", f"/v1/attachments/{s1.sha}/0", s2.chunks[0], CT_CHUNK,
                          {"X-Beatbook-Device": one.device})
    assert (status, doc["error"]) == (400, "bad_chunk")
    # One's chunk claimed by two: two has no upload of one's file.
    status, doc = s1.put(hq, 0, device=two.device)
    assert (status, doc["error"]) == (404, "no_upload")
    nothing_stored(hq, s1.sha)
    assert s1.put(hq, 0)[0] == 201 and s2.put(hq, 0)[0] == 201


def test_a_hash_collision_attempt_is_discarded(hq, laptop_factory, tmp_path):
    """A head naming the hash of the file its record names, over other bytes of the
    same size: every chunk authenticates, the whole does not hash right: 422."""
    lp = laptop_factory()
    real = jpeg(tmp_path / "real.jpg", CHUNK + 10)
    fake = jpeg(tmp_path / "fake.jpg", CHUNK + 10)
    named_at_hq(hq, lp, tmp_path, real)
    forged = Sealed(lp, fake, tmp_path / "forged.bba", claim=real)
    assert forged.post_head(hq)[0] == 200
    assert forged.put(hq, 0)[0] == 200
    status, doc = forged.put(hq, 1)
    assert (status, doc["error"]) == (422, "hash_mismatch")
    nothing_stored(hq, forged.sha)
    assert hq.query("SELECT count(*) FROM attachment_uploads") == [(0,)]
    assert not (hq.data / "attachments" / "partial" / f"{lp.device}.{forged.sha}").exists()
    # The genuine file still goes, and its bytes are the real ones.
    lp.sync_once()
    assert (hq.data / "attachments" / forged.sha[:2] / forged.sha).read_bytes() == \
        real.read_bytes()


def test_a_revoked_device_stores_no_file(hq, laptop_factory, tmp_path):
    lp = laptop_factory()
    f = jpeg(tmp_path / "p.jpg", 40_000)
    named_at_hq(hq, lp, tmp_path, f)
    s = Sealed(lp, f, tmp_path / "p.bba")
    assert s.post_head(hq)[0] == 200            # an upload begun before the revocation
    hq.revoke(lp.device)
    status, doc = s.post_head(hq)
    assert (status, doc["error"]) == (403, "device_revoked")
    status, doc = s.put(hq, 0)
    assert (status, doc["error"]) == (403, "device_revoked")
    nothing_stored(hq, s.sha)
    assert hq.query("SELECT count(*) FROM attachment_uploads") == [(0,)]
    assert hq.query("SELECT count(*) FROM attachment_chunks") == [(0,)]


def test_malformed_requests(hq, laptop_factory, tmp_path):
    lp = laptop_factory()
    f = jpeg(tmp_path / "p.jpg", 20_000)
    named_at_hq(hq, lp, tmp_path, f)
    s = Sealed(lp, f, tmp_path / "p.bba")
    status, doc = announce(hq, "POST", "/v1/attachments", len(s.head), "application/json")
    assert (status, doc["error"]) == (415, "unsupported_media_type")
    status, doc = s.post_head(hq, s.head + s.chunks[0][:100])   # a head with bytes after it
    assert (status, doc["error"]) == (400, "malformed_attachment")
    status, doc = s.post_head(hq, b"")
    assert (status, doc["error"]) == (400, "empty_body")
    status, doc = announce(hq, "POST", "/v1/attachments", 5000, CT_HEAD)
    assert (status, doc["error"]) == (413, "too_large")
    tampered = bytearray(s.head)
    tampered[-10] ^= 1                                      # in the signature
    status, doc = s.post_head(hq, bytes(tampered))
    assert (status, doc["error"]) == (401, "bad_signature")
    # Refused from the headers alone, before any body is read.
    n = len(s.chunks[0])
    status, doc = announce(hq, "PUT", f"/v1/attachments/{s.sha}/0", n, CT_CHUNK)
    assert (status, doc["error"]) == (400, "bad_request")       # no X-Beatbook-Device
    dev = {"X-Beatbook-Device": lp.device}
    status, doc = announce(hq, "PUT", f"/v1/attachments/{s.sha.upper()}/0", n, CT_CHUNK, dev)
    assert (status, doc["error"]) == (400, "bad_request")
    status, doc = announce(hq, "PUT", f"/v1/attachments/{s.sha}/x", n, CT_CHUNK, dev)
    assert (status, doc["error"]) == (404, "not_found")
    status, doc = announce(hq, "POST", f"/v1/attachments/{s.sha}/0", n, CT_CHUNK, dev)
    assert (status, doc["error"]) == (405, "method_not_allowed")
    status, doc = announce(hq, "PUT", f"/v1/attachments/{s.sha}/0", n, "text/plain", dev)
    assert (status, doc["error"]) == (415, "unsupported_media_type")
    status, doc = announce(hq, "PUT", f"/v1/attachments/{s.sha}/0", CHUNK + 17, CT_CHUNK,
                           {"X-Beatbook-Device": lp.device})
    assert (status, doc["error"]) == (413, "too_large")
    nothing_stored(hq, s.sha)
    # And then the real thing.
    assert s.post_head(hq)[0] == 200 and s.put(hq, 0)[0] == 201
