"""The review UI in a real browser: Debian's headless Chromium driven by
python3-selenium against a real `beatbook-hq serve` (hq/web/, hq/hq_web.h).

A reviewer signs in, reads the scorecard (checked figure by figure against
`beatbook-hq kpi --format json`), drills down from a KPI figure to its
records and to one record's revisions and batch signature, exports CSV;
a precinct admin sees only its precinct, in the pages and by URL; a script
in a record's notes shows as text.  Every page is saved as a screenshot in
$BEATBOOK_SCREENSHOTS, or else in a folder of the test run (printed).

Chromium runs as root here, hence --no-sandbox; each browser gets a fresh
profile.  The tests are skipped, with the reason, only when Chromium or its
driver cannot start.
"""
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from ui_fixtures import FORMULA, XSS, kind_labels, needs_ui, ref_label, world  # noqa: F401

pytestmark = needs_ui

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def start_browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:
        pytest.skip(f"python3-selenium is not installed ({e}); `make deps` installs it")
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("chromium and chromium-driver are not installed; `make deps` installs them")
    profile = tempfile.mkdtemp(prefix="bb-chromium-")
    o = webdriver.ChromeOptions()
    o.binary_location = CHROMIUM
    for a in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--no-first-run", "--ignore-certificate-errors",
              "--window-size=1400,1600", f"--user-data-dir={profile}", "--lang=zh-TW"]:
        o.add_argument(a)
    try:
        d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)
    except Exception as e:      # selenium raises several kinds here
        shutil.rmtree(profile, ignore_errors=True)
        pytest.skip(f"Chromium could not start: {str(e).splitlines()[0]}")
    d.set_page_load_timeout(60)
    d.profile_dir = profile
    return d


def stop_browser(d):
    d.quit()
    shutil.rmtree(d.profile_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def shots(tmp_path_factory, request):
    folder = os.environ.get("BEATBOOK_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    taken = []
    yield lambda d, name: (d.save_screenshot(str(path / f"{name}.png")), taken.append(name))
    if taken:
        line = f"\nscreenshots of the review UI ({len(taken)}): {path}"
        capman = request.config.pluginmanager.get_plugin("capturemanager")
        if capman:
            with capman.global_and_fixture_disabled():
                print(line)
        else:
            print(line)


class Page:
    def __init__(self, world, driver):
        self.world = world
        self.d = driver
        self.base = f"https://127.0.0.1:{world.hq.port}/ui/"

    def wait(self, cond, timeout=30, what="the page"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                v = cond()
            except Exception:       # an element that is being replaced
                v = None
            if v:
                return v
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; page: "
                             f"{self.d.execute_script('return location.hash')} "
                             f"{self.d.find_element('tag name', 'main').text[:500]}")

    def ready(self):
        return self.d.execute_script("return document.body.getAttribute('data-ready')")

    def go(self, hash_):
        self.d.get(self.base + hash_)
        self.wait(lambda: self.ready() == hash_, what=hash_)

    def css(self, sel):
        return self.d.find_elements("css selector", sel)

    def one(self, sel):
        return self.d.find_element("css selector", sel)

    def sign_in(self, name, password):
        from ui_fixtures import PASSWORDS
        self.d.get(self.base)
        self.wait(lambda: self.ready() == "signin", what="the sign-in form")
        self.one("#signin-name").send_keys(name)
        self.one("#signin-password").send_keys(password or PASSWORDS[name])
        self.one("#signin-submit").click()

    def fetch(self, url):
        """GET url from the page (with its cookie): (status, text); the text keeps a
        byte-order mark (a plain r.text() would drop it)."""
        return self.d.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0], {credentials: 'same-origin'})"
            ".then(r => r.arrayBuffer().then(b => done([r.status,"
            " new TextDecoder('utf-8', {ignoreBOM: true}).decode(b)])))"
            ".catch(e => done([0, String(e)]));", url)


@pytest.fixture(scope="module")
def reviewer(world):
    """A browser signed in as the HQ reviewer, for the module."""
    d = start_browser()
    p = Page(world, d)
    p.sign_in("reviewer", None)
    p.wait(lambda: p.ready() == "#", what="the first page")
    yield p
    stop_browser(d)


