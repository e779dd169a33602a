"""The terminal form: `beatbook add/edit/patrol` on a pseudo-terminal.

These tests drive the real binary through a pty (pty_driver.Pty), wait for
the exact prompt text before answering (never fixed sleeps), and then read
what was stored with `beatbook show/list --json`.  An answer is typed the way
an officer types it: enum numbers and labels, reference names and parts of
names, ROC dates, Enter for a default or to skip, "-" to clear.
"""
import datetime
import json
import re
import time

import pytest

from conftest import BEATBOOK, EX_OK, EX_USAGE, ORG_UNIT, REPO, UUID7_RE, VALID, clean_env
from pty_driver import Pty

TAIPEI = datetime.timezone(datetime.timedelta(hours=8))

# ---------------------------------------------------------------------------
# Reading the form: questions, retries, the summary.

# "\n[3/11] 受傷人數 (injuries)（必填） — help\n  hints...\n按 Enter 採用 [2] > "
_HEADER = (r"(?P<header>\n\[(?P<no>\d+)/(?P<total>\d+)\] (?P<label>[^\n]*?) \((?P<field>[a-z_]+)\)"
           r"(?P<req>（必填）|（選填）| required| optional)(?P<help>[^\n]*)\n"
           r"(?P<block>(?:[^\n]*\n)*?)(?P<prompt>[^\n]*?> ))")
_SAVE_PROMPTS = {"儲存？[Y/n/修改欄位號碼] ": "save", "儲存前請修正：輸入欄位號碼（n 放棄）> ": "fix",
                 "Save? [Y/n/field number to change] ": "save",
                 "Fix before saving: the field's number (n stops) > ": "fix"}
_SUMMARY = (r"(?P<summary>\n── (?P<kind>[^\n]*)\n(?P<body>(?:[^\n]*\n)*?)(?P<sprompt>"
            + "|".join(re.escape(p) for p in _SAVE_PROMPTS) + "))")
# Anything else that ends in "> " before the next question or summary: a
# message and the same question again ("  請輸入 1 到 3 的號碼\n> ").
_RETRY = r"(?P<retry>(?:(?!\n\[\d+/\d+\] |\n── ).)*?> )"
EVENT_RE = re.compile(_HEADER + "|" + _SUMMARY + "|" + _RETRY, re.S)
DEFAULT_RE = re.compile(r"(?:按 Enter 採用 |Enter keeps )\[(?P<d>.*)\] > $")
MENU_LINE_RE = re.compile(r"^ +(?P<n>\d+)\) (?P<code>\S+)  (?P<name>.*)$", re.M)
SAVED_RE = re.compile(r"(?:已儲存 (?P<zl>\S+) (?P<zid>[0-9a-f-]{36})（(?P<zs>[^）]*)）"
                      r"|saved (?P<el>.+?) (?P<eid>[0-9a-f-]{36}) \((?P<es>[^)]*)\))\n")
SAVED_OR_REFUSED_RE = re.compile(SAVED_RE.pattern + "|(?P<refused>" + "|".join(
    re.escape(p) for p, what in _SAVE_PROMPTS.items() if what == "fix") + ")")


class Event:
    """One thing the form did: asked a question, re-asked after a message, or
    showed the summary.  pre is what it printed before (a rule's message)."""

    def __init__(self, m, pre):
        self.pre = pre
        self.text = m.group(0)
        if m.group("header"):
            self.type = "question"
            self.no, self.total = int(m.group("no")), int(m.group("total"))
            self.field, self.label = m.group("field"), m.group("label")
            self.required = m.group("req") in ("（必填）", " required")
            self.block = m.group("block") + m.group("prompt")
            d = DEFAULT_RE.search(m.group("prompt"))
            self.default = d.group("d") if d else None
        elif m.group("summary"):
            self.type = "summary"
            self.kind = m.group("kind")
            self.body = m.group("body")
            self.prompt = _SAVE_PROMPTS[m.group("sprompt")]
            self.rows = {int(n): rest for n, rest in
                         re.findall(r"^ +(\d+) (.*)$", self.body, re.M)}
            self.problems = re.findall(r"^  × (.*)$", self.body, re.M)
        else:
            self.type = "retry"
            self.message = m.group("retry")

    def __repr__(self):
        return f"<{self.type} {getattr(self, 'field', '')} {self.text!r}>"


