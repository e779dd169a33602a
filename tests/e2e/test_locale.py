"""zh-TW means zh-TW: with LANG=zh_TW.UTF-8 (and no --lang) every message of
`beatbook` and `beatbook-syncd` -- every --help, every result, every usage
error, every refusal -- is written in zh-TW.

One scenario (module fixture `runs`) drives the real binaries in order: the
global and every command's --help, a store made, records added, listed,
shown, edited, voided, a patrol started and ended, kinds, ref, status,
report, an enrolled laptop that seals and exports, beatbook-syncd with no
store, an unenrolled store, an HQ that cannot be reached and one that
answers; and the typical mistakes (no store, 2018-13-01, a missing
--reason, unknown options, fields, values and kinds).  Each step is a test
of its own that lists every line of its stdout and stderr that holds
English.

What counts as English (english_lines): after taking out what is not
prose -- command lines (`beatbook kinds show KIND`), option names (--reason),
codes (parking_citation, SEG-0601, P06-S03, HQ, KIND, ID), paths and URLs,
FIELD=VALUE, numbers, and the kinds', fields' and values' codes from
schema/ -- a line is English when it still has
  * two or more English words (2+ letters) in a row, separated by blanks
    only ("unknown option", "store created"), or
  * two or more English words and not one CJK character ("sent 1,
    acknowledged 1"), or
  * a lone English label or type name (usage:, note:, enum, integer).
test_detector_* check the definition itself: it finds the English of
today's --lang en output and passes zh-TW text with commands and codes.
"""
import json
import os
import re
import subprocess

import pytest

from conftest import BEATBOOK, REPO, clean_env, db_query
from sync_fixtures import HQ, HQ_BIN, SYNCD_BIN, no_proxy_env

# ---- what is English ----------------------------------------------------------

PROGRAMS = {"beatbook", "beatbook-syncd", "beatbook-hq"}
SUBCOMMANDS = {"init", "add", "patrol", "start", "end", "edit", "void", "list", "show",
               "kinds", "ref", "status", "report", "seal", "export", "purge", "import",
               "device", "enroll", "units", "intersections", "segments", "bikepaths"}
VALUES = {"draft", "final", "void", "now", "true", "false", "en", "zh-TW"}
# Single words that are English labels, not codes, and must not appear in zh-TW.
LONE_WORDS = {"usage", "note", "warning", "error", "options", "commands", "environment",
              "required", "rev", "ok", "enum", "integer", "boolean", "datetime", "number",
              "text", "geo", "yes", "no", "never", "failed", "registered", "revisions"}


def _schema_codes():
    """Every code schema/ defines: kinds, field names, enum values, ref levels."""
    codes = set()
    for f in sorted((REPO / "schema" / "records").glob("*.json")):
        k = json.loads(f.read_text(encoding="utf-8"))
        codes.add(k["kind"])
        for fl in k.get("fields", []):
            codes.add(fl["name"])
            codes.update(v["code"] for v in fl.get("values", []))
    for f in sorted((REPO / "schema" / "reference").glob("*.json")):
        for items in json.loads(f.read_text(encoding="utf-8")).values():
            if isinstance(items, list):
                codes.update(i["level"] for i in items if isinstance(i, dict) and i.get("level"))
    return codes


CODES = PROGRAMS | SUBCOMMANDS | VALUES | _schema_codes()
ENVELOPE = {"id", "kind", "occurred_at", "recorded_at", "org_unit", "location", "officer",
            "device", "status", "data", "void_reason"}
CODES |= ENVELOPE

# CJK ideographs, kana, CJK and full-width punctuation: each run is a barrier.
CJK = re.compile("[\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u9fff"
                 "\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]+")
OPEN = "\"'`([{<\u201c\u2018"
CLOSE = "\"'`)]}>.,;:!?\u2026\u201d\u2019"
WORD = re.compile(r"^[A-Za-z]{2,}(?:['\u2019-][A-Za-z]+)*$")
UPPER = re.compile(r"^[A-Z][A-Z0-9-]+$")          # KIND, ID, HQ, FIELD, SEG-9999
SEP = "\x00"