def test_sign_in_with_a_wrong_password_then_the_right_one(world, shots):
    d = start_browser()
    try:
        p = Page(world, d)
        p.sign_in("reviewer", "not the password")
        p.wait(lambda: p.one("#signin-error").text, what="the sign-in error")
        assert "帳號或密碼錯誤" in p.one("#signin-error").text
        assert not d.get_cookies()
        shots(d, "01-signin-error")
        p.one("#signin-name").clear()
        p.sign_in("reviewer", None)
        p.wait(lambda: p.ready() == "#", what="the first page")
        cookie = [c for c in d.get_cookies() if c["name"] == "__Host-bb_session"][0]
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
        assert d.execute_script("return document.cookie") == ""     # out of the script's reach
    finally:
        stop_browser(d)


def test_the_scorecard_matches_the_kpi_command(reviewer, world, shots):
    p = reviewer
    p.go("#/scorecard?period=107-03")
    shots(p.d, "02-scorecard-107-03")
    card = world.kpi_json("--period", "107-03")
    rows = p.css("#kpi-table tbody tr")
    assert [r.get_attribute("data-kpi") for r in rows] == [k["id"] for k in card["kpis"]]
    check_rows(rows, card, "zh-TW")
    assert p.one("#score").text == card["score"]["text"]["zh-TW"] == \
        f"{card['score']['achieved']} / {card['score']['total']}"
    assert "107-03" in p.one("#card-period").text
    # A Chart.js chart per KPI, over the twelve months.
    n = p.d.execute_script(
        "return [...document.querySelectorAll('canvas')].filter(c => Chart.getChart(c) && "
        "Chart.getChart(c).data.labels.length === 12).length")
    assert n == len(card["kpis"])
    assert p.d.execute_script("return Chart.getChart(document.getElementById('chart-K2'))"
                              ".data.datasets[0].data[2]") == card["kpis"][1]["rounded"]
    # Pickers: the year and half as a reader picks them.
    p.go("#/scorecard?period=107H1&org=P06")
    card = world.kpi_json("--period", "107H1", "--org", "P06")
    assert p.one("#score").text == card["score"]["text"]["zh-TW"]
    assert p.one("#pick-g").get_attribute("value") == "half"
    assert "P06" in p.one("#card-org").text
    shots(p.d, "03-scorecard-107H1-P06")


def check_rows(rows, card, lang):
    """The page's scorecard rows against `kpi --format json`: the plan's layout (the goal
    on its first KPI, spanning its KPIs; KPIs 1、2、3 within the goal), the figures, and
    a KPI that cannot be computed shown as such, neither achieved nor missed."""
    goals = {g["id"]: g for g in card["goals"]}
    for i, (r, k) in enumerate(zip(rows, card["kpis"])):
        first = i == 0 or card["kpis"][i - 1]["goal"] != k["goal"]
        cells = r.find_elements("css selector", ".kpi-goal")
        if first:
            assert [c.text for c in cells] == [goals[k["goal"]]["label"][lang]], k["id"]
            assert cells[0].get_attribute("rowspan") == \
                str(sum(1 for x in card["kpis"] if x["goal"] == k["goal"]))
        else:
            assert cells == [], k["id"]
        assert r.find_element("css selector", ".kpi-label").text.startswith(
            k["label"][lang]), k["id"]
        assert r.find_element("css selector", ".kpi-target").text == k["target"]["text"][lang]
        assert r.find_element("css selector", ".kpi-weight").text == str(k["weight"])
        achieved = r.find_element("css selector", ".kpi-achieved")
        cls = achieved.get_attribute("class")
        if k["ok"]:
            assert r.find_element("css selector", ".kpi-value").text == k["display"], k["id"]
            assert ("yes" in cls) == k["achieved"] and "missing" not in cls, k["id"]
            assert r.find_element("css selector", ".kpi-weighted").text == \
                str(k["weight"] if k["achieved"] else 0)
        else:
            assert k["achieved"] is None
            words = "無法計算" if lang == "zh-TW" else "cannot be computed"
            assert achieved.text.startswith(words), (k["id"], achieved.text)
            assert "未達成" not in achieved.text and "not achieved" not in achieved.text
            assert "yes" not in cls.split() and "no" not in cls.split() and "missing" in cls
            assert k["missing"] in achieved.text          # the reason beside it
            assert r.find_element("css selector", ".kpi-value").text == "—"
            assert r.find_element("css selector", ".kpi-weighted").text == "—"


