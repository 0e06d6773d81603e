#!/usr/bin/env bash
# Fills build/embed/ for one compile (scripts/compile.sh runs it before each deno compile): gzip copies of the large
# runtime files the binary carries compressed, which src/engine/embedded.ts reads, and manifest.json (sha256 and size
# of each original). gzip keeps them at 40 % (onnxruntime's native library) and 25 % (ort-web's WASM builds).
#   bash scripts/pack_embedded.sh x64|arm64 [--wasm-only]
# --wasm-only: only ort-web's WASM build (no native onnxruntime, no WebGPU build).
# The compressed copies are kept in build/gz/, named by the original's sha256, and made again only when it changes.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:?usage: pack_embedded.sh x64|arm64 [--wasm-only]}
wasm_only=${2:-}
ort_web=$(ls -d node_modules/.deno/onnxruntime-web@*/node_modules/onnxruntime-web/dist)
ort_node=$(ls -d node_modules/.deno/onnxruntime-node@*/node_modules/onnxruntime-node/bin/napi-v6/linux)
# original → name in build/embed (without .gz)
entries=("$ort_web/ort-wasm-simd-threaded.wasm:ort-wasm-simd-threaded.wasm")
if [ "$wasm_only" != "--wasm-only" ]; then
  entries+=(
    "$ort_web/ort-wasm-simd-threaded.asyncify.wasm:ort-wasm-simd-threaded.asyncify.wasm"
    "$ort_node/$arch/libonnxruntime.so.1:libonnxruntime.so.1-$arch"
  )
fi
rm -rf build/embed
mkdir -p build/embed build/gz
manifest=""
for entry in "${entries[@]}"; do
  src=${entry%%:*} name=${entry#*:}
  sha=$(sha256sum "$src" | cut -d' ' -f1)
  gz=build/gz/$sha.gz
  if [ ! -f "$gz" ]; then
    gzip -9 -n -c "$src" >"$gz.part"
    mv "$gz.part" "$gz"
  fi
  cp "$gz" "build/embed/$name.gz"
  manifest+="${manifest:+,}\"$name\":{\"sha256\":\"$sha\",\"size\":$(stat -c %s "$src")}"
done
echo "{$manifest}" >build/embed/manifest.json