def not_prose(core):
    """A token that is a code, a path, an option, a number or an assignment."""
    if not core or core[0] in "-\u2014" or core.startswith("->"):
        return True                                   # --reason, -h, ->, —
    if any(c in core for c in "=/_|@\\$~#%+*") or any(c.isdigit() for c in core):
        return True                                   # FIELD=VALUE, paths, codes
    if UPPER.match(core) or core in CODES:
        return True
    if re.match(r"^\w+\.\w", core):                   # field.db, e.g
        return True
    return False


def english_words(line):
    """(longest run of English words separated by blanks, all English words, lone
    label words) of one line, with commands, codes and CJK taken out."""
    toks = CJK.sub(f" {SEP} ", line).split()
    has_cjk = SEP in toks
    runs, cur, words, lone = [], [], [], []
    in_cmd = expect_value = False

    def flush():
        if cur:
            runs.append(list(cur))
            cur.clear()

    for t in toks:
        if t == SEP:
            flush()
            in_cmd = expect_value = False
            continue
        core = t.strip(OPEN + CLOSE)
        opens, closes = t[0] in OPEN, t[-1] in CLOSE
        if in_cmd:
            if expect_value or not_prose(core) or core.lower() in CODES:
                expect_value = core.startswith("--") and "=" not in core and not closes
                if closes:
                    in_cmd = expect_value = False
                continue
            in_cmd = False
        if core in PROGRAMS:
            flush()
            in_cmd = not closes and not core.endswith(":")
            continue
        if not_prose(core):
            flush()
            continue
        if WORD.match(core):
            if opens:
                flush()
            cur.append(core)
            words.append(core)
            if core.lower() in LONE_WORDS:
                lone.append(core)
            if closes:
                flush()
        elif len(core) == 1 and core.isalpha():
            if closes:
                flush()          # "a", "e": neither a word nor a break
        else:
            flush()
    flush()
    longest = max(runs, key=len) if runs else []
    return longest, words, lone, has_cjk


def is_english(line):
    longest, words, lone, has_cjk = english_words(line)
    return len(longest) >= 2 or (len(words) >= 2 and not has_cjk) or bool(lone)


def english_lines(text):
    return [line for line in text.splitlines() if is_english(line)]


# ---- the scenario -------------------------------------------------------------

ZH_ENV = {"LANG": os.environ.get("LOCALE_TEST_LANG", "zh_TW.UTF-8")}

ACCIDENT = ["class=a2", "deaths=0", "injuries=2", "intersection=INT-03",
            "occurred_at=107/03/15 08:42"]
CITATION = ["method=stop", "source=police", "segment=SEG-0601", "major=yes",
            "violation=red_line"]
PATROL = ["type=bike_path", "mode=bicycle", "bike_path=BP-DF", "officers=2"]

HELPS = ["init", "add", "patrol", "edit", "void", "list", "show", "kinds", "ref", "status",
         "report", "seal", "export", "purge", "ui"]

