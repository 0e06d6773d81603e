#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a GPU machine that has no network and no Deno, into
# .cache/gpu-pack (ignored; carry it with the command, within the device tool's 64 MiB):
#   denort.xz       the runtime that dist/tern begins with, byte for byte (xz: gzip's 37 MB left no room)
#   tern-tail.xz    the rest of dist/tern (the program and everything embedded); both xz --x86 -9e
#   tern.sha256     dist/tern's digest: gpu-check.sh rebuilds it with cat and checks it
#   cnn-image.arrow one 3 × 224 × 224 image as an Arrow file (the device has no Arrow writer)
#   debs/           Debian's Vulkan and GL/EGL loaders (0.3 MB): Deno's WebGPU finds the NVIDIA adapter only with
#                   them, and the device has no apt; gpu-check.sh unpacks them there when they are missing
#   bash scripts/gpu/pack.sh        (builds dist/tern from this checkout first)
set -euo pipefail
cd "$(dirname "$0")/../.."
export DENO_TLS_CA_STORE=${DENO_TLS_CA_STORE:-mozilla,system}
bash scripts/compile.sh x86_64
denort=$(bash scripts/denort.sh)
[ -n "$denort" ] || { echo "pack.sh: no denort base binary (see scripts/denort.sh)" >&2; exit 1; }
size=$(stat -c %s "$denort")
cmp -s -n "$size" "$denort" dist/tern || { echo "pack.sh: dist/tern does not begin with $denort" >&2; exit 1; }
out=.cache/gpu-pack
rm -rf "$out" && mkdir -p "$out"
# The runtime changes only with Deno's version: compressed once (a minute) and kept.
if [ ! -f "$denort.xz" ]; then
  xz --x86 --lzma2=preset=9e -T1 -c "$denort" > "$denort.xz.tmp"
  mv "$denort.xz.tmp" "$denort.xz"
fi
cp "$denort.xz" "$out/denort.xz"
tail -c +"$((size + 1))" dist/tern | xz --x86 --lzma2=preset=9e -T1 -c > "$out/tern-tail.xz"
sha256sum dist/tern | awk '{print $1}' > "$out/tern.sha256"
deno eval 'import { cnnArrowBody } from "./tests/support/cnn.ts"; await Deno.writeFile(".cache/gpu-pack/cnn-image.arrow", cnnArrowBody());'
mkdir -p "$out/debs"
(cd "$out/debs" && apt-get download libvulkan1 libglvnd0 libegl1 libgl1 libglx0 2>/dev/null) ||
  echo "pack.sh: could not download the Vulkan/GL loader packages; gpu-check.sh will need them installed there" >&2
total=$(du -cb "$out"/* "$out"/debs/* | tail -1 | cut -f1)
echo "pack.sh: .cache/gpu-pack, $((total / 1048576)) MiB (the device tool carries at most 64 MiB)"
[ "$total" -le $((60 * 1048576)) ] || { echo "pack.sh: too large to carry" >&2; exit 1; }
