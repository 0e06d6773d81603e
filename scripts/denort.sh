#!/usr/bin/env bash
# Prints the path of a denort base binary for `deno compile` (DENORT_BIN), or nothing.
# Order: $DENORT_BIN if set; else the verified copy in ../shared/tools/denort (offline
# machines, docs/runtime-notes.md), unpacked once into .cache/; else nothing, and deno compile
# downloads the official one itself.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${DENORT_BIN:-}" ]; then echo "$DENORT_BIN"; exit 0; fi
version=$(deno --version | head -1 | awk '{print $2}')
packed="$root/../shared/tools/denort/denort-$version-x86_64-unknown-linux-gnu.gz"
[ -f "$packed" ] || exit 0
out="$root/.cache/denort-$version"
if [ ! -x "$out" ]; then
  mkdir -p "$root/.cache"
  gunzip -c "$packed" > "$out.tmp" && chmod +x "$out.tmp" && mv "$out.tmp" "$out"
fi
echo "$out"