# (name, program, home, args, expected exit status, key to keep stdout under).
# {name} in an argument is replaced by what an earlier step kept, or a path.
STEPS = [
    ("help", "beatbook", "none", ["--help"], 0, None),
    ("no_command", "beatbook", "none", [], 64, None),
    ("unknown_global_option", "beatbook", "none", ["--bogus"], 64, None),
    ("unknown_command", "beatbook", "none", ["frobnicate"], 64, None),
    ("bad_lang", "beatbook", "none", ["--lang", "fr", "list"], 64, None),
] + [(f"help_{c}", "beatbook", "none", [c, "--help"], 0, None) for c in HELPS] + [
    ("no_store_list", "beatbook", "none", ["list"], 66, None),
    ("no_store_status", "beatbook", "none", ["status"], 66, None),
    ("no_store_add", "beatbook", "none", ["add", "parking_citation"] + CITATION, 66, None),
    ("init_no_args", "beatbook", "s", ["init"], 64, None),
    ("init_no_unit", "beatbook", "s", ["init", "--officer", "A123456"], 64, None),
    ("init_bad_unit", "beatbook", "s", ["init", "--officer", "A123456", "--org-unit", "P99"],
     64, None),
    ("init_bad_officer", "beatbook", "s", ["init", "--officer", "A 1", "--org-unit", "P06-S03"],
     64, None),
    ("init_unknown_option", "beatbook", "s", ["init", "--bogus"], 64, None),
    ("ui_unknown_option", "beatbook", "s", ["ui", "--bogus"], 64, None),
    ("ui_bad_port", "beatbook", "s", ["ui", "--port", "http"], 64, None),
    ("init_extra_argument", "beatbook", "s", ["init", "extra"], 64, None),
    ("init", "beatbook", "s", ["init", "--officer", "A123456", "--org-unit", "P06-S03"], 0,
     None),
    ("init_again", "beatbook", "s", ["init", "--officer", "A123456", "--org-unit", "P06-S03"],
     73, None),
    ("add_citation", "beatbook", "s", ["add", "parking_citation"] + CITATION, 0, "cit"),
    ("add_accident", "beatbook", "s", ["add", "traffic_accident"] + ACCIDENT, 0, "acc"),
    ("add_rule_broken", "beatbook", "s",
     ["add", "traffic_accident", "class=a3", "deaths=1", "injuries=0", "intersection=INT-13"],
     65, None),
    ("add_future", "beatbook", "s",
     ["add", "parking_citation"] + ["method=stop", "source=police", "major=no",
                                    "violation=red_line", "occurred_at=2030-01-01 10:00"],
     65, None),
    ("add_ambiguous_name", "beatbook", "s",
     ["add", "traffic_accident", "class=a2", "deaths=0", "injuries=1", "intersection=中港"],
     65, None),
    ("add_bad_date", "beatbook", "s",
     ["add", "traffic_accident"] + ACCIDENT[:-1] + ["occurred_at=2018-13-01"], 65, None),
    ("add_bad_date_field", "beatbook", "s",
     ["add", "criminal_case", "case_no=1070315001", "category=fraud",
      "reported_at=2018-13-01 10:00"], 65, None),
    ("add_bad_day", "beatbook", "s",
     ["add", "criminal_case", "case_no=1070315001", "category=fraud",
      "reported_at=2018-02-30"], 65, None),
    ("add_bad_time", "beatbook", "s",
     ["add", "criminal_case", "case_no=1070315001", "category=fraud", "reported_at=25:00"],
     65, None),
    ("add_not_a_time", "beatbook", "s",
     ["add", "criminal_case", "case_no=1070315001", "category=fraud", "reported_at=昨天"],
     65, None),
    ("add_unknown_field", "beatbook", "s", ["add", "parking_citation", "nosuch=1"], 65, None),
    ("add_bad_enum", "beatbook", "s", ["add", "parking_citation", "method=xyz"], 65, None),
    ("add_bad_ref", "beatbook", "s", ["add", "parking_citation", "segment=SEG-9999"], 65, None),
    ("add_bad_integer", "beatbook", "s", ["add", "traffic_accident", "deaths=abc"], 65, None),
    ("add_bad_boolean", "beatbook", "s", ["add", "parking_citation", "major=maybe"], 65, None),
    ("add_bad_location", "beatbook", "s",
     ["add", "parking_citation", "location=abc"] + CITATION, 65, None),
    ("add_location_range", "beatbook", "s",
     ["add", "parking_citation", "location=95,200"] + CITATION, 65, None),
    ("add_missing_required", "beatbook", "s",
     ["add", "parking_citation", "method=stop", "--no-prompt"], 65, None),
    ("add_not_an_assignment", "beatbook", "s", ["add", "parking_citation", "method"], 64, None),
    ("add_bad_kind", "beatbook", "s", ["add", "nosuch_kind"], 65, None),
    ("add_no_kind", "beatbook", "s", ["add"], 64, None),
    ("add_unknown_option", "beatbook", "s", ["add", "parking_citation", "--bogus"], 64, None),
    ("list", "beatbook", "s", ["list"], 0, None),
    ("list_kind", "beatbook", "s", ["list", "--kind", "parking_citation"], 0, None),
    ("list_nothing", "beatbook", "s", ["list", "--status", "draft"], 0, None),
    ("list_bad_kind", "beatbook", "s", ["list", "--kind", "nosuch"], 64, None),
    ("list_bad_status", "beatbook", "s", ["list", "--status", "open"], 64, None),
    ("list_bad_from", "beatbook", "s", ["list", "--from", "2018-13-01"], 64, None),
    ("list_bad_period", "beatbook", "s", ["list", "--period", "2018-13"], 64, None),
    ("list_bad_limit", "beatbook", "s", ["list", "--limit", "x"], 64, None),
    ("list_backwards", "beatbook", "s", ["list", "--from", "2018-03-02", "--to", "2018-03-01"],
     64, None),
    ("list_unknown_option", "beatbook", "s", ["list", "--bogus"], 64, None),
    ("list_missing_value", "beatbook", "s", ["list", "--kind"], 64, None),
    ("list_extra_argument", "beatbook", "s", ["list", "extra"], 64, None),
    ("show", "beatbook", "s", ["show", "{acc}"], 0, None),
    ("show_no_id", "beatbook", "s", ["show"], 64, None),
    ("show_short_id", "beatbook", "s", ["show", "abc"], 64, None),
    ("show_unknown_id", "beatbook", "s", ["show", "ffffffff"], 66, None),
    ("edit", "beatbook", "s", ["edit", "{acc}", "injuries=3"], 0, None),
    ("edit_nothing_changed", "beatbook", "s", ["edit", "{acc}", "injuries=3"], 64, None),
    ("edit_no_args", "beatbook", "s", ["edit"], 64, None),
    ("edit_unknown_field", "beatbook", "s", ["edit", "{acc}", "nosuch=1"], 65, None),
    ("edit_bad_date", "beatbook", "s", ["edit", "{acc}", "occurred_at=2018-13-01"], 65, None),
    ("show_revised", "beatbook", "s", ["show", "{acc}"], 0, None),
    ("void_no_reason", "beatbook", "s", ["void", "{cit}"], 64, None),
    ("void_no_id", "beatbook", "s", ["void", "--reason", "重複輸入"], 64, None),
    ("void_unknown_option", "beatbook", "s", ["void", "--bogus"], 64, None),
    ("void", "beatbook", "s", ["void", "{cit}", "--reason", "重複輸入"], 0, None),
    ("void_again", "beatbook", "s", ["void", "{cit}", "--reason", "重複輸入"], 65, None),
    ("show_void", "beatbook", "s", ["show", "{cit}"], 0, None),
    ("patrol_no_verb", "beatbook", "s", ["patrol"], 64, None),
    ("patrol_bad_verb", "beatbook", "s", ["patrol", "begin"], 64, None),
    ("patrol_end_none_open", "beatbook", "s", ["patrol", "end"], 65, None),
    ("patrol_start", "beatbook", "s", ["patrol", "start"] + PATROL, 0, "p1"),
    ("patrol_start_second", "beatbook", "s", ["patrol", "start"] + PATROL, 0, "p2"),
    ("patrol_end_which", "beatbook", "s", ["patrol", "end", "distance_km=24"], 64, None),
    ("patrol_end_not_patrol", "beatbook", "s", ["patrol", "end", "{acc}"], 65, None),
    ("list_drafts", "beatbook", "s", ["list", "--status", "draft"], 0, None),
    ("show_draft", "beatbook", "s", ["show", "{p2}"], 0, None),
    ("patrol_end", "beatbook", "s", ["patrol", "end", "{p1}", "distance_km=24"], 0, None),
    ("list_all", "beatbook", "s", ["list"], 0, None),
    ("kinds", "beatbook", "s", ["kinds"], 0, None),
    ("kinds_show_patrol", "beatbook", "s", ["kinds", "show", "patrol"], 0, None),
    ("kinds_show_citation", "beatbook", "s", ["kinds", "show", "parking_citation"], 0, None),
    ("kinds_show_unknown", "beatbook", "s", ["kinds", "show", "nosuch"], 64, None),
    ("kinds_bad_use", "beatbook", "s", ["kinds", "list"], 64, None),
    ("kinds_unknown_option", "beatbook", "s", ["kinds", "--bogus"], 64, None),
] + [(f"ref_{r}", "beatbook", "s", ["ref", r], 0, None)
     for r in ("units", "intersections", "segments", "bikepaths")] + [
    ("ref_no_list", "beatbook", "s", ["ref"], 64, None),
    ("ref_unknown_list", "beatbook", "s", ["ref", "roads"], 64, None),
    ("status", "beatbook", "s", ["status"], 0, None),
    ("status_extra_argument", "beatbook", "s", ["status", "extra"], 64, None),
    ("report", "beatbook", "s", ["report", "--period", "107-03"], 0, None),
    ("report_no_period", "beatbook", "s", ["report"], 64, None),
    ("report_bad_period", "beatbook", "s", ["report", "--period", "2018-13"], 64, None),
    ("report_bad_range", "beatbook", "s", ["report", "--period", "2018-03..2018-01"], 64, None),
    ("report_unknown_option", "beatbook", "s", ["report", "--bogus"], 64, None),
    ("seal_not_enrolled", "beatbook", "s", ["seal"], 65, None),
    ("export_not_enrolled", "beatbook", "s", ["export", "--to", "{usb}"], 65, None),
    ("export_no_dir", "beatbook", "s", ["export"], 64, None),
    ("purge_bad_days", "beatbook", "s", ["purge", "--days", "x"], 64, None),
    ("seal_unknown_option", "beatbook", "s", ["seal", "--bogus"], 64, None),
    # an enrolled laptop whose HQ is not running
    ("init_enroll_missing_file", "beatbook", "e",
     ["init", "--enroll", "{nofile}", "--officer", "A123456"], 66, None),
    ("init_enroll_no_officer", "beatbook", "e", ["init", "--enroll", "{enr}"], 64, None),
    ("init_enroll", "beatbook", "e", ["init", "--enroll", "{enr}", "--officer", "A123456"], 0,
     None),
    ("add_enrolled", "beatbook", "e", ["add", "parking_citation"] + CITATION, 0, None),
    ("seal", "beatbook", "e", ["seal"], 0, None),
    ("seal_nothing", "beatbook", "e", ["seal"], 0, None),
    ("export", "beatbook", "e", ["export", "--to", "{usb}"], 0, None),
    ("export_missing_dir", "beatbook", "e", ["export", "--to", "{nofile}"], 66, None),
    ("status_enrolled", "beatbook", "e", ["status"], 0, None),
    ("purge", "beatbook", "e", ["purge"], 0, None),
    ("syncd_help", "beatbook-syncd", "e", ["--help"], 0, None),
    ("syncd_unknown_option", "beatbook-syncd", "e", ["--bogus"], 64, None),
    ("syncd_extra_argument", "beatbook-syncd", "e", ["extra"], 64, None),
    ("syncd_no_store", "beatbook-syncd", "none", ["--once"], 66, None),
    ("syncd_not_enrolled", "beatbook-syncd", "s", ["--once"], 65, None),
    ("syncd_check_config", "beatbook-syncd", "e", ["--check-config"], 0, None),
    ("syncd_bad_config", "beatbook-syncd", "e", ["--check-config", "--config", "{badconf}"],
     78, None),
    ("syncd_hq_unreachable", "beatbook-syncd", "e", ["--once"], 75, None),
    ("status_after_failed_sync", "beatbook", "e", ["status"], 0, None),
    ("syncd_hq_answers", "beatbook-syncd", "e", ["--once"], 0, None),
    ("status_after_sync", "beatbook", "e", ["status"], 0, None),
]
STEP_NAMES = [s[0] for s in STEPS]
assert len(set(STEP_NAMES)) == len(STEP_NAMES)
NEEDS_HQ = {"init_enroll", "add_enrolled", "seal", "seal_nothing", "export",
            "export_missing_dir", "status_enrolled", "purge", "syncd_hq_unreachable",
            "status_after_failed_sync", "syncd_hq_answers", "status_after_sync",
            "init_enroll_no_officer", "init_enroll_missing_file", "syncd_check_config",
            "syncd_bad_config", "syncd_help", "syncd_unknown_option", "syncd_extra_argument",
            "syncd_no_store", "syncd_not_enrolled"}

