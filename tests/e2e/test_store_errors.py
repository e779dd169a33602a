"""A damaged, locked, read-only or missing store: a clear error, no crash, nothing lost."""
import hashlib
import os
import random
import shutil
import sqlite3
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from conftest import (EX_CANTCREAT, EX_IOERR, EX_NOINPUT, EX_OK, EX_TEMPFAIL, Result,
                      beatbook_cmd, clean_env, known_bug, make_store, run_beatbook)

ADD = ["add", "complaint", "category=misconduct", "received_at=2018-03-15 14:20"]
# Commands that open the store, for reading or writing.
COMMANDS = [
    ADD,
    ["patrol", "start", "type=small_area", "mode=foot", "officers=1"],
    ["list", "--json"],
    ["status", "--json"],
    ["show", "abcdef"],
    ["edit", "abcdef", "victims=1"],
    ["void", "abcdef", "--reason", "x"],
    ["report", "--period", "2018"],
]


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def assert_clean_failure(r):
    """Non-zero, an exit status rather than a signal, a one-line reason."""
    assert r.rc != EX_OK, r
    assert 0 < r.rc < 128, r
    assert r.err.startswith("beatbook: "), r
    assert "Segmentation" not in r.err and "Assertion" not in r.err


# ---- damaged store -------------------------------------------------------------------------

GARBAGE = {
    "random": random.Random(7).randbytes(20000),
    "sqlite header then garbage": b"SQLite format 3\x00" + b"\xde\xad\xbe\xef" * 1000,
    "text": "這不是資料庫 not a database\n".encode() * 300,
}


