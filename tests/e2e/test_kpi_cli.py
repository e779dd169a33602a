"""`beatbook-hq plan` and `beatbook-hq kpi` on a real HQ fed by a real laptop over
HTTPS: facts follow every merge (new records, revisions, voids), `--verify`
catches a fact row changed behind HQ's back, bad plan files and bad arguments
are refused with clear errors and change nothing, several plans coexist."""
import json
import sqlite3

import pytest

from conftest import REPO
from sync_fixtures import hq, laptop_factory, needs_sync

pytestmark = needs_sync
assert hq and laptop_factory   # fixtures, used by name

EX_OK, EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_IOERR, EX_CANTCREAT = 0, 64, 65, 66, 74, 73
PLAN = json.loads((REPO / "schema/plans/taichung-107.json").read_text())
CASE = {"category": "theft"}


def cases(lp, when_list, unit=None):
    payload = [{"occurred_at": w, "org_unit": unit or lp.org_unit,
                "data": dict(CASE, case_no=f"T{i:05d}")} for i, w in enumerate(when_list)]
    r = lp.import_json("criminal_case", payload, lang="en")
    assert r.rc == EX_OK, r


def kpis(hq, *args):
    p = hq.run("kpi", "--format", "json", *args)
    assert p.returncode == EX_OK, p
    doc = json.loads(p.stdout)
    return doc, {k["id"]: k for k in doc["kpis"]}


def fig(kpi, name):
    return next(f["value"] for f in kpi["figures"] if f["name"] == name)


def stored(hq):
    """Everything the KPI side stores, to compare before/after a refused command."""
    return {t: hq.query(f"SELECT * FROM {t} ORDER BY 1, 2, 3") for t in
            ("plans", "kpi_inputs", "kpi_facts")}


def fact_rows(hq, input_id, org):
    return hq.query("SELECT f.day, f.n, f.v FROM kpi_facts f JOIN kpi_inputs i ON i.id = f.input"
                    " WHERE i.plan = 'taichung-107' AND i.input = ? AND f.org_unit = ?"
                    " ORDER BY f.day", (input_id, org))


@pytest.fixture
def fed(hq, laptop_factory):
    """HQ with a few criminal cases of P06 in 2016H1 and 2017H1, merged over HTTPS."""
    lp = laptop_factory("P06-S03")
    cases(lp, ["2016-02-01T10:00:00+08:00"] * 10 + ["2016-12-31T16:30:00Z"] +
          ["2017-03-01T10:00:00+08:00"] * 8, unit="P06-S03")
    cases(lp, ["2017-04-01T10:00:00+08:00"] * 3, unit="P06-S01")
    lp.sync_once()
    return hq, lp


def test_init_loads_the_builtin_plan(fed):
    hq, _ = fed
    p = hq.run("plan", "list")
    assert p.returncode == EX_OK and "taichung-107" in p.stdout and "6 KPIs, weight 70" in p.stdout
    lst = json.loads(hq.run("plan", "list", "--json").stdout)
    assert [(x["id"], x["year"], x["kpis"], x["source"]) for x in lst] == \
        [("taichung-107", 2018, 6, "built-in")]
    shown = json.loads(hq.run("plan", "show", "taichung-107").stdout)
    assert shown["kpis"][4]["title"]["zh-TW"] == "道路違規施工查察取締案件數下降率"
    assert hq.query("SELECT count(*) FROM kpi_inputs WHERE plan = 'taichung-107'") == [(7,)]