# col_cmd_add() is being rewritten by another change; its own --help and usage
# errors are translated there.  Not strict: they pass once that lands.
PENDING_ADD = set()   # steps still English (none: keep it empty)


def _run(program, home, args, env_extra=None, timeout=120):
    exe = {"beatbook": BEATBOOK, "beatbook-syncd": SYNCD_BIN}[program]
    env = no_proxy_env(clean_env(home, {**ZH_ENV, **(env_extra or {})}))
    if program == "beatbook-syncd":
        args = ["--home", str(home)] + list(args)
    p = subprocess.run([str(exe)] + [str(a) for a in args], env=env, capture_output=True,
                       text=True, encoding="utf-8", errors="replace", timeout=timeout)
    return p


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("locale")
    have_sync = HQ_BIN.is_file() and SYNCD_BIN.is_file()
    homes = {"none": tmp / "nothing-here", "s": tmp / "store", "e": tmp / "laptop"}
    usb = tmp / "usb"
    usb.mkdir()
    badconf = tmp / "bad.conf"
    badconf.write_text("interval = 5 minutes\nretention = 30\n")
    keep = {"usb": usb, "nofile": tmp / "no" / "such", "badconf": badconf}
    hq = None
    if have_sync:
        hq = HQ(tmp / "hq").init()
        keep["enr"] = tmp / "laptop.enroll"
        hq.enroll("P06-S03", "協和 筆電 2", keep["enr"])
    out = {}
    try:
        for name, program, home, args, rc, key in STEPS:
            if name in NEEDS_HQ and not have_sync:
                continue
            if name == "syncd_hq_answers":
                hq.start()
            argv = [a.format(**keep) if isinstance(a, str) else a for a in args]
            p = _run(program, homes[home], argv)
            out[name] = (program, argv, rc, p)
            if key and p.returncode == 0:
                keep[key] = db_query(homes[home] / "field.db", "SELECT id FROM records "
                                     "ORDER BY rowid DESC LIMIT 1")[0][0]
            if name == "syncd_hq_answers":
                hq.stop()
    finally:
        if hq is not None:
            hq.stop()
    return out


