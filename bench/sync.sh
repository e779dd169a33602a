#!/bin/sh
# bench/sync.sh — build bench/sync.c against a built libbb.a and run it with
# the built programs: `beatbook seal`, the sealed bytes on the wire, and
# `beatbook-syncd --once` into `beatbook-hq serve` over HTTPS, as ratios to
# this machine's zstd, AES-GCM and SQLite limits measured in the same run
# (DESIGN.md §10).  Prints figures and asserts nothing; exits non-zero only
# when the benchmark cannot run.
#
#   BUILD=<build dir> sh bench/sync.sh [--quick]
#
# BUILD      build folder holding bin/beatbook, bin/beatbook-syncd,
#            bin/beatbook-hq and libbb.a (default: build), relative to the
#            repository or absolute
# BENCH_TMP  parent of the scratch folder (default: /tmp); point it at the
#            disk you care about, since the SQLite figures are that disk's
# CC         C compiler (default: cc)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${BUILD:-build}
case $build in
/*) ;;
*) build=$root/$build ;;
esac
for f in bin/beatbook bin/beatbook-syncd bin/beatbook-hq libbb.a; do
    if [ ! -e "$build/$f" ]; then
        echo "bench/sync.sh: $build/$f is missing; build it first: make BUILD=$build all" >&2
        exit 69
    fi
done

tmp=$(mktemp -d "${BENCH_TMP:-/tmp}/beatbook-sync-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' HUP INT TERM

# shellcheck disable=SC2046  # pkg-config output is meant to split into words
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -I"$root/shared" -I"$build/gen" \
    -o "$tmp/sync" "$here/sync.c" "$build/libbb.a" \
    $(pkg-config --cflags --libs sqlite3 libcjson libzstd) -lmbedtls -lmbedx509 -lmbedcrypto -lm

"$tmp/sync" --bin "$build/bin" --migrations "$root/schema/migrations/hq" --dir "$tmp/work" "$@"
