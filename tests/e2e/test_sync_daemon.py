"""beatbook-syncd as a daemon: one per store (lock file), SIGTERM ends it
with exit 0, SIGHUP reloads the config file, strict config checking, and
log lines that carry key=value context but never a secret."""
import json
import re
import signal
import time

from conftest import REPO, VALID
from sync_fixtures import (EX_CONFIG, EX_TEMPFAIL, check_exactly_once, hq, laptop_factory,
                           needs_sync, wait_for)

pytestmark = needs_sync
assert hq and laptop_factory   # fixtures, used by name


def test_daemon_syncs_new_records_and_stops_on_sigterm(hq, laptop_factory):
    lp = laptop_factory()
    token = json.loads(lp.enrollment_file.read_text())["token"]
    lp.write_config("interval = 1\n")
    lp.add("complaint", *VALID["complaint"][0])
    lp.start_daemon(env={"BEATBOOK_LOG": "debug"})
    wait_for(lambda: lp.acked() == 1, timeout=30, what="the first batch acknowledged")
    # Records made while the daemon runs are sealed and sent on its next round.
    for _ in range(3):
        lp.add("parking_citation", *VALID["parking_citation"][0])
    wait_for(lambda: lp.acked() == 2 and lp.outbox()["records_waiting"] == 0, timeout=30,
             what="the new records sent")
    assert lp.stop_daemon(signal.SIGTERM) == 0
    check_exactly_once(hq, [lp])
    log = lp.daemon_output()
    assert re.search(r"batch=1 records=1 bytes=\d+ status=201 ms=\d+ result=acked", log), log
    assert "register device=" in log and "stopping" in log
    assert token not in log
    key = (lp.home / "device.key").read_text()
    assert key.split("\n")[1][:20] not in log


def test_sigint_also_stops_and_a_stopped_daemon_loses_nothing(hq, laptop_factory):
    lp = laptop_factory()
    lp.write_config("interval = 1\nbatch_max_records = 1\n")
    lp.add_many(30)
    lp.start_daemon()
    wait_for(lambda: lp.acked() >= 1, timeout=30)
    assert lp.stop_daemon(signal.SIGINT) == 0
    # Whatever was in flight finished; the rest waits, sealed, for the next run.
    states = {s for _, s, _ in lp.batches()}
    assert states <= {"acked", "sealed"}
    lp.start_daemon()
    wait_for(lambda: lp.acked() == 30, timeout=120)
    assert lp.stop_daemon() == 0
    check_exactly_once(hq, [lp])


def test_one_syncd_per_store(hq, laptop_factory):
    lp = laptop_factory()
    lp.write_config("interval = 1\n")
    d = lp.start_daemon()
    wait_for(lambda: (lp.home / "syncd.lock").exists() and lp.outbox()["registered"],
             timeout=30)
    p = lp.syncd("--once")
    assert p.returncode == EX_TEMPFAIL
    assert "already running" in p.stderr and str(d.pid) in p.stderr
    p = lp.syncd()
    assert p.returncode == EX_TEMPFAIL and "already running" in p.stderr
    assert d.poll() is None
    assert lp.stop_daemon() == 0
    # Once it is gone the lock is free again.
    lp.sync_once()


def test_sighup_reloads_the_config(hq, laptop_factory):
    lp = laptop_factory()
    lp.write_config("interval = 1h\n")
    lp.add("complaint", *VALID["complaint"][0])
    lp.start_daemon()
    wait_for(lambda: lp.acked() == 1, timeout=30)
    lp.add("complaint", *VALID["complaint"][0])
    time.sleep(2)
    assert lp.acked() == 1                      # the next round is an hour away
    # A broken file is refused on reload; the daemon keeps its settings and runs on.
    lp.write_config("interval = soon\n")
    lp.daemon.send_signal(signal.SIGHUP)
    wait_for(lambda: "config not reloaded" in lp.daemon_output(), timeout=10)
    assert "line 1" in lp.daemon_output()
    assert lp.daemon.poll() is None
    time.sleep(1.5)
    assert lp.acked() == 1                      # a reload is not a reason to send
    lp.write_config("interval = 1\n")
    lp.daemon.send_signal(signal.SIGHUP)
    wait_for(lambda: lp.acked() == 2, timeout=20, what="a round after the reload")
    assert "config reloaded" in lp.daemon_output()
    assert lp.stop_daemon() == 0


