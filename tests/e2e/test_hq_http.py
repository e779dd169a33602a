"""beatbook-hq serve over real TLS: /healthz, malformed HTTP of every kind, size caps,
registration, rate limit, the concurrency cap, and SIGTERM.  Whatever a client sends,
the server answers with JSON and a 4xx and goes on answering /healthz."""
import json
import signal
import ssl
import socket
import subprocess
import time

import pytest

from hq_fixtures import (CT_BATCH, CT_JSON, HQ, HQ_BIN, Device, device, hq, hq_data, hq_env,
                         needs_hq, registered, response_complete, spki_pin, wait_for)

assert hq and hq_data and device and registered   # fixtures, used by name

pytestmark = needs_hq


def error_of(body):
    doc = json.loads(body)
    assert set(doc) == {"error", "message"} and doc["message"], doc
    return doc["error"]


def test_healthz_over_verified_tls_with_the_pinned_key(hq):
    status, headers, body = hq.request("GET", "/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert headers["content-type"] == "application/json"
    # The certificate verifies for 127.0.0.1 and localhost, and its key is the pin.
    for host in ("127.0.0.1", "localhost"):
        with socket.create_connection(("127.0.0.1", hq.port), timeout=10) as raw:
            with hq.ssl_context().wrap_socket(raw, server_hostname=host) as s:
                assert spki_pin(s.getpeercert(binary_form=True)) == hq.init_out["tls_pin"]
    # A client that does not trust the certificate is refused.
    with pytest.raises(ssl.SSLCertVerificationError):
        with socket.create_connection(("127.0.0.1", hq.port), timeout=10) as raw:
            ssl.create_default_context().wrap_socket(raw, server_hostname="127.0.0.1")


@pytest.mark.parametrize("method, path, ctype, body, status, code", [
    ("POST", "/healthz", None, b"", 405, "method_not_allowed"),
    ("DELETE", "/healthz", None, None, 405, "method_not_allowed"),
    ("GET", "/v1/batches", None, None, 405, "method_not_allowed"),
    ("PUT", "/v1/devices/register", CT_JSON, b"{}", 405, "method_not_allowed"),
    ("GET", "/", None, None, 404, "not_found"),
    ("GET", "/v1/nothing/here?x=1", None, None, 404, "not_found"),
    ("POST", "/v1/batchesX", CT_BATCH, b"x", 404, "not_found"),
    ("POST", "/v1/batches", "text/plain", b"BBATCH", 415, "unsupported_media_type"),
    ("POST", "/v1/batches", None, b"BBATCH", 415, "unsupported_media_type"),
    ("POST", "/v1/devices/register", "application/x-www-form-urlencoded", b"a=b", 415,
     "unsupported_media_type"),
    ("POST", "/v1/batches", CT_BATCH, b"", 400, "empty_body"),
    ("POST", "/v1/batches", CT_BATCH, b"garbage, not a batch", 400, "malformed_batch"),
    ("POST", "/v1/batches", CT_BATCH, b"BBATCH\r\n" + bytes(200), 400, "malformed_batch"),
    ("POST", "/v1/batches", CT_BATCH, bytes(range(256)) * 40, 400, "malformed_batch"),
    ("POST", "/v1/devices/register", CT_JSON, b"{not json", 400, "malformed"),
    ("POST", "/v1/devices/register", CT_JSON, b"[1,2]", 400, "malformed"),
    ("POST", "/v1/devices/register", CT_JSON + "; charset=utf-8", b'{"v":1}', 400, "malformed"),
    ("POST", "/v1/devices/register", CT_JSON, b"", 400, "empty_body"),
])
def test_bad_requests_get_json_errors_and_the_server_survives(hq, method, path, ctype, body,
                                                              status, code):
    got, headers, answer = hq.request(method, path, body, ctype)
    assert got == status, answer
    assert error_of(answer) == code
    if status == 405:
        assert headers["allow"] in ("GET, HEAD", "POST")
    assert hq.healthy()


def test_huge_content_length_is_413_before_reading(hq):
    out = hq.raw(b"POST /v1/batches HTTP/1.1\r\nHost: hq\r\nContent-Type: " + CT_BATCH.encode()
                 + b"\r\nContent-Length: 1000000000000\r\n\r\n")
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), out[:200]
    assert error_of(body) == "too_large"
    out = hq.raw(b"POST /v1/devices/register HTTP/1.1\r\nHost: hq\r\nContent-Type: "
                 b"application/json\r\nContent-Length: 70000\r\n\r\n{")
    assert out.startswith(b"HTTP/1.1 413"), out[:200]
    assert hq.healthy()


def chunked(total, size=1000):
    parts, sent = [], 0
    while sent < total:
        n = min(size, total - sent)
        parts.append(b"%x\r\n" % n + b"a" * n + b"\r\n")
        sent += n
    return b"".join(parts) + b"0\r\n\r\n"


