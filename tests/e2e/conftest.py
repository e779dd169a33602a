"""Shared helpers for the end-to-end tests of the field collector `beatbook`.

Every test drives the real binary with subprocess, in its own store folder
(BEATBOOK_HOME under pytest's tmp_path), with the locale variables removed so
that the language of a message depends only on an explicit `--lang`.

Run:  BEATBOOK_BIN=/path/to/build/bin /usr/bin/python3 -m pytest -q tests/e2e
(`make e2e` does this with BEATBOOK_BIN=<repo>/build/bin).

Tests marked with `known_bug(...)` show a defect of the binary that is not
fixed yet: they are strict xfails, so the suite stays green while the bug is
there and turns red (XPASS) the day it is fixed, so that the marker is
removed and the test becomes an ordinary regression test.
"""
import collections
import datetime
import json
import os
import re
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN_DIR = Path(os.environ.get("BEATBOOK_BIN") or REPO / "build" / "bin")
BEATBOOK = BIN_DIR / "beatbook"
MIGRATIONS = REPO / "schema" / "migrations" / "collector"

# sysexits.h, as `beatbook --help` documents them.
EX_OK = 0
EX_USAGE = 64
EX_DATAERR = 65
EX_NOINPUT = 66
EX_CANTCREAT = 73
EX_IOERR = 74
EX_TEMPFAIL = 75
EX_NOPERM = 77

OFFICER = "A123456"
ORG_UNIT = "P06-S03"

UUID7_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# What the collector writes: seconds, and an offset (+08:00 for Taipei; Z for UTC).
ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")
TAIPEI_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")

ENVELOPE_KEYS = {"id", "kind", "kind_version", "rev", "status", "device", "officer", "org_unit",
                 "occurred_at", "recorded_at", "data"}

Result = collections.namedtuple("Result", "rc out err")


def known_bug(reason, strict=True):
    """Mark a test that shows a bug of the binary (see the module docstring)."""
    return pytest.mark.xfail(strict=strict, reason="BUG: " + reason)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a test that takes seconds (kill tests)")
    if not BEATBOOK.is_file() or not os.access(BEATBOOK, os.X_OK):
        raise pytest.UsageError(
            f"no beatbook binary at {BEATBOOK}; build it (make BUILD=... all) and set "
            f"BEATBOOK_BIN to its bin folder")


