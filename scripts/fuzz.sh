#!/usr/bin/env bash
# Runs every Go fuzz target for a given time each (default 10m), one after the
# other; a crasher is saved under the package's testdata/fuzz/ and the script
# stops with its test's output.
# Usage: scripts/fuzz.sh [duration]    e.g. scripts/fuzz.sh 30s
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:-10m}
for target in \
  ./onnx:FuzzParseModel \
  ./npz:FuzzReadNPY \
  ./dataset:FuzzLoadNPY \
  ./sweep:FuzzParseAxis \
  ./sweep:FuzzManifest \
  ./cmd/lsweep:FuzzParseAt; do
  pkg=${target%%:*}
  name=${target##*:}
  echo "== $name ($pkg, $t)"
  go test -run '^$' -fuzz "^$name\$" -fuzztime "$t" "$pkg"
done
