#!/usr/bin/env bash
# Runs the static checks (scripts/lint.sh) and every test. The ONNX Runtime
# library must be installed first (scripts/install-onnxruntime.sh); with CI
# set, tests that need it fail instead of skipping when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/lint.sh
go test -count=1 ./...