def test_a_kpi_that_cannot_be_computed_is_neither_achieved_nor_missed(reviewer, world, shots):
    p = reviewer
    # A station has no population or headcount of its own: K1 and K6 cannot be computed.
    card = world.kpi_json("--period", "2018-03", "--org", "P08-S02")
    gone = [k["id"] for k in card["kpis"] if not k["ok"]]
    assert gone and len(gone) < len(card["kpis"]), gone
    n = len(gone)
    score = f"{card['score']['achieved']} / {card['score']['total']}（{n} 項無法計算）"
    assert card["score"]["text"]["zh-TW"] == score
    p.go("#/scorecard?period=2018-03&org=P08-S02")
    rows = p.wait(lambda: p.css("#kpi-table tbody tr"), what="the scorecard")
    check_rows(rows, card, "zh-TW")
    assert p.one("#score").text == score
    # The CLI says the same words, with the same numbering.
    table = world.hq.ok("kpi", "--data", world.hq.data, "--period", "2018-03",
                        "--org", "P08-S02").stdout
    assert "加權分數：" + score in table.splitlines()
    for k in card["kpis"]:
        assert k["label"]["zh-TW"] in table
    for g in card["goals"]:
        assert g["label"]["zh-TW"] in table
    assert "pt" in p.one("#pt-note").text
    shots(p.d, "02b-scorecard-cannot-be-computed")
    # English: the same layout and numbers, the same rule.
    p.one("#lang").click()
    p.wait(lambda: p.one("#nav-scorecard").text == "Scorecard", what="English labels")
    p.wait(lambda: "cannot be computed" in p.one("#score").text, what="the English score")
    en = world.kpi_json("--period", "2018-03", "--org", "P08-S02", "--lang", "en")
    check_rows(p.css("#kpi-table tbody tr"), en, "en")
    assert p.one("#score").text == en["score"]["text"]["en"] == \
        f"{en['score']['achieved']} / {en['score']['total']} ({n} cannot be computed)"
    shots(p.d, "02c-scorecard-cannot-be-computed-english")
    p.one("#lang").click()
    p.wait(lambda: p.one("#nav-scorecard").text == "績效總表", what="zh-TW again")


def test_drill_down_from_a_figure_to_a_record(reviewer, world, shots):
    p = reviewer
    p.go("#/scorecard?period=107-03")
    card = world.kpi_json("--period", "107-03")
    k4 = [k for k in card["kpis"] if k["id"] == "K4"][0]
    num = [f for f in k4["figures"] if f["name"] == "numerator"][0]
    box = p.one('.card[data-kpi="K4"]')
    box.find_element("css selector", "details summary").click()
    link = box.find_element("css selector", 'li[data-figure="numerator"] a.drill')
    href = link.get_attribute("href")
    link.click()
    p.wait(lambda: p.ready() and p.ready().startswith("#/drill"), what="the drill-down")
    assert "kpi=K4" in href and "figure=numerator" in href
    rows = p.css("#records-table tbody tr")
    assert len(rows) == num["value"] > 0
    assert "K4" in p.one("#drill-title").text
    shots(p.d, "04-drill-K4-numerator")
    rid = rows[0].get_attribute("data-id")
    rows[0].find_element("css selector", "a.record-link").click()
    p.wait(lambda: p.ready() == f"#/record/{rid}", what="the record page")
    sha = world.hq.query("SELECT b.sha256 FROM records r JOIN batches b ON b.id = r.batch_id "
                         "WHERE r.id = ?", (rid,))[0][0]
    assert p.one("#rec-id").text == rid and p.one("#rec-sha").text == sha
    badge = p.one("[data-sig]")
    assert badge.get_attribute("data-sig") == "verified" and "驗證通過" in badge.text
    assert len(p.css("#rec-revisions tbody tr")) == world.hq.query(
        "SELECT count(*) FROM revisions WHERE id = ?", (rid,))[0][0]
    shots(p.d, "05-record")


# A code shown as "field=code", or a bare code of the record's data, kind or status.
RAW = re.compile(r"\b[a-z_]+=\S")
CODES = ["traffic_accident", "failure_to_yield", "final", "true", "false"]


def assert_no_codes(text):
    assert not RAW.search(text), RAW.search(text).group(0)
    for code in CODES:
        assert not re.search(r"\b" + code + r"\b", text), code


