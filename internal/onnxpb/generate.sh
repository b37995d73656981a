#!/bin/sh
# Writes onnx.pb.go, generated from onnx.proto, into the folder $1 (default:
# this one), with protoc and the protoc-gen-go that go.mod's tool directive
# pins. Run by go generate, and by scripts/lint.sh into a temporary folder to
# check that the committed file is up to date.
set -eu
cd "$(dirname "$0")"
out=${1:-.}
protoc --plugin=protoc-gen-go="$(go tool -n protoc-gen-go)" --go_out="$out" --go_opt=paths=source_relative onnx.proto
