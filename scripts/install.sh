#!/usr/bin/env bash
# Installs tern as a systemd service: the binary as /usr/local/bin/tern, deploy/systemd/tern.service as
# /etc/systemd/system/tern.service and, unless one is there, deploy/systemd/tern.env as /etc/tern/tern.env (root
# only: it may hold OCI_PASSWORD or EDGE_BUNDLE); then reloads systemd, enables the service and (re)starts it.
#   sudo bash scripts/install.sh [BINARY]          BINARY defaults to dist/tern (dist/tern-aarch64 on aarch64)
#   bash scripts/install.sh --root DIR [BINARY]    only lay the files out under DIR (packaging, tests): no systemctl
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
root=""
if [ "${1:-}" = "--root" ]; then
  root=${2:?--root needs a folder}
  shift 2
fi
machine=$(uname -m)
default=$here/dist/tern
[ "$machine" = aarch64 ] && default=$here/dist/tern-aarch64
bin=${1:-$default}
[ -x "$bin" ] || { echo "install.sh: $bin is not an executable (build it: deno task compile)" >&2; exit 1; }
# On the machine itself, a binary for another architecture would only fail at start (status 203/EXEC): refuse it.
# (ELF's e_machine, bytes 18-19: 62 is x86-64, 183 is AArch64.)
if [ -z "$root" ]; then
  case "$machine" in x86_64) want=62 ;; aarch64) want=183 ;; *) want="" ;; esac
  got=$(od -An -t u2 -j 18 -N 2 "$bin" | tr -d ' ')
  if [ -n "$want" ] && [ "$got" != "$want" ]; then
    echo "install.sh: $bin is not built for this machine ($machine): use dist/tern on x86_64, dist/tern-aarch64 on aarch64" >&2
    exit 1
  fi
fi
install -D -m 0755 "$bin" "$root/usr/local/bin/tern"
install -D -m 0644 "$here/deploy/systemd/tern.service" "$root/etc/systemd/system/tern.service"
if [ ! -e "$root/etc/tern/tern.env" ]; then
  install -D -m 0600 "$here/deploy/systemd/tern.env" "$root/etc/tern/tern.env"
fi
if [ -n "$root" ]; then
  echo "installed under $root"
  exit 0
fi
systemctl daemon-reload
systemctl enable tern.service
systemctl restart tern.service
echo "tern is running: systemctl status tern; journalctl -u tern -f; settings in /etc/tern/tern.env"
