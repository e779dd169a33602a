"""bench/attach.py — photos from a laptop to HQ (issue 9's benchmark; figures, no asserts).

Real programs on loopback with real TLS: an enrolled laptop records accidents with
photos (`beatbook add ... photos=@FILE`), `beatbook-syncd --once` sends the records,
then every file as a signed head and 1 MiB sealed chunks, to `beatbook-hq serve`
through a TCP forwarder in this script that counts the bytes each way (and, for the
lossy part, paces them to a link rate and cuts the connection now and then).

Printed, each beside its goal and this machine's limits measured in the same run:
  wire up / file bytes (goal <= 1.01 on loopback), time / (bytes / link rate) on
  the limited, cut link (goal <= 1.2), peak RSS of syncd and HQ while uploading
  for 2-4 MB photos and for 24 MiB ones (goal <= 32 MB, not growing with size),
  upload MB/s against SHA-256 and the forwarder's own plain-TCP throughput.

  BEATBOOK_BIN=build/bin /usr/bin/python3 bench/attach.py [--quick]
"""
import hashlib
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from sync_fixtures import HQ, ByteCutProxy, Laptop, free_port  # noqa: E402

MB = 1e6
QUICK = "--quick" in sys.argv


class Counter(ByteCutProxy):
    """ByteCutProxy counts bytes up; this also counts bytes down."""

    def __init__(self, target, rate=None, cut_every=None):
        super().__init__(target, rate=rate)
        self.cut_every = cut_every
        if cut_every:
            self.cuts = list(range(cut_every, 10**12, cut_every))[:1000]


def hwm_kb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def photos(folder, n, lo, hi, seed):
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        p = folder / f"p{i:03d}.jpg"
        size = rnd.randint(lo, hi)
        p.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(size - 4))
        out.append(p)
    return out