def test_record_page_shows_labels_not_codes_in_both_languages(reviewer, world, shots):
    p = reviewer
    rid = world.hq.query("SELECT id FROM records WHERE kind = 'traffic_accident' AND org_unit = "
                         "'P06-S03' AND occurred_at LIKE '2018-03-15%'")[0][0]
    value = lambda f: p.one(f'#rec-data tr[data-field="{f}"] td.value').text
    label = lambda f: p.one(f'#rec-data tr[data-field="{f}"] th').text
    p.go(f"#/record/{rid}")
    assert p.one("#rec-kind").text == "交通事故"
    assert p.one("#rec-status").text.startswith("已完成")
    assert p.one("#rec-unit").text == ref_label("units", "P06-S03") + " (P06-S03)"
    assert p.one("#rec-occurred").text == "107/03/15 08:42"
    assert label("class") == kind_labels("traffic_accident", "class")
    assert value("class") == kind_labels("traffic_accident", "class", "a2")
    assert value("cause") == kind_labels("traffic_accident", "cause", "failure_to_yield")
    assert value("intersection") == ref_label("intersections", "INT-13") + " (INT-13)"
    assert label("intersection") == kind_labels("traffic_accident", "intersection")
    assert_no_codes(p.one("main").text)
    shots(p.d, "14-record-labels-zh-TW")
    p.one("#lang").click()
    try:
        p.wait(lambda: p.one("#rec-kind").text == "Traffic accident", what="the English record")
        assert p.one("#rec-status").text.startswith("Final")
        assert p.one("#rec-occurred").text == "2018-03-15 08:42"
        assert p.one("#rec-unit").text == ref_label("units", "P06-S03", "en") + " (P06-S03)"
        assert label("class") == kind_labels("traffic_accident", "class", lang="en")
        assert value("class") == kind_labels("traffic_accident", "class", "a2", "en")
        assert value("intersection") == ref_label("intersections", "INT-13", "en") + " (INT-13)"
        assert_no_codes(p.one("main").text)
        shots(p.d, "15-record-labels-english")
        # The list: a boolean and a listed segment, labelled, in the summary.
        p.go("#/records?kind=parking_citation&org=P06-S03&period=107-03")
        text = p.one("#records-table").text
        assert "Major violation: Yes" in text and "Final" in text
        assert ref_label("segments", "SEG-0602", "en") + " (SEG-0602)" in text
        assert_no_codes(text)
    finally:
        p.one("#lang").click()
        p.wait(lambda: p.one("#nav-scorecard").text == "績效總表", what="zh-TW again")
    p.go("#/records?kind=parking_citation&org=P06-S03&period=107-03")
    text = p.one("#records-table").text
    assert "重大違規停車：是" in text and "已完成" in text and "攔停舉發" in text
    assert ref_label("segments", "SEG-0602") + " (SEG-0602)" in text
    assert_no_codes(text)
    shots(p.d, "16-records-labels-zh-TW")


def test_export_csv_from_the_records_page(reviewer, world, shots):
    p = reviewer
    p.go("#/records?kind=parking_citation&period=107-03")
    shots(p.d, "06-records")
    href = p.one("#export-csv").get_attribute("href")
    assert "format=csv" in href
    status, text = p.fetch(href)
    assert status == 200 and text.startswith("\ufeff")
    lines = text[1:].split("\r\n")
    assert lines[0].startswith('"編號","類別（代碼）","類別"')    # headers in the page's language
    want = world.hq.query("SELECT count(*) FROM records WHERE kind = 'parking_citation' AND "
                          "occurred_at LIKE '2018-03%'")[0][0]
    assert len([ln for ln in lines[1:] if ln]) == want
    assert "違規停車舉發" in text
    assert any("user=reviewer what=records format=csv" in r[0] for r in world.hq.query(
        "SELECT detail FROM audit WHERE action = 'export'"))


def test_a_script_in_a_record_is_shown_as_text(reviewer, world, shots):
    p = reviewer
    rid = world.xss_record()
    p.go(f"#/record/{rid}")
    cells = {r.get_attribute("data-field"): r.find_element("css selector", "td.value").text
             for r in p.css("#rec-data tr")}
    assert cells["topic"] == XSS and cells["notes"] == "notes: " + XSS
    assert p.d.execute_script("return window.__xss === undefined")
    assert not p.css("main script") and not p.css('main img[src="x"]')
    shots(p.d, "07-record-with-script-text")
    p.go("#/records?kind=community_event")
    assert XSS in p.one("#records-table .summary").text
    assert p.d.execute_script("return window.__xss === undefined")


