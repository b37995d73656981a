#!/usr/bin/env bash
# Measures lsweep against plain ONNX Runtime inference of the untouched model,
# both in the same run (the machines are shared and noisy; only ratios mean
# anything), on two models:
#   digits-resnet   the digits ResNet fixture, 1797 samples, batch 256
#   cifar-resnet20  a CIFAR-shaped ResNet-20, 1024 random samples, batch 128
# point/inference   one perturbed point, every per-point cost included, over
#                   plain inference (one session made beforehand, ONNX Runtime's
#                   default threading); target <= 1.10
# point/same-layout the same over plain inference laid out as lsweep lays it
#                   out (its per-point overhead alone)
# sweep/inference   a whole 2-D sweep's points x samples per second over plain
#                   inference's samples per second; target >= 0.90
# then gradients and exact Hessian-vector products against inference, PyTorch's
# own ratios on the same models and batches (scripts/bench_pytorch.py), and
# the seconds of one convexity point of ResNet-20 (package landscape).
# Usage: scripts/bench.sh [count]   (iterations of the point benchmark, default 10)
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
go test -run '^$' -bench 'BenchmarkSweep' -benchtime 2x ./engine |
  awk '/^BenchmarkSweep/ {
    name=$1; sub(/^BenchmarkSweep\//, "", name); sub(/-[0-9]+$/, "", name)
    for (i = 2; i < NF; i++) m[$(i+1)] = $i
    printf "%-15s sweep/inference %.3f  (sweep %.0f point-samples/s, inference %.0f samples/s)\n",
      name, m["sweep/inference"], m["point-samples/s"], m["inference-samples/s"]
  }'
# gradient/inference: one gradient over the dataset (the gradient graph lsweep
# builds) over one plain inference; target <= 3
go test -run '^$' -bench 'BenchmarkGradient' -benchtime 3x ./engine |
  awk '/^BenchmarkGradient/ {
    name=$1; sub(/^BenchmarkGradient\//, "", name); sub(/-[0-9]+$/, "", name)
    for (i = 2; i < NF; i++) m[$(i+1)] = $i
    printf "%-15s gradient/inference %.2f  (inference %.1f ms, gradient %.1f ms)\n",
      name, m["gradient/inference"], m["ms-inference"], m["ms-gradient"]
  }'
# hvp/gradient and gradient/inference of the exact Hessian-vector product
# (targets <= 2 and <= 3), and the same ratios of PyTorch's autograd on the
# same models and data, in the same run.
go test -run '^$' -bench 'BenchmarkHVP' -benchtime 3x ./engine |
  awk '/^BenchmarkHVP/ {
    name=$1; sub(/^BenchmarkHVP\//, "", name); sub(/-[0-9]+$/, "", name)
    for (i = 2; i < NF; i++) m[$(i+1)] = $i
    printf "%-15s lsweep  gradient/inference %.2f  hvp/gradient %.2f  (inference %.1f ms, gradient %.1f ms, hvp %.1f ms; direction as inputs: hvp/gradient %.2f)\n",
      name, m["gradient/inference"], m["hvp/gradient"], m["ms-inference"], m["ms-gradient"], m["ms-hvp"], m["hvp-inputs/gradient"]
  }'
if /usr/bin/python3 -c 'import torch, onnx' 2>/dev/null; then
  /usr/bin/python3 scripts/bench_pytorch.py 3
else
  echo "PyTorch ratios skipped: Debian's python3-torch and python3-onnx are not installed"
fi
# One convexity point (lambda_min and lambda_max by Lanczos on exact
# Hessian-vector products, tolerance 1e-3) of the CIFAR-shaped ResNet-20 on
# 256 samples: seconds and products, against the reference implementation's
# 110 s (42 products of 2.6 s) on the same kind of machine; target <= 37 s.
go test -run '^$' -bench 'BenchmarkConvexityPoint' -benchtime 1x ./landscape |
  awk '/^BenchmarkConvexityPoint/ {
    for (i = 2; i < NF; i++) m[$(i+1)] = $i
    printf "convexity point: %.1f s, %d products (%.1f inferences each), %.1fx faster than the reference'"'"'s 110 s\n",
      m["s/point"], m["hvps/point"], m["hvp/inference"], m["x-reference"]
  }'
# The 51 x 51 surface of the digits ResNet with skips on every point and
# sample, and with --tolerance 0.02 on the same directions, in the same run:
# the full run's seconds and sample forwards over the estimated run's
# (the work --tolerance saves; see docs/adaptive.md).
go test -run '^$' -bench 'BenchmarkTolerance' -benchtime 1x ./pipeline |
  awk '/^BenchmarkTolerance/ {
    for (i = 2; i < NF; i++) m[$(i+1)] = $i
    printf "tolerance 0.02: %.2fx less time (%.0f s, full %.0f s), %.2fx fewer sample forwards (%d, full %d)\n",
      m["x-time"], m["s-tolerance"], m["s-full"], m["x-forwards"], m["forwards-tolerance"], m["forwards-full"]
  }'