class Form:
    """beatbook on a terminal, read as questions and answers."""

    def __init__(self, store, *args, lang_env=None):
        env = clean_env(store.home, {"LANG": lang_env} if lang_env else None)
        self.t = Pty([BEATBOOK, *args], env)

    def close(self):
        self.t.kill()

    def next(self):
        start = self.t.pos
        m = self.t.expect(EVENT_RE)
        return Event(m, self.t.transcript[start:m.start()])

    def question(self, field):
        ev = self.next()
        assert ev.type == "question" and ev.field == field, \
            f"expected the question {field}, got {ev!r}{self.t._context()}"
        return ev

    def retry(self):
        ev = self.next()
        assert ev.type == "retry", f"expected the question again, got {ev!r}{self.t._context()}"
        return ev.message

    def summary(self):
        ev = self.next()
        assert ev.type == "summary", f"expected the summary, got {ev!r}{self.t._context()}"
        return ev

    def answer(self, text=""):
        self.t.answer(text)

    def fill(self, answers):
        """Answer each question from answers (field -> text, or a list of texts
        for a question asked more than once), Enter for the others, up to the
        summary.  Returns (questions asked, summary)."""
        todo = {f: list(a) if isinstance(a, list) else [a] for f, a in answers.items()}
        asked = []
        while True:
            ev = self.next()
            if ev.type == "summary":
                break
            assert ev.type == "question", f"unexpected {ev!r}{self.t._context()}"
            asked.append(ev)
            left = todo.get(ev.field)
            self.answer(left.pop(0) if left else "")
        never = [f for f, a in todo.items() if a and not any(q.field == f for q in asked)]
        assert not never, (f"never asked: {never}; asked: {[q.field for q in asked]}"
                           f"{self.t._context()}")
        return asked, ev

    def saved(self, draft=False):
        """Enter at the summary: the record is saved; returns its id."""
        self.answer("")
        m = self.t.expect(SAVED_OR_REFUSED_RE)
        if m.group("refused"):
            pytest.fail(f"the summary refused to save{self.t._context()}")
        rid = m.group("zid") or m.group("eid")
        state = m.group("zs") or m.group("es")
        assert UUID7_RE.match(rid)
        assert ("草稿" in state or "draft" in state) == draft, m.group(0)
        assert self.wait() == EX_OK, self.t.transcript
        return rid

    def wait(self):
        return self.t.wait()

    @property
    def transcript(self):
        return self.t.transcript


@pytest.fixture
def form(store):
    """form(*args, lang_env=None) -> Form on a terminal, killed after the test."""
    opened = []

    def start(*args, lang_env=None):
        f = Form(store, *args, lang_env=lang_env)
        opened.append(f)
        return f
    yield start
    for f in opened:
        f.close()


def assert_near_now(text, minutes=3):
    """text ("2018-03-15 14:20") is the Taipei time now, give or take a few minutes."""
    t = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TAIPEI)
    assert abs((t - datetime.datetime.now(TAIPEI)).total_seconds()) < minutes * 60, text


def same_record(a, b):
    """What a prompted and a typed-in record must share."""
    keys = ("kind", "data", "occurred_at", "org_unit", "location", "status")
    return {k: a.get(k) for k in keys}, {k: b.get(k) for k in keys}


# ---------------------------------------------------------------------------
# 1. Every kind, prompted, equals the same values given as FIELD=VALUE.

# What an officer types at each question (others: Enter), and the envelope
# values given on the command line for the comparison.  The typed answers use
# every way the form accepts: enum numbers, zh-TW and English labels, codes;
# reference codes, names and parts of names; ROC and ISO dates; y/n/是.
PROMPTED = {
    "patrol": (
        {"type": "自行車道巡邏", "mode": "3", "bike_path": "東豐", "started_at": "107/03/15 08:00",
         "ended_at": "2018-03-15 10:30", "officers": "2", "volunteers": "0",
         "distance_km": "12.5", "route": "后里→石岡 東豐綠廊"},
        []),
    "traffic_accident": (
        {"class": "2", "deaths": "0", "injuries": "2", "intersection": "INT-03",
         "place": "三民路與崇德路口", "vehicles": "2", "cause": "未依規定讓車",
         "occurred_at": "107/03/15 08:42", "location": "24.1477,120.6736"},
        ["occurred_at=2018-03-15 08:42", "location=24.1477,120.6736"]),
    "intersection_duty": (
        {"intersection": "臺灣大道與民權路口", "activity": "1", "started_at": "107/03/15 07:00",
         "ended_at": "2018-03-15T09:00:00+08:00", "officers": "2", "traffic_volunteers": "1",
         "citations": "3"},
        []),
    "parking_citation": (
        {"method": "攔停舉發", "source": "1", "segment": "SEG-0601", "major": "y",
         "violation": "Red line (no stopping)", "vehicle_type": "汽車", "plate": "ABC-1234",
         "occurred_at": "107/03/15 10:05"},
        ["occurred_at=2018-03-15 10:05"]),
    "roadworks_inspection": (
        {"violation_found": "是", "violation": "2", "action": "舉發", "road": "文心路四段",
         "contractor": "大安營造", "permit_no": "107-0315", "reported_to": "建設局",
         "occurred_at": "107/03/15 13:30"},
        ["occurred_at=2018-03-15 13:30"]),
    "community_event": (
        {"type": "2", "audience": "Elderly", "attendance": "45", "ended_at": "107/03/15 16:00",
         "venue": "協和里活動中心", "topic": "防詐騙", "occurred_at": "107/03/15 14:00"},
        ["occurred_at=2018-03-15 14:00"]),
    "criminal_case": (
        {"case_no": "1070315001", "category": "詐欺", "reported_at": "107/03/15 15:00",
         "victims": "1", "loss_twd": "150000", "summary": "假冒檢警詐騙",
         "occurred_at": "107/03/14 20:00"},
        ["occurred_at=2018-03-14 20:00"]),
    "case_clearance": (
        {"case_no": "1070301002", "cleared_at": "107/03/15 18:00", "category": "theft",
         "method": "2", "suspects": "2"},
        []),
    "complaint": (
        # subject_unit: Enter takes the officer's unit, shown as the default
        {"category": "1", "received_at": "107/03/15 09:30", "channel": "1999 市民專線",
         "officers_named": "1", "substantiated": "n", "summary": "態度不佳"},
        []),
}


def check_questions(asked):
    """Questions come numbered [n/N] in order, N the same throughout."""
    nos = [q.no for q in asked]
    assert nos == sorted(nos) and len(set(nos)) == len(nos), [(q.no, q.field) for q in asked]
    assert len({q.total for q in asked}) == 1
    assert all(1 <= q.no <= q.total for q in asked)