def clean_env(home, extra=None):
    """The environment for one run: no locale, no stray BEATBOOK_*, our store."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("LANG", "LANGUAGE") and not k.startswith("LC_")
           and not k.startswith("BEATBOOK_")}
    env["BEATBOOK_HOME"] = str(home)
    # Without BEATBOOK_HOME the binary would use ~/.local/share/beatbook: keep
    # any slip away from the real home.
    env["HOME"] = str(Path(home).parent)
    if extra:
        env.update(extra)
    return env


def beatbook_cmd(*args, lang=None):
    return [str(BEATBOOK)] + (["--lang", lang] if lang else []) + [str(a) for a in args]


def run_beatbook(home, *args, lang=None, input=None, env=None, timeout=120, **kw):
    """Run beatbook once; returns Result(rc, out, err) (a tuple)."""
    p = subprocess.run(beatbook_cmd(*args, lang=lang), env=clean_env(home, env), input=input,
                       capture_output=True, text=True, encoding="utf-8", errors="replace",
                       timeout=timeout, **kw)
    return Result(p.returncode, p.stdout, p.stderr)


def parse_iso(s):
    """An ISO time with offset as written by beatbook, as an aware datetime."""
    assert ISO_RE.match(s), f"not a canonical ISO time with offset: {s!r}"
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def uuid7_unix_ms(u):
    return int(u.replace("-", "")[:12], 16)


def db_connect_ro(db_path):
    """A read-only connection to a store (never creates or migrates anything)."""
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)


def db_query(db_path, sql, params=()):
    con = db_connect_ro(db_path)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def migration_count():
    return len(sorted(MIGRATIONS.glob("[0-9][0-9][0-9]_*.sql")))


class Store:
    """An initialised store in its own BEATBOOK_HOME, with helpers to drive it."""

    def __init__(self, home, officer=OFFICER, org_unit=ORG_UNIT):
        self.home = Path(home)
        self.db = self.home / "field.db"
        self.officer = officer
        self.org_unit = org_unit
        self.device = None

    # -- running the binary
    def run(self, *args, **kw):
        return run_beatbook(self.home, *args, **kw)

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        assert r.rc == EX_OK, f"beatbook {' '.join(map(str, args))} failed: {r}"
        return r

    def add(self, kind, *assignments, **fields):
        """add KIND FIELD=VALUE...; returns the new id (checked to be a UUIDv7)."""
        args = list(assignments) + [f"{k}={v}" for k, v in fields.items()]
        r = self.ok("add", kind, *args, lang="en")
        rid = r.out.strip()
        assert UUID7_RE.match(rid), f"add printed {r.out!r}, not a UUIDv7"
        return rid

    def import_json(self, kind, payload, path=None, **kw):
        """add KIND --json FILE with payload (a Python value or a str of JSON)."""
        text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        f = Path(path) if path else self.home.parent / f"import-{time.monotonic_ns()}.json"
        f.write_text(text, encoding="utf-8")
        return self.run("add", kind, "--json", f, **kw)

    def list(self, *opts):
        r = self.ok("list", "--json", *opts)
        out = json.loads(r.out)
        assert isinstance(out, list)
        return out

    def show(self, rid):
        return json.loads(self.ok("show", rid, "--json").out)

    def get(self, rid):
        return self.show(rid)["record"]

    def status(self):
        return json.loads(self.ok("status", "--json").out)

    # -- reading the SQLite file directly (read-only)
    def query(self, sql, params=()):
        return db_query(self.db, sql, params)

    def counts(self):
        """(rows in records, rows in revisions), read from the file itself."""
        return (self.query("SELECT count(*) FROM records")[0][0],
                self.query("SELECT count(*) FROM revisions")[0][0])

    def snapshot(self):
        """Everything stored, to compare before/after a command that must change nothing."""
        return {t: self.query(f"SELECT * FROM {t} ORDER BY 1, 2")
                for t in ("meta", "records", "revisions")}


def make_store(home, officer=OFFICER, org_unit=ORG_UNIT):
    st = Store(home, officer, org_unit)
    r = run_beatbook(home, "init", "--officer", officer, "--org-unit", org_unit, lang="en")
    assert r.rc == EX_OK, f"init failed: {r}"
    st.device = st.status()["device"]
    return st


@pytest.fixture
def home(tmp_path):
    """A store folder that does not exist yet."""
    return tmp_path / "home"


@pytest.fixture
def bb():
    """bb(home, *args, lang=None, input=None, env=None) -> Result(rc, out, err)."""
    return run_beatbook


@pytest.fixture
def store(home):
    """An initialised store (officer A123456, unit P06-S03) in a fresh folder."""
    return make_store(home)


# Valid values for every kind, as typed on the command line, and what must be
# stored for them (typed JSON).  Every field type appears: text, integer,
# number, boolean, enum (given as code and as labels), datetime, ref.
VALID = {
    "patrol": (
        ["type=自行車道巡邏", "mode=Bicycle (bike patrol unit)", "bike_path=bp-df",
         "started_at=2018-03-15 08:00", "ended_at=107/03/15 10:30", "officers=2",
         "volunteers=0", "distance_km=12.5", "route=后里→石岡 東豐綠廊"],
        {"type": "bike_path", "mode": "bicycle", "bike_path": "BP-DF",
         "started_at": "2018-03-15T08:00:00+08:00", "ended_at": "2018-03-15T10:30:00+08:00",
         "officers": 2, "volunteers": 0, "distance_km": 12.5, "route": "后里→石岡 東豐綠廊"}),
    "traffic_accident": (
        ["class=a2", "deaths=0", "injuries=2", "intersection=INT-03", "vehicles=2",
         "cause=failure_to_yield", "place=三民路與崇德路口"],
        {"class": "a2", "deaths": 0, "injuries": 2, "intersection": "INT-03", "vehicles": 2,
         "cause": "failure_to_yield", "place": "三民路與崇德路口"}),
    "intersection_duty": (
        ["intersection=INT-01", "activity=presence", "started_at=2018-03-15T07:00:00+08:00",
         "ended_at=2018-03-15T09:00:00+08:00", "officers=2", "traffic_volunteers=1",
         "citations=3"],
        {"intersection": "INT-01", "activity": "presence",
         "started_at": "2018-03-15T07:00:00+08:00", "ended_at": "2018-03-15T09:00:00+08:00",
         "officers": 2, "traffic_volunteers": 1, "citations": 3}),
    "parking_citation": (
        ["method=stop", "source=police", "segment=SEG-0601", "major=yes", "violation=red_line",
         "vehicle_type=car", "plate=ABC-1234"],
        {"method": "stop", "source": "police", "segment": "SEG-0601", "major": True,
         "violation": "red_line", "vehicle_type": "car", "plate": "ABC-1234"}),
    "roadworks_inspection": (
        ["violation_found=是", "violation=out_of_hours", "action=citation", "road=文心路四段",
         "contractor=大安營造", "permit_no=107-0315", "reported_to=construction_bureau"],
        {"violation_found": True, "violation": "out_of_hours", "action": "citation",
         "road": "文心路四段", "contractor": "大安營造", "permit_no": "107-0315",
         "reported_to": "construction_bureau"}),
    "community_event": (
        ["type=crime_prevention", "audience=長者", "attendance=45",
         "ended_at=2018-03-15 16:00", "venue=協和里活動中心", "topic=防詐騙"],
        {"type": "crime_prevention", "audience": "elderly", "attendance": 45,
         "ended_at": "2018-03-15T16:00:00+08:00", "venue": "協和里活動中心", "topic": "防詐騙"}),
    "criminal_case": (
        ["case_no=1070315001", "category=fraud", "reported_at=2018-03-15 15:00", "victims=1",
         "loss_twd=150000", "summary=假冒檢警詐騙"],
        {"case_no": "1070315001", "category": "fraud", "reported_at": "2018-03-15T15:00:00+08:00",
         "victims": 1, "loss_twd": 150000, "summary": "假冒檢警詐騙"}),
    "case_clearance": (
        ["case_no=1070301002", "cleared_at=2018-03-15 18:00", "category=theft",
         "method=arrest", "suspects=2"],
        {"case_no": "1070301002", "cleared_at": "2018-03-15T18:00:00+08:00", "category": "theft",
         "method": "arrest", "suspects": 2}),
    "complaint": (
        ["category=service_attitude", "received_at=2018-03-15 09:30", "channel=hotline_1999",
         "subject_unit=P06-S03", "officers_named=1", "substantiated=false",
         "summary=態度不佳"],
        {"category": "service_attitude", "received_at": "2018-03-15T09:30:00+08:00",
         "channel": "hotline_1999", "subject_unit": "P06-S03", "officers_named": 1,
         "substantiated": False, "summary": "態度不佳"}),
}
KINDS = sorted(VALID)


@pytest.fixture
def valid():
    return VALID
