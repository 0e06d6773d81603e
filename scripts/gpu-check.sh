#!/usr/bin/env bash
# On a GPU machine: what tern's GPU paths find and how fast they serve, into bench/gpu-check-<date>.txt (commit it).
# Needs only bash, coreutils, xz, curl, dpkg and python3 (with numpy and onnx, for the CNN fixture): no Deno, no
# network, no apt.
#
#   here:        bash scripts/gpu/pack.sh     (dist/tern as runtime + program, xz; the image as Arrow)
#   GPU machine: bash scripts/gpu-check.sh    (with .cache/gpu-pack carried: dist/tern is rebuilt from it)
#
# 1. the machine, the NVIDIA driver, CUDA libraries;
# 2. `tern backends` on the demo, then on a ResNet-50-shaped CNN with a free batch dim at batch 1, 8, 32, 64:
#    every runtime's time per run and how far its outputs are from native's (WebGPU on the hardware adapter, plain
#    and with ort-web's graph capture), and the batch-1 target (WebGPU ≤ native CPU per run);
# 3. through the real tern process (a local registry, scripts/gpu/registry.py; load from scripts/gpu/load.py):
#    the CNN served on native CPU, on WebGPU with adaptive batching (BATCHING=auto), and on INFERENCE_BACKEND=auto
#    (one-row runs on the winner at one row, large batches on a GPU runtime that wins there), at 1, 8 and 64
#    concurrent 1-image clients, and the targets of issue 15 (WebGPU ≥ CPU at 8, ≥ 2.5× at 64; auto ≥ both).
# GPU_CHECK_SECONDS (default 10) per load line. GPU_CHECK_MODEL and GPU_CHECK_BODY (an Arrow file) replace the
# CNN and its image, and WEBGPU_ALLOW_SOFTWARE=true lets a machine without a GPU run it all (a smoke test).
set -uo pipefail
cd "$(dirname "$0")/.."
tern=$(pwd)/dist/tern
pack=.cache/gpu-pack
seconds=${GPU_CHECK_SECONDS:-10}
work=$(mktemp -d)
trap 'kill $(cat "$work"/*.pid "$work"/tern-*/pid 2>/dev/null) 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p bench
out="bench/gpu-check-$(date -u +%Y%m%dT%H%M%SZ).txt"

# dist/tern from the pack: the runtime, then the program, checked against the digest of the build packed.
if [ ! -x "$tern" ] || ! sha256sum "$tern" 2>/dev/null | grep -q "$(cat "$pack/tern.sha256" 2>/dev/null || echo none)"; then
  if [ -f "$pack/tern.sha256" ]; then
    mkdir -p dist
    { xz -dc "$pack/denort.xz" && xz -dc "$pack/tern-tail.xz"; } > "$tern.tmp" && chmod +x "$tern.tmp" && mv "$tern.tmp" "$tern"
    echo "$(cat "$pack/tern.sha256")  $tern" | sha256sum -c --quiet || { echo "gpu-check: rebuilt $tern does not match" >&2; exit 1; }
    echo "gpu-check: rebuilt $tern from $pack"
  fi
fi
[ -x "$tern" ] || { echo "gpu-check: no $tern and no $pack (run scripts/gpu/pack.sh where Deno is)" >&2; exit 1; }

