"""`make demo` (tools/demo.sh) end to end, with DEMO_KEEP=no: its laptops record the
demo day and the Marches of the three years before, sync, and HQ's scorecard then
computes all six KPIs for the demo month (107-03) and for 106H1 (the half-year of
the plan's Part 4) — the script itself fails when one cannot be computed."""
import json
import os
import re
import subprocess

import pytest

from conftest import BIN_DIR, REPO

pytestmark = pytest.mark.skipif(
    not all((BIN_DIR / b).is_file() for b in ("beatbook", "beatbook-hq", "beatbook-syncd")),
    reason=f"beatbook, beatbook-hq and beatbook-syncd must be built in {BIN_DIR}")


def test_demo_scorecards_compute_every_kpi(tmp_path):
    env = dict(os.environ, BUILD=str(BIN_DIR.parent), DEMO_DIR=str(tmp_path / "demo"),
               DEMO_KEEP="no")
    p = subprocess.run(["sh", str(REPO / "tools" / "demo.sh")], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    hq = [str(BIN_DIR / "beatbook-hq"), "kpi", "--data", str(tmp_path / "demo" / "hq")]
    for period in ("107-03", "106H1"):
        part = p.stdout.split(f"beatbook-hq kpi --period {period}\x1b[0m\n", 1)[1]
        table = part.split("\x1b[1m==", 1)[0]
        assert "加權分數：" in table and "無法計算" not in table, table
        assert re.search(r"^三、重視民眾感受，精進服務效能\(10%\)  1、投訴案件數下降率", table, re.M)
        out = subprocess.run(hq + ["--period", period, "--format", "json"],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        card = json.loads(out.stdout)
        assert card["score"]["missing"] == 0 and all(k["ok"] for k in card["kpis"]), period
    assert not (tmp_path / "demo" / "demo.pid").exists()