def test_facts_follow_merges_revisions_and_voids(fed):
    hq, lp = fed
    # 2016-12-31T16:30Z is 2017-01-01 in Taipei: 12 cases in 2017H1, 10 in 2016H1.
    _, k = kpis(hq, "--period", "106H1")
    assert (fig(k["K1"], "count"), fig(k["K1"], "count_1y")) == (12, 10)
    assert k["K1"]["display"] == "+20.00 %" and k["K1"]["achieved"] is False
    # Station and precinct rows exist, and add up.
    assert sum(n for _, n, _ in fact_rows(hq, "criminal_cases", "P06-S03")) + \
        sum(n for _, n, _ in fact_rows(hq, "criminal_cases", "P06-S01")) == \
        sum(n for _, n, _ in fact_rows(hq, "criminal_cases", "P06")) == \
        sum(n for _, n, _ in fact_rows(hq, "criminal_cases", "TC")) == 22
    ids = [rid for rid, body in lp.query("SELECT id, body FROM records WHERE kind = "
                                         "'criminal_case' ORDER BY id")
           if json.loads(body)["occurred_at"].startswith("2017-03")]
    # A revision moves one case to 2016; another is voided; both travel the real way.
    assert lp.run("edit", ids[0], "occurred_at=2016-03-03 10:00", lang="en").rc == EX_OK
    assert lp.run("void", ids[1], "--reason", "entered twice", lang="en").rc == EX_OK
    lp.sync_once()
    _, k = kpis(hq, "--period", "106H1")
    assert (fig(k["K1"], "count"), fig(k["K1"], "count_1y")) == (10, 11)
    _, k = kpis(hq, "--period", "106H1", "--org", "P06-S03")
    assert fig(k["K1"], "count") == 7 and k["K1"]["ok"] is False
    assert k["K1"]["missing"] == "計畫的參考數據中沒有人口數（P06-S03，2017 年）"
    _, k = kpis(hq, "--period", "106H1", "--org", "P06-S03", "--lang", "en")
    assert k["K1"]["missing"] == \
        "no population for P06-S03 in 2017 in the plan's reference figures"
    assert hq.run("kpi", "--period", "106H1", "--verify").returncode == EX_OK


def test_verify_catches_a_corrupted_fact_row(fed):
    hq, _ = fed
    p = hq.run("kpi", "--period", "106H1", "--verify")
    assert p.returncode == EX_OK, p
    assert "驗證：事實表與原始紀錄一致" in p.stdout
    before = stored(hq)
    day, n, v = fact_rows(hq, "criminal_cases", "P06-S01")[0]
    con = sqlite3.connect(str(hq.db), timeout=10)
    with con:
        con.execute("UPDATE kpi_facts SET n = n + 1, v = v + 1 WHERE org_unit = 'P06-S01' AND "
                    "day = ? AND input = (SELECT id FROM kpi_inputs WHERE plan = 'taichung-107'"
                    " AND input = 'criminal_cases')", (day,))
    p = hq.run("kpi", "--period", "106H1", "--verify")
    assert p.returncode == EX_IOERR, p
    assert p.stdout == ""               # no figures from facts that disagree
    assert "input criminal_cases, org P06-S01, day 2017-04-01" in p.stderr, p.stderr
    assert f"facts hold n={n + 1} v={v + 1}, the records give n={n} v={v}" in p.stderr
    assert "verify failed: 1 KPI fact rows" in p.stderr
    # Without --verify the (wrong) figure is what the station's facts say.
    _, k = kpis(hq, "--period", "106H1", "--org", "P06-S01")
    assert fig(k["K1"], "count") == 4
    # A row gone, and a row no record could make, are caught too.
    with con:
        con.execute("UPDATE kpi_facts SET n = n - 1, v = v - 1 WHERE org_unit = 'P06-S01'")
        con.execute("DELETE FROM kpi_facts WHERE org_unit = 'P06' AND day = ?", (day,))
        con.execute("INSERT INTO kpi_facts SELECT input, 'P99', grp, day, 1, 1 FROM kpi_facts "
                    "WHERE org_unit = 'TC' LIMIT 1")
    p = hq.run("kpi", "--period", "106H1", "--verify", "--format", "json")
    assert p.returncode == EX_IOERR
    assert "org P06, day 2017-04-01: facts hold n=0 v=0, the records give n=3 v=3" in p.stderr
    assert "org P99" in p.stderr and "2 KPI fact rows" in p.stderr
    with con:
        con.execute("DELETE FROM kpi_facts WHERE org_unit = 'P99'")
        con.executemany("INSERT INTO kpi_facts VALUES (?, ?, ?, ?, ?, ?)",
                        [r for r in before["kpi_facts"] if r[1] == "P06" and r[3] == day])
    con.close()
    assert stored(hq) == before
    assert hq.run("kpi", "--period", "106H1", "--verify").returncode == EX_OK


def write_plan(tmp_path, name, plan):
    f = tmp_path / name
    f.write_text(plan if isinstance(plan, str) else json.dumps(plan, ensure_ascii=False))
    return f


def mutated(path, value=None, delete=False):
    plan = json.loads(json.dumps(PLAN))
    node = plan
    for k in path[:-1]:
        node = node[k]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return plan


