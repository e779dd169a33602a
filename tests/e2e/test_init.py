"""beatbook init, --help, --version, kinds and ref: the commands that need no records."""
import hashlib
import json
import stat
import subprocess

import pytest

from conftest import (EX_CANTCREAT, EX_OK, EX_USAGE, KINDS, OFFICER, ORG_UNIT, REPO,
                      beatbook_cmd, clean_env, db_query, known_bug, migration_count)


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_init_creates_store_with_private_folder(bb, tmp_path):
    home = tmp_path / "a" / "b" / "home"
    r = bb(home, "init", "--officer", OFFICER, "--org-unit", ORG_UNIT, lang="en")
    assert r.rc == EX_OK, r
    db = home / "field.db"
    assert db.is_file()
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert str(db) in r.out and OFFICER in r.out and ORG_UNIT in r.out
    meta = dict(db_query(db, "SELECT key, value FROM meta"))
    assert meta["officer"] == OFFICER
    assert meta["org_unit"] == ORG_UNIT
    assert meta["device"].startswith("d-") and len(meta["device"]) > 8
    assert db_query(db, "PRAGMA user_version")[0][0] == migration_count()
    assert db_query(db, "SELECT count(*) FROM records")[0][0] == 0
    st = json.loads(bb(home, "status", "--json").out)
    assert (st["officer"], st["org_unit"], st["device"]) == (OFFICER, ORG_UNIT, meta["device"])
    assert (st["drafts"], st["final"], st["void"], st["unsent_revisions"]) == (0, 0, 0, 0)


def test_second_init_fails_73_and_leaves_store_unchanged(store, bb):
    store.add("complaint", "category=misconduct", "received_at=now")
    before_hash, before = sha256(store.db), store.snapshot()
    r = bb(store.home, "init", "--officer", "B999", "--org-unit", "P01-S01", lang="en")
    assert r.rc == EX_CANTCREAT, r
    assert "already exists" in r.err and str(store.db) in r.err
    assert r.out == ""
    assert sha256(store.db) == before_hash
    assert store.snapshot() == before
    assert store.status()["officer"] == OFFICER


@pytest.mark.parametrize("args, needle", [
    (["--officer", OFFICER, "--org-unit", "P99-S99"], "P99-S99"),   # unknown org unit
    (["--officer", OFFICER], "--org-unit"),                          # missing option
    (["--org-unit", ORG_UNIT], "--officer"),
    ([], "--officer"),
    (["--officer", "A 1", "--org-unit", ORG_UNIT], "A 1"),            # space in officer id
    (["--officer", "X" * 33, "--org-unit", ORG_UNIT], "X" * 33),      # too long
    (["--officer", OFFICER, "--org-unit", ORG_UNIT, "--bogus"], "unknown option"),
    (["--officer", OFFICER, "--org-unit", ORG_UNIT, "extra"], "unexpected argument"),
])
def test_init_bad_arguments_exit_64_and_create_nothing(bb, home, args, needle):
    r = bb(home, "init", *args, lang="en")
    assert r.rc == EX_USAGE, r
    assert needle in r.err
    assert not (home / "field.db").exists()