def test_config_checking(hq, laptop_factory, tmp_path):
    lp = laptop_factory()
    good = tmp_path / "good.conf"
    good.write_text("# day-end settings\ninterval = 5m\nretention_days = 60  # two months\n"
                    "batch_max_records = 100\nbatch_max_bytes = 1M\n")
    p = lp.syncd("--check-config", "--config", good)
    assert p.returncode == 0, p
    assert "interval = 300s" in p.stdout and "batch_max_bytes = 1048576" in p.stdout
    bad = {
        "intervall = 5\n": "line 1: unknown setting",
        "interval = 5\ninterval = 6\n": "line 2: interval is already set on line 1",
        "\n\nretention_days = -1\n": "line 3",
        "batch_max_bytes = 1G\n": "line 1",
        "batch_max_records = 0\n": "out of range",
        "interval\n": "expected \"key = value\"",
        "interval = \n": "has no value",
    }
    for text, msg in bad.items():
        f = tmp_path / "bad.conf"
        f.write_text(text)
        p = lp.syncd("--check-config", "--config", f)
        assert p.returncode == EX_CONFIG, (text, p)
        assert msg in p.stderr and str(f) in p.stderr, (text, p.stderr)
        # A run with a bad config does nothing at all.
        p = lp.syncd("--once", "--config", f)
        assert p.returncode == EX_CONFIG
    p = lp.syncd("--check-config", "--config", REPO / "syncd" / "syncd.conf.example")
    assert p.returncode == 0, p
    p = lp.syncd("--check-config", "--config", tmp_path / "missing.conf")
    assert p.returncode != 0
    # The default file is optional; the collector reads the same file.
    p = lp.syncd("--check-config")
    assert p.returncode == 0 and "batch_max_records = 5000" in p.stdout
    lp.write_config("batch_max_records = nope\n")
    r = lp.run("seal", lang="en")
    assert r.rc == EX_CONFIG and "line 1" in r.err


def test_sigterm_lets_the_request_in_flight_finish(tmp_path):
    """SIGTERM while HQ's answer is on its way: syncd waits for it, stores the
    receipt, then exits 0 — the batch is acknowledged, not left in doubt."""
    from sync_fixtures import HQ, CuttingProxy, Laptop, free_port
    hq_port = free_port()
    proxy = CuttingProxy(hq_port, mode="delay", after=6000, cuts=1, delay=2)
    h = HQ(tmp_path / "hq", port=hq_port, url_port=proxy.port).init().start()
    lp = Laptop(tmp_path / "lp")
    try:
        enr = tmp_path / "e.json"
        h.enroll("P06-S03", "slow link", enr)
        lp.init_enrolled(enr)
        lp.add_many(100, noise=200)
        lp.ok("seal")
        assert lp.query("SELECT size FROM batches")[0][0] > 10000
        lp.start_daemon()
        assert proxy.holding.wait(30), lp.daemon_output()
        t0 = time.monotonic()
        lp.daemon.send_signal(signal.SIGTERM)
        assert lp.stop_daemon(timeout=30) == 0
        assert time.monotonic() - t0 > 1           # it did wait for the answer
        assert lp.batches() == [(1, "acked", 100)]
        check_exactly_once(h, [lp])
    finally:
        if lp.daemon is not None:
            lp.stop_daemon(signal.SIGKILL)
        h.stop()
        proxy.close()