def expected_questions(kind, data):
    """The questions of a whole `add KIND` form for a record with this data:
    every field in order, but those the program sets ("ask": "never") and
    those not relevant to it (relevant_if), then occurred_at (unless the kind
    dates itself by a field of its own), org_unit and location."""
    k = json.loads((REPO / "schema" / "records" / f"{kind}.json").read_text(encoding="utf-8"))
    out = []
    for f in k["fields"]:
        rel = f.get("relevant_if")
        if f.get("ask") == "never" or (rel and data.get(rel["field"]) not in rel["in"]):
            continue
        out.append(f["name"])
    return out + ([] if k.get("occurred_at_from") else ["occurred_at"]) + ["org_unit", "location"]


def typed_in(store, kind, extra):
    """The same record made with FIELD=VALUE arguments, stdin not a terminal."""
    r = store.run("add", kind, *VALID[kind][0], *extra)
    assert r.rc == EX_OK, r
    assert UUID7_RE.match(r.out.strip()) and r.out == r.out.strip() + "\n", r.out
    return store.get(r.out.strip())


@pytest.mark.parametrize("kind", sorted(PROMPTED))
def test_prompted_entry_of_every_kind_equals_typed_in(store, form, kind):
    answers, extra = PROMPTED[kind]
    f = form("add", kind)
    asked, summary = f.fill(answers)
    check_questions(asked)
    # Every field of the kind that is relevant was offered, in order, once.
    assert [q.field for q in asked] == expected_questions(kind, VALID[kind][1])
    if kind == "complaint":
        q = next(q for q in asked if q.field == "subject_unit")
        assert q.default == ORG_UNIT and not q.required
    assert summary.prompt == "save" and not summary.problems, summary.text
    rid = f.saved()
    prompted = store.get(rid)
    assert prompted["data"] == VALID[kind][1]
    assert prompted["org_unit"] == ORG_UNIT and prompted["status"] == "final"
    cli = typed_in(store, kind, extra)
    a, b = same_record(prompted, cli)
    assert a == b


def test_patrol_start_and_end_prompted_equals_typed_in(store, form):
    f = form("patrol", "start")
    asked, summary = f.fill({"type": "5", "mode": "bicycle", "bike_path": "東豐",
                             "started_at": "107/03/15 08:00", "officers": "2",
                             "volunteers": "0", "route": "后里→石岡 東豐綠廊"})
    check_questions(asked)
    rid = f.saved(draft=True)
    assert store.get(rid)["status"] == "draft"
    f = form("patrol", "end")
    asked, summary = f.fill({"ended_at": "107/03/15 10:30", "distance_km": "12.5"})
    assert f.saved() == rid
    prompted = store.get(rid)
    assert prompted["data"] == VALID["patrol"][1]
    cli = typed_in(store, "patrol", [])
    a, b = same_record(prompted, cli)
    assert a == b


# ---------------------------------------------------------------------------
# 2. Enter skips an optional field; "-" clears a default or a value.

def test_enter_skips_optional_fields(store, form):
    f = form("add", "traffic_accident")
    asked, summary = f.fill({"class": "2", "deaths": "0", "injuries": "1", "place": "文心路"})
    optional = {q.field for q in asked if not q.required}
    assert {"intersection", "vehicles", "cause", "notes", "location"} <= optional
    for q in asked:
        if not q.required and q.default is None:
            assert q.block.endswith("（按 Enter 跳過）> "), q.text
    # The summary says what was left empty.
    assert "（未填）" in summary.rows[6] and "（未填）" in summary.rows[7]
    # Enter took the defaults of the required ones: now, the officer's unit.
    defaults = {q.field: q.default for q in asked}
    assert_near_now(defaults["occurred_at"])
    assert defaults["org_unit"] == ORG_UNIT
    t0 = time.time()
    rec = store.get(f.saved())
    assert rec["data"] == {"class": "a2", "deaths": 0, "injuries": 1, "place": "文心路"}
    assert "location" not in rec
    assert rec["org_unit"] == ORG_UNIT
    assert abs(datetime.datetime.fromisoformat(rec["occurred_at"]).timestamp() - t0) < 180


def test_dash_clears_a_default(store, form):
    store.add("parking_citation", *VALID["parking_citation"][0])   # segment SEG-0601 is "last"
    f = form("add", "parking_citation")
    for field, text in (("method", "1"), ("source", "1")):
        f.question(field)
        f.answer(text)
    q = f.question("segment")
    assert q.default == "SEG-0601"
    f.answer("-")
    asked, summary = f.fill({"major": "n", "violation": "1", "occurred_at": "107/03/15 10:05"})
    assert "（未填）" in summary.rows[3]
    rid = f.saved()
    assert "segment" not in store.get(rid)["data"]
    assert store.get(rid)["data"] == {"method": "stop", "source": "police", "major": False,
                                      "violation": "red_line"}


def test_dash_on_a_required_field_says_it_is_required(store, form):
    f = form("add", "traffic_accident")
    f.question("class")
    f.answer("-")
    assert "此欄位必填" in f.retry()
    f.answer("")
    assert "此欄位必填" in f.retry()
    f.answer("2")
    f.question("deaths")
    f.t.send_eof()
    assert f.wait() == EX_USAGE
    assert store.list() == []


