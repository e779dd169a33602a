#!/bin/sh
# bench/collector_ui.sh — build bench/collector_ui.c and run it against a
# built beatbook: `beatbook ui` start to first page, form post to durable
# save against this machine's durable SQLite commit, and the server's RSS
# (DESIGN.md §10).  Prints figures and asserts nothing; exits non-zero only
# when the benchmark cannot run.
#
#   BUILD=<build dir> sh bench/collector_ui.sh [--quick]
#
# BUILD      build folder holding bin/beatbook (default: build)
# BENCH_TMP  parent of the scratch folder (default: /tmp): the disk measured
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
    echo "bench/collector_ui.sh: $bin is missing; build it first: make BUILD=$build all" >&2
    exit 69
fi

tmp=$(mktemp -d "${BENCH_TMP:-/tmp}/beatbook-bench-ui.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' HUP INT TERM

# shellcheck disable=SC2046  # pkg-config output is meant to split into words
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -o "$tmp/collector_ui" \
    "$here/collector_ui.c" $(pkg-config --cflags --libs sqlite3)

"$tmp/collector_ui" --beatbook "$bin" --dir "$tmp/work" "$@"
