#!/usr/bin/env bash
# Measures lsweep on a model of the sizes people study: a GPT-2-small-shaped
# causal language model (124M parameters, 12 layers, random weights, its
# weights in an external-data file, made by fixtures/gen/make_gpt2_small.py
# with PyTorch) on 256 sequences of 128 tokens.
#   s/point, point/inference  one point of a 2-D landscape against plain ONNX
#                             Runtime inference of the untouched model, in the
#                             same run (BenchmarkLargeModel); target <= 1.10
#   peak RSS                  of `lsweep run` computing a 1-D curve of 3 points,
#                             over the weights' bytes (aim: below 3)
# Usage: scripts/bench-gpt2.sh [samples]   (default 256; the model is written
# to $LSWEEP_GPT2_DIR, default /tmp/lsweep-gpt2, once)
set -euo pipefail
cd "$(dirname "$0")/.."
samples=${1:-256}
dir=${LSWEEP_GPT2_DIR:-/tmp/lsweep-gpt2}
if [ ! -f "$dir/gpt2.onnx.data" ]; then
  /usr/bin/python3 fixtures/gen/make_gpt2_small.py "$dir"
fi
weights=$(stat -c %s "$dir/gpt2.onnx.data")
LSWEEP_LARGE_MODEL="$dir/gpt2.onnx" LSWEEP_LARGE_DATA="$dir/data.npz" LSWEEP_LARGE_SAMPLES="$samples" LSWEEP_LARGE_SHIFT=1 \
  go test -run '^$' -bench 'BenchmarkLargeModel' -benchtime 1x -timeout 3h ./engine |
  awk '/^BenchmarkLargeModel/ {
    for (i = 2; i < NF; i++) m[$(i+1)] = $i
    printf "gpt2-small      point/inference %.3f  (%.1f s/point, inference %.1f s, %d sequences; peak/weights with the inference session %.2f)\n",
      m["point/inference"], m["s/point"], m["s/inference"], m["samples"], m["peak/weights"]
  }'
go build -o "$dir/lsweep" ./cmd/lsweep
/usr/bin/time -v "$dir/lsweep" run "$dir/gpt2.onnx" "$dir/data.npz" --shift-labels --samples "$samples" \
  --x -1:1:3 --no-plot --out "$dir/run" --force 2> "$dir/time.txt" > /dev/null
peak=$(awk '/Maximum resident set size/ {print $6}' "$dir/time.txt")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$dir/time.txt")
awk -v p="$peak" -v w="$weights" -v t="$wall" 'BEGIN {
  printf "gpt2-small      lsweep run, 3 points: peak RSS %.0f MB = %.2f x the weights (%.0f MB), wall %s\n", p/1024, p*1024/w, w/1048576, t
}'
