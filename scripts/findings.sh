#!/usr/bin/env bash
# Regenerate docs/findings.md: train the models of the page with PyTorch on the
# digits data (scripts/findings/train.py), run lsweep on them, then copy the
# pictures to docs/img/findings/ and write the tables of docs/findings.md from
# the run's own output files (scripts/findings/report.py).
#
#   scripts/findings.sh            # about 25 minutes on two busy cores
#
# Needs Go, ONNX Runtime (scripts/install-onnxruntime.sh) and Debian's
# python3-torch, python3-onnx and numpy (/usr/bin/python3). The models, the
# data split and every lsweep output folder stay in $FINDINGS_WORK (default
# findings.work/, ignored by git); docs/findings.md's prose is kept, its tables
# (between <!-- findings:NAME --> markers) are rewritten.
set -euo pipefail
cd "$(dirname "$0")/.."

WORK=${FINDINGS_WORK:-findings.work}
PY=/usr/bin/python3
start=$(date +%s)
mkdir -p "$WORK"
[ -n "${FINDINGS_STAGES:-}" ] || : >"$WORK/times.txt"

# stage NAME CMD...: run CMD, log its wall time in seconds. $FINDINGS_STAGES
# (default: all) names the stages to run, to redo a part.
stage() {
  local name=$1 t0
  shift
  case " ${FINDINGS_STAGES:-all} " in *" all "* | *" $name "*) ;; *) return 0 ;; esac
  t0=$(date +%s)
  echo "findings: $name" >&2
  "$@"
  echo "$name $(($(date +%s) - t0))" >>"$WORK/times.txt"
}

stage build go build -o "$WORK/lsweep" ./cmd/lsweep
stage train nice $PY scripts/findings/train.py "$WORK"

L="nice $WORK/lsweep"
D=$WORK/data/train.npz
T=$WORK/data/test.npz
M=$WORK/models
O=$WORK/out
mkdir -p "$O"
Q=(--quiet --force)
# Hessians: gradients over 128 evenly spaced training samples, Lanczos to the
# reference implementation's tolerance (1e-2).
H=(--hessian-samples 128 --hessian-tol 1e-2)

# compare exits 1 when the candidate is sharper: a finding here, not an error.
compare() {
  local out=$1 rc=0
  shift
  $L compare "$@" --json >"$out" || rc=$?
  [ "$rc" -le 1 ] || exit "$rc"
}

batch() {
  local wd
  for wd in "" _wd; do
    # 1-D interpolation from the small-batch to the large-batch minimiser
    # (--dir-type states, the default with --model2), on the training and on
    # the test data; a step of 0.025, so that both models are grid points
    $L run "$M/sb$wd.onnx" "$D" --model2 "$M/lb$wd.onnx" --x -0.5:1.5:81 --out "$O/interp$wd" "${Q[@]}"
    $L run "$M/sb$wd.onnx" "$T" --model2 "$M/lb$wd.onnx" --x -0.5:1.5:81 --out "$O/interp${wd}_test" "${Q[@]}"
    $L plot "$O/interp$wd" "$O/interp${wd}_test" --log
    local m
    for m in "sb$wd" "lb$wd"; do
      $L run "$M/$m.onnx" "$D" --x -1:1:51 --out "$O/${m}_1d" "${Q[@]}"
      $L run "$M/$m.onnx" "$D" --x -1:1:21 --y -1:1:21 --out "$O/${m}_2d" "${Q[@]}"
    done
    $L plot "$O/sb${wd}_1d" "$O/lb${wd}_1d" --log
    # the two 2-D surfaces with the same contour levels and colours
    $L plot "$O/sb${wd}_2d" "$O/lb${wd}_2d" >/dev/null
    compare "$O/compare$wd.json" "$M/lb$wd.onnx" "$M/sb$wd.onnx" "$D" --base-label "lb$wd" --candidate-label "sb$wd" \
      --hessian --hessian-samples 128
    compare "$O/compare${wd}_none.json" "$M/lb$wd.onnx" "$M/sb$wd.onnx" "$D" --base-label "lb$wd" \
      --candidate-label "sb$wd" --norm none
    $L weights "$M/sb$wd.onnx" "$M/lb$wd.onnx" --out "$O/weights$wd.png" --json >"$O/weights$wd.json"
  done
}

resnets() {
  local m n
  for m in resnet20 resnet56 resnet110 resnet20_w8 resnet20_w16 resnet20_w32; do
    for n in "$m" "${m}_noskip"; do
      $L run "$M/$n.onnx" "$D" --x -1:1:21 --y -1:1:21 --out "$O/$n" "${Q[@]}"
      $L hessian "$M/$n.onnx" "$D" --at 0,0 --json "${H[@]}" >"$O/$n.hessian.json"
    done
  done
  # the wide nets with and without skips with the same contour levels and
  # colours (their losses span the same decades; the deep nets without skips
  # reach 1e8-1e11, where shared levels would leave their twins two lines)
  for m in resnet20_w8 resnet20_w16 resnet20_w32; do
    $L plot "$O/$m" "$O/${m}_noskip" >/dev/null
  done
}

# test loss and accuracy of every model, by lsweep
evals() {
  local f
  for f in "$M"/*.onnx; do
    $L eval "$f" "$T" --json >"$O/$(basename "$f" .onnx).test.json"
  done
}

# convexity maps of ResNet-20 with and without skips, over the directions of
# their 2-D surfaces
convexity() {
  local m
  for m in resnet20 resnet20_noskip; do
    $L hessian "$M/$m.onnx" "$D" --directions "$O/$m/directions.npz" --x -1:1:7 --y -1:1:7 "${H[@]}" \
      --out "$O/convexity_$m" "${Q[@]}"
  done
}

trajectory() {
  $L trajectory "$M/sb_wd.onnx" "$D" "$M"/traj/ckpt_*.onnx --out "$O/trajectory" "${Q[@]}"
}

stage batch batch
stage resnets resnets
stage eval evals
stage convexity convexity
stage trajectory trajectory
if [ -z "${FINDINGS_STAGES:-}" ]; then
  echo "total $(($(date +%s) - start))" >>"$WORK/times.txt"
  # CPU seconds of every process the script waited for (bash's times: user
  # and system time of the children), and the machine's load average at the
  # end: on a shared machine the wall time says little without them.
  times >"$WORK/cpu.txt"
  awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, t, "m"); s += t[1] * 60 + t[2] } printf "cpu %d\n", s }' "$WORK/cpu.txt" >>"$WORK/times.txt"
  echo "load $(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ,)" >>"$WORK/times.txt"
fi
$PY scripts/findings/report.py "$WORK"
