#!/bin/sh
# bench/kpi.sh — the KPI engine's two figures (issue 4, DESIGN.md §7):
#
#   query   `beatbook-hq kpi --period 2018` for the city and each of P01-P15 on a
#           store of N synthetic records over 2016-2018 (default 10,000,000),
#           written straight into hq.db by bench/kpi.c, against the same numbers
#           from a naive GROUP BY over the raw records in the same run (goal:
#           1/100 of its time or less).  The facts are computed by the real
#           `beatbook-hq plan load --builtin taichung-107` (its time is shown),
#           and both ways must agree on every number.
#   ingest  `beatbook-hq import` of M records (default 200,000) sealed by a real
#           laptop (`beatbook add --json`, `beatbook export`), into copies of
#           one HQ store with the plan loaded (facts kept at every merge) and
#           without any plan (no facts), alternating; records/s of each and
#           their ratio (goal: 0.8 or more).
#
# Prints figures and asserts nothing; exits non-zero only when the benchmark
# cannot run (or the two ways of counting disagree).
#
#   BUILD=<build dir> sh bench/kpi.sh [--quick] [--records N] [--ingest M]
#                                     [--only query|ingest]
#
# --quick is 1,000,000 and 50,000.  The full run takes about 10 minutes on 2 cores.  BENCH_TMP: parent of the scratch folder
# (default /tmp; the full run needs about 10 GB there).  CC: the C compiler.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${BUILD:-build}
case $build in
/*) ;;
*) build=$root/$build ;;
esac
records=10000000
ingest=200000
only=
while [ $# -gt 0 ]; do
    case $1 in
    --quick) records=1000000; ingest=50000 ;;
    --records) records=$2; shift ;;
    --ingest) ingest=$2; shift ;;
    --only) only=$2; shift ;;
    *) echo "usage: BUILD=DIR sh bench/kpi.sh [--quick] [--records N] [--ingest M]" >&2; exit 64 ;;
    esac
    shift
done
hq=$build/bin/beatbook-hq
bb=$build/bin/beatbook
for b in "$hq" "$bb"; do
    if [ ! -x "$b" ]; then
        echo "bench/kpi.sh: $b is missing; build it first: make BUILD=$build all" >&2
        exit 69
    fi
done
command -v sqlite3 >/dev/null || { echo "bench/kpi.sh: needs the sqlite3 shell" >&2; exit 69; }

tmp=$(mktemp -d "${BENCH_TMP:-/tmp}/beatbook-kpi-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' HUP INT TERM

# shellcheck disable=SC2046  # pkg-config output is meant to split into words
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -o "$tmp/kpi" "$here/kpi.c" \
    $(pkg-config --cflags --libs sqlite3 libcjson)

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l 2>/dev/null || awk "BEGIN { print $2 - $1 }"; }
# No locale, no stray BEATBOOK_*, and a HOME inside the scratch folder: nothing lands
# in the real home.
quiet_env() { env -u BEATBOOK_HQ_DATA -u BEATBOOK_HOME -u LANG -u LC_ALL HOME="$tmp" "$@"; }
laptop() { env -u BEATBOOK_HQ_DATA -u LANG -u LC_ALL HOME="$tmp" BEATBOOK_HOME="$tmp/laptop" \
    "$bb" "$@"; }

echo "KPI engine benchmark ($(nproc) cores, $(uname -sr), scratch $tmp)"
if [ "$only" != ingest ]; then
echo
echo "query: $records records over 2016-2018, every station of P01-P15 and TB"
quiet_env "$hq" init --data "$tmp/big" --listen 127.0.0.1:0 >/dev/null
"$tmp/kpi" gen --db "$tmp/big/hq.db" --records "$records"
t0=$(now)
quiet_env "$hq" plan load --builtin taichung-107 --data "$tmp/big" >/dev/null
t1=$(now)
printf '  facts computed by `plan load` in %.1f s (%s fact rows); hq.db is %s MB\n' \
    "$(elapsed "$t0" "$t1")" "$(sqlite3 "$tmp/big/hq.db" 'SELECT count(*) FROM kpi_facts')" \
    "$(($(stat -c %s "$tmp/big/hq.db") / 1000000))"
"$tmp/kpi" query --db "$tmp/big/hq.db" --hq "$hq" --data "$tmp/big" --period 2018 --rounds 3
rm -rf "$tmp/big"
fi
[ "$only" = query ] && exit 0

echo
echo "ingest: $ingest records of a P06 laptop through beatbook-hq import"
quiet_env "$hq" init --data "$tmp/in" --listen 127.0.0.1:0 >/dev/null
quiet_env "$hq" device enroll --data "$tmp/in" --org-unit P06-S03 --label bench \
    --out "$tmp/enroll.json" >/dev/null
laptop init --enroll "$tmp/enroll.json" --officer B000001 >/dev/null
mkdir -p "$tmp/imports" "$tmp/usb"
"$tmp/kpi" imports --dir "$tmp/imports" --count "$ingest" --precinct P06
for f in "$tmp"/imports/*.json; do
    laptop add "$(basename "$f" .json)" --json "$f" >/dev/null
done
laptop export --to "$tmp/usb" >/dev/null
printf '  %s batch files, %s kB\n' "$(ls "$tmp/usb" | grep -c 'bbatch$')" \
    "$(du -sk "$tmp/usb" | cut -f1)"
for i in 1 2 3; do
    cp -a "$tmp/in" "$tmp/with$i"
    cp -a "$tmp/in" "$tmp/without$i"
    sqlite3 "$tmp/without$i/hq.db" \
        'DELETE FROM kpi_facts; DELETE FROM kpi_inputs; DELETE FROM plans;'
done
best_with=0
best_without=0
for i in 1 2 3; do
    for mode in without with; do
        t0=$(now)
        quiet_env "$hq" import --data "$tmp/$mode$i" "$tmp/usb" >/dev/null
        t1=$(now)
        rate=$(awk "BEGIN { printf \"%d\", $ingest / ($t1 - $t0) }")
        if [ "$mode" = with ]; then
            [ "$rate" -gt "$best_with" ] && best_with=$rate
        else
            [ "$rate" -gt "$best_without" ] && best_without=$rate
        fi
        printf '  round %d %-8s %7d records/s\n' "$i" "$mode" "$rate"
    done
done
rows=$(sqlite3 "$tmp/with1/hq.db" 'SELECT count(*) FROM kpi_facts')
quiet_env "$hq" kpi --data "$tmp/with1" --period 2018 --verify >/dev/null
echo "  with facts (plan taichung-107, $rows fact rows, --verify agrees): $best_with records/s (best of 3)"
echo "  without any plan:                                       $best_without records/s (best of 3)"
awk "BEGIN { printf \"  ratio with / without = %.2f   (goal: 0.80 or more)\n\", $best_with / $best_without }"
