#!/usr/bin/env bash
# Builds the single self-contained binary dist/tern (deno task compile).
# Embeds the demo model, the log and hub migrations, the patched ort-web pthread glue, ort-web's WASM binary and its
# WebGPU build (bundle + its asyncify glue and WASM);
# leaves out ort-web's other builds and other platforms' native files.
set -euo pipefail
cd "$(dirname "$0")/.."
export DENO_TLS_CA_STORE=${DENO_TLS_CA_STORE:-mozilla,system}
# deno compile 2.7.11 walks the embedded node_modules recursively on a tokio worker thread, whose default
# 2 MiB stack overflows on this tree in a fresh clone ("thread 'tokio-runtime-worker' has overflowed its stack").
export RUST_MIN_STACK=${RUST_MIN_STACK:-67108864}
denort=$(bash scripts/denort.sh)
if [ -n "$denort" ]; then export DENORT_BIN="$denort"; fi
deno install --quiet
ort_dist=$(ls -d node_modules/.deno/onnxruntime-web@*/node_modules/onnxruntime-web/dist)
# Permissions exactly as `deno task tern` runs the source.
perms=$(deno eval --quiet 'const t = JSON.parse(Deno.readTextFileSync("deno.json")).tasks.tern.split(/\s+/); console.log(t.slice(2, -1).join(" "))')
excludes=()
for f in "$ort_dist"/*; do
  case "$(basename "$f")" in
    ort.node.min.mjs | ort-wasm-simd-threaded.wasm | ort.webgpu.bundle.min.mjs | ort-wasm-simd-threaded.asyncify.mjs | ort-wasm-simd-threaded.asyncify.wasm) ;;
    *) excludes+=(--exclude "$f") ;;
  esac
done
# Build-time tools and other platforms' native packages (drizzle-kit is run by npm: specifier, not imported).
for d in node_modules/.deno/{drizzle-kit@*,@esbuild*,esbuild@*,@types+node@*,@libsql+linux-x64-musl@*,@libsql+darwin*,@libsql+win32*,@libsql+linux-arm*}; do
  [ -e "$d" ] && excludes+=(--exclude "$d")
done
# onnxruntime-node ships every platform's libraries: keep only linux/x64.
for d in node_modules/.deno/onnxruntime-node@*/node_modules/onnxruntime-node/bin/napi-v6/*/*; do
  case "$d" in */linux/x64) ;; *) excludes+=(--exclude "$d") ;; esac
done
mkdir -p dist
# shellcheck disable=SC2086
deno compile $perms \
  --include assets/demo/house-price-estimator.onnx \
  --include src/logs/migrations \
  --include src/hub/migrations \
  --include src/logs/store_worker.ts \
  --include src/engine/native_worker.ts \
  --include src/engine/ort_web_glue/ort-wasm-simd-threaded.mjs \
  --include "$ort_dist/ort-wasm-simd-threaded.wasm" \
  --include "$ort_dist/ort-wasm-simd-threaded.asyncify.mjs" \
  --include "$ort_dist/ort-wasm-simd-threaded.asyncify.wasm" \
  "${excludes[@]}" \
  --output dist/tern src/main.ts
ls -la dist/tern