def test_dash_clears_a_value_in_edit(store, form):
    rid = store.add("parking_citation", *VALID["parking_citation"][0],
                    "occurred_at=2018-03-15 10:05")
    f = form("edit", rid)
    asked, summary = f.fill({"plate": "-"})
    assert next(q for q in asked if q.field == "plate").default == "ABC-1234"
    f.saved()
    shown = store.show(rid)
    assert shown["record"]["rev"] == 2
    assert "plate" not in shown["record"]["data"]
    old = dict(VALID["parking_citation"][1])
    del old["plate"]
    assert shown["record"]["data"] == old


# ---------------------------------------------------------------------------
# 3. Reference lists: a part of a name narrows the list; ? lists it all.

def test_part_of_a_bike_path_name_picks_it(store, form):
    f = form("patrol", "start")
    f.question("type")
    f.answer("5")                       # 自行車道巡邏
    f.question("mode")
    f.answer("3")
    q = f.question("bike_path")
    # A short list is shown numbered at once.
    codes = [m.group("code") for m in MENU_LINE_RE.finditer(q.block)]
    assert sorted(codes) == ["BP-DF", "BP-HF", "BP-TYS"]
    assert q.required
    f.answer("東豐")
    asked, summary = f.fill({"officers": "2"})    # taken at once: no message, no retry
    assert "bike_path" not in [q.field for q in asked]
    assert "BP-DF" in summary.body
    rid = f.saved(draft=True)
    assert store.get(rid)["data"]["bike_path"] == "BP-DF"


def test_intersection_unknown_then_list_then_narrow_and_pick(store, form):
    f = form("add", "traffic_accident")
    for field, text in (("class", "2"), ("deaths", "0"), ("injuries", "1")):
        f.question(field)
        f.answer(text)
    q = f.question("intersection")
    assert "? 列出全部" in q.block
    # An unknown name: a message naming the field, and the question again.
    f.answer("不存在路")
    msg = f.retry()
    assert "列管易肇事路口" in msg and "不存在路" in msg and "清單" in msg
    # ? lists every listed intersection, numbered.
    f.answer("?")
    listed = MENU_LINE_RE.findall(f.retry())
    assert [int(n) for n, _, _ in listed] == list(range(1, 26))
    assert {c for _, c, _ in listed} == {f"INT-{i:02d}" for i in range(1, 26)}
    # 中港 (the old name of 臺灣大道) matches several: numbered, to choose from.
    f.answer("中港")
    msg = f.retry()
    assert "符合多筆" in msg
    several = MENU_LINE_RE.findall(msg)
    assert 2 <= len(several) < 25, msg
    assert [int(n) for n, _, _ in several] == list(range(1, len(several) + 1))
    assert all("臺灣大道" in name for _, _, name in several), several
    chosen = several[1][1]
    f.answer("2")
    f.question("place")
    f.answer("")
    asked, summary = f.fill({"occurred_at": "107/03/15 08:42"})
    assert chosen in summary.rows[4]
    rid = f.saved()
    assert store.get(rid)["data"]["intersection"] == chosen


def test_a_number_out_of_a_narrowed_list_is_refused(store, form):
    f = form("add", "traffic_accident")
    for field, text in (("class", "2"), ("deaths", "0"), ("injuries", "1")):
        f.question(field)
        f.answer(text)
    f.question("intersection")
    f.answer("中港")
    n = len(MENU_LINE_RE.findall(f.retry()))
    f.answer("99")
    assert f"請輸入 1 到 {n} 的號碼" in f.retry()
    f.answer("1")
    f.question("place")
    f.t.send_eof()
    assert f.wait() == EX_USAGE


# ---------------------------------------------------------------------------
# 4. Enums: by number, zh-TW label, English label, code; a wrong number.

def test_enum_by_number_label_english_and_code(store, form):
    f = form("add", "parking_citation")
    q = f.question("method")
    assert "1) 攔停舉發" in q.block and "2) 逕行舉發" in q.block
    f.answer("逕行舉發")                       # zh-TW label
    f.question("source")
    f.answer("Citizen report")                 # English label
    f.question("segment")
    f.answer("")
    f.question("major")
    f.answer("n")
    q = f.question("violation")
    n = len(re.findall(r"^ +\d+\) ", q.block, re.M))
    assert n == 12
    f.answer("99")
    msg = f.retry()
    assert f"請輸入 1 到 {n} 的號碼" in msg
    f.answer("?")                               # the list again
    assert len(re.findall(r"^ +\d+\) ", f.retry(), re.M)) == n
    f.answer("3")                               # a number
    f.question("vehicle_type")
    f.answer("motorcycle")                      # a code
    asked, summary = f.fill({"occurred_at": "107/03/15 10:05"})
    assert "逕行舉發" in summary.rows[1] and "民眾檢舉" in summary.rows[2]
    rid = f.saved()
    assert store.get(rid)["data"] == {"method": "remote", "source": "citizen_report",
                                      "major": False, "violation": "double_parking",
                                      "vehicle_type": "motorcycle"}


def test_enum_unknown_name_is_refused(store, form):
    f = form("add", "traffic_accident")
    f.question("class")
    f.answer("A9")
    msg = f.retry()
    assert "事故類別" in msg and "A9" in msg
    f.answer("0")
    assert "請輸入 1 到 3 的號碼" in f.retry()
    f.t.send_eof()
    assert f.wait() == EX_USAGE


# ---------------------------------------------------------------------------
# 5. Correcting a field at the summary by its number.