@pytest.mark.parametrize("kind", sorted(GARBAGE))
@pytest.mark.parametrize("args", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_garbage_store_clear_error(home, kind, args):
    home.mkdir(mode=0o700)
    db = home / "field.db"
    db.write_bytes(GARBAGE[kind])
    before = sha256(db)
    r = run_beatbook(home, *args, lang="en")
    assert_clean_failure(r)
    assert r.rc == EX_IOERR, r
    assert "damaged" in r.err or "corrupt" in r.err, r.err
    assert str(db) in r.err
    assert r.out == ""
    assert sha256(db) == before
    assert sorted(p.name for p in home.iterdir()) == ["field.db"]


def test_truncated_store_clear_error(store):
    for i in range(20):
        store.add("complaint", "category=misconduct", "received_at=now", f"summary={'x' * 1500}")
    # Move everything from the WAL into field.db (beatbook does not checkpoint on close);
    # the last connection to close removes field.db-wal.
    con = sqlite3.connect(store.db)
    assert con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
    con.close()
    assert not (store.home / "field.db-wal").exists()
    size = store.db.stat().st_size
    assert size > 40000
    with open(store.db, "r+b") as f:
        f.truncate(size // 2)
    r = store.run("list", "--json", lang="en")
    assert_clean_failure(r)
    assert r.rc == EX_IOERR
    assert "damaged" in r.err or "corrupt" in r.err


def make_foreign_db(path):
    con = sqlite3.connect(path)
    con.executescript("CREATE TABLE contacts (name TEXT, phone TEXT);"
                      "INSERT INTO contacts VALUES ('王小明', '0912345678');")
    con.commit()
    con.close()


@pytest.mark.parametrize("args", [["list", "--json"], ["status", "--json"]],
                         ids=["list", "status"])
def test_foreign_sqlite_file_refused_by_readers(home, args):
    home.mkdir(mode=0o700)
    db = home / "field.db"
    make_foreign_db(db)
    before = sha256(db)
    r = run_beatbook(home, *args, lang="en")
    assert_clean_failure(r)
    assert "not a beatbook store" in r.err or "beatbook init" in r.err
    assert sha256(db) == before


def test_foreign_sqlite_file_not_modified_by_add(home):
    home.mkdir(mode=0o700)
    db = home / "field.db"
    make_foreign_db(db)
    r = run_beatbook(home, *ADD, lang="en")
    assert_clean_failure(r)
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [t for (t,) in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        version = con.execute("PRAGMA user_version").fetchone()[0]
    finally:
        con.close()
    assert tables == ["contacts"]
    assert version == 0


def test_foreign_sqlite_file_add_fails_cleanly(home):
    # Whatever happens to the file, the command fails cleanly and stores no record.
    home.mkdir(mode=0o700)
    db = home / "field.db"
    make_foreign_db(db)
    r = run_beatbook(home, *ADD, lang="en")
    assert_clean_failure(r)
    assert r.rc == EX_IOERR
    assert "beatbook init" in r.err
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert con.execute("SELECT * FROM contacts").fetchall() == [("王小明", "0912345678")]
    finally:
        con.close()


# ---- locked store --------------------------------------------------------------------------

BUSY_ENV = {"BEATBOOK_BUSY_TIMEOUT_MS": "300"}


def hold_write_lock(db):
    con = sqlite3.connect(str(db), isolation_level=None, timeout=5, check_same_thread=False)
    con.execute("BEGIN EXCLUSIVE")
    return con


@pytest.mark.parametrize("args", [
    ADD,
    ["patrol", "start", "type=small_area", "mode=foot", "officers=1"],
    ["edit", "ID", "summary=changed"],
    ["void", "ID", "--reason", "x"],
], ids=["add", "patrol start", "edit", "void"])
def test_locked_store_exit_75(store, args):
    rid = store.add("complaint", "category=misconduct", "received_at=now")
    args = [rid if a == "ID" else a for a in args]
    before = store.snapshot()
    con = hold_write_lock(store.db)
    try:
        r = store.run(*args, lang="en", env=BUSY_ENV, timeout=30)
        # Readers are not blocked by a writer (WAL).
        assert store.run("list", "--json", env=BUSY_ENV).rc == EX_OK
    finally:
        con.execute("ROLLBACK")
        con.close()
    assert r.rc == EX_TEMPFAIL, r
    assert "locked" in r.err and "try again" in r.err
    assert r.out == ""
    assert store.snapshot() == before
    # Once the lock is gone the same command works.
    assert store.run(*args, env=BUSY_ENV).rc == EX_OK


def test_locked_store_import_exit_75(store):
    before = store.snapshot()
    con = hold_write_lock(store.db)
    try:
        r = store.import_json("criminal_case", [{"data": {"case_no": f"L{i}",
                                                          "category": "theft"}}
                                                for i in range(100)],
                              lang="en", env=BUSY_ENV, timeout=30)
    finally:
        con.execute("ROLLBACK")
        con.close()
    assert r.rc == EX_TEMPFAIL, r
    assert "locked" in r.err
    assert store.snapshot() == before


def test_busy_store_waits_for_a_short_lock(store):
    """A lock released within the wait does not make the command fail."""
    con = hold_write_lock(store.db)
    timer = threading.Timer(0.3, lambda: (con.execute("ROLLBACK"), con.close()))
    timer.start()
    try:
        r = store.run(*ADD, lang="en", env={"BEATBOOK_BUSY_TIMEOUT_MS": "10000"}, timeout=30)
    finally:
        timer.join()
    assert r.rc == EX_OK, r
    assert store.counts() == (1, 1)


# ---- read-only store -----------------------------------------------------------------------

NOBODY = 65534


def run_as_nobody(home, *args):
    p = subprocess.run(beatbook_cmd(*args, lang="en"), env=clean_env(home), capture_output=True,
                       text=True, timeout=60, user=NOBODY, group=NOBODY, extra_groups=[])
    return Result(p.returncode, p.stdout, p.stderr)


@pytest.fixture
def readonly_store():
    """A store the user running beatbook may read but not write (file 0444, folder 0555).

    Root ignores permissions, so as root the store is made in a folder that any user can
    reach and beatbook runs as `nobody` (uid 65534): the same situation for the program."""
    base = Path(tempfile.mkdtemp(prefix="bb-ro-"))
    runner = run_beatbook
    home = base / "home"
    try:
        if os.geteuid() == 0:
            os.chmod(base, 0o755)   # nobody must reach the store folder
            runner = run_as_nobody
        st = make_store(home)
        st.add("complaint", "category=misconduct", "received_at=2018-03-15 14:20")
        before = st.snapshot()
        # The read-only connections of snapshot() leave field.db-wal/-shm behind; the last
        # read-write connection to close removes them, so that only field.db is left.
        con = sqlite3.connect(st.db)
        con.execute("PRAGMA user_version").fetchall()
        con.close()
        assert sorted(p.name for p in home.iterdir()) == ["field.db"]
        digest = sha256(st.db)
        os.chmod(st.db, 0o444)
        os.chmod(home, 0o555)
        if os.geteuid() == 0:
            probe = subprocess.run(["/bin/sh", "-c", f"touch {home}/probe"], user=NOBODY,
                                   group=NOBODY, extra_groups=[], capture_output=True)
            if probe.returncode == 0:
                pytest.skip("file permissions are not enforced for uid 65534 here")
        yield st, runner, before, digest
    finally:
        if home.exists():
            os.chmod(home, 0o755)
        shutil.rmtree(base)


def test_readonly_store_add_fails_clearly(readonly_store):
    st, runner, before, digest = readonly_store
    for args in (ADD, ["patrol", "start", "type=small_area", "mode=foot", "officers=1"]):
        r = runner(st.home, *args)
        assert_clean_failure(r)
        assert r.rc == EX_CANTCREAT, r
        assert "read-only" in r.err, r.err
        assert r.out == ""
    assert sha256(st.db) == digest
    assert sorted(p.name for p in st.home.iterdir()) == ["field.db"]
    assert st.snapshot() == before


def test_readonly_store_readers_do_not_crash(readonly_store):
    # SQLite cannot read a WAL-mode file in a folder it cannot write (no -shm);
    # what matters here is a clear message and no damage.
    st, runner, before, digest = readonly_store
    for args in (["list", "--json"], ["status", "--json"], ["report", "--period", "2018"]):
        r = runner(st.home, *args)
        if r.rc != EX_OK:
            assert_clean_failure(r)
            assert "read-only" in r.err or "permission" in r.err.lower(), r.err
    assert sha256(st.db) == digest


# ---- missing store -------------------------------------------------------------------------

@pytest.mark.parametrize("args", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_missing_store_exit_66(home, args):
    r = run_beatbook(home, *args, lang="en")
    assert r.rc == EX_NOINPUT, r
    assert "beatbook init" in r.err
    assert str(home / "field.db") in r.err
    assert not home.exists()


def test_missing_store_message_in_chinese(home):
    r = run_beatbook(home, *ADD, lang="zh-TW")
    assert r.rc == EX_NOINPUT
    assert "beatbook init" in r.err


def test_store_folder_without_store(home):
    home.mkdir()
    r = run_beatbook(home, *ADD, lang="en")
    assert r.rc == EX_NOINPUT
    assert list(home.iterdir()) == []


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MiB tmpfs to fill up (needs root and mount rights; skipped otherwise)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_full_disk_clear_error_nothing_stored(small_disk):
    home = small_disk / "home"
    store = make_store(home)
    store.ok("add", "complaint", "category=other", "received_at=2018-03-15 10:00")
    before = store.counts()
    # Fill the disk, leaving no room for the next page of the WAL.
    with open(small_disk / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    r = store.run("add", "complaint", "category=other", "received_at=2018-03-15 11:00",
                  "summary=" + "x" * 1000, lang="en")
    assert_clean_failure(r)
    assert r.rc == EX_IOERR, r
    assert "disk is full" in r.err, r.err
    (small_disk / "filler").unlink()
    assert store.counts() == before
    con = sqlite3.connect(home / "field.db")
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        con.close()
    # With room again the store works.
    store.ok("add", "complaint", "category=other", "received_at=2018-03-15 12:00")
