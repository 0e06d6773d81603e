import { classifyAdapter } from "../../src/engine/webgpu.ts";
import { assertEquals, assertMatch } from "../support/assert.ts";
import { runTern } from "../support/tern_process.ts";

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

Deno.test("INFERENCE_BACKEND=webgpu without a hardware adapter stops start-up naming why", async () => {
  const out = await runTern([], { INFERENCE_BACKEND: "webgpu", PORT: "0", LOG_DURABILITY: "off" });
  assertEquals(out.code, 2, out.stderr);
  assertMatch(
    out.stderr,
    /INFERENCE_BACKEND=webgpu: WebGPU unavailable: (only a software adapter|no WebGPU adapter|this runtime has no WebGPU)/,
  );
});
