#!/usr/bin/env bash
# Installs every Debian package in scripts/system-packages.txt that is missing, then checks each
# one again: a package still missing stops with one line naming it.
#   bash scripts/install_system_packages.sh            install what is missing
#   bash scripts/install_system_packages.sh --check    only report what is missing (exit 1 if any)
set -euo pipefail
list="$(dirname "$0")/system-packages.txt"

present() { # check → 0 if satisfied
  local kind=${1%%:*} target=${1#*:}
  case "$kind" in
    python) /usr/bin/python3 -c "import $target" 2>/dev/null ;;
    command) command -v "$target" >/dev/null 2>&1 ;;
    file) [ -e "$target" ] ;;
    *) echo "system-packages.txt: unknown check '$1'" >&2; exit 2 ;;
  esac
}

missing() {
  local pkg check rest
  while read -r pkg check rest; do
    case "$pkg" in '' | '#'*) continue ;; esac
    present "$check" || echo "$pkg"
  done <"$list"
}

need=$(missing | tr '\n' ' ')
if [ "${1:-}" = "--check" ]; then
  [ -z "$need" ] || { echo "missing system packages: $need(install: bash scripts/install_system_packages.sh)"; exit 1; }
  exit 0
fi
if [ -n "$need" ]; then
  echo "installing Debian packages: $need"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  # shellcheck disable=SC2086
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
still=$(missing | tr '\n' ' ')
if [ -n "$still" ]; then
  echo "missing system packages after install: $still(see scripts/system-packages.txt)" >&2
  exit 1
fi