def test_chunked_bodies_are_counted_as_they_arrive(hq_data):
    hq_data.set_conf(max_batch_bytes=4096)
    hq_data.start()
    try:
        head = (b"POST /v1/batches HTTP/1.1\r\nHost: hq\r\nContent-Type: " + CT_BATCH.encode()
                + b"\r\nTransfer-Encoding: chunked\r\n\r\n")
        # Just over the cap: read to the end, then 413.
        out = hq_data.raw(head + chunked(6000))
        assert out.startswith(b"HTTP/1.1 413"), out[:200]
        assert error_of(out.partition(b"\r\n\r\n")[2]) == "too_large"
        # Far over it: the connection is dropped without reading it all.
        t0 = time.monotonic()
        out = hq_data.raw(head + chunked(8_000_000, 60000))
        assert b"201" not in out[:20]
        assert time.monotonic() - t0 < 30
        # Under the cap, the body is read and judged: garbage is 400.
        out = hq_data.raw(head + chunked(3000))
        assert out.startswith(b"HTTP/1.1 400"), out[:200]
        assert hq_data.healthy()
        assert "status=413" in hq_data.log()
    finally:
        assert hq_data.stop() == 0


def test_garbage_http_never_crashes_the_server(hq):
    for junk in [b"GARBAGE\r\n\r\n", b"\x00" * 5000, b"GET / HTTP/9.9\r\n\r\n",
                 b"POST /v1/batches HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                 b"POST /v1/batches HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n",
                 b"GET /healthz HTTP/1.1\r\n" + b"X-Long: " + b"a" * 100000 + b"\r\n\r\n",
                 b"POST /v1/batches HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                 b"Content-Type: " + CT_BATCH.encode() + b"\r\n\r\nzzzz\r\n"]:
        hq.raw(junk, timeout=2)
        assert hq.alive(), hq.log()
    # A client that speaks no TLS at all.
    with socket.create_connection(("127.0.0.1", hq.port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\n\r\n")
        try:
            s.recv(100)
        except OSError:
            pass
    # Connections that open and go away.
    for _ in range(20):
        socket.create_connection(("127.0.0.1", hq.port), timeout=10).close()
    assert hq.healthy()


def test_unknown_device_in_a_well_formed_batch_is_401(hq, device, tmp_path):
    b = device.seal(1, device="d-00000000deadbeef")
    status, _, body = hq.post_batch(b["bytes"])
    assert status == 401 and error_of(body) == "unknown_device"
    # Enrolled but not registered: 401 too, with its own reason.
    b = device.seal(1)
    status, _, body = hq.post_batch(b["bytes"])
    assert status == 401 and error_of(body) == "not_registered"
    assert hq.count("batches") == 0 and hq.count("records") == 0
    assert hq.healthy()


def test_registration(hq, device, tmp_path):
    reg = device.registration()
    # A wrong token, properly signed.
    status, _, body = hq.register(device.registration(token="0" * 64))
    assert status == 401 and error_of(body) == "bad_token"
    # A token that is not 64 hex characters.
    status, _, body = hq.register(device.registration(token="abc"))
    assert status == 400 and error_of(body) == "malformed"
    # The right token, but changed after signing.
    doc = json.loads(reg)
    doc["token"] = "1" * 64
    status, _, body = hq.register(json.dumps(doc))
    assert status == 401 and error_of(body) == "bad_signature"
    # Members that are not the registration's.
    doc = json.loads(reg)
    doc["extra"] = 1
    status, _, body = hq.register(json.dumps(doc))
    assert status == 400 and error_of(body) == "malformed"
    # A signature that does not match (a byte of it changed).
    doc = json.loads(reg)
    doc["sig"] = ("A" if doc["sig"][0] != "A" else "B") + doc["sig"][1:]
    status, _, body = hq.register(json.dumps(doc))
    assert status == 401 and error_of(body) == "bad_signature"
    # An unknown device.
    status, _, body = hq.register(device.registration(device="d-1111111111111111"))
    assert status == 401 and error_of(body) == "unknown_device"
    assert hq.query("SELECT status FROM devices") == [("pending",)]
    # The real one: 201 and a signed answer; again: 200 and the same answer.
    status, _, first = hq.register(reg)
    assert status == 201, first
    answer = json.loads(first)
    assert set(answer) == {"v", "device", "device_key", "org_unit", "registered_at",
                           "hq_sign_key", "sig"}
    assert (answer["device"], answer["device_key"], answer["org_unit"]) == \
        (device.id, device.key_id, "P06-S03")
    assert answer["hq_sign_key"] == hq.init_out["hq_sign_key"]
    status, _, again = hq.register(reg)
    assert (status, again) == (200, first)
    assert hq.query("SELECT status, device_key, token_used_at IS NOT NULL FROM devices") == \
        [("active", device.key_id, 1)]
    # The same enrollment with another key: 409.
    other = Device(tmp_path / "dev1", device.enrollment_path, key_name="other.key")
    status, _, body = hq.register(other.registration())
    assert status == 409 and error_of(body) == "already_registered"
    # The token never reaches the log.
    assert device.enrollment["token"] not in hq.log()


def test_expired_token_and_revoked_device_cannot_register(hq, tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    hq.enroll(folder / "e.json", "P06-S03", "late", "--expires-days", "1")
    dev = Device(folder, folder / "e.json")
    # Make the token old (HQ compares its expiry with its own clock).
    import sqlite3
    con = sqlite3.connect(hq.db)
    con.execute("UPDATE devices SET token_expires = 1000 WHERE id = ?", (dev.id,))
    con.commit()
    con.close()
    status, _, body = hq.register(dev.registration())
    assert status == 401 and error_of(body) == "token_expired"
    hq.ok("device", "revoke", dev.id, "--reason", "never arrived")
    status, _, body = hq.register(dev.registration())
    assert status == 403 and error_of(body) == "device_revoked"


def test_rate_limit_per_device_429_with_retry_after(hq_data, device):
    hq_data.set_conf(rate_burst=3, rate_per_sec=0.05)
    hq_data.start()
    try:
        assert hq_data.register(device.registration())[0] == 201
        b = device.seal(1)
        got = [hq_data.post_batch(b["bytes"]) for _ in range(5)]
        assert [g[0] for g in got[:3]] == [201, 201, 201]
        assert [g[0] for g in got[3:]] == [429, 429]
        assert error_of(got[3][2]) == "rate_limited"
        assert int(got[3][1]["retry-after"]) >= 1
        assert hq_data.count("batches") == 1
        assert hq_data.healthy()
    finally:
        assert hq_data.stop() == 0


def slow_upload(hq, data, first):
    """Open a POST /v1/batches and send only `first` bytes of its body."""
    raw = socket.create_connection(("127.0.0.1", hq.port), timeout=30)
    s = hq.ssl_context().wrap_socket(raw, server_hostname="127.0.0.1")
    s.sendall(b"POST /v1/batches HTTP/1.1\r\nHost: hq\r\nContent-Type: " + CT_BATCH.encode()
              + b"\r\nContent-Length: %d\r\n\r\n" % len(data) + data[:first])
    return s


def read_all(s):
    out = b""
    while not response_complete(out):
        try:
            d = s.recv(65536)
        except OSError:
            break
        if not d:
            break
        out += d
    return out


def test_too_many_concurrent_ingests_503_with_retry_after(hq_data, device):
    hq_data.set_conf(max_ingests=1)
    hq_data.start()
    try:
        assert hq_data.register(device.registration())[0] == 201
        b1 = device.seal(1)
        slow = slow_upload(hq_data, b1["bytes"], 10)     # holds the only ingest slot
        time.sleep(0.3)
        b2 = device.seal(2, prev_file=b1["path"])
        status, headers, body = hq_data.post_batch(b2["bytes"])
        assert status == 503 and error_of(body) == "busy"
        assert int(headers["retry-after"]) >= 1
        slow.sendall(b1["bytes"][10:])
        out = read_all(slow)
        slow.close()
        assert out.startswith(b"HTTP/1.1 201"), out[:200]
        assert hq_data.post_batch(b2["bytes"])[0] == 201
        assert hq_data.count("batches") == 2
    finally:
        assert hq_data.stop() == 0


def test_sigterm_finishes_the_request_in_progress_and_exits_0(hq_data, device):
    hq_data.start()
    assert hq_data.register(device.registration())[0] == 201
    b = device.seal(1, count=20)
    slow = slow_upload(hq_data, b["bytes"], 100)
    time.sleep(0.3)
    hq_data.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert hq_data.alive(), "the server left before finishing the request in progress"
    # New connections are no longer accepted ...
    with pytest.raises(OSError):
        c = hq_data.connect(timeout=3)
        c.request("GET", "/healthz")
        c.getresponse()
    # ... but the one in progress is answered, and merged.
    slow.sendall(b["bytes"][100:])
    out = read_all(slow)
    slow.close()
    assert out.startswith(b"HTTP/1.1 201"), out[:300]
    assert hq_data.proc.wait(timeout=30) == 0
    hq_data.proc = None
    assert hq_data.count("records") == 20
    assert "SIGTERM" in hq_data.log() and "stopped" in hq_data.log()


def test_sigint_exits_0_and_a_second_server_is_refused(hq):
    p = subprocess.run([str(HQ_BIN), "serve", "--listen", "127.0.0.1:0"], env=hq_env(hq.data),
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 75 and "another beatbook-hq serve" in p.stderr
    assert hq.stop(signal.SIGINT) == 0


def test_request_log_has_one_line_per_request_and_no_secrets(hq, device):
    reg = device.registration()
    assert hq.register(reg)[0] == 201
    b = device.seal(1, count=4)
    assert hq.post_batch(b["bytes"])[0] == 201
    hq.request("GET", "/nowhere")
    wait_for(lambda: "path=/nowhere" in hq.log(), what="the log line")
    log = hq.log()
    line = [ln for ln in log.splitlines() if "path=/v1/batches" in ln][-1]
    for part in ("method=POST", "status=201", f"device={device.id}", "seq=1", "records=4", "ms="):
        assert part in line, line
    assert "status=404" in log
    assert device.enrollment["token"] not in log
    assert json.loads(reg)["sig"] not in log
    assert "PRIVATE KEY" not in log
