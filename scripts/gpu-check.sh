#!/usr/bin/env bash
# Checks lsweep on a GPU: makes a CIFAR ResNet-56 with random weights and
# random CIFAR-shaped data (from Go, nothing downloaded), computes a 51 x 51
# surface with --device cuda and prints its time, then computes a 6 x 6
# subset of the same grid on the CPU with the same directions and library,
# and compares the loss where both have points. Exit status 1 if the largest
# relative difference exceeds the tolerance (default 1e-4; float32 with
# different kernels is expected near 1e-5, TF32 being off).
#
#   scripts/gpu-check.sh                      the check, on a machine with a GPU
#   scripts/gpu-check.sh --device cpu --grid 11 --blocks 1 --samples 64
#                                             the same steps on the CPU only,
#                                             to check the script itself
# Options: --device cuda|cpu, --grid G (points per axis, G-1 a multiple
# of 5), --blocks N (blocks per stage, 9: ResNet-56), --samples N (1024),
# --tol T, --onnxruntime LIB (default: $LSWEEP_ONNXRUNTIME, then for cuda
# the folder of install-onnxruntime.sh --cuda), --work DIR (kept; default a
# temporary folder, removed on success).
# With --device cuda and CUDA 13 not in the loader's cache, the CUDA and
# cuDNN wheels of python3 (site-packages/nvidia) are put on LD_LIBRARY_PATH.
# Needs Go, or LSWEEP_BIN naming a folder with lsweep and gpucheck built
# from this tree (go build -o DIR ./cmd/lsweep ./internal/cmd/gpucheck).
set -euo pipefail
cd "$(dirname "$0")/.."

device=cuda grid=51 blocks=9 samples=1024 tol=1e-4 lib=${LSWEEP_ONNXRUNTIME:-} work=
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device=$2 ;;
    --grid) grid=$2 ;;
    --blocks) blocks=$2 ;;
    --samples) samples=$2 ;;
    --tol) tol=$2 ;;
    --onnxruntime) lib=$2 ;;
    --work) work=$2 ;;
    *) echo "gpu-check: unknown option $1 (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
  shift 2
done
if [ $(( (grid - 1) % 5 )) -ne 0 ] || [ "$grid" -lt 6 ]; then
  echo "gpu-check: --grid $grid: G-1 must be a positive multiple of 5, so that the 6 x 6 CPU grid is a subset" >&2
  exit 2
fi
if [ -z "$lib" ] && [ "$device" = cuda ]; then
  lib=${XDG_DATA_HOME:-$HOME/.local/share}/lsweep/onnxruntime-1.29.0-cuda/libonnxruntime.so
  if [ ! -f "$lib" ]; then
    echo "gpu-check: no CUDA build of ONNX Runtime at $lib: run scripts/install-onnxruntime.sh --cuda, or pass --onnxruntime" >&2
    exit 1
  fi
fi
# CUDA and cuDNN may come as Python wheels (nvidia-cublas, nvidia-cudnn-cu13,
# ...) rather than in the loader's cache: put their folders on the path.
if [ "$device" = cuda ] && ! { ldconfig -p 2>/dev/null | grep -q 'libcublasLt\.so\.13'; } && command -v python3 >/dev/null; then
  nv=$(python3 -c 'import nvidia; print(list(nvidia.__path__)[0])' 2>/dev/null || true)
  if [ -n "$nv" ]; then
    dirs=$(find "$nv" -name 'lib*.so*' -printf '%h\n' | sort -u | paste -sd:)
    [ -n "$dirs" ] && export LD_LIBRARY_PATH=$dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    echo "CUDA libraries from $nv"
  fi
fi
keep=true
if [ -z "$work" ]; then
  work=$(mktemp -d)
  keep=false
fi
mkdir -p "$work"
trap 'echo "gpu-check: failed; the files are in $work" >&2' ERR

bin=${LSWEEP_BIN:-}
if [ -z "$bin" ]; then
  bin=$work/bin
  go build -o "$bin/" ./cmd/lsweep ./internal/cmd/gpucheck
fi
ort=()
[ -n "$lib" ] && ort=(--onnxruntime "$lib")

"$bin/gpucheck" gen -blocks "$blocks" -samples "$samples" "$work/data"
model=$work/data/resnet.onnx data=$work/data/data.npz

echo "== $device: ${grid}x${grid} surface"
start=$(date +%s.%N)
"$bin/lsweep" run "$model" "$data" --device "$device" "${ort[@]}" --x "-1:1:$grid" --y "-1:1:$grid" \
  --out "$work/device.landscape" --no-plot --quiet --force
end=$(date +%s.%N)
echo "$device surface: $(awk "BEGIN { printf \"%.1f\", $end - $start }") s for $((grid * grid)) points of $samples samples"

echo "== cpu: 6x6 subset, same directions"
start=$(date +%s.%N)
"$bin/lsweep" run "$model" "$data" --device cpu "${ort[@]}" --x -1:1:6 --y -1:1:6 \
  --directions "$work/device.landscape/directions.npz" --out "$work/cpu.landscape" --no-plot --quiet --force
end=$(date +%s.%N)
echo "cpu subset: $(awk "BEGIN { printf \"%.1f\", $end - $start }") s for 36 points"

"$bin/gpucheck" compare -tol "$tol" "$work/device.landscape/surface.npz" "$work/cpu.landscape/surface.npz"
$keep || rm -rf "$work"
