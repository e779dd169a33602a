"""The record set behind the plan's Part 4 (docs/KPIS.md, end), as field records.

`Part4` makes, deterministically from a seed, the records of five enrolled
laptops — four precincts (P01, P06, P08, P13; records spread over their
stations) and the traffic brigade (TB) — that reproduce the 106H1 figures of
Part 4 with population 2,800,000 and 6,040 officers (the built-in plan's
reference figures):

  K1  14,135 criminal cases in 105H1, 13,265 in 106H1
  K2  12,087 clearances in 106H1 (by cleared_at)
  K3  25 listed intersections, 20 with fewer casualties in 106H1 than 105H1
  K4  50,000 parking citations in 106H1, 22,210 by police on listed segments
  K5  356 road-works violations in 106H1; 104H1 + 105H1 = 2,198
  K6  491 service-attitude complaints in 105H1, 460 in 106H1 (by received_at)

...but only after a second round of edits and voids made on the laptops
(`Part4.apply_changes`): before it, some records are elsewhere (a case dated
in 105H2, a citation from a citizen report, a complaint of another category,
an accident with a mistyped injury count) or extra (cases and inspections
entered twice, voided later).  Records near the period's ends, times written
in UTC that fall on the other side of a Taipei midnight, clearances of older
cases and complaints received later than they happened test that each input
is dated by the right field, in Taipei time.  Noise outside the counted
periods and kinds makes sure only the right records count.

`Part4.expected_before()` gives the figures between the two rounds.
"""
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

from conftest import REPO

TAIPEI = timezone(timedelta(hours=8))
UNITS = json.loads((REPO / "schema/reference/units.json").read_text())["units"]
INTERSECTIONS = json.loads((REPO / "schema/reference/intersections.json").read_text())[
    "intersections"]
SEGMENTS = json.loads((REPO / "schema/reference/segments.json").read_text())["segments"]

# Half-years as [from, to) Taipei dates.
H = {
    "104H1": ((2015, 1, 1), (2015, 7, 1)),
    "105H1": ((2016, 1, 1), (2016, 7, 1)),
    "105H2": ((2016, 7, 1), (2017, 1, 1)),
    "106H1": ((2017, 1, 1), (2017, 7, 1)),
    "106H2": ((2017, 7, 1), (2018, 1, 1)),
}

# (org unit of the laptop, officer); records of a precinct laptop go to its stations
# (none to the precinct itself, so that the stations add up to it).
LAPTOPS = [("P01-S02", "A100001"), ("P06-S03", "A100002"), ("P08-S01", "A100003"),
           ("P13-S05", "A100004"), ("TB", "A100005")]
PRECINCT_LAPTOPS = 4          # the first four; the last is the traffic brigade


def stations(precinct):
    return [u["code"] for u in UNITS if u.get("parent") == precinct]


def precinct_of(unit):
    return unit if unit == "TB" else unit[:3]


