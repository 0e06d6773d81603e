#!/usr/bin/env bash
# Prints the path of a denort base binary for `deno compile` (DENORT_BIN), or nothing.
#   bash scripts/denort.sh [x86_64|aarch64]     (default x86_64; aarch64 for --target aarch64-unknown-linux-gnu)
# Order: $DENORT_BIN if set (x86_64 only; DENORT_BIN_AARCH64 for aarch64); else the verified copy in
# ../shared/tools/denort (offline machines, docs/runtime-notes.md), unpacked once into .cache/; else nothing, and
# deno compile downloads the official one itself.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arch=${1:-x86_64}
case "$arch" in
  x86_64) override=${DENORT_BIN:-} suffix="" ;;
  aarch64) override=${DENORT_BIN_AARCH64:-} suffix="-aarch64" ;;
  *) echo "denort.sh: unknown architecture '$arch' (x86_64 or aarch64)" >&2; exit 2 ;;
esac
if [ -n "$override" ]; then echo "$override"; exit 0; fi
version=$(deno --version | head -1 | awk '{print $2}')
packed="$root/../shared/tools/denort/denort-$version-$arch-unknown-linux-gnu.gz"
[ -f "$packed" ] || exit 0
out="$root/.cache/denort-$version$suffix"
if [ ! -x "$out" ]; then
  mkdir -p "$root/.cache"
  gunzip -c "$packed" > "$out.tmp" && chmod +x "$out.tmp" && mv "$out.tmp" "$out"
fi
echo "$out"