def _report(program, argv, p, bad):
    return (f"{program} {' '.join(map(str, argv))} (LANG=zh_TW.UTF-8) printed English:\n"
            + "\n".join(f"  | {line}" for line in bad)
            + f"\n--- stdout\n{p.stdout}--- stderr\n{p.stderr}")


def _params():
    for name in STEP_NAMES:
        marks = []
        if name in PENDING_ADD:
            marks.append(pytest.mark.xfail(strict=False, reason="col_cmd_add is being "
                                           "rewritten; it translates its own help and errors"))
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", list(_params()))
def test_zh_tw(runs, name):
    if name not in runs:
        pytest.skip("beatbook-hq and beatbook-syncd must be built")
    program, argv, rc, p = runs[name]
    assert p.returncode == rc, (f"{program} {' '.join(map(str, argv))}: exit {p.returncode}, "
                                f"expected {rc}\n{p.stdout}\n{p.stderr}")
    assert p.stdout or p.stderr, "printed nothing"
    bad = english_lines(p.stdout) + english_lines(p.stderr)
    assert not bad, _report(program, argv, p, bad)
    # Something zh-TW was said: the command did not fall silent or print codes alone.
    if name not in ("add_citation", "add_accident", "add_enrolled", "patrol_start",
                    "patrol_start_second", "patrol_end", "edit", "void"):
        assert CJK.search(p.stdout + p.stderr), f"no zh-TW at all:\n{p.stdout}\n{p.stderr}"


