#!/bin/sh
# bench/attach.sh — build bench/attach.c and run it with the built programs:
# photos from `beatbook add ... photos=@FILE` pushed by `beatbook-syncd --once`
# into `beatbook-hq serve` over HTTPS through a counting TCP forwarder, at full
# speed and over a paced link that is cut every ~40 MB, with syncd's and HQ's
# peak memory, as ratios to this machine's AES-GCM, SHA-256, fsync and loopback
# limits measured in the same run (DESIGN.md §10).  Prints figures and asserts
# nothing; exits non-zero only when the benchmark cannot run.
#
#   BUILD=<build dir> sh bench/attach.sh [--quick]
#
# BUILD      build folder holding bin/beatbook, bin/beatbook-syncd and
#            bin/beatbook-hq (default: build), relative to the repository or
#            absolute
# BENCH_TMP  parent of the scratch folder (default: /tmp); point it at the
#            disk you care about, since HQ fsyncs every chunk there.  The full
#            run needs about 2 GB there at its peak.
# CC         C compiler (default: cc)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${BUILD:-build}
case $build in
/*) ;;
*) build=$root/$build ;;
esac
for f in bin/beatbook bin/beatbook-syncd bin/beatbook-hq; do
    if [ ! -e "$build/$f" ]; then
        echo "bench/attach.sh: $build/$f is missing; build it first: make BUILD=$build all" >&2
        exit 69
    fi
done

tmp=$(mktemp -d "${BENCH_TMP:-/tmp}/beatbook-attach-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' HUP INT TERM

# shellcheck disable=SC2046  # pkg-config output is meant to split into words
${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -pthread -Wall -Wextra -o "$tmp/attach" "$here/attach.c" \
    $(pkg-config --cflags --libs sqlite3) -lmbedcrypto

"$tmp/attach" --bin "$build/bin" --dir "$tmp/work" "$@"
