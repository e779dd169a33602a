#!/bin/sh
# bench/collector.sh — build bench/collector.c and run it against a built
# beatbook: `beatbook add` and the JSON import as ratios to this machine's
# fsync and SQLite limits, measured in the same run (DESIGN.md §10).
# Prints figures and asserts nothing; exits non-zero only when the benchmark
# cannot run.
#
#   BUILD=<build dir> sh bench/collector.sh [--quick]
#
# BUILD      build folder holding bin/beatbook (default: build), relative to
#            the repository or absolute
# BENCH_TMP  parent of the scratch folder (default: /tmp); point it at the
#            disk you care about, since fsync and SQLite figures are that disk's
# CC         C compiler (default: cc)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${BUILD:-build}
case $build in
/*) ;;
*) build=$root/$build ;;
esac
bin=$build/bin/beatbook
if [ ! -x "$bin" ]; then
    echo "bench/collector.sh: $bin is missing; build it first: make BUILD=$build all" >&2
    exit 69
fi

tmp=$(mktemp -d "${BENCH_TMP:-/tmp}/beatbook-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' HUP INT TERM

# shellcheck disable=SC2046  # pkg-config output is meant to split into words
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -o "$tmp/collector" \
    "$here/collector.c" $(pkg-config --cflags --libs sqlite3)

"$tmp/collector" --beatbook "$bin" --migrations "$root/schema/migrations/collector" \
    --dir "$tmp/work" "$@"