def test_devices_and_quarantine_pages(reviewer, world, shots):
    p = reviewer
    p.go("#/devices")
    ids = [r.get_attribute("data-device") for r in p.css("#devices-table tbody tr")]
    assert set(world.devices.values()) <= set(ids)
    assert "beatbook status" in p.one("#pending-note").text
    assert {c.text for c in p.css("#devices-table .dev-status")} <= {"使用中", "待登錄", "已撤銷"}
    shots(p.d, "08-devices")
    p.go("#/quarantine?state=all")
    shots(p.d, "09-quarantine")
    rows = p.css("#quarantine-table tbody tr")
    assert rows and "P06" in rows[0].find_element("css selector", ".q-reason").text
    assert rows[0].find_element("css selector", ".q-kind").text == "違規停車舉發"
    assert rows[0].find_element("css selector", ".q-unit").text == \
        ref_label("units", "P08-S01") + " (P08-S01)"
    p.go("#/quarantine")
    open_rows = p.css("#quarantine-table tbody tr")
    if open_rows:               # the API tests may have acted on it already
        row = open_rows[0]
        qid = row.get_attribute("data-qid")
        row.find_element("css selector", ".q-note").send_keys("checked by browser test")
        row.find_element("css selector", ".q-review").click()
        p.wait(lambda: not p.css(f'#quarantine-table tr[data-qid="{qid}"]'),
               what="the reviewed row to leave the open list")
        assert world.hq.query("SELECT action, user_name, note FROM quarantine_actions WHERE "
                              "item = 'record' AND item_id = ?", (qid,)) == \
            [("reviewed", "reviewer", "checked by browser test")]


def test_english_switch_and_sign_out(reviewer, world, shots):
    p = reviewer
    p.go("#/scorecard?period=2018-03")
    p.one("#lang").click()
    p.wait(lambda: p.one("#nav-scorecard").text == "Scorecard", what="English labels")
    p.wait(lambda: p.css("#kpi-table"), what="the English scorecard")
    card = world.kpi_json("--period", "2018-03", "--lang", "en")
    assert p.css("#kpi-table tbody tr td")[1].text.startswith(card["kpis"][0]["label"]["en"])
    check_rows(p.css("#kpi-table tbody tr"), card, "en")
    shots(p.d, "10-scorecard-english")
    p.one("#lang").click()
    p.one("#signout").click()
    p.wait(lambda: p.ready() == "signin", what="the sign-in form after signing out")
    status, _ = p.fetch(f"https://127.0.0.1:{world.hq.port}/v1/session")
    assert status == 401
    p.sign_in("reviewer", None)                 # as the other tests expect
    p.wait(lambda: p.ready() == "#", what="the first page")


def test_precinct_admin_sees_only_its_precinct(world, shots):
    d = start_browser()
    try:
        p = Page(world, d)
        p.sign_in("p06admin", None)
        p.wait(lambda: p.ready() == "#", what="the first page")
        assert "P06" in p.one("#card-org").text
        shots(d, "11-precinct-scorecard")
        p.go("#/devices")
        units = [r.find_elements("css selector", "td")[1].text for r in p.css("#devices-table tbody tr")]
        assert units and all("P06" in u for u in units)
        shots(d, "12-precinct-devices")
        p.go("#/records")
        units = [r.find_elements("css selector", "td")[2].text for r in p.css("#records-table tbody tr")]
        assert units and all("P06" in u for u in units)
        options = [o.get_attribute("value") for o in p.css("#f-org option")]
        assert options and all(o.startswith("P06") for o in options)
        other = world.record_of("P08")
        p.go(f"#/record/{other}")
        assert "查無此紀錄" in p.one("#error").text
        p.go("#/records?org=P08")
        assert "P06" in p.one("#error").text and not p.css("#records-table")
        shots(d, "13-precinct-other-precinct-refused")
        status, text = p.fetch(f"https://127.0.0.1:{world.hq.port}/v1/records?org=P08-S02"
                               "&format=csv")
        assert status == 403 and "P08-S02" not in text.replace('"org', "")
    finally:
        stop_browser(d)


