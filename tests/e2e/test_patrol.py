"""patrol start / patrol end: drafts that stay local until they end."""
import time

from conftest import EX_DATAERR, EX_OK, EX_USAGE, TAIPEI_RE, UUID7_RE, parse_iso

START = ["type=small_area", "mode=bicycle", "officers=2"]


def start(store, *args):
    r = store.run("patrol", "start", *args, lang="en")
    assert r.rc == EX_OK, r
    rid = r.out.strip()
    assert UUID7_RE.match(rid), r.out
    return rid, r


def test_start_makes_a_draft_not_counted_as_unsent(store):
    t0 = time.time()
    rid, r = start(store, *START)
    t1 = time.time()
    rec = store.get(rid)
    assert (rec["kind"], rec["status"], rec["rev"]) == ("patrol", "draft", 0)
    assert rec["data"]["type"] == "small_area"
    assert rec["data"]["mode"] == "bicycle"
    assert rec["data"]["officers"] == 2
    assert "ended_at" not in rec["data"]
    started = rec["data"]["started_at"]
    assert TAIPEI_RE.match(started)
    assert t0 - 2 <= parse_iso(started).timestamp() <= t1 + 2
    assert rec["occurred_at"] == started
    st = store.status()
    assert (st["drafts"], st["final"], st["void"], st["unsent_revisions"]) == (1, 0, 0, 0)
    assert store.show(rid)["revisions"] == []
    assert store.query("SELECT count(*) FROM revisions")[0][0] == 0
    assert [x["id"] for x in store.list("--status", "draft")] == [rid]
    assert store.list("--status", "final") == []


def test_end_finalises_the_open_patrol(store):
    rid, _ = start(store, *START, "started_at=now")
    t0 = time.time()
    r = store.run("patrol", "end", "distance_km=8.5", lang="en")
    t1 = time.time()
    assert r.rc == EX_OK, r
    assert r.out.strip() == rid
    rec = store.get(rid)
    assert (rec["status"], rec["rev"]) == ("final", 1)
    ended = rec["data"]["ended_at"]
    assert TAIPEI_RE.match(ended)
    assert t0 - 2 <= parse_iso(ended).timestamp() <= t1 + 2
    assert parse_iso(ended) >= parse_iso(rec["data"]["started_at"])
    assert rec["data"]["distance_km"] == 8.5
    revs = store.show(rid)["revisions"]
    assert len(revs) == 1 and revs[0] == rec
    st = store.status()
    assert (st["drafts"], st["final"], st["unsent_revisions"]) == (0, 1, 1)
    assert st["final_per_kind"] == {"patrol": 1}


def test_start_with_given_times_and_end_with_ended_at(store):
    rid, _ = start(store, "type=bike_path", "mode=bicycle", "bike_path=BP-TYS", "officers=3",
                   "started_at=107/03/15 08:00")
    rec = store.get(rid)
    assert rec["data"]["started_at"] == "2018-03-15T08:00:00+08:00"
    assert rec["occurred_at"] == "2018-03-15T08:00:00+08:00"   # a patrol happens when it starts
    r = store.run("patrol", "end", rid, "ended_at=2018-03-15 11:45", lang="en")
    assert r.rc == EX_OK, r
    rec = store.get(rid)
    assert rec["data"]["ended_at"] == "2018-03-15T11:45:00+08:00"
    assert (rec["status"], rec["rev"]) == ("final", 1)
    assert store.list("--period", "107-03")[0]["id"] == rid


def test_two_open_patrols_need_an_id(store):
    a, _ = start(store, *START)
    b, r = start(store, "type=checkpoint", "mode=car", "officers=4")
    assert "1" in r.err   # a note that another patrol is open
    before = store.snapshot()
    r = store.run("patrol", "end", lang="en")
    assert r.rc == EX_USAGE, r
    assert "2 patrols are open" in r.err
    assert store.snapshot() == before
    # By id, first or last characters.
    r = store.run("patrol", "end", b[-8:], lang="en")
    assert r.rc == EX_OK, r
    assert r.out.strip() == b
    assert store.get(b)["status"] == "final"
    assert store.get(a)["status"] == "draft"
    # One left: no id needed.
    r = store.run("patrol", "end", lang="en")
    assert r.rc == EX_OK, r
    assert r.out.strip() == a
    st = store.status()
    assert (st["drafts"], st["final"], st["unsent_revisions"]) == (0, 2, 2)


def test_end_with_none_open_fails(store):
    r = store.run("patrol", "end", lang="en")
    assert r.rc == EX_DATAERR, r
    assert "no open patrol" in r.err
    zh = store.run("patrol", "end", lang="zh-TW")
    assert zh.rc == EX_DATAERR and "沒有進行中的巡邏" in zh.err
    assert store.counts() == (0, 0)


def test_end_of_a_finished_patrol_fails(store):
    rid, _ = start(store, *START)
    assert store.run("patrol", "end", rid).rc == EX_OK
    before = store.snapshot()
    r = store.run("patrol", "end", rid, lang="en")
    assert r.rc == EX_DATAERR, r
    assert "not an open patrol" in r.err
    assert store.snapshot() == before


def test_end_of_another_kind_fails(store):
    other = store.add("complaint", "category=misconduct", "received_at=now")
    before = store.snapshot()
    r = store.run("patrol", "end", other, lang="en")
    assert r.rc == EX_DATAERR, r
    assert other in r.err
    assert store.snapshot() == before


def test_end_before_start_is_refused_and_stays_draft(store):
    rid, _ = start(store, *START, "started_at=2018-03-15 14:00")
    before = store.snapshot()
    r = store.run("patrol", "end", "ended_at=2018-03-15 13:00", lang="en")
    assert r.rc == EX_DATAERR, r
    assert '"ended_at"' in r.err and "before" in r.err
    assert store.snapshot() == before
    assert store.get(rid)["status"] == "draft"


def test_start_validates_like_add(store):
    r = store.run("patrol", "start", "type=bike_path", "mode=bicycle", "officers=2", lang="en")
    assert r.rc == EX_DATAERR, r
    assert '"bike_path"' in r.err
    r = store.run("patrol", "start", "type=small_area", "mode=skateboard", "officers=2",
                  lang="en")
    assert r.rc == EX_DATAERR and '"skateboard"' in r.err
    r = store.run("patrol", "start", "type=small_area", "mode=car", "officers=0", lang="en")
    assert r.rc == EX_DATAERR and '"officers"' in r.err
    assert store.counts() == (0, 0)


def test_add_patrol_needs_ended_at(store):
    r = store.run("add", "patrol", *START, "started_at=2018-03-15 14:00", lang="en")
    assert r.rc == EX_DATAERR, r
    assert '"ended_at"' in r.err
    assert store.counts() == (0, 0)
    rid = store.add("patrol", *START, "started_at=2018-03-15 14:00",
                    "ended_at=2018-03-15 16:00")
    rec = store.get(rid)
    assert (rec["status"], rec["rev"]) == ("final", 1)


def test_edit_a_draft_keeps_it_a_draft(store):
    rid, _ = start(store, *START)
    r = store.run("edit", rid, "officers=3", lang="en")
    assert r.rc == EX_OK, r
    rec = store.get(rid)
    assert (rec["status"], rec["rev"], rec["data"]["officers"]) == ("draft", 0, 3)
    assert store.status()["unsent_revisions"] == 0
    assert store.run("patrol", "end").rc == EX_OK
    rec = store.get(rid)
    assert (rec["status"], rec["rev"], rec["data"]["officers"]) == ("final", 1, 3)