def run_part(work, name, files, rate=None, cut_every=None):
    """Record the files (10 per accident), sync them all; returns the figures."""
    hq_port = free_port()
    proxy = Counter(hq_port, rate=rate, cut_every=cut_every)
    h = HQ(work / f"hq-{name}", port=hq_port, url_port=proxy.port).init()
    h.set_conf(rate_burst=10000, rate_per_sec=10000).start()
    try:
        enr = work / f"{name}.enroll"
        h.enroll("P06-S03", f"bench {name}", enr)
        lp = Laptop(work / f"lp-{name}")
        lp.init_enrolled(enr)
        for i in range(0, len(files), 10):
            lp.ok("add", "traffic_accident", "class=a3", "deaths=0", "injuries=0",
                  *[f"photos=@{f}" for f in files[i:i + 10]])
        total = sum(f.stat().st_size for f in files)
        peak_hq = [0]
        done = threading.Event()

        syncd = [None]
        syncd_rss = [0]

        def sample():
            # VmHWM, not wait4's ru_maxrss: Linux carries the high-water mark
            # across exec, so a child of this Python would report Python's.
            while not done.is_set():
                peak_hq[0] = max(peak_hq[0], hwm_kb(h.proc.pid))
                if syncd[0] is not None:
                    syncd_rss[0] = max(syncd_rss[0], hwm_kb(syncd[0]))
                time.sleep(0.02)
        threading.Thread(target=sample, daemon=True).start()
        t0 = time.monotonic()
        runs = 0
        while runs < 200:
            runs += 1
            p = subprocess.Popen(lp.syncd_cmd("--once"), env=lp.env(), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            syncd[0] = p.pid
            rc = p.wait()
            syncd[0] = None
            if rc == 0:
                break
        elapsed = time.monotonic() - t0
        done.set()
        peak_hq[0] = max(peak_hq[0], hwm_kb(h.proc.pid))
        held = h.query("SELECT count(*), coalesce(sum(size), 0) FROM attachments")[0]
        return {"files": len(files), "bytes": total, "s": elapsed, "up": proxy.up,
                "runs": runs, "cuts": proxy.cut_count, "syncd_kb": syncd_rss[0],
                "hq_kb": peak_hq[0], "held": held}
    finally:
        h.stop()
        proxy.close()


def plain_tcp_rate(n_bytes):
    """The forwarder's own throughput without TLS or Beatbook: a sink behind it."""
    sink = socket.socket()
    sink.bind(("127.0.0.1", 0))
    sink.listen(1)
    port = sink.getsockname()[1]
    got = [0]

    def drain():
        c, _ = sink.accept()
        while True:
            d = c.recv(1 << 20)
            if not d:
                break
            got[0] += len(d)
        c.close()
    t = threading.Thread(target=drain, daemon=True)
    t.start()
    proxy = Counter(port)
    s = socket.create_connection(("127.0.0.1", proxy.port))
    block = os.urandom(1 << 20)
    t0 = time.monotonic()
    sent = 0
    while sent < n_bytes:
        s.sendall(block)
        sent += len(block)
    s.shutdown(socket.SHUT_WR)
    t.join(60)
    elapsed = time.monotonic() - t0
    s.close()
    proxy.close()
    sink.close()
    return sent / elapsed


def sha_rate(n_bytes):
    data = os.urandom(1 << 20)
    h = hashlib.sha256()
    t0 = time.monotonic()
    for _ in range(n_bytes >> 20):
        h.update(data)
    return n_bytes / (time.monotonic() - t0)


def main():
    work = Path(tempfile.mkdtemp(prefix="beatbook-attach-bench.", dir=os.environ.get("BENCH_TMP")))
    try:
        n = 10 if QUICK else 200
        (work / "small").mkdir()
        (work / "big").mkdir()
        small = photos(work / "small", n, 2_000_000, 4_000_000, 1)
        big = photos(work / "big", 2 if QUICK else 4, 24 * 1024 * 1024 - 4096,
                     24 * 1024 * 1024, 2)
        sha = sha_rate(64 << 20)
        tcp = plain_tcp_rate(256 << 20)
        print(f"machine: SHA-256 {sha / MB:.0f} MB/s, forwarder plain TCP {tcp / MB:.0f} MB/s")
        lo = run_part(work, "loopback", small)
        rate = 12_500_000                       # 100 Mbit/s
        lossy = run_part(work, "lossy", small[: max(10, n // 4)], rate=rate,
                         cut_every=40_000_000)
        large = run_part(work, "large", big)
        print(f"{'part':<10}{'files':>6}{'MB':>9}{'s':>8}{'MB/s':>8}{'wire/file':>11}"
              f"{'runs':>6}{'cuts':>6}{'syncd MB':>10}{'HQ MB':>8}  held at HQ")
        for name, r in (("loopback", lo), ("lossy", lossy), ("24 MiB", large)):
            print(f"{name:<10}{r['files']:>6}{r['bytes'] / MB:>9.1f}{r['s']:>8.2f}"
                  f"{r['bytes'] / MB / r['s']:>8.1f}{r['up'] / r['bytes']:>11.4f}{r['runs']:>6}"
                  f"{r['cuts']:>6}{r['syncd_kb'] / 1024:>10.1f}{r['hq_kb'] / 1024:>8.1f}  "
                  f"{r['held'][0]} files, {r['held'][1] / MB:.1f} MB")
        ideal = lossy["bytes"] / rate
        print("goals:")
        print(f"  wire up / file bytes on loopback: {lo['up'] / lo['bytes']:.4f} (goal <= 1.01)")
        print(f"  lossy link time / (bytes / link rate): {lossy['s'] / ideal:.2f} "
              f"(goal <= 1.2; 100 Mbit/s, cut every 40 MB: {lossy['cuts']} cuts)")
        for name, r in (("2-4 MB photos", lo), ("24 MiB files", large)):
            print(f"  peak RSS with {name}: syncd {r['syncd_kb'] / 1024:.1f} MB, HQ "
                  f"{r['hq_kb'] / 1024:.1f} MB (goal <= 32 MB each, not growing with size)")
        print(f"  loopback upload {lo['bytes'] / MB / lo['s']:.0f} MB/s = "
              f"{lo['bytes'] / lo['s'] / sha:.2f} x SHA-256, "
              f"{lo['bytes'] / lo['s'] / tcp:.2f} x the forwarder's plain TCP")
        missing = [n for n, r in (("loopback", lo), ("lossy", lossy), ("large", large))
                   if r["held"][0] != r["files"]]
        if missing:
            print(f"attach bench: HQ does not hold every file of: {', '.join(missing)}",
                  file=sys.stderr)
            return 70
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
