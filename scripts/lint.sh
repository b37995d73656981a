#!/usr/bin/env bash
# Static checks, run by scripts/test.sh before the tests: formatting, go vet,
# staticcheck (the version go.mod's tool directive pins), a tidy go.mod and
# go.sum, and generated files that are up to date. With CI set, a check whose
# program is missing fails instead of being skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { echo "lint: $*"; }
missing() {
  if [ -n "${CI:-}" ]; then
    echo "lint: $1 is missing" >&2
    exit 1
  fi
  echo "lint: skipped, $1 is missing"
}

step gofmt
bad=$(gofmt -l .)
if [ -n "$bad" ]; then
  printf 'lint: not gofmt-ed (gofmt -w FILE):\n%s\n' "$bad" >&2
  exit 1
fi

step go vet
go vet ./...

step staticcheck
go tool staticcheck ./...

step go mod tidy
go mod tidy -diff

# internal/onnxpb/onnx.pb.go must be what go generate makes of onnx.proto.
# protoc's version is a comment in the output and is left out of the
# comparison.
step internal/onnxpb
if command -v protoc >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  internal/onnxpb/generate.sh "$tmp"
  if ! diff -u <(grep -v '^// 	protoc ' internal/onnxpb/onnx.pb.go) <(grep -v '^// 	protoc ' "$tmp/onnx.pb.go") >"$tmp/diff"; then
    head -40 "$tmp/diff" >&2
    echo "lint: internal/onnxpb/onnx.pb.go is not what onnx.proto generates: go generate ./internal/onnxpb" >&2
    exit 1
  fi
else
  missing "protoc (Debian: protobuf-compiler)"
fi

# The fixtures: internal/fixtures builds its models in memory for each test
# run, so nothing of it is committed that could go stale. fixtures/testdata
# is made by PyTorch (fixtures/gen, Debian's python3-torch) by training
# models, which takes too long for every run; the tests check those files
# against each other (ONNX Runtime's outputs against the recorded PyTorch
# references). What is checked here is that the generators still parse, and
# so do the scripts that train the models of docs/findings.md
# (scripts/findings.sh, which is not run in CI either).
step "fixtures/gen, scripts/findings"
if command -v python3 >/dev/null 2>&1; then
  python3 -c 'import ast, sys
for f in sys.argv[1:]:
    ast.parse(open(f).read(), f)' fixtures/gen/*.py scripts/findings/*.py
else
  missing python3
fi