def test_concurrent_init_only_one_wins(tmp_path):
    # The race needs the processes to overlap; a few rounds make it very likely to show.
    for trial in range(40):
        home = tmp_path / f"h{trial}"
        procs = [subprocess.Popen(beatbook_cmd("init", "--officer", f"OFF{i}", "--org-unit",
                                               ORG_UNIT, lang="en"),
                                  env=clean_env(home), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for i in range(8)]
        results = [(p.wait(timeout=60),) + p.communicate() for p in procs]
        winners = [i for i, (rc, _, _) in enumerate(results) if rc == EX_OK]
        assert len(winners) == 1, f"round {trial}: exit codes {[r[0] for r in results]}"
        assert all(rc == EX_CANTCREAT for rc, _, _ in results if rc != EX_OK)
        meta = dict(db_query(home / "field.db", "SELECT key, value FROM meta"))
        assert meta["officer"] == f"OFF{winners[0]}"
        assert meta["device"] in results[winners[0]][1]


def test_help_and_version(bb, home):
    r = bb(home, "--help", lang="en")
    assert r.rc == EX_OK and r.err == ""
    assert r.out.startswith("usage: beatbook")
    for cmd in ("init", "add", "patrol", "list", "show", "edit", "void", "kinds", "ref",
                "status", "report"):
        assert f"\n  {cmd} " in r.out, cmd
    assert bb(home, "-h", lang="en").out == r.out
    v = bb(home, "--version")
    assert v.rc == EX_OK and v.err == ""
    assert v.out.startswith("beatbook ") and v.out.strip().split()[1][0].isdigit()
    assert bb(home, "-V").out == v.out
    # Neither creates a store.
    assert not home.exists()


@pytest.mark.parametrize("args", [[], ["frobnicate"], ["--bogus"], ["--lang", "fr", "kinds"]])
def test_bad_command_line_exit_64(bb, home, args):
    r = bb(home, *args)
    assert r.rc == EX_USAGE, r
    assert r.out == ""
    assert r.err.strip()
    if args == ["frobnicate"]:
        assert 'frobnicate' in r.err        # quoted "…" in English, 「…」 in zh-TW


@pytest.mark.parametrize("cmd", ["init", "add", "patrol", "list", "show", "edit", "void",
                                 "kinds", "ref", "status", "report"])
def test_command_help_exit_0(bb, home, cmd):
    r = bb(home, cmd, "--help", lang="en")
    assert r.rc == EX_OK, r
    assert "usage: beatbook" in r.out and cmd in r.out
    zh = bb(home, cmd, "--help")            # no LANG: zh-TW (test_locale checks every word)
    assert zh.rc == EX_OK and f"beatbook {cmd}" in zh.out
    assert not home.exists()


def test_kinds_lists_every_kind(bb, home):
    r = bb(home, "kinds", lang="en")
    assert r.rc == EX_OK
    names = [line.split()[0] for line in r.out.splitlines() if line.strip()]
    assert names == KINDS
    assert "Parking citation" in r.out
    zh = bb(home, "kinds", lang="zh-TW")
    assert "違規停車舉發" in zh.out


def test_kinds_json_matches_schema_files(bb, home):
    r = bb(home, "kinds", "--json")
    assert r.rc == EX_OK
    kinds = json.loads(r.out)
    assert sorted(k["kind"] for k in kinds) == KINDS
    for k in kinds:
        src = json.loads((REPO / "schema" / "records" / f"{k['kind']}.json").read_text())
        assert [f["name"] for f in k["fields"]] == [f["name"] for f in src["fields"]]
        for got, want in zip(k["fields"], src["fields"]):
            assert got["type"] == want["type"]
            assert got["required"] == bool(want.get("required", False))
            assert [v["code"] for v in got.get("values", [])] == \
                [v["code"] for v in want.get("values", [])]


def test_kinds_show_parking_citation_text(bb, home):
    r = bb(home, "kinds", "show", "parking_citation", lang="en")
    assert r.rc == EX_OK, r
    assert r.out.startswith("parking_citation")
    for field in ("method", "source", "segment", "major", "violation", "vehicle_type", "plate",
                  "notes"):
        assert f"\n  {field} " in r.out, field
    for code in ("stop", "remote", "police", "citizen_report", "red_line", "double_parking",
                 "fire_hydrant", "accessible_space", "large_vehicle"):
        assert f" {code} " in r.out, code
    assert "[required]" in r.out
    assert "beatbook ref segments" in r.out
    j = json.loads(bb(home, "kinds", "show", "parking_citation", "--json").out)
    assert j["kind"] == "parking_citation"
    assert next(f for f in j["fields"] if f["name"] == "segment")["ref"] == "segments"


def test_kinds_show_unknown_kind(bb, home):
    r = bb(home, "kinds", "show", "parking", lang="en")
    assert r.rc == EX_USAGE and '"parking"' in r.err


@pytest.mark.parametrize("name, count, first", [
    ("intersections", 25, "INT-01"),
    ("segments", 60, "SEG-0101"),
    ("units", 113, "TC"),
    ("bikepaths", 3, "BP-DF"),
])
def test_ref_lists(bb, home, name, count, first):
    src = json.loads((REPO / "schema" / "reference" / f"{name}.json").read_text())[name]
    assert len(src) == count
    r = bb(home, "ref", name, lang="en")
    assert r.rc == EX_OK, r
    rows = [line for line in r.out.splitlines() if line.strip()]
    assert len(rows) == count
    assert sorted(line.split()[0] for line in rows) == sorted(s["code"] for s in src)
    j = json.loads(bb(home, "ref", name, "--json").out)
    assert len(j) == count
    assert {x["code"] for x in j} == {s["code"] for s in src}
    assert first in {x["code"] for x in j}
    by_code = {s["code"]: s for s in src}
    for x in j:
        assert x["label"] == by_code[x["code"]]["label"]


def test_ref_bikepaths_labels_in_both_languages(bb, home):
    assert "東豐自行車綠廊" in bb(home, "ref", "bikepaths", lang="zh-TW").out
    assert "Dongfeng Bikeway" in bb(home, "ref", "bikepaths", lang="en").out


@pytest.mark.parametrize("args", [["ref"], ["ref", "roads"], ["ref", "units", "segments"]])
def test_ref_bad_arguments(bb, home, args):
    r = bb(home, *args, lang="en")
    assert r.rc == EX_USAGE, r
    assert "units, intersections, segments, bikepaths" in r.err
