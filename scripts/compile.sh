#!/usr/bin/env bash
# Builds the self-contained binaries (deno task compile), each with the native onnxruntime, ort-web's WASM and WebGPU
# builds, libSQL and the demo inside:
#   bash scripts/compile.sh              dist/tern (x86_64 Linux) and dist/tern-aarch64 (64-bit Arm Linux)
#   bash scripts/compile.sh x86_64       dist/tern only (aarch64: dist/tern-aarch64 only)
#   bash scripts/compile.sh --wasm-only  dist/tern-wasm (x86_64): ort-web's WASM runtime only, no native onnxruntime
#                                        and no WebGPU (README, "The binary")
# Embeds the demo model, the log and hub migrations, the workers, the patched ort-web pthread glue, ort-web's WebGPU
# bundle with its asyncify glue, build/embed (scripts/pack_embedded.sh: onnxruntime's native library and ort-web's
# WASM builds, zstd-compressed; src/engine/embedded.ts reads them) and build/build_info.json (the commit).
# Leaves out the originals of those, ort-web's other builds, other platforms' native files, type declarations and
# every installed npm package the program does not reach (scripts/npm_closure.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
export DENO_TLS_CA_STORE=${DENO_TLS_CA_STORE:-mozilla,system}
# deno compile 2.7.11 walks the embedded node_modules recursively on a tokio worker thread, whose default
# 2 MiB stack overflows on this tree in a fresh clone ("thread 'tokio-runtime-worker' has overflowed its stack").
export RUST_MIN_STACK=${RUST_MIN_STACK:-67108864}
case "${1:-}" in
  "") builds=("x86_64 full dist/tern" "aarch64 full dist/tern-aarch64") ;;
  x86_64) builds=("x86_64 full dist/tern") ;;
  aarch64) builds=("aarch64 full dist/tern-aarch64") ;;
  --wasm-only) builds=("x86_64 wasm-only dist/tern-wasm") ;;
  *) echo "usage: compile.sh [x86_64 | aarch64 | --wasm-only]" >&2; exit 2 ;;
esac
deno install --quiet
ort_dist=$(ls -d node_modules/.deno/onnxruntime-web@*/node_modules/onnxruntime-web/dist)
libsql_pkg=$(ls -d node_modules/.deno/libsql@*/node_modules/libsql)
# Permissions exactly as `deno task tern` runs the source.
perms=$(deno eval --quiet 'const t = JSON.parse(Deno.readTextFileSync("deno.json")).tasks.tern.split(/\s+/); console.log(t.slice(2, -1).join(" "))')
# Entry modules: the program and the workers it starts by URL (deno info does not follow `new Worker`).
entries=(src/main.ts src/logs/store_worker.ts src/engine/model_worker.ts)
# Declared dependencies that never load: onnxruntime-node's install script's (adm-zip, global-agent) and the deps
# of onnxruntime-web's onnxjs sources (its node build, dist/ort.node.min.mjs, imports only onnxruntime-common).
never_loaded=(onnxruntime-node\>{adm-zip,global-agent} onnxruntime-web\>{flatbuffers,guid-typescript,long,platform,protobufjs})
reached=$(deno run --quiet --allow-read --allow-run --allow-env scripts/npm_closure.ts \
  "${never_loaded[@]/#/--skip=}" "${entries[@]}")
