#!/bin/sh
# tests/fuzz/run.sh — what `make fuzz` runs once the targets are built with
# clang -fsanitize=fuzzer,address,undefined into build-fuzz/: each target
# for FUZZ_SECONDS on a fresh copy of its seed corpus under
# build-fuzz/corpus/<target>/ (the committed seeds are never written), any
# crash kept under build-fuzz/crashes/<target>/, then one table.
#   usage: sh tests/fuzz/run.sh SECONDS TARGET...
# Exit status 1 when any target crashed (its log: build-fuzz/<target>.log).
secs=$1; shift
out=build-fuzz
rows=""; bad=0
for t in "$@"; do
    rm -rf "$out/corpus/$t" "$out/crashes/$t"
    mkdir -p "$out/corpus/$t" "$out/crashes/$t"
    cp tests/fuzz/corpus/"$t"/* "$out/corpus/$t/" 2>/dev/null
    # inputs up to 8 KiB, or the largest seed (a whole plan is 13 KB)
    maxlen=$(wc -c tests/fuzz/corpus/"$t"/* 2>/dev/null | sed '$d' | sort -n | tail -1 | awk '{print $1}')
    [ "${maxlen:-0}" -gt 8192 ] || maxlen=8192
    echo "fuzz: $t for ${secs}s"
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$out/$t" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$out/crashes/$t/" \
        "$out/corpus/$t" >"$out/$t.log" 2>&1
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/$t.log" | tail -1)
    ncorp=$(ls "$out/corpus/$t" | wc -l)
    ncrash=$(ls "$out/crashes/$t" | wc -l)
    [ "$ncrash" -eq 0 ] || { bad=1; echo "fuzz: $t CRASHED: see $out/$t.log and $out/crashes/$t/" >&2; }
    rows="$rows$(printf '%-18s %12s %10s %8s %8s' "$t" "${execs:-?}" "${rate:-?}" "$ncorp" "$ncrash")
"
done
printf '\n%-18s %12s %10s %8s %8s\n' target execs execs/s corpus crashes
printf '%s' "$rows"
exit $bad
