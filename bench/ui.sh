#!/bin/sh
# bench/ui.sh — the review API under load (issue 5): on an HQ store of N
# synthetic records over 2016-2018 (default 10,000,000, written straight into
# hq.db by bench/kpi.c and counted into the KPI facts by the real `beatbook-hq
# plan load`), a real `beatbook-hq serve` on 127.0.0.1 with real TLS answers
#
#   scorecard   GET /v1/kpi?period=2018                        (the city's year)
#   months      GET /v1/kpi/months?year=2018                   (the charts: 12 scorecards)
#   drill-down  GET /v1/kpi/records?kpi=K4&figure=denominator&period=2018&limit=50
#               and the same for one precinct (org=P06), a page of 50 records
#   records     GET /v1/records?period=2018&org=P06&limit=50, and a later page
#
# from 1 and from 8 concurrent libcurl clients (bench/ui.c, one keep-alive
# connection each, an API token), p50/p90/p99; and, in the same run, the bare
# `beatbook-hq kpi --period 2018 --format json` (a process: start, open, compute,
# print) and its ratio to the scorecard's p50.  Prints figures and asserts
# nothing; exits non-zero only when the benchmark cannot run.
#
#   BUILD=<build dir> sh bench/ui.sh [--quick] [--records N] [--requests R]
#
# --quick is 1,000,000 records.  The full run needs about 10 GB under
# BENCH_TMP (default /tmp) and takes about 10 minutes on 2 cores.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${BUILD:-build}
case $build in
/*) ;;
*) build=$root/$build ;;
esac
records=10000000
requests=400
while [ $# -gt 0 ]; do
    case $1 in
    --quick) records=1000000 ;;
    --records) records=$2; shift ;;
    --requests) requests=$2; shift ;;
    *) echo "usage: BUILD=DIR sh bench/ui.sh [--quick] [--records N] [--requests R]" >&2; exit 64 ;;
    esac
    shift
done
hq=$build/bin/beatbook-hq
if [ ! -x "$hq" ]; then
    echo "bench/ui.sh: $hq is missing; build it first: make BUILD=$build all" >&2
    exit 69
fi
if [ ! -f "$here/kpi.c" ]; then
    echo "bench/ui.sh: needs bench/kpi.c (the record generator)" >&2
    exit 69
fi

tmp=$(mktemp -d "${BENCH_TMP:-/tmp}/beatbook-ui-bench.XXXXXX")
pid=
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' HUP INT TERM

# shellcheck disable=SC2046  # pkg-config output is meant to split into words
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -o "$tmp/kpi" "$here/kpi.c" \
    $(pkg-config --cflags --libs sqlite3 libcjson)
# shellcheck disable=SC2046
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -pthread -o "$tmp/ui" "$here/ui.c" \
    $(pkg-config --cflags --libs libcurl)

now() { date +%s.%N; }
quiet_env() { env -u BEATBOOK_HQ_DATA -u BEATBOOK_HOME -u LANG -u LC_ALL -u https_proxy \
    -u HTTPS_PROXY -u http_proxy -u HTTP_PROXY HOME="$tmp" "$@"; }
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data=$tmp/hq

echo "Review API benchmark ($(nproc) cores, $(uname -sr), scratch $tmp)"
echo "store: $records records over 2016-2018, every station of P01-P15 and TB"
quiet_env "$hq" init --data "$data" --listen "127.0.0.1:$port" --url "https://127.0.0.1:$port" \
    >/dev/null
"$tmp/kpi" gen --db "$data/hq.db" --records "$records"
t0=$(now)
quiet_env "$hq" plan load --builtin taichung-107 --data "$data" >/dev/null
t1=$(now)
awk "BEGIN { printf \"  facts computed by plan load in %.1f s; hq.db is %d MB\n\", $t1 - $t0, \
    $(stat -c %s "$data/hq.db") / 1e6 }"
printf 'bench-reviewer-password\n' >"$tmp/pw"
quiet_env "$hq" user add --data "$data" --name bench --role hq --password-file "$tmp/pw" >/dev/null
token=$(quiet_env "$hq" user token bench --data "$data")

# The bare query, as a person would run it (best and median of 7).
bare=$(for i in 1 2 3 4 5 6 7; do
    t0=$(now)
    quiet_env "$hq" kpi --data "$data" --period 2018 --format json >/dev/null
    t1=$(now)
    awk "BEGIN { printf \"%.6f\n\", $t1 - $t0 }"
done | sort -n)
bare_best=$(echo "$bare" | head -1)
bare_med=$(echo "$bare" | sed -n 4p)

# Not through quiet_env: $! must be the server itself (a function would run in a
# subshell, and killing that would leave the server behind).
env -u BEATBOOK_HQ_DATA -u LANG -u LC_ALL HOME="$tmp" "$hq" serve --data "$data" \
    >"$tmp/serve.log" 2>&1 &
pid=$!
i=0
until grep -q "listening on" "$tmp/serve.log" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 300 ] || ! kill -0 "$pid" 2>/dev/null; then
        echo "bench/ui.sh: beatbook-hq serve did not start:" >&2
        cat "$tmp/serve.log" >&2
        exit 69
    fi
    sleep 0.1
done

run() {
    label=$1
    path=$2
    "$tmp/ui" --base "https://127.0.0.1:$port" --cacert "$data/tls/cert.pem" --token "$token" \
        --clients 1 --requests "$((requests / 4))" --label "$label" "$path"
    "$tmp/ui" --base "https://127.0.0.1:$port" --cacert "$data/tls/cert.pem" --token "$token" \
        --clients 8 --requests "$requests" --label "$label" "$path" | tee -a "$tmp/eight"
}

# A later page of the precinct's records: the cursor of page 1.
next=$(curl -s --noproxy '*' --cacert "$data/tls/cert.pem" -H "Authorization: Bearer $token" \
    "https://127.0.0.1:$port/v1/records?period=2018&org=P06&limit=50" |
    /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["next"] or "")')

echo
echo "HTTPS requests (libcurl, keep-alive, API token):"
: >"$tmp/eight"
run "scorecard (city, 2018)" "/v1/kpi?period=2018"
run "scorecard (P06, 2018)" "/v1/kpi?period=2018&org=P06"
run "months (12 scorecards, city)" "/v1/kpi/months?year=2018"
run "drill-down K4 den. city, 50" "/v1/kpi/records?kpi=K4&figure=denominator&period=2018&limit=50"
run "drill-down K4 den. P06, 50" \
    "/v1/kpi/records?kpi=K4&figure=denominator&period=2018&org=P06&limit=50"
run "drill-down K2 num. P06-S03, 50" \
    "/v1/kpi/records?kpi=K2&figure=numerator&period=2018&org=P06-S03&limit=50"
run "records P06 2018, page 1" "/v1/records?period=2018&org=P06&limit=50"
[ -n "$next" ] && run "records P06 2018, page 2" "/v1/records?period=2018&org=P06&limit=50&after=$next"

score_p50=$(awk '/scorecard \(city/ { for (i = 1; i <= NF; i++) if ($i == "p50") print $(i + 1) }' \
    "$tmp/eight")
echo
awk "BEGIN { printf \"bare \`beatbook-hq kpi --period 2018 --format json\` (a process): best %.1f ms, median %.1f ms\n\", \
    $bare_best * 1000, $bare_med * 1000 }"
awk "BEGIN { printf \"scorecard API p50 under 8 clients / bare kpi median = %.2f\n\", \
    $score_p50 / ($bare_med * 1000) }"
