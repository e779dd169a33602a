#!/bin/sh
# The README's demo, with the real programs on this machine:
#   1. HQ: `beatbook-hq init` (store, keys, self-signed TLS) and `serve` on
#      127.0.0.1 in the background;
#   2. three field laptops in two precincts enrolled (`device enroll`,
#      `beatbook init --enroll`);
#   3. a day of work (107/03/15 = 2018-03-15) recorded on each, offline, and
#      the Marches of the three years before, for the KPIs' comparisons;
#   4. each laptop syncs (`beatbook-syncd --once`: sealed, signed batches
#      over pinned HTTPS until HQ's signed receipts come back);
#   5. HQ's per-device batch lists (no gaps) and device list;
#   6. the review UI: a demo HQ reviewer and a precinct admin are created, the
#      URL and sign-ins printed, and HQ keeps serving until Ctrl-C or
#      `make demo-stop` (DEMO_KEEP=no stops at once, for scripts).
# Everything lives under $BUILD/demo/, made afresh on every run; the server
# is stopped on exit.
set -eu

BUILD=${BUILD:-build}
case $BUILD in
/*) ROOT=$BUILD ;;
*) ROOT="$(pwd)/$BUILD" ;;
esac
BIN="$ROOT/bin"
DEMO=${DEMO_DIR:-$ROOT/demo}      # DEMO_DIR: elsewhere (tests/e2e/test_demo.py)
LANG_OPT=${DEMO_LANG:-zh-TW}

rm -rf "$DEMO"
mkdir -p "$DEMO"
PORT=${DEMO_PORT:-$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
HQ="$DEMO/hq"
HQPID=

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

stop_hq() {
    if [ -n "$HQPID" ] && kill -0 "$HQPID" 2>/dev/null; then
        kill -TERM "$HQPID" 2>/dev/null || true
        wait "$HQPID" 2>/dev/null || true
    fi
    HQPID=
}
trap 'stop_hq; rm -f "$DEMO/demo.pid"' EXIT
trap 'stop_hq; rm -f "$DEMO/demo.pid"; printf "\ndemo: HQ stopped\n"; exit 0' INT TERM

hq() { BEATBOOK_HQ_DATA="$HQ" "$BIN/beatbook-hq" "$@"; }

say "HQ: beatbook-hq init, then serve on https://127.0.0.1:$PORT"
"$BIN/beatbook-hq" init --data "$HQ" --listen "127.0.0.1:$PORT" --url "https://127.0.0.1:$PORT"
BEATBOOK_LOG=info "$BIN/beatbook-hq" serve --data "$HQ" >"$DEMO/hq-serve.log" 2>&1 &
HQPID=$!
i=0
until grep -q "listening on" "$DEMO/hq-serve.log" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$HQPID" 2>/dev/null; then
        echo "demo: beatbook-hq serve did not start:" >&2
        cat "$DEMO/hq-serve.log" >&2
        exit 69
    fi
    sleep 0.1
done

say "HQ enrolls three laptops: 第六分局協和派出所, 豐原分局豐東派出所, 第一分局繼光派出所"
hq device enroll --org-unit P06-S03 --label "協和派出所 筆電 1" --out "$DEMO/xiehe.enroll"
hq device enroll --org-unit P08-S02 --label "豐東派出所 筆電 1" --out "$DEMO/fengdong.enroll"
hq device enroll --org-unit P01-S01 --label "繼光派出所 筆電 1" --out "$DEMO/jiguang.enroll"

# bb LAPTOP ARGS... : run beatbook against one laptop's store
bb() {
    laptop=$1
    shift
    BEATBOOK_HOME="$DEMO/$laptop" "$BIN/beatbook" --lang "$LANG_OPT" "$@"
}

say "Each laptop: beatbook init --enroll (checks HQ's signature, makes its own key)"
bb xiehe    init --enroll "$DEMO/xiehe.enroll" --officer A123456
bb fengdong init --enroll "$DEMO/fengdong.enroll" --officer B234567
bb jiguang  init --enroll "$DEMO/jiguang.enroll" --officer C345678

say "協和派出所 (P06-S03): a day in 西屯"
bb xiehe add patrol type=small_area mode=motorcycle officers=2 \
    started_at="107/03/15 08:00" ended_at="107/03/15 10:00" distance_km=18.5 \
    route="西屯路、福星路、逢甲商圈" occurred_at="107/03/15 08:00" >/dev/null
bb xiehe add patrol type=financial_perimeter mode=car officers=2 \
    started_at="107/03/15 10:30" ended_at="107/03/15 11:30" occurred_at="107/03/15 10:30" \
    route="臺灣大道四段金融機構" >/dev/null
bb xiehe add intersection_duty intersection=INT-11 activity=enforcement officers=2 \
    traffic_volunteers=1 citations=6 started_at="107/03/15 07:00" ended_at="107/03/15 09:00" \
    occurred_at="107/03/15 07:00" >/dev/null
bb xiehe add traffic_accident class=a2 deaths=0 injuries=2 intersection=INT-13 cause=failure_to_yield \
    vehicles=2 occurred_at="107/03/15 08:42" location=24.1818,120.6172 >/dev/null
bb xiehe add traffic_accident class=a3 deaths=0 injuries=0 place="文華路 121 號前" cause=improper_lane_change \
    vehicles=2 occurred_at="107/03/15 13:05" >/dev/null
for t in 09:12 09:40 14:25 15:02 16:30; do
    bb xiehe add parking_citation method=stop source=police segment=SEG-0602 major=true \
        violation=red_line occurred_at="107/03/15 $t" >/dev/null
done
bb xiehe add parking_citation method=remote source=citizen_report segment=SEG-0601 major=true \
    violation=double_parking occurred_at="107/03/15 11:48" >/dev/null
bb xiehe add parking_citation method=remote source=police major=false violation=sidewalk \
    occurred_at="107/03/15 17:20" >/dev/null
printf '協和: lunch break at the station with network — a midday sync: '
BEATBOOK_HOME="$DEMO/xiehe" "$BIN/beatbook-syncd" --once | head -1
bb xiehe add criminal_case category=theft case_no=1070315-0601 victims=1 loss_twd=18000 \
    summary="機車失竊，西屯路二段" occurred_at="107/03/15 02:30" >/dev/null
bb xiehe add case_clearance case_no=1070302-0617 category=theft method=arrest suspects=1 \
    cleared_at="107/03/15 15:40" occurred_at="107/03/15 15:40" >/dev/null
bb xiehe add community_event type=anti_fraud audience=elderly attendance=42 venue="協和里活動中心" \
    topic="假冒檢警詐騙手法" occurred_at="107/03/15 19:00" ended_at="107/03/15 20:30" >/dev/null

say "豐東派出所 (P08-S02): bike-path patrol on 東豐自行車綠廊, road works, a meeting"
bb fengdong patrol start type=bike_path mode=bicycle bike_path=BP-DF officers=2 volunteers=1 \
    started_at="107/03/15 08:30" >/dev/null
bb fengdong patrol end ended_at="107/03/15 11:30" distance_km=24 >/dev/null
bb fengdong add roadworks_inspection violation_found=true violation=out_of_hours action=citation \
    road="豐勢路二段" contractor="豐原管線工程行" reported_to=construction_bureau \
    occurred_at="107/03/15 13:20" >/dev/null
bb fengdong add roadworks_inspection violation_found=false road="三豐路" occurred_at="107/03/15 14:10" >/dev/null
bb fengdong add traffic_accident class=a2 deaths=0 injuries=1 intersection=INT-16 cause=speeding \
    vehicles=1 occurred_at="107/03/15 17:55" >/dev/null
bb fengdong add community_event type=safety_forum attendance=35 venue="豐東里集會所" \
    topic="社區治安座談會：住宅竊盜預防" occurred_at="107/03/15 19:30" >/dev/null
bb fengdong add complaint category=service_attitude channel=hotline_1999 \
    received_at="107/03/15 10:05" summary="受理報案時態度不佳" occurred_at="107/03/15 10:05" >/dev/null

say "繼光派出所 (P01-S01): 中區 with a citation import from the ticket printer"
bb jiguang add patrol type=mobile_station mode=foot officers=3 volunteers=4 \
    started_at="107/03/15 14:00" ended_at="107/03/15 17:00" occurred_at="107/03/15 14:00" \
    route="第二市場機動派出所" >/dev/null
cat > "$DEMO/ticket-printer.json" <<'JSON'
[
 {"occurred_at":"2018-03-15T09:05:00+08:00","data":{"method":"stop","source":"police","segment":"SEG-0101","major":true,"violation":"double_parking","plate":"ABC-1234"}},
 {"occurred_at":"2018-03-15T09:31:00+08:00","data":{"method":"stop","source":"police","segment":"SEG-0102","major":true,"violation":"red_line","plate":"MKT-5566"}},
 {"occurred_at":"2018-03-15T10:12:00+08:00","data":{"method":"remote","source":"police","segment":"SEG-0102","major":true,"violation":"crosswalk"}},
 {"occurred_at":"2018-03-15T16:48:00+08:00","data":{"method":"remote","source":"citizen_report","major":false,"violation":"arcade"}}
]
JSON
bb jiguang add parking_citation --json "$DEMO/ticket-printer.json"
ACC=$(bb jiguang add traffic_accident class=a3 deaths=0 injuries=0 intersection=INT-01 \
    cause=following_too_close vehicles=2 occurred_at="107/03/15 12:15")
bb jiguang edit "$ACC" class=a2 injuries=1 >/dev/null     # a passenger went to hospital later
WRONG=$(bb jiguang add criminal_case category=fraud case_no=1070315-0101 occurred_at="107/03/15 11:00")
bb jiguang void "$WRONG" --reason "重複登錄（已由刑事組建檔）" >/dev/null

# The plan's KPIs compare with the same period of earlier years (K1, K3, K6: last
# year; K5: the two years before), so the demo enters the Marches of 2015-2017
# too, as records typed in late (a record may be dated back to 2012): with
# them every KPI can be computed for the demo month 107-03 and for 106H1, the
# half-year the plan's Part 4 reports on.
say "Earlier years: the Marches of 104-106 (2015-2017), for the KPIs' comparisons"
for y in 104 105 106; do
    n=$((107 - y))                       # 3, 2, 1: fewer cases each year
    i=0
    while [ $i -lt $n ]; do
        bb xiehe add criminal_case category=theft case_no="${y}0310-06$i" victims=1 \
            summary="機車失竊" occurred_at="$y/03/1$i 02:30" >/dev/null
        bb xiehe add case_clearance case_no="${y}0310-06$i" category=theft method=arrest \
            suspects=1 cleared_at="$y/03/2$i 15:40" occurred_at="$y/03/2$i 15:40" >/dev/null
        bb jiguang add criminal_case category=fraud case_no="${y}0311-01$i" victims=1 \
            summary="假網拍詐騙" occurred_at="$y/03/1$i 11:00" >/dev/null
        bb fengdong add roadworks_inspection violation_found=true violation=out_of_hours \
            action=citation road="豐勢路二段" occurred_at="$y/03/1$i 13:20" >/dev/null
        i=$((i + 1))
    done
    bb xiehe add traffic_accident class=a2 deaths=0 injuries=$n intersection=INT-13 \
        cause=failure_to_yield vehicles=2 occurred_at="$y/03/15 08:10" >/dev/null
    bb fengdong add traffic_accident class=a2 deaths=0 injuries=2 intersection=INT-16 \
        cause=speeding vehicles=1 occurred_at="$y/03/15 18:00" >/dev/null
    bb xiehe add parking_citation method=stop source=police segment=SEG-0602 major=true \
        violation=red_line occurred_at="$y/03/15 09:30" >/dev/null
    bb jiguang add parking_citation method=remote source=citizen_report major=false \
        violation=arcade occurred_at="$y/03/15 16:00" >/dev/null
    bb fengdong add complaint category=service_attitude channel=hotline_1999 \
        received_at="$y/03/12 10:00" summary="態度不佳" occurred_at="$y/03/12 10:00" >/dev/null
    bb fengdong add complaint category=service_attitude channel=hotline_1999 \
        received_at="$y/03/13 10:00" summary="態度不佳" occurred_at="$y/03/13 10:00" >/dev/null
done

for laptop in xiehe fengdong jiguang; do
    say "$laptop: beatbook list"
    bb $laptop list
done
say "繼光: the corrected accident keeps its history (beatbook show)"
bb jiguang show "$ACC"
say "協和: beatbook report --period 107-03"
bb xiehe report --period 107-03
say "Day end: each laptop syncs with HQ (beatbook-syncd --once)"
for laptop in xiehe fengdong jiguang; do
    printf '%s: ' "$laptop"
    BEATBOOK_HOME="$DEMO/$laptop" "$BIN/beatbook-syncd" --once
done
say "協和: beatbook status (outbox: every batch acknowledged with a verified receipt)"
bb xiehe status
say "HQ: beatbook-hq device list"
hq device list
for laptop in xiehe fengdong jiguang; do
    dev=$(BEATBOOK_HOME="$DEMO/$laptop" "$BIN/beatbook" status --json |
          /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["device"])')
    say "HQ: beatbook-hq batches --device $dev ($laptop)"
    hq batches --device "$dev"
done
say "HQ: beatbook-hq kpi --period 107/03/15 — the day's scorecard, fresh the moment each batch merged"
hq kpi --period 107/03/15 || true
say "HQ: the same for 第六分局 (P06): stations add up to their precinct"
hq kpi --period 107/03/15 --org P06 --lang en || true
# The demo month and the plan's Part 4 half-year: with the earlier years'
# records every KPI must be computable; a demo that cannot show them fails.
for period in 107-03 106H1; do
    say "HQ: beatbook-hq kpi --period $period"
    hq kpi --period "$period"
    missing=$(hq kpi --period "$period" --format json |
              /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["score"]["missing"])')
    if [ "$missing" != 0 ]; then
        echo "demo: $missing KPIs of $period cannot be computed (the earlier years' records?): see above" >&2
        exit 70
    fi
done
say "HQ: beatbook-hq devices (the precinct admin's day-end view)"
hq devices

say "HQ: the review UI — a demo HQ reviewer and a precinct admin (第六分局)"
# Demo passwords, printed below: this HQ listens on loopback only.  Real ones
# are typed at the prompt of `beatbook-hq user add` (or come from a 0600 file).
REVIEWER_PW=beatbook-reviewer-107
ADMIN_PW=beatbook-p06-admin-107
(umask 077 && printf '%s\n' "$REVIEWER_PW" >"$DEMO/reviewer.pw" &&
    printf '%s\n' "$ADMIN_PW" >"$DEMO/p06admin.pw")
hq user add --name reviewer --role hq --password-file "$DEMO/reviewer.pw"
hq user add --name p06admin --role precinct --org P06 --password-file "$DEMO/p06admin.pw"
rm -f "$DEMO/reviewer.pw" "$DEMO/p06admin.pw"

printf '\nDemo data is in %s: laptops (BEATBOOK_HOME=%s/xiehe beatbook status),\n' "$DEMO" "$DEMO"
printf 'HQ (beatbook-hq --data %s device list); HQ server log: %s/hq-serve.log\n' "$HQ" "$DEMO"
if [ "${DEMO_KEEP:-yes}" = no ]; then
    stop_hq
    exit 0
fi
echo $$ >"$DEMO/demo.pid"
cat <<EOF

  Review UI:  https://127.0.0.1:$PORT/ui/#/scorecard?period=107-03
    HQ reviewer      user: reviewer   password: $REVIEWER_PW
    precinct admin   user: p06admin   password: $ADMIN_PW   (第六分局 P06 only)
  HQ's TLS certificate is its own (self-signed): accept it in the browser, or
  trust $HQ/tls/cert.pem.  From another machine: ssh -L $PORT:127.0.0.1:$PORT ...
  API:  TOKEN=\$(BEATBOOK_HQ_DATA=$HQ $BIN/beatbook-hq user token reviewer)
        curl --cacert $HQ/tls/cert.pem -H "Authorization: Bearer \$TOKEN" \\
             'https://127.0.0.1:$PORT/v1/kpi?period=107-03'
  A laptop's forms page (it syncs to this HQ with its 同步 button):
        BEATBOOK_HOME=$DEMO/xiehe $BIN/beatbook ui
  HQ keeps serving: Ctrl-C here, or \`make demo-stop\` in another terminal.
EOF
# Wait for HQ; a signal runs the INT/TERM trap (stop HQ, exit).  `wait`
# returns early when a signal arrives, so loop while HQ lives.
while kill -0 "$HQPID" 2>/dev/null; do
    wait "$HQPID" 2>/dev/null || true
done
HQPID=
echo "demo: HQ stopped"