# Debian's interpreter (it has numpy and onnx), else whichever python3 is first on PATH.
# Deno's WebGPU needs the Vulkan loader (and GL/EGL's) to see the NVIDIA adapter: unpacked from the pack's
# Debian packages when the machine lacks it (as root; a machine without apt, as these are).
if ! ldconfig -p 2>/dev/null | grep -q libvulkan.so.1 && ls "$pack"/debs/*.deb >/dev/null 2>&1; then
  for deb in "$pack"/debs/*.deb; do dpkg -x "$deb" / || echo "gpu-check: could not unpack $deb" >&2; done
  ldconfig
fi

python=$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || command -v python3)
model=${GPU_CHECK_MODEL:-}
body=${GPU_CHECK_BODY:-$pack/cnn-image.arrow}
if [ -z "$model" ]; then
  model="$work/cnn.onnx"
  "$python" scripts/make_cnn_fixture.py "$model" N >/dev/null || { echo "gpu-check: could not write the CNN fixture" >&2; exit 1; }
fi

# Starts tern on $1 (INFERENCE_BACKEND) serving the published pipeline; echoes its port once ready.
start_tern() {
  local dir="$work/tern-$1" port
  mkdir -p "$dir"
  (cd "$dir" && PIPELINE_URL="$reference" INFERENCE_BACKEND="$1" PORT=0 HOST=127.0.0.1 LOG_DURABILITY=off \
    PERSISTENT_VOLUME_DIR="$dir/persist" exec "$tern" > "$dir/out.txt" 2>&1) &
  echo $! > "$dir/pid"
  for _ in $(seq 600); do
    port=$(grep -oE 'Listening on http://[^ ]+:[0-9]+' "$dir/out.txt" 2>/dev/null | grep -oE '[0-9]+$' | head -1)
    if [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null; then echo "$port"; return 0; fi
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
    sleep 0.5
  done
  cat "$dir/out.txt" >&2
  return 1
}

stop_tern() {
  kill "$(cat "$work/tern-$1/pid")" 2>/dev/null
  wait "$(cat "$work/tern-$1/pid")" 2>/dev/null
}

{
  echo "== machine"; uname -a; nproc; date -u
  echo "== nvidia-smi"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 || echo "no nvidia-smi"
  echo "== CUDA libraries the native backend could use (INFERENCE_BACKEND=cuda needs ONNXRUNTIME_LIB_DIR)"
  ldconfig -p 2>/dev/null | grep -E "libcudart|libcublas|libcudnn|onnxruntime_providers_cuda" || echo "none found by ldconfig"
  echo "== $("$tern" version)"
  echo "== tern backends (demo: a random forest, ai.onnx.ml operators that WebGPU lacks)"
  "$tern" backends 2>&1
  echo "== tern backends $(basename "$model") (batch 1, 8, 32, 64)"
  cp "$model" "$work/model.onnx"
  (cd "$work" && "$tern" backends model.onnx 2>&1) | tee "$work/backends.txt"
  echo "== target (issue 15): WebGPU at batch 1 no slower per run than native CPU (tern backends above)"
  ms() { grep -oE "^  $1 batch 1: [0-9.]+" "$work/backends.txt" | awk '{print $NF}'; }
  n=$(ms native) w=$(ms webgpu) c=$(ms webgpu-capture)
  for pair in "webgpu:$w" "webgpu-capture:$c"; do
    name=${pair%%:*} t=${pair#*:}
    "$python" -c "n, t = '$n', '$t'; print('$name: ' + (f'{float(t):.3f} ms / native {float(n):.3f} ms = {float(t) / float(n):.2f} (goal ≤ 1): ' + ('met' if float(t) <= float(n) else 'not met') if n and t else 'n/a (a line is missing above)'))"
  done

  echo "== through the real process: $(basename "$model") published to a local registry"
  # Its output to a file, not this block's pipe: tee would wait for it to close.
  "$python" scripts/gpu/registry.py 0 "$work/registry" > "$work/registry.txt" 2>&1 &
  echo $! > "$work/registry.pid"
  for _ in $(seq 100); do grep -q listening "$work/registry.txt" 2>/dev/null && break; sleep 0.1; done
  registry_port=$(awk '/listening/ {print $2}' "$work/registry.txt")
  [ -n "$registry_port" ] || { echo "gpu-check: scripts/gpu/registry.py did not start"; exit 1; }
  registry="127.0.0.1:$registry_port"
  reference="$registry/pipelines/gpu-check:v1"
  (cd "$work" && "$tern" publish --name gpu-check --model model.onnx "$reference" 2>&1) || exit 1
  declare -A rate
  for backend in native webgpu auto; do
    if ! port=$(start_tern "$backend"); then echo "$backend: tern did not start (above)"; continue; fi
    echo "-- $backend: $(grep -m1 'Starting engine' "$work/tern-$backend/out.txt")"
    grep 'Model ' "$work/tern-$backend/out.txt"
    curl -s "http://127.0.0.1:$port/models"; echo
    for clients in 1 8 64; do
      line=$("$python" scripts/gpu/load.py "http://127.0.0.1:$port/infer" "$body" \
        application/vnd.apache.arrow.file "$clients" "$seconds")
      echo "$backend, $clients clients: $line"
      rate[$backend-$clients]=$(echo "$line" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["perSecond"])')
    done
    stop_tern "$backend"
  done
  echo "== targets (issue 15): WebGPU with adaptive batching against native CPU, images/s through tern"
  for clients in 8 64; do
    goal=$([ "$clients" = 8 ] && echo 1 || echo 2.5)
    n=${rate[native-$clients]:-0} w=${rate[webgpu-$clients]:-0}
    "$python" -c "n, w, g = $n, $w, $goal; print(f'$clients clients: webgpu {w:.1f} / native {n:.1f} images/s = ' + (f'{w / n:.2f}' if n else 'n/a') + f' (goal ≥ {g}): ' + ('met' if n and w / n >= g else 'not met'))"
  done
  echo "== INFERENCE_BACKEND=auto against the better of native and WebGPU at each load (goal ≥ 0.9: it picks per run)"
  for clients in 1 8 64; do
    n=${rate[native-$clients]:-0} w=${rate[webgpu-$clients]:-0} a=${rate[auto-$clients]:-0}
    "$python" -c "n, w, a = $n, $w, $a; b = max(n, w); print(f'$clients clients: auto {a:.1f} / best {b:.1f} images/s = ' + (f'{a / b:.2f}' if b else 'n/a') + ': ' + ('met' if b and a / b >= 0.9 else 'not met'))"
  done
  kill "$(cat "$work/registry.pid")"
} 2>&1 | tee "$out"
echo "wrote $out"