@pytest.mark.parametrize("path, value, delete, needle", [
    (["kpis", 0, "weight"], None, True, "$.kpis[0]: missing \"weight\""),
    (["inputs", 0, "kind"], "burglary", False,
     "$.inputs[0].kind: unknown record kind \"burglary\""),
    (["inputs", 6, "where", 0, "field"], "categroy", False,
     "$.inputs[6].where[0].field: record kind complaint has no field \"categroy\""),
    (["kpis", 2, "method"], "share", False, "$.kpis[2].method: unknown method \"share\""),
    (["kpis", 0, "weight"], -10, False, "$.kpis[0].weight: -10 is out of range"),
    (["reference", "population", "years", "2017", "TC"], "many", False,
     "$.reference.population.years.2017.TC: expected a whole number above 0"),
    (["history"], [{"input": "criminal_cases", "period": "107H3", "org": "TC", "value": 1}],
     False, "$.history[0].period"),
])
def test_bad_plan_files_are_refused_and_change_nothing(fed, tmp_path, path, value, delete,
                                                       needle):
    hq, _ = fed
    before = stored(hq)
    bad = mutated(path, value, delete)
    bad["id"] = "taichung-108"
    f = write_plan(tmp_path, "bad.json", bad)
    p = hq.run("plan", "load", f)
    assert p.returncode == EX_DATAERR, p
    assert f"{f}: {needle}" in p.stderr, p.stderr
    assert stored(hq) == before


def test_plan_files_that_are_not_plans(fed, tmp_path):
    hq, _ = fed
    before = stored(hq)
    p = hq.run("plan", "load", write_plan(tmp_path, "x.json", '{"format": "beatbook-plan",'))
    assert p.returncode == EX_DATAERR and "line 1" in p.stderr
    p = hq.run("plan", "load", tmp_path / "none.json")
    assert p.returncode == EX_NOINPUT
    p = hq.run("plan", "load")
    assert p.returncode == EX_USAGE and "FILE or --builtin" in p.stderr
    p = hq.run("plan", "load", "--builtin", "taichung-999")
    assert p.returncode == EX_NOINPUT
    p = hq.run("plan", "frobnicate")
    assert p.returncode == EX_USAGE
    assert stored(hq) == before


def test_next_years_plan_coexists_and_counts_existing_records(fed, tmp_path):
    hq, lp = fed
    nxt = json.loads(json.dumps(PLAN))
    nxt["id"], nxt["year"] = "taichung-108", 2019
    nxt["title"] = {"zh-TW": "臺中市政府警察局 108 年度施政計畫", "en": "Plan for 2019"}
    nxt["kpis"][4]["target"]["value"] = -25
    nxt["reference"]["population"]["years"]["2019"] = {"TC": 2803894}
    f = write_plan(tmp_path, "taichung-108.json", nxt)
    p = hq.run("plan", "load", f)
    assert p.returncode == EX_OK, p
    assert "loaded plan taichung-108 (2019)" in p.stdout and "22 records" in p.stdout
    assert [x["id"] for x in json.loads(hq.run("plan", "list", "--json").stdout)] == \
        ["taichung-107", "taichung-108"]
    # Both plans' facts are kept, and agree with the records.
    assert hq.run("kpi", "--period", "2017", "--plan", "taichung-108", "--verify").returncode \
        == EX_OK
    # The plan is chosen by the period's year (106 and 107 → the 107 plan; 108 → 108).
    assert kpis(hq, "--period", "106H1")[0]["plan"]["id"] == "taichung-107"
    assert kpis(hq, "--period", "2018")[0]["plan"]["id"] == "taichung-107"
    assert kpis(hq, "--period", "108H1")[0]["plan"]["id"] == "taichung-108"
    # New merges update both.
    cases(lp, ["2017-05-05T10:00:00+08:00"])
    lp.sync_once()
    for plan in ("taichung-107", "taichung-108"):
        _, k = kpis(hq, "--period", "106H1", "--plan", plan, "--verify")
        assert fig(k["K1"], "count") == 13
    # The same file again changes nothing; other content needs --replace.
    p = hq.run("plan", "load", f)
    assert p.returncode == EX_OK and "nothing changed" in p.stdout
    nxt["kpis"][4]["target"]["value"] = -20
    write_plan(tmp_path, "taichung-108.json", nxt)
    before = stored(hq)
    p = hq.run("plan", "load", f)
    assert p.returncode == EX_CANTCREAT and "--replace" in p.stderr
    assert stored(hq) == before
    p = hq.run("plan", "load", f, "--replace")
    assert p.returncode == EX_OK and "replaced plan taichung-108" in p.stdout
    assert json.loads(hq.run("plan", "show", "taichung-108").stdout)["kpis"][4]["target"][
        "value"] == -20
    assert hq.run("kpi", "--period", "108", "--plan", "taichung-108", "--verify").returncode == 0
    assert hq.query("SELECT action FROM audit WHERE action = 'plan-load'") == \
        [("plan-load",), ("plan-load",)]


