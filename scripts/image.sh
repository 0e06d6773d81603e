#!/usr/bin/env bash
# Builds tern's runtime image from the dist/tern built on this machine, for machines that cannot pull the
# Dockerfile's build-stage base image: the same scratch image (the Dockerfile's `host` target), tagged
# localhost/tern:dev, for this machine's architecture. Uses podman, else docker (CONTAINER_ENGINE overrides); TERN_BIN
# names another binary.
#   bash scripts/image.sh [TAG]
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-localhost/tern:dev}
engine=${CONTAINER_ENGINE:-$(command -v podman || command -v docker || true)}
if [ -z "$engine" ]; then
  echo "image.sh: neither podman nor docker is installed" >&2
  exit 1
fi
arch=$(uname -m)
default=dist/tern
[ "$arch" = aarch64 ] && default=dist/tern-aarch64
bin=${TERN_BIN:-$default}
[ -x "$bin" ] || bash scripts/compile.sh "$arch"
bash scripts/rootfs.sh "$bin" build/rootfs >/dev/null
format=()
# podman writes OCI images by default, which have no HEALTHCHECK: ask for the Docker format.
case "$(basename "$engine")" in podman*) format=(--format docker) ;; esac
"$engine" build "${format[@]}" --target host -t "$tag" .
