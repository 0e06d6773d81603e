#!/usr/bin/env bash
# The whole test suite (deno task test; .ci/run runs exactly this):
#   1. format, lint and type checks;
#   2. every test against the source;
#   3. build dist/tern and run the end-to-end tests against that binary,
#      started from a temporary directory as a user would.
# Installs what it needs on a fresh machine (npm packages through deno).
set -euo pipefail
cd "$(dirname "$0")/.."
export DENO_TLS_CA_STORE=${DENO_TLS_CA_STORE:-mozilla,system}
export NO_COLOR=${NO_COLOR:-1}
# Tests that probe WebGPU load Mesa's Vulkan loader, which prints "XDG_RUNTIME_DIR is invalid or not set"
# where no session set it (CI, containers); give it a private one.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  XDG_RUNTIME_DIR=$(mktemp -d)
  export XDG_RUNTIME_DIR
fi

echo "== install dependencies"
deno install --quiet
# Real peers the tests use (Debian packages): the one list, scripts/system-packages.txt.
bash scripts/install_system_packages.sh

echo "== checks: fmt, lint, types"
deno task --quiet check

echo "== tests against the source"
deno test --allow-all tests/

echo "== build dist/tern, dist/tern-aarch64 and the WASM-only dist/tern-wasm"
bash scripts/compile.sh
bash scripts/compile.sh --wasm-only

echo "== end-to-end tests against dist/tern"
TERN_BIN=dist/tern deno test --allow-all tests/e2e/