class Part4:
    def __init__(self, seed=107):
        self.rng = random.Random(seed)
        # per laptop index: kind -> list of import objects
        self.imports = [dict() for _ in LAPTOPS]
        # (laptop index, kind, marker, args...) applied by apply_changes
        self.changes = []
        self.serial = 0
        self.generate()

    # ---- helpers --------------------------------------------------------------

    def when(self, half, utc_share=0.05):
        """A random instant in the half-year, as text: mostly +08:00, some in UTC."""
        (y1, m1, d1), (y2, m2, d2) = H[half]
        a = datetime(y1, m1, d1, tzinfo=TAIPEI)
        b = datetime(y2, m2, d2, tzinfo=TAIPEI)
        t = a + timedelta(seconds=self.rng.randrange(int((b - a).total_seconds())))
        if self.rng.random() < utc_share:
            return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return t.strftime("%Y-%m-%dT%H:%M:%S+08:00")

    def unit(self, lp):
        org = LAPTOPS[lp][0]
        if org == "TB":
            return "TB"
        return self.rng.choice(stations(precinct_of(org)))

    def add(self, lp, kind, data, occurred_at=None, org_unit=None):
        rec = {"data": data, "org_unit": org_unit or self.unit(lp)}
        if occurred_at:
            rec["occurred_at"] = occurred_at
        self.imports[lp].setdefault(kind, []).append(rec)
        return rec

    def split(self, n, k):
        """n split over k laptops, unevenly but deterministically."""
        w = [self.rng.uniform(0.5, 1.5) for _ in range(k)]
        parts = [int(n * x / sum(w)) for x in w]
        parts[0] += n - sum(parts)
        return parts

    def marker(self, tag):
        self.serial += 1
        return f"{tag}-{self.serial:05d}"

    # ---- kinds ----------------------------------------------------------------

    def cases(self, lp, n, half, **extra):
        for _ in range(n):
            self.add(lp, "criminal_case",
                     {"case_no": self.marker("C"), "category": self.rng.choice(
                         ["theft", "fraud", "drugs", "vehicle_theft", "violent", "other"]),
                      **extra}, occurred_at=self.when(half))

    def generate(self):
        r = self.rng
        P = PRECINCT_LAPTOPS
        # K1 -- 105H1 14,135; 106H1 13,265 = 13,231 random + 4 at the edges + 30 moved in.
        for lp, n in enumerate(self.split(14135, P)):
            self.cases(lp, n, "105H1")
        for lp, n in enumerate(self.split(13231, P)):
            self.cases(lp, n, "106H1")
        edge_in = ["2016-12-31T16:00:00Z",          # 2017-01-01 00:00 in Taipei
                   "2017-01-01T00:00:00+08:00",
                   "2017-06-30T23:59:59+08:00",
                   "2017-06-30T15:59:59Z"]          # 2017-06-30 23:59:59 in Taipei
        edge_out = ["2016-12-31T15:59:59Z",         # 2016-12-31 23:59:59 in Taipei
                    "2017-06-30T16:00:00Z",         # 2017-07-01 00:00 in Taipei
                    "2017-07-01T00:00:00+08:00"]
        for t in edge_in + edge_out:
            self.add(0, "criminal_case", {"case_no": self.marker("E"), "category": "theft"},
                     occurred_at=t)
        for lp, n in enumerate(self.split(30, P)):          # dated 105H2, edited into 106H1
            for _ in range(n):
                m = self.marker("MOVE")
                self.add(lp, "criminal_case", {"case_no": m, "category": "fraud"},
                         occurred_at=self.when("105H2"))
                self.changes.append((lp, "criminal_case", m, "edit",
                                     ["occurred_at=" + self.when("106H1", 0)]))
        for lp, n in enumerate(self.split(40, P)):          # entered twice, voided later
            for _ in range(n):
                m = self.marker("TWICE")
                self.add(lp, "criminal_case", {"case_no": m, "category": "theft"},
                         occurred_at=self.when("106H1"))
                self.changes.append((lp, "criminal_case", m, "void", ["entered twice"]))
        for lp, n in enumerate(self.split(700, P)):         # noise: other halves
            self.cases(lp, n, r.choice(["105H2", "106H2"]))

        # K2 -- 12,087 cleared in 106H1; 500 of them clear 105 cases (occurred_at given);
        # 100 cleared in 106H2 of cases of 106H1 (occurred_at in the period: must not count).
        def clearance(lp, cleared_half, occurred_half=None):
            data = {"case_no": self.marker("K"), "cleared_at": self.when(cleared_half),
                    "category": r.choice(["theft", "fraud", "drugs"]),
                    "method": r.choice(["arrest", "summons", "caught_in_act"])}
            occ = self.when(occurred_half) if occurred_half else None
            self.add(lp, "case_clearance", data, occurred_at=occ)
        for lp, n in enumerate(self.split(12087 - 500, P)):
            for _ in range(n):
                clearance(lp, "106H1")
        for lp, n in enumerate(self.split(500, P)):
            for _ in range(n):
                clearance(lp, "106H1", "105H1")
        for lp, n in enumerate(self.split(100, P)):
            for _ in range(n):
                clearance(lp, "106H2", "106H1")
        for lp, n in enumerate(self.split(200, P)):
            for _ in range(n):
                clearance(lp, "105H1")

        # K3 -- casualties per listed intersection: 20 fewer in 106H1, 5 not (2 equal).
        self.casualties = {}
        codes = [i["code"] for i in INTERSECTIONS]
        order = codes[:]
        r.shuffle(order)
        improved = set(order[:20])
        equal = set(order[20:22])
        by_precinct = {precinct_of(LAPTOPS[i][0]): i for i in range(P)}
        for it in INTERSECTIONS:
            code = it["code"]
            before = r.randint(6, 14)
            if code in improved:
                now = r.randint(0, before - 1)
            elif code in equal:
                now = before
            else:
                now = r.randint(before + 1, before + 6)
            self.casualties[code] = (before, now)
            home = by_precinct.get(it["precinct"])
            for half, total in (("105H1", before), ("106H1", now)):
                while total > 0:
                    deaths = 1 if total >= 2 and r.random() < 0.1 else 0
                    injuries = min(total - deaths, r.randint(1, 3))
                    total -= deaths + injuries
                    lp = home if home is not None and r.random() < 0.5 else 4
                    self.accident(lp, half, code, deaths, injuries)
            # Property damage only: no casualties, at the intersection.
            for _ in range(r.randint(0, 3)):
                self.accident(4, "106H1", code, 0, 0, cls="a3")
            self.accident(4, "106H2", code, 0, r.randint(1, 4))        # noise: 106H2
        # An improved intersection with a mistyped injury count, corrected later.
        typo_at = sorted(improved)[0]
        m = self.accident(4, "106H1", typo_at, 0, 40, notes=self.marker("TYPO"))
        self.changes.append((4, "traffic_accident", m, "edit", ["injuries=0"]))
        self.typo_at = typo_at
        for _ in range(300):                       # away from listed intersections
            self.accident(r.randrange(5), r.choice(["105H1", "106H1"]), None, 0,
                          r.randint(0, 3))

        # K4 -- 106H1: 22,190 police on listed segments (+20 flipped from citizen
        # reports later), 7,810 citizen reports on listed segments, 20,000 elsewhere.
        seg_by_precinct = {}
        for s in SEGMENTS:
            seg_by_precinct.setdefault(s["precinct"], []).append(s["code"])
        all_segs = [s["code"] for s in SEGMENTS]

        def citation(lp, half, segment, source, notes=None):
            data = {"method": r.choice(["stop", "remote"]), "source": source, "major": True,
                    "violation": r.choice(["red_line", "yellow_line", "double_parking",
                                           "crosswalk", "sidewalk"])}
            if segment:
                data["segment"] = segment
            if notes:
                data["notes"] = notes
            self.add(lp, "parking_citation", data, occurred_at=self.when(half))

        def seg(lp):
            org = LAPTOPS[lp][0]
            return r.choice(all_segs if org == "TB" else seg_by_precinct[precinct_of(org)])
        for lp, n in enumerate(self.split(22190, 5)):
            for _ in range(n):
                citation(lp, "106H1", seg(lp), "police")
        for lp, n in enumerate(self.split(7790, 5)):
            for _ in range(n):
                citation(lp, "106H1", seg(lp), "citizen_report")
        for lp, n in enumerate(self.split(20, P)):
            for _ in range(n):
                m = self.marker("FLIP")
                citation(lp, "106H1", seg(lp), "citizen_report", notes=m)
                self.changes.append((lp, "parking_citation", m, "edit", ["source=police"]))
        for lp, n in enumerate(self.split(20000, 5)):
            for _ in range(n):
                citation(lp, "106H1", None, r.choice(["police", "citizen_report"]))
        for lp, n in enumerate(self.split(1000, 5)):          # noise: 105H1
            for _ in range(n):
                citation(lp, "105H1", seg(lp), "police")

        # K5 -- violations found: 104H1 1,150, 105H1 1,048, 106H1 356 (+2 voided later);
        # inspections that found nothing do not count.
        def inspection(lp, half, found, notes=None):
            data = {"violation_found": found, "road": r.choice(["文心路四段", "中港路", "五權路"])}
            if found:
                data["violation"] = r.choice(["no_permit", "out_of_hours", "restoration"])
                data["action"] = r.choice(["citation", "warning", "work_stopped"])
            if notes:
                data["notes"] = notes
            self.add(lp, "roadworks_inspection", data, occurred_at=self.when(half))
        for half, n in (("104H1", 1150), ("105H1", 1048), ("106H1", 356)):
            for lp, k in enumerate(self.split(n, P)):
                for _ in range(k):
                    inspection(lp, half, True)
        for lp in (0, 2):
            m = self.marker("DUP")
            inspection(lp, "106H1", True, notes=m)
            self.changes.append((lp, "roadworks_inspection", m, "void", ["duplicate"]))
        for lp, k in enumerate(self.split(400, P)):
            for _ in range(k):
                inspection(lp, "106H1", False)

        # K6 -- service attitude, by received_at: 105H1 491, 106H1 460 (10 of them
        # re-categorised later); 60 received in 106H1 that happened in 105H2 (counted);
        # 40 that happened in 106H1 but were received in 106H2 (not counted).
        def complaint(lp, received_half, category, occurred_half=None, summary=None):
            data = {"category": category, "received_at": self.when(received_half),
                    "channel": r.choice(["phone", "hotline_1999", "mayor_mailbox"])}
            if summary:
                data["summary"] = summary
            occ = self.when(occurred_half) if occurred_half else None
            self.add(lp, "complaint", data, occurred_at=occ)
        for lp, k in enumerate(self.split(491, P)):
            for _ in range(k):
                complaint(lp, "105H1", "service_attitude")
        for lp, k in enumerate(self.split(460 - 10 - 60, P)):
            for _ in range(k):
                complaint(lp, "106H1", "service_attitude")
        for lp, k in enumerate(self.split(60, P)):
            for _ in range(k):
                complaint(lp, "106H1", "service_attitude", occurred_half="105H2")
        for lp, k in enumerate(self.split(40, P)):
            for _ in range(k):
                complaint(lp, "106H2", "service_attitude", occurred_half="106H1")
        for lp, k in enumerate(self.split(10, P)):
            for _ in range(k):
                m = self.marker("RECAT")
                complaint(lp, "106H1", "other", summary=m)
                self.changes.append((lp, "complaint", m, "edit", ["category=service_attitude"]))
        for lp, k in enumerate(self.split(250, P)):
            for _ in range(k):
                complaint(lp, "106H1", r.choice(["misconduct", "slow_response", "other"]))

    def accident(self, lp, half, code, deaths, injuries, cls=None, notes=None):
        data = {"class": cls or ("a1" if deaths else ("a2" if injuries else "a3")),
                "deaths": deaths, "injuries": injuries}
        if code:
            data["intersection"] = code
        if notes:
            data["notes"] = notes
        self.add(lp, "traffic_accident", data, occurred_at=self.when(half))
        return notes

    # ---- what the records should give -------------------------------------------

    def count(self):
        return sum(len(v) for per in self.imports for v in per.values())

    @staticmethod
    def expected_before():
        """Counts between the first and the second sync (before edits and voids)."""
        return {"criminal_cases_106H1": 13265 - 30 + 40, "roadworks_106H1": 358,
                "listed_police_106H1": 22210 - 20, "attitude_106H1": 450}

    # ---- driving the laptops ---------------------------------------------------

    def import_all(self, laptops, tmp):
        """beatbook add KIND --json FILE on each laptop, one file per kind."""
        for lp, per_kind in zip(laptops, self.imports):
            for kind, recs in sorted(per_kind.items()):
                f = Path(tmp) / f"{lp.device}-{kind}.json"
                f.write_text(json.dumps(recs, ensure_ascii=False), encoding="utf-8")
                r = lp.run("add", kind, "--json", f, lang="en", timeout=300)
                assert r.rc == 0, f"import {kind} on {lp.org_unit}: {r}"

    def apply_changes(self, laptops):
        """The second round: edits and voids made on the laptops."""
        for lp_i, kind, marker, verb, args in self.changes:
            lp = laptops[lp_i]
            field = {"criminal_case": "case_no", "parking_citation": "notes",
                     "traffic_accident": "notes", "roadworks_inspection": "notes",
                     "complaint": "summary"}[kind]
            rows = [rid for rid, body in lp.query(
                "SELECT id, body FROM records WHERE kind = ?", (kind,))
                if json.loads(body)["data"].get(field) == marker]
            assert len(rows) == 1, (kind, marker, rows)
            if verb == "edit":
                r = lp.run("edit", rows[0], *args, lang="en")
            else:
                r = lp.run("void", rows[0], "--reason", args[0], lang="en")
            assert r.rc == 0, f"{verb} {kind} {marker}: {r}"
