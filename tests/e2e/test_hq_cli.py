"""beatbook-hq's admin commands: init, serve --check-config, device enroll/list/revoke,
batches — files, modes, key ids, the TLS pin, and every kind of bad argument."""
import base64
import json
import os
import stat

import pytest

from hq_fixtures import (EX_CANTCREAT, EX_CONFIG, EX_DATAERR, EX_NOINPUT, EX_OK, EX_USAGE, HQ,
                         Device, hq_data, hq_env, needs_hq, pem_to_der, run_hq, run_tool,
                         spki_pin)

assert hq_data   # a fixture, used by name

pytestmark = needs_hq


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def snapshot(folder):
    """Every file under folder with its bytes (to show that nothing changed)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_help_and_version():
    p = run_hq("--help")
    assert p.returncode == EX_OK and "device enroll" in p.stdout and p.stderr == ""
    p = run_hq("--version")
    assert p.returncode == EX_OK and p.stdout.startswith("beatbook-hq ")
    for cmd in (["init"], ["device"], ["serve"], ["import"], ["batches"]):
        p = run_hq(*cmd, "--help")
        assert p.returncode == EX_OK, (cmd, p.stderr)
        assert "usage: beatbook-hq" in p.stdout
    p = run_hq("frobnicate")
    assert p.returncode == EX_USAGE and "unknown command" in p.stderr
    p = run_hq()
    assert p.returncode == EX_USAGE


def test_init_creates_private_folder_keys_tls_and_store(tmp_path):
    data = tmp_path / "a" / "hq"
    p = run_hq("init", "--data", data, "--listen", "127.0.0.1:0", "--hostname", "hq.example",
               "--hostname", "10.0.0.7")
    assert p.returncode == EX_OK, p.stderr
    assert mode(data) == 0o700
    for key in ("keys/hq-x25519.key", "keys/hq-sign.key", "tls/key.pem"):
        assert mode(data / key) == 0o600, key
        assert "PRIVATE KEY" in (data / key).read_text()
    assert (data / "tls/cert.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert (data / "hq.conf").is_file() and (data / "hq.db").is_file()
    # The key ids and the pin are printed, and are those of the files.
    hq = HQ(data)
    meta = dict(hq.query("SELECT key, value FROM meta"))
    assert meta["hq_x25519_key"] in p.stdout and meta["hq_sign_key"] in p.stdout
    pin = spki_pin(pem_to_der((data / "tls/cert.pem").read_text()))
    assert pin in p.stdout and meta["tls_pin"] == pin
    assert hq.query("PRAGMA user_version")[0][0] >= 1
    assert hq.query("SELECT action FROM audit") == [("init",)]
    # The configuration names what was asked; the url defaults to the first hostname.
    conf = (data / "hq.conf").read_text()
    assert "listen = 127.0.0.1:0" in conf and "url = https://hq.example" in conf


def test_init_json_and_env_default(tmp_path):
    data = tmp_path / "hq"
    p = run_hq("init", "--json", "--listen", "127.0.0.1:9443", env=hq_env(data))
    assert p.returncode == EX_OK, p.stderr
    out = json.loads(p.stdout)
    assert out["data"] == str(data) and out["url"] == "https://localhost:9443"
    assert out["tls_self_signed"] is True
    assert out["tls_pin"] == spki_pin(pem_to_der((data / "tls/cert.pem").read_text()))
    assert len(out["hq_x25519_key"]) == 16 and len(out["hq_sign_key"]) == 16


def test_init_refuses_an_existing_store_and_changes_nothing(hq_data):
    before = snapshot(hq_data.data)
    p = run_hq("init", "--data", hq_data.data, "--listen", "127.0.0.1:0")
    assert p.returncode == EX_CANTCREAT, p
    assert "already holds an HQ store" in p.stderr
    assert p.stdout == ""
    assert snapshot(hq_data.data) == before


def test_init_refuses_a_non_empty_folder_and_accepts_an_empty_one(tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("mine")
    p = run_hq("init", "--data", full)
    assert p.returncode == EX_CANTCREAT and "not empty" in p.stderr
    assert sorted(x.name for x in full.iterdir()) == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir(mode=0o755)
    p = run_hq("init", "--data", empty, "--listen", "127.0.0.1:0")
    assert p.returncode == EX_OK, p.stderr
    assert mode(empty) == 0o700


@pytest.mark.parametrize("args, needle", [
    (["--listen", "localhost:8443"], "not an IPv4 address"),
    (["--listen", "127.0.0.1"], "ADDR:PORT"),
    (["--listen", "127.0.0.1:70000"], "port"),
    (["--hostname", "bad host!"], "--hostname"),
    (["--url", "http://plain.example"], "https://"),
    (["--tls-cert", "/nonexistent.pem"], "--tls-key"),
    (["--bogus"], "see: beatbook-hq init --help"),
    (["extra"], "unexpected argument"),
])
def test_init_bad_arguments_exit_64_and_create_nothing(tmp_path, args, needle):
    data = tmp_path / "hq"
    p = run_hq("init", "--data", data, *args)
    assert p.returncode == EX_USAGE, p
    assert needle in p.stderr
    assert not data.exists()


def test_init_without_a_data_folder_is_a_usage_error(tmp_path):
    p = run_hq("init", env=hq_env())
    assert p.returncode == EX_USAGE and "BEATBOOK_HQ_DATA" in p.stderr


def test_init_with_a_given_certificate_copies_and_checks_it(tmp_path, hq_data):
    other = HQ(tmp_path / "other").init()
    cert, key = other.data / "tls/cert.pem", other.data / "tls/key.pem"
    data = tmp_path / "given"
    p = run_hq("init", "--data", data, "--listen", "127.0.0.1:0", "--tls-cert", cert,
               "--tls-key", key, "--json")
    assert p.returncode == EX_OK, p.stderr
    assert json.loads(p.stdout)["tls_pin"] == other.init_out["tls_pin"]
    assert (data / "tls/cert.pem").read_bytes() == cert.read_bytes()
    assert mode(data / "tls/key.pem") == 0o600
    # A key that is not the certificate's is refused before anything is created.
    bad = tmp_path / "bad"
    p = run_hq("init", "--data", bad, "--tls-cert", cert, "--tls-key",
               hq_data.data / "tls/key.pem")
    assert p.returncode == EX_DATAERR, p
    assert "does not belong to the certificate" in p.stderr
    assert not bad.exists()
    # A key file others can read is refused too.
    loose = tmp_path / "loose.pem"
    loose.write_bytes(key.read_bytes())
    loose.chmod(0o644)
    p = run_hq("init", "--data", tmp_path / "loose", "--tls-cert", cert, "--tls-key", loose)
    assert p.returncode != EX_OK and "chmod 600" in p.stderr
    assert not (tmp_path / "loose").exists()


def test_check_config_reports_and_refuses_a_bad_file(hq_data):
    p = hq_data.run("serve", "--check-config")
    assert p.returncode == EX_OK, p.stderr
    assert "configuration OK" in p.stdout and hq_data.init_out["tls_pin"] in p.stdout
    conf = hq_data.data / "hq.conf"
    good = conf.read_text()
    for text, needle in [
        (good + "lisen = 1.2.3.4:5\n", "unknown key \"lisen\""),
        (good + "listen = 127.0.0.1:1\n", "set twice"),
        (good + "threads = many\n", "threads"),
        (good + "just words\n", "key = value"),
        (good.replace("url = https://127.0.0.1:8443", "url = ftp://x"), "https://"),
        ("\n".join(ln for ln in good.splitlines() if not ln.startswith("url")), "\"url\" is not set"),
    ]:
        conf.write_text(text)
        p = hq_data.run("serve", "--check-config")
        assert p.returncode == EX_CONFIG, (text, p)
        assert needle in p.stderr
        if "line" in p.stderr:
            assert "hq.conf line" in p.stderr
    conf.write_text(good)
    assert hq_data.run("serve", "--check-config").returncode == EX_OK


def test_check_config_line_number(hq_data):
    conf = hq_data.data / "hq.conf"
    lines = conf.read_text().splitlines()
    lines.insert(2, "rate_per_sec = fast")
    conf.write_text("\n".join(lines) + "\n")
    p = hq_data.run("serve", "--check-config")
    assert p.returncode == EX_CONFIG
    assert "hq.conf line 3: rate_per_sec" in p.stderr


def test_serve_refuses_a_missing_store(tmp_path):
    p = run_hq("serve", "--data", tmp_path / "nothing")
    assert p.returncode == EX_NOINPUT and "beatbook-hq init" in p.stderr


def test_enroll_writes_a_signed_private_file(hq_data, tmp_path):
    out = tmp_path / "enroll.json"
    p = hq_data.run("device", "enroll", "--org-unit", "P06-S03", "--label", "分局筆電 2",
                    "--out", out, "--expires-days", "7", "--json")
    assert p.returncode == EX_OK, p.stderr
    res = json.loads(p.stdout)
    assert mode(out) == 0o600
    doc = json.loads(out.read_text())
    assert set(doc) == {"v", "hq_url", "tls_pin", "tls_ca", "hq_x25519", "hq_x25519_key",
                        "hq_sign_pub", "hq_sign_key", "device", "org_unit", "label", "token",
                        "issued_at", "expires_at", "sig"}
    assert doc["device"] == res["device"] and doc["device"].startswith("d-")
    assert len(doc["device"]) == 18 and int(doc["device"][2:], 16) >= 0
    assert (doc["org_unit"], doc["label"], doc["v"]) == ("P06-S03", "分局筆電 2", 1)
    assert doc["hq_url"] == "https://127.0.0.1:8443"
    assert doc["hq_x25519_key"] == hq_data.init_out["hq_x25519_key"]
    assert doc["hq_sign_key"] == hq_data.init_out["hq_sign_key"]
    assert doc["tls_pin"] == hq_data.init_out["tls_pin"]
    assert doc["tls_ca"] == (hq_data.data / "tls/cert.pem").read_text()
    assert len(base64.b64decode(doc["sig"], validate=True)) == 64
    assert len(base64.b64decode(doc["hq_x25519"], validate=True)) == 32
    assert len(doc["token"]) == 64 and int(doc["token"], 16) >= 0
    # HQ keeps only the token's hash, and the device is pending.
    rows = hq_data.query("SELECT status, org_unit, label, token_hash, device_pub FROM devices")
    assert rows == [("pending", "P06-S03", "分局筆電 2", rows[0][3], None)]
    assert doc["token"] not in rows[0][3]
    assert hq_data.query("SELECT action, device FROM audit WHERE action = 'enroll'") == \
        [("enroll", doc["device"])]
    # The signature verifies as a device reads it (bb_enroll_read in the test tool) ...
    dev = Device(tmp_path, out)
    assert dev.registration()
    # ... and a changed file does not.
    doc["org_unit"] = "P01-S01"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    p = run_tool("register", forged, dev.key)
    assert p.returncode != 0 and "authentication failed" in p.stderr


@pytest.mark.parametrize("args, needle", [
    (["--org-unit", "P99-S99", "--label", "x"], "P99-S99"),
    (["--label", "x"], "--org-unit"),
    (["--org-unit", "P06-S03"], "--label"),
    (["--org-unit", "P06-S03", "--label", ""], "--label"),
    (["--org-unit", "P06-S03", "--label", "x", "--expires-days", "0"], "--expires-days"),
    (["--org-unit", "P06-S03", "--label", "a\nb"], "control"),
])
def test_enroll_bad_arguments_exit_64_and_store_nothing(hq_data, tmp_path, args, needle):
    out = tmp_path / "e.json"
    p = hq_data.run("device", "enroll", "--out", out, *args)
    assert p.returncode == EX_USAGE, p
    assert needle in p.stderr
    assert not out.exists()
    assert hq_data.count("devices") == 0


def test_enroll_never_overwrites_and_then_stores_no_device(hq_data, tmp_path):
    out = tmp_path / "e.json"
    out.write_text("keep me")
    p = hq_data.run("device", "enroll", "--org-unit", "P06-S03", "--label", "x", "--out", out)
    assert p.returncode == EX_CANTCREAT, p
    assert out.read_text() == "keep me"
    assert hq_data.count("devices") == 0


def test_list_and_revoke(hq_data, tmp_path):
    a = hq_data.enroll(tmp_path / "a.json", "P06-S03", "laptop A")["device"]
    b = hq_data.enroll(tmp_path / "b.json", "P01-S02", "laptop B")["device"]
    listed = json.loads(hq_data.ok("device", "list", "--json").stdout)
    assert {d["device"]: (d["org_unit"], d["status"], d["batches"], d["records"])
            for d in listed} == {a: ("P06-S03", "pending", 0, 0), b: ("P01-S02", "pending", 0, 0)}
    text = hq_data.ok("device", "list").stdout
    assert a in text and "laptop B" in text and "pending" in text
    p = hq_data.run("device", "revoke", a)
    assert p.returncode == EX_USAGE and "--reason" in p.stderr
    p = hq_data.ok("device", "revoke", a, "--reason", "stolen from a patrol car")
    assert a in p.stdout
    assert hq_data.query("SELECT status, revoke_reason FROM devices WHERE id = ?", (a,)) == \
        [("revoked", "stolen from a patrol car")]
    assert hq_data.query("SELECT detail FROM audit WHERE action = 'revoke' AND device = ?",
                         (a,)) == [("reason=stolen from a patrol car",)]
    p = hq_data.run("device", "revoke", a, "--reason", "again")
    assert p.returncode == EX_DATAERR and "already revoked" in p.stderr
    p = hq_data.run("device", "revoke", "d-0000000000000000", "--reason", "x")
    assert p.returncode == EX_NOINPUT
    p = hq_data.run("device", "frob")
    assert p.returncode == EX_USAGE


def test_batches_needs_a_known_device(hq_data, tmp_path):
    p = hq_data.run("batches")
    assert p.returncode == EX_USAGE and "--device" in p.stderr
    p = hq_data.run("batches", "--device", "d-0000000000000000")
    assert p.returncode == EX_NOINPUT
    dev = hq_data.enroll(tmp_path / "a.json")["device"]
    p = hq_data.ok("batches", "--device", dev)
    assert "no batches received" in p.stdout
    out = json.loads(hq_data.ok("batches", "--device", dev, "--json").stdout)
    assert out["received"] == [] and out["missing"] == [] and out["quarantined"] == []


def test_import_needs_files(hq_data, tmp_path):
    p = hq_data.run("import")
    assert p.returncode == EX_USAGE
    p = hq_data.run("import", tmp_path / "missing.bbatch")
    assert p.returncode == EX_NOINPUT
    (tmp_path / "empty").mkdir()
    p = hq_data.run("import", tmp_path / "empty")
    assert p.returncode == EX_NOINPUT and "no *.bbatch" in p.stderr