def test_correct_a_field_at_the_summary(store, form):
    f = form("add", "traffic_accident")
    asked, summary = f.fill({"class": "2", "deaths": "0", "injuries": "2", "place": "文心路",
                             "occurred_at": "107/03/15 08:42"})
    # The summary is numbered as the questions were.
    for q in asked:
        assert summary.rows[q.no].startswith(q.label), (q.no, q.label, summary.rows)
    assert summary.rows[3].split()[-1] == "2"
    f.answer("3")
    q = f.question("injuries")
    assert q.no == 3 and q.default == "2"
    f.answer("4")
    summary = f.summary()
    assert summary.rows[3].split()[-1] == "4" and summary.prompt == "save"
    # A number that is no field: a message, the summary again.
    f.answer("99")
    summary = f.summary()
    assert "請輸入 y、n，或上方欄位的號碼" in summary.pre
    rid = f.saved()
    assert store.get(rid)["data"] == {"class": "a2", "deaths": 0, "injuries": 4,
                                      "place": "文心路"}
    assert store.get(rid)["occurred_at"] == "2018-03-15T08:42:00+08:00"


@pytest.mark.parametrize("case", ["patrol start page", "kind with a field never asked"])
def test_summary_numbers_are_the_question_numbers(store, form, case):
    """The summary uses the numbers the questions showed ([6/8] is 6), and
    typing one re-asks that question: on one page of a paged kind (patrol
    start), and in a kind with a field the program sets (case_clearance's
    case_record)."""
    if case == "patrol start page":
        f = form("patrol", "start")
        asked, summary = f.fill({"type": "1", "mode": "2", "officers": "3"})
        field, old, new = "officers", "3", "4"
    else:
        rid = store.add("case_clearance", *VALID["case_clearance"][0])
        f = form("edit", rid)
        asked, summary = f.fill({})
        field, old, new = "suspects", "2", "4"
    for q in asked:
        if not summary.rows.get(q.no, "").startswith(q.label):
            pytest.fail(f"question [{q.no}/{q.total}] {q.label} is not number {q.no} in the "
                        f"summary:{summary.body}")
    q = next(q for q in asked if q.field == field)
    f.answer(str(q.no))
    again = f.next()
    if again.type != "question" or again.field != field:
        pytest.fail(f"typing {q.no} (the number of {field}) asked {again!r}")
    assert again.default == old
    f.answer(new)
    f.summary()
    rid = f.saved(draft=case == "patrol start page")
    assert store.get(rid)["data"][field] == int(new)


# ---------------------------------------------------------------------------
# 6. Rules across fields: shown at once, the blamed question asked again;
#    the summary refuses to save while a problem remains.

A3_MESSAGE = "A3 事故僅有財物損失：死亡與受傷人數須為 0"


def test_rule_broken_re_asks_the_blamed_question(store, form):
    f = form("add", "traffic_accident")
    f.question("class")
    f.answer("3")
    f.question("deaths")
    f.answer("1")
    f.question("injuries")
    f.answer("0")
    q = f.question("deaths")                        # asked again, with the rule's message
    assert A3_MESSAGE in q.pre and "死亡人數" in q.pre
    assert q.no == 2 and q.default == "1"
    assert store.list() == []
    f.answer("0")
    f.question("intersection")
    f.answer("")
    asked, summary = f.fill({"place": "文心路", "occurred_at": "107/03/15 08:42"})
    assert summary.prompt == "save"
    rid = f.saved()
    assert store.get(rid)["data"] == {"class": "a3", "deaths": 0, "injuries": 0,
                                      "place": "文心路"}


def test_summary_refuses_to_save_while_a_rule_is_broken(store, form):
    f = form("add", "traffic_accident")
    f.fill({"class": "1", "deaths": "1", "injuries": "0", "place": "文心路",
            "occurred_at": "107/03/15 08:42"})
    f.answer("1")                                   # class: now A3, deaths still 1
    f.question("class")
    f.answer("A3（僅財物損失）")
    summary = f.summary()
    assert summary.prompt == "fix"
    assert any(A3_MESSAGE in p for p in summary.problems), summary.problems
    for text in ("", "y"):                          # Enter or y does not save
        f.answer(text)
        again = f.summary()
        assert "尚未儲存" in again.pre and again.prompt == "fix"
    assert store.list() == []
    f.answer("2")
    f.question("deaths")
    f.answer("0")
    summary = f.summary()
    assert summary.prompt == "save" and not summary.problems
    rid = f.saved()
    assert store.get(rid)["data"]["class"] == "a3"
    assert store.get(rid)["data"]["deaths"] == 0


# ---------------------------------------------------------------------------
# 7. Bad answers: a clear message naming the field, the question again.