# ---- labels, not codes: every zh-TW page ----------------------------------------------

def _schema_codes():
    """Kind names, field names and enum codes of every kind (schema/records)."""
    import json
    from conftest import REPO
    codes = set()
    for f in (REPO / "schema" / "records").glob("*.json"):
        k = json.loads(f.read_text())
        codes.add(k.get("kind", f.stem))
        for fl in k["fields"]:
            codes.add(fl["name"])
            codes.update(str(v["code"]) for v in fl.get("values", []))
    return codes


STATUS_CODES = {"final", "void", "draft", "pending", "active", "revoked", "https", "import",
                "released", "reviewed", "open", "all", "records", "computed", "plan",
                "recorded_at", "occurred_at", "true", "false", "null"}
# What may stand in Latin letters on a zh-TW page: names of things, not words to read.
ALLOWED_WORDS = {"Beatbook", "English", "SHA", "CSV", "JSON", "ZIP", "HTTPS", "USB", "CSRF",
                 "reviewer", "p06admin", "RFC", "pt",  # pt: the KPI unit 百分點, explained on the page
                 "JPEG", "PNG", "HEIC", "HEIF", "PDF", "KB", "MB", "bytes"}   # files and sizes
# Codes shown after a name or as an id: (P06-S03), INT-13, K4, 107H1, r2, hex ids and hashes.
NOT_WORDS = re.compile(r"[(（][A-Z0-9-]+[)）]|\b(?:[A-Z]+\d*(?:-[A-Z]*\d+)+|[A-Z]\d+|\d+[HQ]\d|[HQ]\d|"
                       r"[0-9a-f]{6,}(?:-[0-9a-f]+)*|d-[0-9a-z-]+|beatbook status)\b")


def latin_words(text):
    """The Latin-letter words of a zh-TW page's visible text, less the allowed names."""
    text = NOT_WORDS.sub(" ", text)
    return [w for w in re.findall(r"[A-Za-z][A-Za-z_]+", text) if w not in ALLOWED_WORDS]


def scan_zh(p, name, shots):
    """Visible text of the page in zh-TW: no kind, field, enum or status code, no English."""
    assert p.d.execute_script("return document.documentElement.lang") == "zh-TW"
    text = p.d.execute_script("return document.body.innerText")
    # typed by people (notes, a device's label, a reviewer's note): data, not labels
    for typed in (FORMULA, XSS, "crafted laptop", "checked by browser test"):
        text = text.replace(typed, " ")
    words = latin_words(text)
    codes = _schema_codes() | STATUS_CODES
    bad = sorted({w for w in words if w in codes}) + sorted({w for w in words if w not in codes})
    shots(p.d, name)
    where = [ln for ln in text.splitlines() if set(latin_words(ln)) & set(bad)]
    assert not bad, f"{name}: codes or English on a zh-TW page: {bad}\n" + "\n".join(where[:20])


def test_every_zh_tw_page_shows_labels_not_codes(reviewer, world, shots):
    p = reviewer
    p.go("#/scorecard?period=107-03")
    for box in p.css(".card details summary"):
        box.click()
    scan_zh(p, "20-scan-scorecard", shots)
    p.go("#/drill?kpi=K4&figure=numerator&period=107-03")
    scan_zh(p, "21-scan-drill", shots)
    counts = p.one("#drill-counts").text
    for words in [kind_labels("parking_citation"), kind_labels("parking_citation", "segment"),
                  kind_labels("parking_citation", "method", "stop"),
                  kind_labels("parking_citation", "method", "remote"),
                  kind_labels("parking_citation", "source", "police")]:
        assert words in counts, (words, counts)
    p.go("#/records?kind=parking_citation&period=107-03")
    scan_zh(p, "22-scan-records", shots)
    cell = p.css("#records-table tbody tr td")[1]
    assert cell.text == "違規停車舉發" and cell.get_attribute("title") == "parking_citation"
    titles = " ".join(c.get_attribute("title") or "" for c in p.css("#records-table .summary"))
    assert "method=stop" in titles and "segment=SEG-0602" in titles     # codes on hover
    rid = world.hq.query("SELECT id FROM records WHERE kind = 'traffic_accident' AND org_unit = "
                         "'P06-S03' AND occurred_at LIKE '2018-03-15%'")[0][0]
    p.go(f"#/record/{rid}")
    scan_zh(p, "23-scan-record", shots)
    v = p.one('#rec-data tr[data-field="cause"] td.value')
    assert v.text == kind_labels("traffic_accident", "cause", "failure_to_yield")
    assert v.get_attribute("title") == "failure_to_yield"
    p.go("#/devices")
    scan_zh(p, "24-scan-devices", shots)
    assert p.one("#devices-table .dev-status").get_attribute("title") in {"active", "pending",
                                                                           "revoked"}
    p.go("#/quarantine?state=all")
    scan_zh(p, "25-scan-quarantine", shots)


