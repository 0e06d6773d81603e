#!/usr/bin/env bash
# Lays out the root file system of tern's scratch container image (the Dockerfile's runtime stages copy it):
#   bash scripts/rootfs.sh BINARY OUT
# OUT/fs: /usr/local/bin/tern, exactly the shared libraries that the binary and the native libraries it loads at run
# time link (ldd: glibc, libgcc_s, and libstdc++ for onnxruntime), /tmp (where the native libraries are extracted), and
# /etc/passwd and /etc/group naming the user tern (10001); OUT/persist: the empty /persist, apart, since the
# Dockerfile copies it as tern's (COPY gives root what it copies).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: rootfs.sh BINARY OUT} out=${2:?usage: rootfs.sh BINARY OUT}
arch=$(uname -m | sed 's/x86_64/x64/; s/aarch64/arm64/')
rm -rf "$out"
mkdir -p "$out/persist"
chown 10001:10001 "$out/persist" 2>/dev/null || true
out="$out/fs"
mkdir -p "$out/usr/local/bin" "$out/tmp" "$out/etc"
cp "$bin" "$out/usr/local/bin/tern"
# The native libraries tern loads: libSQL's addon, and onnxruntime's binding, whose ldd also resolves the
# onnxruntime library beside it (RUNPATH $ORIGIN) and what that links. Those two files travel inside the binary,
# so only the system libraries are copied, not the node_modules paths ldd names.
natives=("$bin")
natives+=(node_modules/.deno/@libsql+linux-"$arch"-gnu@*/node_modules/@libsql/linux-"$arch"-gnu/index.node)
natives+=(node_modules/.deno/onnxruntime-node@*/node_modules/onnxruntime-node/bin/napi-v6/linux/"$arch"/onnxruntime_binding.node)
for f in "${natives[@]}"; do
  # "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" and "/lib64/ld-linux-x86-64.so.2 (0x…)"
  ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'
done | grep -v "/node_modules/" | sort -u | while read -r lib; do
  mkdir -p "$out$(dirname "$lib")"
  cp -L "$lib" "$out$lib"
done
echo "root:x:0:0:root:/:/sbin/nologin" >"$out/etc/passwd"
echo "tern:x:10001:10001:tern:/persist:/sbin/nologin" >>"$out/etc/passwd"
printf 'root:x:0:\ntern:x:10001:\n' >"$out/etc/group"
chmod 1777 "$out/tmp"
find "$out" -type f | sort
