#!/bin/sh
# bench/attach.sh — photos from a laptop to HQ (bench/attach.py): wire bytes per file
# byte, a limited and cut link against its rate, peak RSS of syncd and HQ for small
# and large files.  Prints figures and asserts nothing.
#
#   BUILD=<build dir> sh bench/attach.sh [--quick]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
for f in bin/beatbook bin/beatbook-syncd bin/beatbook-hq; do
    if [ ! -x "$build/$f" ]; then
        echo "bench/attach.sh: $build/$f is missing; build it first: make BUILD=$build all" >&2
        exit 69
    fi
done
BEATBOOK_BIN=$build/bin exec /usr/bin/python3 "$here/attach.py" "$@"