@pytest.mark.parametrize("args, code, needle", [
    (["--period", "2018H3"], EX_USAGE, "--period: "),
    (["--period", "107/13"], EX_USAGE, "--period: "),
    (["--period", "2018-02..2018-01"], EX_USAGE, "--period: "),
    ([], EX_USAGE, "--period P is required"),
    (["--period", "2018", "--org", "P99"], EX_USAGE, "--org \"P99\": no such org unit"),
    (["--period", "2018", "--org", "p06"], EX_USAGE, "no such org unit"),
    (["--period", "2018", "--plan", "taichung-999"], EX_NOINPUT, "no plan \"taichung-999\""),
    (["--period", "2018", "--format", "xml"], EX_USAGE, "--format \"xml\""),
    (["--period", "2018", "--lang", "fr"], EX_USAGE, "--lang \"fr\""),
    (["--period", "2018", "extra"], EX_USAGE, "unexpected argument"),
])
def test_bad_periods_and_org_units(fed, args, code, needle):
    hq, _ = fed
    before = stored(hq)
    p = hq.run("kpi", *args)
    assert p.returncode == code, p
    assert needle in p.stderr, p.stderr
    assert p.stdout == ""
    assert stored(hq) == before


def test_formats_explain_and_languages(fed):
    hq, _ = fed
    p = hq.run("kpi", "--period", "106H1", "--explain", "--lang", "en")
    assert p.returncode == EX_OK
    out = p.stdout
    assert "Strategic goal" in out and "Weighted score: " in out
    assert "How each figure was computed" in out
    assert "[records TC] records via facts: 12 records; criminal_case, dated by occurred_at" in out
    assert "[reference TC] plan taichung-107, reference figure population for 2017" in out
    assert "12 / 2,800,000 × 100,000 = 0.43" in out
    assert "= (0.4286 − 0.3571) / 0.3571 × 100 = 20.0000 % → +20.00 %; target ≤ −0.5 %: " \
           "not achieved" in out
    assert "baseline                       80.20  [plan] plan taichung-107, KPI K2" in out
    # Missing inputs say which and why instead of a number.
    assert "K6 Decrease of complaints about service attitude: cannot be computed: no records of " \
           "complaints about service attitude in 2016H1" in out
    zh = hq.run("kpi", "--period", "106H1", "--explain").stdout
    assert "策略績效目標" in zh and "各指標計算方式" in zh and "無法計算" in zh
    # CSV: BOM, a header, one row per KPI and the score.
    p = hq.run("kpi", "--period", "106H1", "--format", "csv", "--lang", "en")
    assert p.returncode == EX_OK
    rows = p.stdout.lstrip("\ufeff").splitlines()
    assert p.stdout.startswith("\ufeff")
    assert rows[0].startswith("plan,period,org,kpi,goal,title,weight,target,value")
    assert len(rows) == 8 and rows[1].startswith("taichung-107,2017H1,TC,K1,G1,")
    assert rows[7].startswith("taichung-107,2017H1,TC,score,")
    # JSON: every figure with its origin.
    doc, k = kpis(hq, "--period", "106H1", "--org", "P06")
    assert doc["org"]["code"] == "P06" and doc["period"]["roc"] == "106H1"
    assert {f["origin"] for f in k["K1"]["figures"]} >= {"records", "reference", "computed"}
    assert doc["score"]["total"] == 70


def test_a_store_without_plans(fed):
    hq, _ = fed
    con = sqlite3.connect(str(hq.db), timeout=10)
    with con:
        con.execute("DELETE FROM kpi_facts")
        con.execute("DELETE FROM kpi_inputs")
        con.execute("DELETE FROM plans")
    con.close()
    p = hq.run("kpi", "--period", "2018")
    assert p.returncode == EX_NOINPUT and "plan load --builtin taichung-107" in p.stderr
    assert "no plan is loaded" in hq.run("plan", "list").stdout
    p = hq.run("plan", "load", "--builtin", "taichung-107")
    assert p.returncode == EX_OK and "facts computed from 22 records" in p.stdout
    _, k = kpis(hq, "--period", "106H1", "--verify")
    assert fig(k["K1"], "count") == 12


