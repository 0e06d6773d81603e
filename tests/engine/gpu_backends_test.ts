import { classifyAdapter, gpuDevicesPresent, probeWebGpu } from "../../src/engine/webgpu.ts";
import { assertEquals, assertMatch } from "../support/assert.ts";
import { runTern, startTern } from "../support/tern_process.ts";

Deno.test("software WebGPU adapters are never used; hardware ones are", () => {
  for (
    const info of [{ device: "llvmpipe (LLVM 15.0.6, 256 bits)" }, { description: "lavapipe" }, {
      vendor: "Google",
      description: "SwiftShader Device",
    }]
  ) {
    assertEquals(classifyAdapter(info).usable, false, JSON.stringify(info));
  }
  assertEquals(classifyAdapter({ vendor: "mesa" }, true).usable, false, "isFallbackAdapter");
  const h100 = classifyAdapter({ vendor: "nvidia", architecture: "hopper", device: "NVIDIA H100 80GB HBM3" });
  assertEquals(h100.usable, true);
  assertMatch(h100.description, /NVIDIA H100/);
});

Deno.test({
  name: "INFERENCE_BACKEND=webgpu without a hardware adapter stops start-up naming why",
  // On a machine with a real GPU, tern would (rightly) start.
  ignore: gpuDevicesPresent() && (await probeWebGpu()).usable,
}, async () => {
  const out = await runTern([], { INFERENCE_BACKEND: "webgpu", PORT: "0", LOG_DURABILITY: "off" });
  assertEquals(out.code, 2, out.stderr);
  assertMatch(
    out.stderr,
    /INFERENCE_BACKEND=webgpu: WebGPU unavailable: (only a software adapter|no WebGPU adapter|this runtime has no WebGPU)/,
  );
});

Deno.test("INFERENCE_BACKEND=cuda without CUDA provider libraries stops start-up naming the setting", async () => {
  const none = await runTern([], { INFERENCE_BACKEND: "cuda", PORT: "0", LOG_DURABILITY: "off" });
  assertEquals(none.code, 2, none.stderr);
  assertMatch(none.stderr, /CUDA unavailable: .*set ONNXRUNTIME_LIB_DIR/);
  const dir = await Deno.makeTempDir();
  try {
    const empty = await runTern([], { INFERENCE_BACKEND: "cuda", ONNXRUNTIME_LIB_DIR: dir, PORT: "0" });
    assertEquals(empty.code, 2);
    assertMatch(empty.stderr, new RegExp(`ONNXRUNTIME_LIB_DIR=${dir} has no libonnxruntime_providers_cuda.so`));
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("auto reports a missing CUDA provider and serves on what it has", async () => {
  const tern = await startTern({ env: { LOG_DURABILITY: "off" } });
  try {
    assertMatch(tern.output(), /Backend cuda not used: CUDA unavailable: onnxruntime-node ships CPU libraries only/);
    assertMatch(tern.output(), /chose (native|wasm)/);
  } finally {
    await tern.stop();
  }
});