def test_detector_finds_codes_and_english():
    assert latin_words("狀態 final · 協和派出所 (P06-S03)") == ["final"]
    assert latin_words("計入條件: parking_citation where segment in the plan") == [
        "parking_citation", "where", "segment", "in", "the", "plan"]
    assert latin_words("K4 列管路段 · 東豐自行車綠廊 (BP-DF) · INT-13 · 版次 2 · 3e4f5a6b") == []


def test_record_page_shows_what_each_revision_changed(reviewer, world, shots):
    """An officer edits a case on the laptop, syncs; the record page's revision table
    shows the change field by field, old → new, in labels (as `beatbook show` does)."""
    p = reviewer
    rid = world.hq.query("SELECT id FROM records WHERE kind = 'criminal_case' AND org_unit = "
                         "'P06-S03' AND occurred_at LIKE '2018-03-15%' ORDER BY id")[0][0]
    lp = world.laptops["xiehe"]
    lp.ok("edit", rid, "category=fraud", "victims=3")
    lp.sync_once()
    p.go(f"#/record/{rid}")
    rows = p.css("#rec-revisions tbody tr")
    assert len(rows) == 2
    assert rows[0].find_element("css selector", ".rev-changes").text == "首次登錄"
    changes = {li.get_attribute("data-field"): li.text
               for li in rows[1].find_elements("css selector", ".rev-changes li")}
    cat = kind_labels("criminal_case", "category")
    assert changes["category"] == (f"{cat}：{kind_labels('criminal_case', 'category', 'theft')}"
                                   f" → {kind_labels('criminal_case', 'category', 'fraud')}")
    assert changes["victims"] == f"{kind_labels('criminal_case', 'victims')}：1 → 3"
    assert set(changes) == {"category", "victims"}
    scan_zh(p, "26-record-revision-diff", shots)
    p.one("#lang").click()
    try:
        p.wait(lambda: p.one("#rec-kind").text == kind_labels("criminal_case", lang="en"),
               what="the English record")
        li = p.one('#rec-revisions .rev-changes li[data-field="category"]')
        assert li.text == (f"{kind_labels('criminal_case', 'category', lang='en')}: "
                           f"{kind_labels('criminal_case', 'category', 'theft', 'en')} → "
                           f"{kind_labels('criminal_case', 'category', 'fraud', 'en')}")
        shots(p.d, "27-record-revision-diff-english")
    finally:
        p.one("#lang").click()
        p.wait(lambda: p.one("#nav-scorecard").text == "績效總表", what="zh-TW again")


def test_lists_fit_a_phone_screen(reviewer, world, shots):
    """At 390 px the scorecard and the lists fit instead of scrolling sideways."""
    p = reviewer
    rid = world.record_of("P06", "traffic_accident")
    pages = [("#/scorecard?period=107-03", "29-phone-scorecard"),
             ("#/records?period=107-03", "30-phone-records"),
             ("#/drill?kpi=K4&figure=numerator&period=107-03", "31-phone-drill"),
             (f"#/record/{rid}", "32-phone-record"),
             ("#/devices", "33-phone-devices"), ("#/quarantine?state=all", "34-phone-quarantine")]
    size = p.d.get_window_size()
    p.d.set_window_size(390, 844)
    try:
        width = p.d.execute_script("return window.innerWidth")
        assert width <= 390
        for hash_, name in pages:
            p.go(hash_)
            if "scorecard" in hash_:   # the monthly charts come after the table
                p.wait(lambda: len(p.css(".cards .card canvas")) == 6, what="the charts")
            scroll = p.d.execute_script("return document.documentElement.scrollWidth")
            shots(p.d, name)
            assert scroll <= width, f"{hash_}: {scroll} px wide on a {width} px screen"
    finally:
        p.d.set_window_size(size["width"], size["height"])