def test_uncomputable_kpis_and_the_plans_numbering(fed):
    """A KPI that cannot be computed says 無法計算 and why, counts neither as achieved
    nor as missed, and the score says how many; goals and KPIs are numbered as the
    plan's Part 4 numbers them (一、二、三; 1、2、3 within each goal) in the table,
    the JSON and the CSV alike."""
    hq, _ = fed
    doc, k = kpis(hq, "--period", "106H1")
    assert k["K1"]["ok"] is True and k["K1"]["achieved"] is False      # +20 %: missed
    gone = [x for x in doc["kpis"] if not x["ok"]]
    assert [x["id"] for x in gone] == ["K3", "K4", "K5", "K6"]
    assert k["K2"]["ok"] is True and k["K2"]["achieved"] is False      # no clearances
    for x in gone:
        assert x["achieved"] is None and x["display"] is None and x["missing"], x
    assert doc["score"]["missing"] == 4 and doc["score"]["achieved"] == 0
    assert doc["score"]["text"] == {"zh-TW": "0 / 70（4 項無法計算）",
                                    "en": "0 / 70 (4 cannot be computed)"}
    # The plan's numbering, from the plan file.
    assert [(g["number"], g["label"]["zh-TW"]) for g in doc["goals"]] == [
        ("一", "一、積極查緝犯罪，確保社會安寧(25%)"),
        ("二", "二、精進交通執法，促進交通順暢(35%)"),
        ("三", "三、重視民眾感受，精進服務效能(10%)")]
    assert [(x["goal_number"], x["number"]) for x in doc["kpis"]] == \
        [("一", "1"), ("一", "2"), ("二", "1"), ("二", "2"), ("二", "3"), ("三", "1")]
    assert [x["number"] for x in doc["kpis"]] == [x["number"] for x in PLAN["kpis"]]
    assert k["K5"]["label"] == {"zh-TW": "3、道路違規施工查察取締案件數下降率(15%)",
                                "en": "3. Decrease of illegal road-works cases (15 %)"}
    goals = {g["id"]: g for g in doc["goals"]}
    for lang, key in (("zh-TW", "zh-TW"), ("en", "en")):
        out = hq.run("kpi", "--period", "106H1", "--lang", lang).stdout
        lines = out.splitlines()
        head = next(i for i, ln in enumerate(lines) if ln.startswith(
            "策略績效目標" if lang == "zh-TW" else "Strategic goal"))
        rows = lines[head + 1:head + 7]
        for i, (row, x) in enumerate(zip(rows, doc["kpis"])):
            first = i == 0 or doc["kpis"][i - 1]["goal"] != x["goal"]
            goal = goals[x["goal"]]["label"][key]
            assert row.startswith(goal) if first else row.startswith(" "), (row, goal)
            assert x["label"][key] in row, (row, x["label"][key])
            status = row.split()[-1] if lang == "zh-TW" else row
            if x["ok"]:
                assert ("未達成" in status) if lang == "zh-TW" else ("not achieved" in row)
            else:
                assert "無法計算" in row if lang == "zh-TW" else "cannot be computed" in row
                assert "未達成" not in row and "not achieved" not in row
        if lang == "zh-TW":
            assert "加權分數：0 / 70（4 項無法計算）" in lines
        else:
            assert "Weighted score: 0 / 70 (4 cannot be computed)" in lines
    # CSV: achieved is empty (neither yes nor no) with the reason, the plan's numbers.
    import csv
    import io
    p = hq.run("kpi", "--period", "106H1", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(p.stdout.lstrip("\ufeff"), newline="")))
    by = {r["kpi"]: r for r in rows}
    assert [(by[x["id"]]["goal_number"], by[x["id"]]["number"], by[x["id"]]["label"])
            for x in doc["kpis"]] == \
        [(x["goal_number"], x["number"], x["label"]["zh-TW"]) for x in doc["kpis"]]
    assert by["K1"]["achieved"] == "no"
    for x in gone:
        assert by[x["id"]]["achieved"] == "" and by[x["id"]]["missing"] == x["missing"]
    assert by["score"]["display"] == "0 / 70（4 項無法計算）"