def test_list_shows_labels_not_codes(runs):
    """list's kind and status columns are the kind's label and 草稿/已完成/已作廢."""
    p = runs["list_all"][3]
    assert "交通事故" in p.stdout and "巡邏" in p.stdout
    assert "已作廢" in p.stdout and "已完成" in p.stdout
    assert "草稿" in runs["list_drafts"][3].stdout
    assert not re.search(r"(?<![\w-])(final|draft|void|traffic_accident)(?![\w-])", p.stdout)


def test_json_keeps_codes(tmp_path):
    """--json stays codes whatever the language."""
    home = tmp_path / "h"
    assert _run("beatbook", home, ["init", "--officer", "A123456", "--org-unit",
                                   "P06-S03"]).returncode == 0
    assert _run("beatbook", home, ["add", "traffic_accident"] + ACCIDENT).returncode == 0
    rows = json.loads(_run("beatbook", home, ["list", "--json"]).stdout)
    assert [(r["kind"], r["status"]) for r in rows] == [("traffic_accident", "final")]
    kind = json.loads(_run("beatbook", home, ["kinds", "show", "parking_citation",
                                              "--json"]).stdout)
    assert {f["type"] for f in kind["fields"]} >= {"enum", "ref", "boolean"}


# ---- the definition, checked -------------------------------------------------

