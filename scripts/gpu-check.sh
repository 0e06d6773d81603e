#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: report what tern's GPU paths would find, and run the
# backend part of the bench. Output goes to bench/gpu-check-<date>.txt (commit it).
#   bash scripts/gpu-check.sh
# Needs: deno 2.7.11 (npx -y deno@2.7.11 works), /usr/bin/python3 with python3-onnx for the CNN fixture.
set -uo pipefail
cd "$(dirname "$0")/.."
export DENO_TLS_CA_STORE=${DENO_TLS_CA_STORE:-mozilla,system}
out="bench/gpu-check-$(date -u +%Y%m%dT%H%M%SZ).txt"
mkdir -p bench
{
  echo "== machine"; uname -a; nproc
  echo "== nvidia-smi"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 || echo "no nvidia-smi"
  echo "== CUDA libraries the native backend could use"
  ldconfig -p 2>/dev/null | grep -E "libcudart|libcublas|libcudnn|onnxruntime_providers_cuda" || echo "none found by ldconfig"
  echo "== WebGPU adapter seen by Deno (software adapters such as llvmpipe are never used)"
  deno eval --unstable-webgpu 'const a = await navigator.gpu?.requestAdapter(); console.log(a ? JSON.stringify({ fallback: a.isFallbackAdapter, info: a.info }) : "no adapter")' 2>&1
  echo "== tern backends on the demo (auto picks per model; the log shows the warm-up figures)"
  timeout 60 deno task --quiet tern --port 0 --log-durability off 2>&1 &
  pid=$!; sleep 15; kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  echo "== INFERENCE_BACKEND=cuda"
  timeout 60 deno task --quiet tern --port 0 --inference-backend cuda --log-durability off 2>&1 &
  pid=$!; sleep 15; kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  echo "== WebGPU and CUDA against native on the CNN and a small graph (tests)"
  deno test -A tests/engine/gpu_backends_test.ts tests/e2e/webgpu_test.ts 2>&1 | tail -15
  echo "== bench (BENCH_SECONDS=${BENCH_SECONDS:-3}; CNN lines on webgpu when a hardware adapter is found, cuda with ONNXRUNTIME_LIB_DIR)"
  BENCH_SECONDS=${BENCH_SECONDS:-3} deno task --quiet bench 2>&1 | tail -40
} 2>&1 | tee "$out"
echo "wrote $out"
