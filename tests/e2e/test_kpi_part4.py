"""THE PART 4 PROOF: the plan's own report for 106H1, recomputed from field records.

kpi_fixtures.Part4 makes ~96,000 records on five enrolled laptops in four
precincts and the traffic brigade; they travel the real way — `beatbook add
KIND --json` on each laptop, `beatbook-syncd --once` over HTTPS to a real
`beatbook-hq serve` — then a second round of edits and voids follows the same
way.  `beatbook-hq kpi --period 106H1` must then print exactly the figures of
the plan's Part 4 (docs/KPIS.md): −6.15 %, 91.12 % (+10.92 pt), 80.00 %,
+1.36 pt (not achieved), −67.6 %, −0.51 %, weighted score 60 / 70; and the
facts kept at every merge must agree with a recomputation from the raw records.
"""
import json

from kpi_fixtures import LAPTOPS, Part4
from sync_fixtures import HQ, Laptop, check_exactly_once, needs_sync

pytestmark = needs_sync

EXPECTED_ZH = """\
臺中市政府警察局 107 年度施政計畫（taichung-107）
期間 106H1（106/01/01 至 106/06/30）　單位 臺中市政府警察局（TC）

策略績效目標                         衡量指標                                  原訂目標值  實際值               達成情形
一、積極查緝犯罪，確保社會安寧(25%)  1、每十萬人刑事案件發生率(10%)            -0.5%       −6.15 %              達成
                                     2、刑案破獲率(15%)                        +0.5 pt     91.12 % (+10.92 pt)  達成
二、精進交通執法，促進交通順暢(35%)  1、易肇事路口改善完成率(10%)              80%         80.00 %              達成
                                     2、取締重大違規停車成長率(10%)            +1.50 pt    +1.36 pt             未達成
                                     3、道路違規施工查察取締案件數下降率(15%)  -30%        −67.6 %              達成
三、重視民眾感受，精進服務效能(10%)  1、投訴案件數下降率(10%)                  -0.5%       −0.51 %              達成

加權分數：60 / 70
"""


def kpi_json(hq, *args):
    p = hq.run("kpi", "--format", "json", *args)
    assert p.returncode == 0, p
    doc = json.loads(p.stdout)
    return doc, {k["id"]: k for k in doc["kpis"]}


def figure(kpi, name):
    return next(f["value"] for f in kpi["figures"] if f["name"] == name)