def test_bad_answers_are_explained_and_re_asked(store, form):
    f = form("add", "traffic_accident")
    f.question("class")
    f.answer("2")
    f.question("deaths")
    for text, words in (("abc", ["死亡人數", "abc", "不是整數"]),
                        ("1.5", ["死亡人數", "整數"]),
                        ("101", ["死亡人數", "101", "100"]),
                        ("-1", ["死亡人數", "-1", "0"])):
        f.answer(text)
        msg = f.retry()
        for w in words:
            assert w in msg, (text, msg)
    f.answer("0")
    f.question("injuries")
    f.answer("1")
    f.question("intersection")
    f.answer("")
    f.question("place")
    f.answer("路" * 201)
    msg = f.retry()
    assert "發生地點" in msg and "201" in msg and "200" in msg
    f.answer("文心路")
    f.question("vehicles")
    f.answer("0")                                   # below its minimum of 1
    msg = f.retry()
    assert "涉事車輛數" in msg and "1" in msg
    f.answer("")
    for field in ("cause", "notes", "photos"):
        f.question(field)
        f.answer("")
    f.question("occurred_at")
    for text, words in (("107/02/30", ["發生時間", "沒有 30 日"]),
                        ("2018-02-30", ["發生時間", "沒有 30 日"]),
                        ("107/13/01", ["發生時間"]),
                        ("25:00", ["發生時間"]),
                        ("昨天", ["發生時間", "107/03/15"])):
        f.answer(text)
        msg = f.retry()
        for w in words:
            assert w in msg, (text, msg)
    f.answer("107/03/15 08:42")
    f.question("org_unit")
    f.answer("P99-S99")
    msg = f.retry()
    assert "填報單位" in msg and "P99-S99" in msg and "不在單位清單中" in msg
    # Nothing is stored while the form is open.
    assert store.list() == []
    f.answer("")
    f.question("location")
    f.answer("999,999")
    msg = f.retry()
    assert "位置" in msg and "緯度須在 -90..90 之間" in msg
    f.answer("")
    f.summary()
    assert store.list() == []
    rid = f.saved()
    assert [r["id"] for r in store.list()] == [rid]
    assert store.get(rid)["data"] == {"class": "a2", "deaths": 0, "injuries": 1,
                                      "place": "文心路"}


def test_a_time_in_the_future_is_refused_at_once(store, form):
    """2030-01-01 for occurred_at breaks the not-in-the-future rule: the
    message comes at once and the question is asked again."""
    f = form("add", "traffic_accident")
    for field, text in (("class", "2"), ("deaths", "0"), ("injuries", "1"),
                        ("intersection", "INT-03")):
        f.question(field)
        f.answer(text)
    for field in ("place", "vehicles", "cause", "notes", "photos"):
        f.question(field)
        f.answer("")
    f.question("occurred_at")
    f.answer("2030-01-01")
    ev = f.next()
    shown = ev.pre + (ev.message if ev.type == "retry" else "")
    assert (ev.type == "retry" or (ev.type == "question" and ev.field == "occurred_at")), \
        f"after 2030-01-01 the form went on to {ev!r}"
    assert "發生時間不可晚於登錄時間 10 分鐘以上" in shown, shown
    f.answer("107/03/15 08:42")
    f.question("org_unit")
    f.t.send_eof()
    assert f.wait() == EX_USAGE
    assert store.list() == []


# ---------------------------------------------------------------------------
# 8. n at the summary, Ctrl-D mid-form: exit 64, nothing stored.

def test_no_at_the_summary_saves_nothing(store, form):
    store.add("complaint", *VALID["complaint"][0])
    before = store.list()
    f = form("add", "traffic_accident")
    f.fill({"class": "2", "deaths": "0", "injuries": "1", "place": "文心路"})
    f.answer("n")
    assert f.wait() == EX_USAGE
    assert "未儲存" in f.transcript[-200:]
    assert "已儲存" not in f.transcript
    assert store.list() == before
    assert store.counts() == (1, 1)


def test_ctrl_d_mid_form_saves_nothing(store, form):
    store.add("complaint", *VALID["complaint"][0])
    before = store.list()
    f = form("add", "traffic_accident")
    f.question("class")
    f.answer("2")
    f.question("deaths")
    f.answer("0")
    f.question("injuries")
    f.t.send_eof()
    assert f.wait() == EX_USAGE
    assert "輸入中止；未儲存任何資料" in f.transcript
    assert store.list() == before
    assert store.counts() == (1, 1)


def test_ctrl_d_at_the_summary_saves_nothing(store, form):
    f = form("add", "traffic_accident")
    f.fill({"class": "2", "deaths": "0", "injuries": "1", "place": "文心路"})
    f.t.send_eof()
    assert f.wait() == EX_USAGE
    assert "輸入中止" in f.transcript
    assert store.list() == []


# ---------------------------------------------------------------------------
# 8b. Files at an attachment question: paths (quotes keep spaces), a bad file
# explained and re-asked, "-" clears, Enter keeps them on an edit.

def test_photos_are_typed_as_paths(store, form, tmp_path):
    spaced = tmp_path / "scene 1.jpg"
    spaced.write_bytes(b"\xff\xd8\xff\xe0" + b"a" * 500)
    other = tmp_path / "b.png"
    other.write_bytes(b"\x89PNG\r\n\x1a\n" + b"b" * 300)
    pdf = tmp_path / "fake.jpg"
    pdf.write_bytes(b"%PDF-1.4\n" + b"c" * 100)
    f = form("add", "traffic_accident")
    for field, text in (("class", "3"), ("deaths", "0"), ("injuries", "0"),
                        ("intersection", ""), ("place", ""), ("vehicles", ""),
                        ("cause", ""), ("notes", "")):
        f.question(field)
        f.answer(text)
    ev = f.question("photos")
    assert "檔案路徑" in ev.block
    f.answer(str(pdf))
    msg = f.retry()
    assert "fake.jpg" in msg and "PDF" in msg, msg
    f.answer(str(tmp_path / "missing.jpg"))
    assert "沒有這個檔案" in f.retry()
    f.answer(f'"{spaced}" {other}')
    f.question("occurred_at")
    f.answer("107/03/15 08:42")
    f.question("org_unit")
    f.answer("")
    f.question("location")
    f.answer("")
    summary = f.summary()
    assert "2 張照片：scene 1.jpg、b.png" in summary.text, summary.text
    rid = f.saved()
    photos = store.get(rid)["data"]["photos"]
    assert [p["name"] for p in photos] == ["scene 1.jpg", "b.png"]
    assert store.query("SELECT count(*) FROM attachments") == [(2,)]
    # The refused PDF was never copied in.
    assert sorted(p.name for p in (store.home / "attachments").rglob("*") if p.is_file()) == \
        sorted(p["sha256"] for p in photos)

    # edit: Enter keeps the files; "-" removes them in a new revision.
    f = form("edit", rid)
    asked, _ = f.fill({})
    assert next(q for q in asked if q.field == "photos").default.startswith("2 張照片")
    f.answer("")
    assert f.wait() == EX_USAGE and "沒有任何變更" in f.transcript
    f = form("edit", rid)
    f.fill({"photos": "-"})
    assert f.saved() == rid
    shown = store.show(rid)
    assert "photos" not in shown["record"]["data"] and len(shown["revisions"]) == 2