# The commit --version names: TERN_COMMIT (a container build has no .git), else git's, -dirty with changes.
commit=${TERN_COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
if [ -z "${TERN_COMMIT:-}" ] && [ "$commit" != unknown ] && ! git diff --quiet HEAD -- src deno.json deno.lock; then
  commit="$commit-dirty"
fi

compile() { # deno arch (x86_64 | aarch64), variant (full | wasm-only), output
  local target=$1-unknown-linux-gnu variant=$2 output=$3 arch
  arch=$(sed 's/x86_64/x64/; s/aarch64/arm64/' <<<"$1")
  local denort
  denort=$(bash scripts/denort.sh "$1")
  bash scripts/pack_embedded.sh "$arch" "${variant/#wasm-only/--wasm-only}"
  echo "{\"commit\":\"$commit\"}" >build/build_info.json
  local libsql_version
  libsql_version=$(deno eval --quiet "console.log(JSON.parse(Deno.readTextFileSync('$libsql_pkg/package.json')).version)")
  if [ ! -d "node_modules/.deno/@libsql+linux-$arch-gnu@$libsql_version" ]; then
    # deno compile --target fetches the target's native packages (deno install keeps only this machine's) while it
    # compiles, too late to be left out: a first compile fetches them, the second leaves out what is not needed.
    env ${denort:+DENORT_BIN="$denort"} deno compile --quiet --target "$target" --output build/fetch-"$arch" src/main.ts
    rm -f build/fetch-"$arch"
  fi
  local excludes=()
  exclude_package() { # a node_modules/.deno folder, and every link to it (deno compile follows links)
    excludes+=(--exclude "$1")
    while read -r link; do excludes+=(--exclude "$link"); done < <(find node_modules -maxdepth 5 -type l -lname "*/${1#node_modules/.deno/}/*")
  }
  for d in node_modules/.deno/*@*; do
    name=${d#node_modules/.deno/}
    case "$name" in
      @types+*) exclude_package "$d" ;;
      @libsql+linux-"$arch"-gnu@*) ;;
      @libsql+linux-*@* | @libsql+darwin-*@* | @libsql+win32-*@*) exclude_package "$d" ;; # other platforms' libSQL
      *) grep -qxF "$name" <<<"$reached" || exclude_package "$d" ;;
    esac
  done
  # Within the packages kept: type declarations, source maps, docs, tests, onnxruntime-web's TypeScript sources.
  while read -r f; do excludes+=(--exclude "$f"); done < <(
    for name in $reached; do
      d=node_modules/.deno/$name
      [ -d "$d" ] || continue
      find "$d/node_modules" \( -type d \( -name test -o -name tests -o -name __tests__ -o -name docs \) -prune -print \) \
        -o \( -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.md' \) -print \)
    done
    ls -d node_modules/.deno/onnxruntime-web@*/node_modules/onnxruntime-web/lib
    # The CommonJS copies of packages the program imports as ES modules (their "import" exports).
    find node_modules/.deno/drizzle-orm@*/node_modules/drizzle-orm -name '*.cjs'
    find node_modules/.deno/apache-arrow@*/node_modules/apache-arrow -name '*.js'
    ls -d node_modules/.deno/hono@*/node_modules/hono/dist/cjs
  )
  local keep_web="ort.node.min.mjs"
  if [ "$variant" = full ]; then keep_web+=" ort.webgpu.bundle.min.mjs ort-wasm-simd-threaded.asyncify.mjs"; fi
  for f in "$ort_dist"/*; do
    case " $keep_web " in *" $(basename "$f") "*) ;; *) excludes+=(--exclude "$f") ;; esac
  done
  # onnxruntime-node ships every platform's libraries: keep only this one's addon (its library is in build/embed).
  for d in node_modules/.deno/onnxruntime-node@*/node_modules/onnxruntime-node/bin/napi-v6/*/*; do
    case "$d" in
      */linux/"$arch") if [ "$variant" = full ]; then excludes+=(--exclude "$d/libonnxruntime.so.1"); else excludes+=(--exclude "$d"); fi ;;
      *) excludes+=(--exclude "$d") ;;
    esac
  done
  local includes=(
    --include assets/demo/house-price-estimator.onnx
    --include src/logs/migrations
    --include src/hub/migrations
    --include src/logs/store_worker.ts
    --include src/engine/model_worker.ts
    --include src/engine/ort_web_glue/ort-wasm-simd-threaded.mjs
    --include build/embed
    --include build/build_info.json
  )
  if [ "$variant" = full ]; then includes+=(--include "$ort_dist/ort-wasm-simd-threaded.asyncify.mjs"); fi
  mkdir -p dist
  # shellcheck disable=SC2086
  env ${denort:+DENORT_BIN="$denort"} deno compile $perms --target "$target" "${includes[@]}" "${excludes[@]}" --output "$output" src/main.ts
  ls -la "$output"
}

for build in "${builds[@]}"; do
  # shellcheck disable=SC2086
  compile $build
done