def test_part4_figures_through_enrolled_laptops_and_syncd(tmp_path):
    hq = HQ(tmp_path / "hq").init().set_conf(rate_burst=10000, rate_per_sec=10000).start()
    try:
        fx = Part4(seed=107)
        laptops = []
        for i, (org, officer) in enumerate(LAPTOPS):
            enr = tmp_path / f"enroll-{i}.json"
            hq.enroll(org, f"{org} laptop {i}", enr)
            lp = Laptop(tmp_path / f"laptop{i}", officer=officer)
            lp.init_enrolled(enr)
            laptops.append(lp)
        fx.import_all(laptops, tmp_path)
        for lp in laptops:
            lp.sync_once()
        assert hq.query("SELECT count(*) FROM records")[0][0] == fx.count()

        # Between the rounds: the duplicates still count, the corrections are not in.
        _, k = kpi_json(hq, "--period", "106H1")
        before = fx.expected_before()
        assert figure(k["K1"], "count") == before["criminal_cases_106H1"]
        assert figure(k["K5"], "count") == before["roadworks_106H1"]
        assert figure(k["K4"], "numerator") == before["listed_police_106H1"]
        assert figure(k["K6"], "count") == before["attitude_106H1"]
        assert figure(k["K3"], "improved") == 19          # the mistyped injury count

        fx.apply_changes(laptops)
        for lp in laptops:
            lp.sync_once()
        check_exactly_once(hq, laptops)

        # The proof: exactly what Part 4 printed.
        p = hq.run("kpi", "--period", "106H1")
        assert p.returncode == 0, p
        assert p.stdout == EXPECTED_ZH, p.stdout
        # ROC and Gregorian name the same period.
        assert hq.run("kpi", "--period", "2017H1").stdout == EXPECTED_ZH

        # The figures behind it, as docs/KPIS.md lists them.
        doc, k = kpi_json(hq, "--period", "106H1", "--verify")
        assert doc["verify"]["ok"] is True
        assert doc["score"] == {"achieved": 60, "total": 70, "missing": 0,
                                "text": {"zh-TW": "60 / 70", "en": "60 / 70"}}
        assert figure(k["K1"], "count") == 13265 and figure(k["K1"], "count_1y") == 14135
        assert round(figure(k["K1"], "value"), 2) == 473.75
        assert round(figure(k["K1"], "value_1y"), 2) == 504.82
        assert figure(k["K2"], "numerator") == 12087 and figure(k["K2"], "denominator") == 13265
        assert figure(k["K3"], "listed") == 25 and figure(k["K3"], "improved") == 20
        assert {g["code"]: (g["before"], g["now"]) for g in k["K3"]["groups"]} == \
            fx.casualties
        assert figure(k["K4"], "numerator") == 22210 and figure(k["K4"], "denominator") == 50000
        assert figure(k["K5"], "count") == 356
        assert figure(k["K5"], "count_1y") + figure(k["K5"], "count_2y") == 2198
        assert figure(k["K6"], "count") == 460 and figure(k["K6"], "count_1y") == 491
        assert figure(k["K6"], "reference") == 6040
        assert [k[i]["display"] for i in ("K1", "K2", "K3", "K4", "K5", "K6")] == \
            ["\u22126.15 %", "91.12 % (+10.92 pt)", "80.00 %", "+1.36 pt", "\u221267.6 %",
             "\u22120.51 %"]
        assert [k[i]["achieved"] for i in ("K1", "K2", "K3", "K4", "K5", "K6")] == \
            [True, True, True, False, True, True]

        # Verify in table form says so, and English prints the same figures.
        p = hq.run("kpi", "--period", "106H1", "--verify")
        assert p.returncode == 0 and p.stdout.startswith(EXPECTED_ZH), p
        assert "驗證：事實表與原始紀錄一致" in p.stdout
        en = hq.run("kpi", "--period", "106H1", "--lang", "en").stdout
        for text in ("\u22126.15 %", "91.12 % (+10.92 pt)", "80.00 %", "+1.36 pt  ",
                     "\u221267.6 %", "\u22120.51 %", "Weighted score: 60 / 70", "not achieved"):
            assert text in en, (text, en)

        # Drill-down: the precincts add up to the city, the stations to their precinct.
        city = {i: figure(k[i], n) for i, n in (("K1", "count"), ("K2", "numerator"),
                                                 ("K4", "denominator"), ("K6", "count"))}
        sums = dict.fromkeys(city, 0)
        for org in ("P01", "P06", "P08", "P13", "TB"):
            _, kp = kpi_json(hq, "--period", "106H1", "--org", org)
            st = dict.fromkeys(city, 0)
            for i, n in (("K1", "count"), ("K2", "numerator"), ("K4", "denominator"),
                         ("K6", "count")):
                sums[i] += figure(kp[i], n)
            if org != "TB":
                units = hq.query("SELECT DISTINCT org_unit FROM records WHERE org_unit LIKE ?",
                                 (org + "-%",))
                assert len(units) >= 3
                for u in units:
                    _, ks = kpi_json(hq, "--period", "106H1", "--org", u[0])
                    for i, n in (("K1", "count"), ("K2", "numerator"), ("K4", "denominator"),
                                 ("K6", "count")):
                        st[i] += figure(ks[i], n)
                assert st == {i: figure(kp[i], n) for i, n in
                              (("K1", "count"), ("K2", "numerator"), ("K4", "denominator"),
                               ("K6", "count"))}, org
        assert sums == city
    finally:
        hq.stop()