ZH_OK = [
    "用法：beatbook add KIND [FIELD=VALUE...] [--no-prompt]",
    "parking_citation：欄位「segment」（路段）：「SEG-9999」不在列管路段清單中（請見：beatbook ref segments）",
    "beatbook：沒有資料庫 /tmp/x/field.db；請先執行：beatbook init --officer ID --org-unit CODE",
    "  --lang zh-TW|en   訊息與標籤的語言（預設依 LANG，否則 zh-TW）",
    "  patrol end [ID] [FIELD=VALUE...]    結束進行中的巡邏",
    "01934b2e-0000-7000-8000-000000000000  交通事故  已完成  2018-03-15T08:42:00+08:00  P06-S03  class=A2 類",
    "  method                 列舉     舉發方式  [必填]",
    "已封裝批次 1：1 筆紀錄",
    "總局：  https://127.0.0.1:8443（協和 筆電 2），尚未登錄（首次同步時登錄）",
    "  interval = 5m               兩次同步的間隔（s、m、h；預設 300 秒）",
    "2018-03-15T08:00:00+08:00 warn beatbook-syncd: register device=d-1234 result=retry error=\"無法連線到總局\"",
]
EN_CAUGHT = [
    "usage: beatbook add KIND [FIELD=VALUE...] [--no-prompt]",
    "beatbook: no store at /tmp/x/field.db; create one with: beatbook init --officer ID",
    "init: unknown option (see: beatbook init --help)",
    "sent 1, acknowledged 1, duplicates 0, rejected 0",
    "parking_citation：欄位「method」（舉發方式）：此欄位必填（類型：enum）",
    "beatbook: list: --from\"2018-13-01\": month 13 is not 1-12",
    "  status                 final  rev 1",
    "note: 1 other patrol(s) still open (see: beatbook list --status draft)",
]


@pytest.mark.parametrize("line", ZH_OK)
def test_detector_passes_zh_tw(line):
    assert not is_english(line), english_words(line)


@pytest.mark.parametrize("line", EN_CAUGHT)
def test_detector_catches_english(line):
    assert is_english(line), english_words(line)


@pytest.mark.parametrize("args", [["--help"], ["list", "--bogus"], ["void", "x"],
                                  ["list", "--from", "2018-13-01"], ["report"]])
def test_detector_catches_today_english_output(tmp_path, args):
    """With --lang en, every one of these prints lines the detector calls English."""
    p = subprocess.run([str(BEATBOOK), "--lang", "en"] + args, capture_output=True,
                       text=True, env=clean_env(tmp_path / "h"))
    assert english_lines(p.stdout + p.stderr), p