# ---------------------------------------------------------------------------
# 9. add without a kind: the menu; a kind by its zh-TW label.

def test_add_without_a_kind_shows_the_menu(store, form):
    f = form("add")
    f.t.expect_exact("要記錄哪一類？\n")
    menu = f.t.expect(r"((?: +\d+\) [^\n]+\n)+)> ").group(1)
    kinds = dict(re.findall(r"^ +(\d+)\) (.+)$", menu, re.M))
    assert len(kinds) == 9 and sorted(map(int, kinds)) == list(range(1, 10))
    assert "交通事故" in kinds.values() and "巡邏勤務" in kinds.values()
    f.answer("99")
    f.t.expect_exact("請輸入 1 到 9 的號碼\n> ")
    number = next(n for n, label in kinds.items() if label == "交通事故")
    f.answer(number)
    f.t.expect_exact("交通事故 — ")
    asked, summary = f.fill({"class": "2", "deaths": "0", "injuries": "1", "place": "文心路"})
    assert asked[0].field == "class"
    rid = f.saved()
    assert store.get(rid)["kind"] == "traffic_accident"


def test_menu_takes_a_kind_label(store, form):
    f = form("add")
    f.t.expect(r"要記錄哪一類？\n(?: +\d+\) [^\n]+\n)+> ")
    f.answer("違規停車舉發")
    f.t.expect_exact("違規停車舉發 — ")
    f.question("method")
    f.t.send_eof()
    assert f.wait() == EX_USAGE


def test_add_by_zh_label(store, form):
    r = store.run("add", "交通事故", "class=a2", "deaths=0", "injuries=1", "place=文心路")
    assert r.rc == EX_OK, r
    rid = r.out.strip()
    assert UUID7_RE.match(rid) and r.out == rid + "\n"
    assert store.get(rid)["kind"] == "traffic_accident"
    f = form("add", "交通事故")
    f.t.expect_exact("交通事故 — ")
    f.question("class")
    f.t.send_eof()
    assert f.wait() == EX_USAGE


# ---------------------------------------------------------------------------
# 10. edit ID walks the form with the current values as defaults.

def edit_all_enter(store, form, rid):
    f = form("edit", rid)
    asked, summary = f.fill({})
    assert summary.prompt == "save"
    f.answer("")
    rc = f.wait()
    return f, asked, rc


def test_edit_enter_everywhere_changes_nothing(store, form):
    rid = store.add("traffic_accident", *VALID["traffic_accident"][0],
                    "occurred_at=2018-03-15 08:42", "location=24.1477,120.6736")
    f, asked, rc = edit_all_enter(store, form, rid)
    defaults = {q.field: q.default for q in asked}
    assert defaults["class"] == "A2（受傷或逾 24 小時死亡）"
    assert defaults["deaths"] == "0" and defaults["injuries"] == "2"
    assert defaults["intersection"] == "INT-03" and defaults["cause"] == "未依規定讓車"
    assert defaults["occurred_at"] == "107/03/15 08:42"
    assert defaults["org_unit"] == ORG_UNIT
    assert defaults["notes"] is None
    assert rc == EX_USAGE, f.transcript[-300:]
    assert "沒有任何變更" in f.transcript
    assert len(store.show(rid)["revisions"]) == 1


def test_edit_enter_everywhere_keeps_seconds(store, form):
    """A record made at 08:42:31 (as every `now` is): Enter everywhere must
    not change its time to 08:42:00."""
    rid = store.add("traffic_accident", *VALID["traffic_accident"][0],
                    "occurred_at=2018-03-15T08:42:31+08:00")
    f, asked, rc = edit_all_enter(store, form, rid)
    shown = store.show(rid)
    assert rc == EX_USAGE and "沒有任何變更" in f.transcript, \
        f"saved a revision: occurred_at {shown['record']['occurred_at']}"
    assert len(shown["revisions"]) == 1


def test_edit_one_answer_makes_revision_2_with_only_that_change(store, form):
    rid = store.add("traffic_accident", *VALID["traffic_accident"][0],
                    "occurred_at=2018-03-15 08:42")
    before = store.get(rid)
    f = form("edit", rid)
    asked, summary = f.fill({"injuries": "3"})
    assert summary.rows[3].split()[-1] == "3"
    assert f.saved() == rid
    shown = store.show(rid)
    after = shown["record"]
    assert after["rev"] == 2 and len(shown["revisions"]) == 2
    changed = {k for k in set(before["data"]) | set(after["data"])
               if before["data"].get(k) != after["data"].get(k)}
    assert changed == {"injuries"} and after["data"]["injuries"] == 3
    for key in ("occurred_at", "org_unit", "kind", "officer", "device", "status"):
        assert after[key] == before[key], key
    assert shown["revisions"][0]["data"] == before["data"]


