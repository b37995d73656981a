#!/usr/bin/env bash
# Flatness check for any CI system: installs lsweep (and ONNX Runtime) if
# needed, compares two model files, and exits with lsweep compare's status:
#   0  pass: the candidate is not meaningfully sharper than the base
#   1  fail: it is (the reason is printed)
#   2  bad input or an error
#
#   docs/ci/flatness.sh BASE.onnx CANDIDATE.onnx DATA [lsweep compare flags...]
#
# Writes $OUT (default ./flatness) /report.md, report.curves.png and
# report.json; publish the folder as the job's artifact, or post report.md as a
# merge-request comment. Needs Go (1.26 or newer), a C compiler, npm and jq on
# Linux x86_64. Settings: docs/compare.md; for example --max-increase 25,
# --threshold worst_increase=off, --samples 1000.
set -euo pipefail

if [ $# -lt 3 ]; then
  sed -n '2,14p' "$0" >&2
  exit 2
fi
base=$1 candidate=$2 data=$3
shift 3
out=${OUT:-flatness}
version=${LSWEEP_VERSION:-latest}

if ! command -v lsweep >/dev/null 2>&1; then
  go install "github.com/lsweep/lsweep/cmd/lsweep@${version}"
  export PATH="$(go env GOPATH)/bin:$PATH"
  src=$(go mod download -json "github.com/lsweep/lsweep@${version}" | jq -r .Dir)
  bash "$src/scripts/install-onnxruntime.sh"
fi

mkdir -p "$out"
set +e
lsweep compare "$base" "$candidate" "$data" --markdown "$out/report.md" --plot --json "$@" > "$out/report.json"
status=$?
set -e
case $status in
  0) echo "flatness: pass ($(jq -r .summary "$out/report.json"))" ;;
  1) echo "flatness: FAIL ($(jq -r .summary "$out/report.json"))" ;;
  *) echo "flatness: lsweep compare could not compare the models (exit status $status)" >&2 ;;
esac
exit "$status"
