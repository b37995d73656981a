#!/usr/bin/env bash
# Runs Go fuzz targets for a given time each (default 10m), one after the
# other; a crasher is saved under the package's testdata/fuzz/ and the script
# stops with its test's output.
# Usage: scripts/fuzz.sh [-p N] [duration] [target...]
#   -p N       fuzzing workers (go test -parallel; default: GOMAXPROCS); use 1
#              on a shared machine, with nice -n 19
#   target     names such as FuzzParseModel; default: all of them
# e.g. nice -n 19 scripts/fuzz.sh -p 1 10m FuzzReadNPY
# Each new corpus entry is minimised in at most 500 runs (FUZZ_MINIMIZE, as
# go test's -fuzzminimizetime): the default 60 s per entry took most of a
# 10-minute run on a busy machine, and ended with the worker killed.
set -euo pipefail
cd "$(dirname "$0")/.."
par=()
if [ "${1:-}" = -p ]; then
  par=(-parallel "$2")
  shift 2
fi
t=${1:-10m}
shift || true
all=(
  ./onnx:FuzzParseModel
  ./npz:FuzzReadNPY
  ./npz:FuzzReadNPZ
  ./dataset:FuzzLoadNPY
  ./sweep:FuzzParseAxis
  ./sweep:FuzzManifest
  ./cmd/lsweep:FuzzParseAt
)
for target in "${all[@]}"; do
  pkg=${target%%:*}
  name=${target##*:}
  if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then
    continue
  fi
  echo "== $name ($pkg, $t)"
  go test -run '^$' -fuzz "^$name\$" -fuzztime "$t" -fuzzminimizetime "${FUZZ_MINIMIZE:-500x}" "${par[@]}" "$pkg"
done
