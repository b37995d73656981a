#!/usr/bin/env bash
# Measures, in one run, plain ONNX Runtime inference of an untouched model over
# a dataset (a) and lsweep's evaluation of one perturbed point, every
# per-point cost included (b), and prints b/a for each model (and b against
# plain inference laid out as lsweep lays it out: the per-point overhead):
#   digits-resnet   the digits ResNet fixture, 1797 samples, batch 256
#   cifar-resnet20  a CIFAR-shaped ResNet-20, 1024 random samples, batch 128
# Usage: scripts/bench.sh [count]   (iterations per model, default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10}
go test -run '^$' -bench 'BenchmarkPoint' -benchtime "${n}x" ./engine |
  awk '/^BenchmarkPoint/ {
    name=$1; sub(/^BenchmarkPoint\//, "", name); sub(/-[0-9]+$/, "", name)
    for (i = 2; i < NF; i++) m[$(i+1)] = $i
    printf "%-15s point/inference %.3f  point/same-layout %.3f  (inference %.1f ms, point %.1f ms, %.0f samples/s)\n",
      name, m["point/inference"], m["point/same-layout"], m["ms-inference"], m["ms-point"], m["samples/s"]
  }'
