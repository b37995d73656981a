#!/usr/bin/env bash
# Installs the ONNX Runtime shared library that matches lsweep's Go binding
# (onnxruntime_go v1.27.0, C API 24, ONNX Runtime 1.24.1) and checks its sha256.
#
# The library is taken from the npm package onnxruntime-node, which ships a
# self-contained linux x64 build (it needs only libc and libstdc++).
#
#   scripts/install-onnxruntime.sh            install into the default folder
#   LSWEEP_ORT_DIR=/opt/ort scripts/...       install elsewhere
#
# The default folder is the one lsweep searches when neither --onnxruntime nor
# LSWEEP_ONNXRUNTIME names a library: ${XDG_DATA_HOME:-$HOME/.local/share}/lsweep/onnxruntime-1.24.1
set -euo pipefail

version=1.24.1
sha256=53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4
dest=${LSWEEP_ORT_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/lsweep/onnxruntime-$version}
lib=$dest/libonnxruntime.so

if [ "$(uname -s)/$(uname -m)" != "Linux/x86_64" ]; then
  echo "install-onnxruntime: this script installs the linux x86_64 library; on $(uname -s)/$(uname -m) install ONNX Runtime $version yourself and pass its path with --onnxruntime or LSWEEP_ONNXRUNTIME" >&2
  exit 1
fi

if [ -f "$lib" ] && echo "$sha256  $lib" | sha256sum --check --status; then
  echo "ONNX Runtime $version already installed: $lib"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install-onnxruntime: npm is needed to fetch onnxruntime-node@$version (apt-get install npm)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "onnxruntime-node@$version" >/dev/null)
tar -xzf "$work/onnxruntime-node-$version.tgz" -C "$work" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
got=$work/package/bin/napi-v6/linux/x64/libonnxruntime.so.1
if ! echo "$sha256  $got" | sha256sum --check --status; then
  echo "install-onnxruntime: sha256 of the downloaded library is $(sha256sum "$got" | cut -d' ' -f1), expected $sha256" >&2
  exit 1
fi
mkdir -p "$dest"
install -m 0644 "$got" "$lib.tmp"
mv "$lib.tmp" "$lib"
echo "ONNX Runtime $version installed: $lib"
