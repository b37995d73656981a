#!/usr/bin/env bash
# Installs the ONNX Runtime shared library that matches lsweep's Go binding
# (onnxruntime_go v1.27.0, C API 24, ONNX Runtime 1.24.1) and checks its sha256.
#
# The library is taken from the npm package onnxruntime-node, which ships a
# self-contained linux x64 build (it needs only libc and libstdc++).
#
#   scripts/install-onnxruntime.sh            install into the default folder
#   scripts/install-onnxruntime.sh --cuda     install the CUDA build (below)
#   LSWEEP_ORT_DIR=/opt/ort scripts/...       install elsewhere
#
# The default folder is the one lsweep searches when neither --onnxruntime nor
# LSWEEP_ONNXRUNTIME names a library: ${XDG_DATA_HOME:-$HOME/.local/share}/lsweep/onnxruntime-1.24.1
#
# --cuda installs ONNX Runtime 1.29.0 (it serves C API 24 too) with its CUDA
# execution provider into .../lsweep/onnxruntime-1.29.0-cuda, which
# `lsweep --device cuda` loads when no library is named. No registry this
# project reaches serves the 1.24.1 CUDA provider (onnxruntime-node fetches
# it at install time from elsewhere); the 1.29.0 one comes from the npm
# package com.github.asus4.onnxruntime.linux-x64-gpu, the core library
# from onnxruntime-node 1.29.0, whose build loads that provider. The
# provider links CUDA 13 (libcudart.so.13, libcublas.so.13,
# libcublasLt.so.13, libcurand.so.10) and uses cuDNN 9: those and the
# NVIDIA driver must be on the machine already (LD_LIBRARY_PATH or the
# loader's cache); this script installs none of them. For another CUDA
# build of ONNX Runtime 1.24.1 or newer, put libonnxruntime.so with
# libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so
# in one folder and pass its libonnxruntime.so with --onnxruntime.
set -euo pipefail

cuda=false
case "${1:-}" in
  "") ;;
  --cuda) cuda=true ;;
  *) echo "usage: scripts/install-onnxruntime.sh [--cuda]" >&2; exit 2 ;;
esac

base=${XDG_DATA_HOME:-$HOME/.local/share}/lsweep
if $cuda; then
  version=1.29.0
  dest=${LSWEEP_ORT_DIR:-$base/onnxruntime-$version-cuda}
  gpu_pkg=com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9
  gpu_dir=package/Plugins/Linux/x64
  # file in dest, its sha256
  files=(
    "libonnxruntime.so 89688f5cf51c7e31befbb7b9101bc027799009b18d1baa9a5b1146a72e69538d"
    "libonnxruntime_providers_shared.so c6a12593396095f5670160e284c35d1700b7708cf3037b7042e2a5200ccae772"
    "libonnxruntime_providers_cuda.so 56cf3254b118ad837ccc4ed8f6d1b23504bbf7ef91b34cbc0b289cb7f10b3037"
  )
else
  version=1.24.1
  dest=${LSWEEP_ORT_DIR:-$base/onnxruntime-$version}
  files=("libonnxruntime.so 53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4")
fi
what="ONNX Runtime $version"
$cuda && what="$what with the CUDA execution provider"

if [ "$(uname -s)/$(uname -m)" != "Linux/x86_64" ]; then
  echo "install-onnxruntime: this script installs the linux x86_64 library; on $(uname -s)/$(uname -m) install ONNX Runtime $version yourself and pass its path with --onnxruntime or LSWEEP_ONNXRUNTIME" >&2
  exit 1
fi

installed() {
  local f
  for f in "${files[@]}"; do
    set -- $f
    [ -f "$dest/$1" ] && echo "$2  $dest/$1" | sha256sum --check --status || return 1
  done
}

cuda_note() {
  $cuda || return 0
  echo "it needs CUDA 13 (libcudart.so.13, libcublas.so.13, libcublasLt.so.13, libcurand.so.10), cuDNN 9 and the NVIDIA driver on the loader path; lsweep --device cuda loads it when --onnxruntime and LSWEEP_ONNXRUNTIME name no other library"
}

if installed; then
  echo "$what already installed: $dest/libonnxruntime.so"
  cuda_note
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install-onnxruntime: npm is needed to fetch onnxruntime-node@$version (apt-get install npm)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# name in dest <- path in the unpacked packages
declare -A from
mkdir -p "$work/node"
(cd "$work/node" && npm pack --silent "onnxruntime-node@$version" >/dev/null)
tar -xzf "$work/node/onnxruntime-node-$version.tgz" -C "$work/node" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
from[libonnxruntime.so]=$work/node/package/bin/napi-v6/linux/x64/libonnxruntime.so.1
if $cuda; then
  mkdir -p "$work/gpu"
  (cd "$work/gpu" && npm pack --silent "$gpu_pkg" >/dev/null)
  tar -xzf "$work/gpu/"*.tgz -C "$work/gpu" "$gpu_dir/libonnxruntime_providers_shared.so" "$gpu_dir/libonnxruntime_providers_cuda.so"
  from[libonnxruntime_providers_shared.so]=$work/gpu/$gpu_dir/libonnxruntime_providers_shared.so
  from[libonnxruntime_providers_cuda.so]=$work/gpu/$gpu_dir/libonnxruntime_providers_cuda.so
fi
for f in "${files[@]}"; do
  set -- $f
  got=${from[$1]}
  if ! echo "$2  $got" | sha256sum --check --status; then
    echo "install-onnxruntime: sha256 of the downloaded $1 is $(sha256sum "$got" | cut -d' ' -f1), expected $2" >&2
    exit 1
  fi
done
mkdir -p "$dest"
for f in "${files[@]}"; do
  set -- $f
  install -m 0644 "${from[$1]}" "$dest/$1.tmp"
  mv "$dest/$1.tmp" "$dest/$1"
done
echo "$what installed: $dest/libonnxruntime.so"
cuda_note
