#!/bin/sh
# The README's demo: three field laptops in three stations record a day of
# work offline (107/03/15, 2018-03-15) with the real `beatbook` binary, then
# each shows what it holds.  Stores live under $BUILD/demo/ and are made
# afresh on every run.  Later issues extend this with HQ, sync and KPIs.
set -eu

BUILD=${BUILD:-build}
BIN="$(pwd)/$BUILD/bin"
DEMO="$(pwd)/$BUILD/demo"
LANG_OPT=${DEMO_LANG:-zh-TW}

rm -rf "$DEMO"
mkdir -p "$DEMO"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# bb LAPTOP ARGS... : run beatbook against one laptop's store
bb() {
    laptop=$1
    shift
    BEATBOOK_HOME="$DEMO/$laptop" "$BIN/beatbook" --lang "$LANG_OPT" "$@"
}

say "Three laptops: 第六分局協和派出所, 豐原分局豐東派出所, 第一分局繼光派出所"
bb xiehe   init --officer A123456 --org-unit P06-S03
bb fengdong init --officer B234567 --org-unit P08-S02
bb jiguang init --officer C345678 --org-unit P01-S01

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

for laptop in xiehe fengdong jiguang; do
    say "$laptop: beatbook list"
    bb $laptop list
done
say "繼光: the corrected accident keeps its history (beatbook show)"
bb jiguang show "$ACC"
say "協和: beatbook report --period 107-03"
bb xiehe report --period 107-03
printf '\nDemo stores are in %s (BEATBOOK_HOME=%s/xiehe beatbook status).\n' "$DEMO" "$DEMO"
