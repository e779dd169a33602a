"""A store made by an older beatbook (schema version 1) is brought up to date and keeps its data."""
import json
import sqlite3
import subprocess

from conftest import (EX_OK, MIGRATIONS, OFFICER, ORG_UNIT, Store, beatbook_cmd, clean_env,
                      db_query, known_bug, migration_count)

DEVICE = "d-0011223344556677"
OLD_ID = "01900000-0000-7000-8000-000000000001"
OLD = {"id": OLD_ID, "kind": "complaint", "rev": 1, "status": "final", "device": DEVICE,
       "officer": OFFICER, "org_unit": ORG_UNIT, "occurred_at": "2018-03-15T14:20:00+08:00",
       "recorded_at": "2018-03-15T14:21:07+08:00", "location": {"lat": 24.1477, "lon": 120.6736},
       "data": {"category": "service_attitude", "received_at": "2018-03-15T14:20:00+08:00",
                "summary": "<b>舊資料</b>"}}


def make_v1_store(home, wal=False):
    """What beatbook's first release wrote: migration 001 only, user_version 1.

    That release kept its stores in WAL mode (wal=True); made by hand, the file is
    in SQLite's default rollback-journal mode, which beatbook switches to WAL."""
    home.mkdir(mode=0o700)
    db = home / "field.db"
    con = sqlite3.connect(db)
    if wal:
        con.execute("PRAGMA journal_mode = WAL")
    con.executescript((MIGRATIONS / "001_init.sql").read_text())
    con.execute("PRAGMA user_version = 1")
    con.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                    [("officer", OFFICER), ("org_unit", ORG_UNIT), ("device", DEVICE),
                     ("created_at", "2018-03-01T08:00:00+08:00")])
    body = json.dumps(OLD, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    con.execute("INSERT INTO records (id, kind, rev, status, org_unit, officer, occurred_at,"
                " occurred_unix, recorded_at, body) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (OLD_ID, "complaint", 1, "final", ORG_UNIT, OFFICER, OLD["occurred_at"],
                 1521094800, OLD["recorded_at"], body))
    con.execute("INSERT INTO revisions (id, rev, status, recorded_at, body) VALUES (?,?,?,?,?)",
                (OLD_ID, 1, "final", OLD["recorded_at"], body))
    con.commit()
    con.close()
    st = Store(home)
    st.device = DEVICE
    return st


def version(st):
    return db_query(st.db, "PRAGMA user_version")[0][0]


def test_migration_files_are_numbered_without_gaps():
    names = sorted(p.name for p in MIGRATIONS.glob("*.sql"))
    assert [int(n[:3]) for n in names] == list(range(1, len(names) + 1))
    assert migration_count() >= 2


def test_v1_store_is_migrated_and_keeps_its_record(home):
    st = make_v1_store(home)
    assert version(st) == 1
    recs = st.list()
    assert recs == [OLD]
    # A command that writes brings the store to the current version.
    rid = st.add("complaint", "category=misconduct", "received_at=2018-04-01 10:00")
    assert version(st) == migration_count()
    assert db_query(st.db, "PRAGMA journal_mode")[0][0] == "wal"
    cols = [c[1] for c in db_query(st.db, "PRAGMA table_info(revisions)")]
    assert "batch_seq" in cols
    recs = st.list()
    assert [r["id"] for r in recs] == [OLD_ID, rid]
    assert recs[0] == OLD
    new = recs[1]
    assert (new["officer"], new["org_unit"], new["device"]) == (OFFICER, ORG_UNIT, DEVICE)
    shown = st.show(OLD_ID[-6:])
    assert shown["record"] == OLD and shown["revisions"] == [OLD]
    stat = st.status()
    assert (stat["final"], stat["unsent_revisions"]) == (2, 2)
    # The old record can be revised like any other.
    assert st.run("edit", OLD_ID, "summary=更正").rc == EX_OK
    revs = st.show(OLD_ID)["revisions"]
    assert [r["rev"] for r in revs] == [1, 2]
    # Made before kinds had versions, the first revision has none (version 1); the edit
    # is made now, under today's kind, so it carries today's version and rules.
    assert "kind_version" not in revs[0] and revs[1]["kind_version"] >= 2
    rep = json.loads(st.ok("report", "--period", "2018", "--json").out)
    inputs = {i["input"]: i["records"] for i in rep["kpi_inputs"]}
    assert inputs["attitude_complaints"] == 1


def test_v1_store_migrated_once_by_concurrent_writers(home):
    st = make_v1_store(home, wal=True)
    procs = [subprocess.Popen(beatbook_cmd("add", "criminal_case", f"case_no=M{i}",
                                           "category=theft"),
                              env=clean_env(home), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(6)]
    out = [(p.wait(timeout=60),) + p.communicate() for p in procs]
    assert [o for o in out if o[0] != EX_OK] == []
    assert version(st) == migration_count()
    assert len(st.list()) == 7


def test_v1_store_status_works(home):
    st = make_v1_store(home)
    r = st.run("status", "--json", lang="en")
    assert r.rc == EX_OK, r
    s = json.loads(r.out)
    assert (s["final"], s["unsent_revisions"]) == (1, 1)


def test_v1_store_migrated_by_list(home):
    st = make_v1_store(home)
    assert st.list() == [OLD]
    assert version(st) == migration_count()


def test_store_from_a_newer_beatbook_is_refused(home):
    st = make_v1_store(home)
    con = sqlite3.connect(st.db)
    con.execute(f"PRAGMA user_version = {migration_count() + 1}")
    con.commit()
    con.close()
    before = st.snapshot()
    r = st.run("add", "complaint", "category=misconduct", "received_at=now", lang="en")
    assert r.rc != EX_OK and 0 < r.rc < 128, r
    assert "newer" in r.err and str(migration_count() + 1) in r.err
    assert st.snapshot() == before
    assert version(st) == migration_count() + 1
