"""edit and void: new revisions, history kept, short ids."""
import pytest

from conftest import EX_DATAERR, EX_NOINPUT, EX_OK, EX_USAGE, TAIPEI_RE, known_bug

CASE = ["case_no=1070315001", "category=theft", "victims=1", "occurred_at=2018-03-15 14:20"]


@pytest.fixture
def case(store):
    return store, store.add("criminal_case", *CASE)


def test_edit_makes_rev_2_and_keeps_rev_1(case):
    store, rid = case
    r = store.run("edit", rid, "victims=3", "category=fraud", lang="en")
    assert r.rc == EX_OK, r
    assert r.out.strip() == rid
    shown = store.show(rid)
    rec = shown["record"]
    assert (rec["rev"], rec["status"]) == (2, "final")
    assert rec["data"] == {"case_no": "1070315001", "category": "fraud", "victims": 3}
    revs = shown["revisions"]
    assert [x["rev"] for x in revs] == [1, 2]
    assert revs[0]["data"] == {"case_no": "1070315001", "category": "theft", "victims": 1}
    assert revs[1] == rec
    assert all(x["id"] == rid and x["status"] == "final" for x in revs)
    assert all(TAIPEI_RE.match(x["recorded_at"]) for x in revs)
    assert revs[0]["occurred_at"] == revs[1]["occurred_at"] == "2018-03-15T14:20:00+08:00"
    # One record, two revisions in the outbox.
    assert store.counts() == (1, 2)
    assert store.status()["unsent_revisions"] == 2
    assert [x["rev"] for x in store.list()] == [2]
    # The text view shows what changed.
    text = store.ok("show", rid, lang="en").out
    assert "rev 1" in text and "rev 2" in text
    assert "victims: 1 -> 3" in text


def test_edit_envelope_and_remove_optional_field(case):
    store, rid = case
    assert store.run("edit", rid, "victims=", "occurred_at=107/03/16 09:00",
                     "location=24.2,120.7").rc == EX_OK
    rec = store.get(rid)
    assert rec["rev"] == 2
    assert "victims" not in rec["data"]
    assert rec["occurred_at"] == "2018-03-16T09:00:00+08:00"
    assert rec["location"] == {"lat": 24.2, "lon": 120.7}
    assert store.list("--period", "2018-03")[0]["occurred_at"] == "2018-03-16T09:00:00+08:00"


@pytest.mark.parametrize("which", ["full", "first6", "last6", "first13", "last12"])
def test_id_forms(case, which):
    store, rid = case
    ref = {"full": rid, "first6": rid[:6], "last6": rid[-6:], "first13": rid[:13],
           "last12": rid[-12:]}[which]
    assert store.show(ref)["record"]["id"] == rid
    r = store.run("edit", ref, "victims=2", lang="en")
    assert r.rc == EX_OK, r
    assert store.get(rid)["rev"] == 2


def test_ambiguous_and_short_and_unknown_ids(case):
    store, rid = case
    other = store.add("criminal_case", "case_no=2", "category=theft")
    assert rid[:6] == other[:6]   # UUIDv7s of the same day share their first characters
    before = store.snapshot()
    r = store.run("edit", rid[:6], "victims=2", lang="en")
    assert r.rc == EX_USAGE, r
    assert "several" in r.err
    r = store.run("edit", rid[-5:], "victims=2", lang="en")
    assert r.rc == EX_USAGE, r
    assert "6" in r.err
    r = store.run("edit", "ffffff", "victims=2", lang="en")
    assert r.rc == EX_NOINPUT, r
    assert '"ffffff"' in r.err
    r = store.run("show", "ffffffffffff", lang="en")
    assert r.rc == EX_NOINPUT
    assert store.snapshot() == before
    assert store.get(rid[-6:])["id"] == rid
    assert store.get(other[-6:])["id"] == other


def test_edit_without_change_fails(case):
    store, rid = case
    before = store.snapshot()
    r = store.run("edit", rid, "victims=1", "category=竊盜", lang="en")
    assert r.rc == EX_USAGE, r
    assert "nothing changed" in r.err and rid in r.err
    assert store.snapshot() == before


def test_edit_with_bad_value_stores_nothing(case):
    store, rid = case
    before = store.snapshot()
    r = store.run("edit", rid, "victims=many", lang="en")
    assert r.rc == EX_DATAERR, r
    assert '"victims"' in r.err and '"many"' in r.err and "criminal_case" in r.err
    r = store.run("edit", rid, "category=", lang="en")          # removing a required field
    assert r.rc == EX_DATAERR, r
    assert '"category"' in r.err
    r = store.run("edit", rid, "weapon=knife", lang="en")
    assert r.rc == EX_DATAERR and '"weapon"' in r.err
    r = store.run("edit", rid, lang="en")
    assert r.rc == EX_USAGE
    assert store.snapshot() == before


def test_void_keeps_history(case):
    store, rid = case
    assert store.run("edit", rid, "victims=2").rc == EX_OK
    r = store.run("void", rid, "--reason", "entered twice 重複輸入", lang="en")
    assert r.rc == EX_OK, r
    assert r.out.strip() == rid
    shown = store.show(rid)
    rec = shown["record"]
    assert (rec["status"], rec["rev"], rec["void_reason"]) == ("void", 3, "entered twice 重複輸入")
    assert rec["data"]["victims"] == 2
    revs = shown["revisions"]
    assert [(x["rev"], x["status"]) for x in revs] == [(1, "final"), (2, "final"), (3, "void")]
    assert revs[0]["data"]["victims"] == 1 and revs[1]["data"]["victims"] == 2
    assert revs[2]["void_reason"] == "entered twice 重複輸入"
    assert "void_reason" not in revs[0] and "void_reason" not in revs[1]
    st = store.status()
    assert (st["final"], st["void"], st["unsent_revisions"]) == (0, 1, 3)
    assert [x["id"] for x in store.list("--status", "void")] == [rid]
    assert store.list("--status", "final") == []


@pytest.mark.parametrize("args", [[], ["--reason", ""], ["--reason"]])
def test_void_needs_a_reason(case, args):
    store, rid = case
    before = store.snapshot()
    r = store.run("void", rid, *args, lang="en")
    assert r.rc == EX_USAGE, r
    assert "--reason" in r.err or "reason" in r.err
    assert store.snapshot() == before


def test_void_record_cannot_be_edited_or_voided_again(case):
    store, rid = case
    assert store.run("void", rid, "--reason", "wrong unit").rc == EX_OK
    before = store.snapshot()
    r = store.run("edit", rid, "victims=5", lang="en")
    assert r.rc == EX_DATAERR, r
    assert "void" in r.err and rid in r.err
    r = store.run("void", rid, "--reason", "again", lang="en")
    assert r.rc == EX_DATAERR, r
    zh = store.run("edit", rid, "victims=5", lang="zh-TW")
    assert zh.rc == EX_DATAERR and "作廢" in zh.err
    assert store.snapshot() == before


def test_void_a_draft(store):
    rid = store.run("patrol", "start", "type=small_area", "mode=foot", "officers=1").out.strip()
    r = store.run("void", rid[-6:], "--reason", "started by mistake", lang="en")
    assert r.rc == EX_OK, r
    rec = store.get(rid)
    assert (rec["status"], rec["rev"]) == ("void", 1)
    st = store.status()
    assert (st["drafts"], st["void"]) == (0, 1)
    r = store.run("patrol", "end", lang="en")
    assert r.rc == EX_DATAERR   # nothing open any more