# ---------------------------------------------------------------------------
# 11. patrol start / end: the pages, relevance, defaults.

def test_patrol_start_asks_only_what_is_relevant_with_last_values(store, form):
    f = form("patrol", "start")
    asked, summary = f.fill({"type": "1", "mode": "2", "officers": "3"})
    fields = [q.field for q in asked]
    assert "bike_path" not in fields and "partner_unit" not in fields, fields
    # Only the start page: nothing of the end.
    assert not {"ended_at", "distance_km", "notes"} & set(fields), fields
    assert next(q for q in asked if q.field == "officers").default is None
    f.saved(draft=True)
    end = form("patrol", "end")
    end.fill({})
    end.saved()
    # The next patrol: officers and mode default to the last patrol's values.
    f = form("patrol", "start")
    f.question("type")
    f.answer("所際交叉巡邏")
    q = f.question("mode")
    assert q.default in ("motorcycle", "機車巡邏"), q.default
    f.answer("")
    q = f.question("partner_unit")
    assert q.required
    f.answer("西屯")
    asked, summary = f.fill({})
    fields = [q.field for q in asked]
    assert "bike_path" not in fields
    officers = next(q for q in asked if q.field == "officers")
    assert officers.default == "3"
    rid = f.saved(draft=True)
    data = store.get(rid)["data"]
    assert data["type"] == "cross_station" and data["partner_unit"] == "P06-S01"
    assert data["officers"] == 3 and data["mode"] == "motorcycle"


def test_patrol_start_asks_started_at_with_now(store, form):
    f = form("patrol", "start")
    asked, summary = f.fill({"type": "1", "mode": "2", "officers": "3"})
    q = next((q for q in asked if q.field == "started_at"), None)
    assert q is not None, f"started_at was not asked: {[q.field for q in asked]}"
    assert q.required
    assert_near_now(q.default)


def test_patrol_end_asks_ended_at_with_now(store, form):
    store.ok("patrol", "start", "type=small_area", "mode=car", "officers=2",
             "started_at=2018-03-15 08:00")
    f = form("patrol", "end")
    asked, summary = f.fill({"distance_km": "8"})
    fields = [q.field for q in asked]
    assert "distance_km" in fields and "type" not in fields, fields
    q = next((q for q in asked if q.field == "ended_at"), None)
    assert q is not None, f"ended_at was not asked: {fields}"
    assert_near_now(q.default)


def test_patrol_start_then_end_is_final_with_both_times(store, form):
    t0 = time.time()
    f = form("patrol", "start")
    f.fill({"type": "1", "mode": "2", "officers": "3", "volunteers": "2"})
    rid = f.saved(draft=True)
    draft = store.get(rid)
    assert draft["status"] == "draft" and "ended_at" not in draft["data"]
    assert store.status()["drafts"] == 1
    f = form("patrol", "end")
    f.fill({"distance_km": "8.5", "notes": "巡邏正常"})
    assert f.saved() == rid
    rec = store.get(rid)
    assert rec["status"] == "final" and rec["rev"] == 1
    d = rec["data"]
    start = datetime.datetime.fromisoformat(d["started_at"]).timestamp()
    end = datetime.datetime.fromisoformat(d["ended_at"]).timestamp()
    assert t0 - 60 <= start <= end <= time.time() + 60
    assert rec["occurred_at"] == d["started_at"]
    assert (d["type"], d["mode"], d["officers"], d["volunteers"], d["distance_km"],
            d["notes"]) == ("small_area", "motorcycle", 3, 2, 8.5, "巡邏正常")
    assert store.status()["drafts"] == 0


# ---------------------------------------------------------------------------
# 12. English.

def test_english_prompts(store, form):
    f = form("add", "traffic_accident", lang_env="en_US.UTF-8")
    f.t.expect_exact("Traffic accident — ")
    f.t.expect_exact("Enter takes the value in [ ] or skips an optional field; - clears it; "
                     "Ctrl-D stops without saving.")
    q = f.question("class")
    assert q.label == "Class" and q.required
    assert "1) A1 (death within 24 hours)" in q.block
    f.answer("9")
    assert "choose a number from 1 to 3" in f.retry()
    f.answer("A2 (injury, or death after 24 hours)")
    f.question("deaths")
    f.answer("x")
    msg = f.retry()
    assert "Deaths" in msg and "x" in msg
    f.answer("0")
    f.question("injuries")
    f.answer("1")
    q = f.question("intersection")
    assert not q.required and q.block.endswith("(Enter skips) > ")
    f.answer("")
    asked, summary = f.fill({"place": "Wenxin Rd", "occurred_at": "2018-03-15 08:42"})
    org = next(q for q in asked if q.field == "org_unit")
    assert org.default == ORG_UNIT and org.text.endswith(f"Enter keeps [{ORG_UNIT}] > ")
    assert summary.kind == "Traffic accident"
    assert summary.text.endswith("Save? [Y/n/field number to change] ")
    assert "(empty)" in summary.rows[6]
    f.answer("")
    m = f.t.expect(SAVED_RE)
    assert m.group("el") == "Traffic accident" and m.group("es") == "to be synced"
    assert f.wait() == EX_OK
    assert store.get(m.group("eid"))["data"]["place"] == "Wenxin Rd"
