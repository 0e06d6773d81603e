#!/usr/bin/env bash
# Fills build/embed/ for one compile (scripts/compile.sh runs it before each deno compile): zstd copies of the large
# runtime files the binary carries compressed, which src/engine/embedded.ts reads, and manifest.json (sha256 and size
# of each original). zstd -19 keeps them at 29 % (onnxruntime's native library) and 16–17 % (ort-web's WASM builds),
# 20.2 MB against gzip -9's 27.7: the binary reads all it carries at every start. (No --long: the decoder's window
# stays at 8 MB.)
#   bash scripts/pack_embedded.sh x64|arm64 [--wasm-only]
# --wasm-only: only ort-web's WASM build (no native onnxruntime, no WebGPU build).
# The compressed copies are kept in build/zst/, named by the original's sha256, and made again only when it changes
# (zstd -19 takes about a minute for onnxruntime's library).
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:?usage: pack_embedded.sh x64|arm64 [--wasm-only]}
wasm_only=${2:-}
ort_web=$(ls -d node_modules/.deno/onnxruntime-web@*/node_modules/onnxruntime-web/dist)
ort_node=$(ls -d node_modules/.deno/onnxruntime-node@*/node_modules/onnxruntime-node/bin/napi-v6/linux)
# original → name in build/embed (without .zst)
entries=("$ort_web/ort-wasm-simd-threaded.wasm:ort-wasm-simd-threaded.wasm")
if [ "$wasm_only" != "--wasm-only" ]; then
  entries+=(
    "$ort_web/ort-wasm-simd-threaded.asyncify.wasm:ort-wasm-simd-threaded.asyncify.wasm"
    "$ort_node/$arch/libonnxruntime.so.1:libonnxruntime.so.1-$arch"
  )
fi
rm -rf build/embed
mkdir -p build/embed build/zst
manifest=""
for entry in "${entries[@]}"; do
  src=${entry%%:*} name=${entry#*:}
  sha=$(sha256sum "$src" | cut -d' ' -f1)
  packed=build/zst/$sha.zst
  if [ ! -f "$packed" ]; then
    zstd -19 -q -c "$src" >"$packed.part"
    mv "$packed.part" "$packed"
  fi
  cp "$packed" "build/embed/$name.zst"
  manifest+="${manifest:+,}\"$name\":{\"sha256\":\"$sha\",\"size\":$(stat -c %s "$src")}"
done
echo "{$manifest}" >build/embed/manifest.json
