import type { ModelSession } from "../../src/engine/backend.ts";
import { createOrtNativeBackend } from "../../src/engine/ort_native.ts";
import { createPlacedBackend } from "../../src/engine/off_thread.ts";
import { classifyAdapter, createWebGpuBackend, gpuDevicesPresent, probeWebGpu } from "../../src/engine/webgpu.ts";
import { createCapturedWebGpuBackend } from "../../src/engine/webgpu_capture.ts";
import { DEMO_MODEL_URL } from "../../src/pipeline/demo.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "../support/assert.ts";
import { cnnFeeds, cnnModelPath } from "../support/cnn.ts";
import { timerTicksDuring } from "../support/timer_ticks.ts";
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
    assertMatch(empty.stderr, new RegExp(`ONNXRUNTIME_LIB_DIR='${dir}' holds no libonnxruntime.so.1 \\(NotFound\\)`));
    // Under auto too: a folder without onnxruntime would only have dropped native for WASM.
    assertEquals((await runTern([], { ONNXRUNTIME_LIB_DIR: dir, PORT: "0" })).code, 2);
    await Deno.writeFile(`${dir}/libonnxruntime.so.1`, new Uint8Array());
    const cpuOnly = await runTern([], { INFERENCE_BACKEND: "cuda", ONNXRUNTIME_LIB_DIR: dir, PORT: "0" });
    assertEquals(cpuOnly.code, 2);
    assertMatch(cpuOnly.stderr, new RegExp(`ONNXRUNTIME_LIB_DIR=${dir} has no libonnxruntime_providers_cuda.so`));
  } finally {
    await Deno.remove(dir, { recursive: true });
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

const adapter = (await probeWebGpu()).adapter;

Deno.test({
  name:
    "WebGPU (here on the software adapter, WEBGPU_ALLOW_SOFTWARE) gives native's outputs on the CNN; the forest needs ops it lacks",
  ignore: !adapter, // no WebGPU adapter at all: nothing to run on
  // onnxruntime-web's runtime lives as long as the process (see ortTest).
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const webgpu = await createWebGpuBackend({ allowSoftwareAdapter: true });
    const native = await createOrtNativeBackend({ threads: 2 });

    const cnn = await Deno.readFile(await cnnModelPath());
    const outs = [];
    for (const backend of [native, webgpu]) {
      const session = await backend.load(cnn, "cnn");
      try {
        assertEquals(session.backend, backend.name);
        const out = await session.run(cnnFeeds());
        outs.push({ probs: out.probs.data as Float32Array, top: (out.class.data as BigInt64Array)[0] });
      } finally {
        await session.release();
      }
    }
    // Nearly uniform probabilities (random weights): compare against their spread.
    const spread = Math.max(...outs[0].probs) - Math.min(...outs[0].probs);
    let worst = 0;
    for (let i = 0; i < 1001; i++) worst = Math.max(worst, Math.abs(outs[0].probs[i] - outs[1].probs[i]));
    assert(worst <= spread * 1e-2, `webgpu and native differ by up to ${worst} (spread ${spread})`);
    assertEquals(outs[1].top, outs[0].top);

    const fixture = await webgpu.load(
      await Deno.readFile(new URL("../testdata/batch1_multi_output.onnx", import.meta.url)),
      "fixture",
    );
    try {
      const out = await fixture.run({ x: { type: "float32", data: new Float32Array([0.5, 3, -1, 2]), dims: [1, 4] } });
      assertEquals([Array.from(out.y.data as Float32Array), Array.from(out.top.data as BigInt64Array)], [
        [1, 6, -2, 4],
        [1n],
      ]);
    } finally {
      await fixture.release();
    }

    await assertRejects(
      () => webgpu.load(Deno.readFileSync(DEMO_MODEL_URL), "demo"),
      /onnxruntime-web \(webgpu\) could not load it/,
    );
  },
});

Deno.test({
  name:
    "WebGPU: a slow model runs in a worker thread (and on a GPU device) of its own, the serving thread's timers fire during its runs; through a worker the outputs are the same",
  ignore: !adapter,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const options = { allowSoftwareAdapter: true };
    const inProcess = await createWebGpuBackend(options);
    const placed = (minMs?: number) => createPlacedBackend(inProcess, { kind: "webgpu", options }, { minMs });
    // The CNN takes about 2 s a run on the software adapter; told a time to beat, the worker stops timing after two.
    const cnn = await placed().load(await Deno.readFile(await cnnModelPath()), "cnn", 1);
    const multi = await Deno.readFile(new URL("../testdata/batch1_multi_output.onnx", import.meta.url));
    const through = await placed(0).load(multi, "multi"); // 0 ms: every model off the serving thread
    const plain = await inProcess.load(multi, "multi");
    try {
      assertEquals([cnn.backend, cnn.offThread, through.offThread], ["webgpu", true, true]);
      const { value: out, ticks } = await timerTicksDuring(() => cnn.run(cnnFeeds()));
      assertEquals(out.probs.dims, [1, 1001]);
      // Deno's WebGPU waits for the GPU on the thread that reads back: on the serving thread, a 2 s run let no 1 ms
      // timer fire.
      assert(ticks >= 10, `only ${ticks} timer ticks during a ${cnn.runMs} ms run`);
      const feeds = { x: { type: "float32" as const, data: new Float32Array([0.5, 3, -1, 2]), dims: [1, 4] } };
      assertEquals(await through.run(feeds), await plain.run(feeds));
    } finally {
      await cnn.release();
      await through.release();
      await plain.release();
    }
  },
});

/** A WebGPU session (the software adapter allowed) of a model in tests/testdata. */
async function webgpuSession(file: string): Promise<ModelSession> {
  const webgpu = await createWebGpuBackend({ allowSoftwareAdapter: true });
  return await webgpu.load(await Deno.readFile(new URL(`../testdata/${file}`, import.meta.url)), file);
}

/**
 * Puts `wrap` around Deno's own GPUBuffer.mapAsync (every GPU readback); `wrap` calls the original through the
 * function it is given. Returns the function that puts the original back.
 */
function aroundMapAsync(wrap: (mapAsync: () => Promise<undefined>) => Promise<undefined>): () => void {
  const proto = (globalThis as unknown as { GPUBuffer: { prototype: GPUBuffer } }).GPUBuffer.prototype;
  const mapAsync = proto.mapAsync;
  proto.mapAsync = function (this: GPUBuffer, ...args: Parameters<GPUBuffer["mapAsync"]>) {
    return wrap(() => mapAsync.apply(this, args));
  };
  return () => proto.mapAsync = mapAsync;
}

Deno.test({
  name: "WebGPU reads a run's outputs back together: Deno resolves each readback 10 ms after the GPU is done at best",
  ignore: !adapter,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const fixture = await webgpuSession("batch1_multi_output.onnx");
    // Counts the readbacks in flight at once.
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    const restore = aroundMapAsync(async (mapAsync) => {
      calls++;
      most = Math.max(most, ++inFlight);
      try {
        return await mapAsync();
      } finally {
        inFlight--;
      }
    });
    try {
      for (let i = 0; i < 3; i++) {
        const x = new Float32Array([0.5, 3, -1, 2 + i * 5]);
        const out = await fixture.run({ x: { type: "float32", data: x, dims: [1, 4] } });
        assertEquals(Array.from(out.y.data as Float32Array), Array.from(x, (v) => v * 2));
        assertEquals(Array.from(out.top.data as BigInt64Array), [i === 0 ? 1n : 3n]);
      }
      assertEquals(calls, 6, "one readback per output per run");
      assertEquals(most, 2, "the two outputs of a run are read back at the same time");
    } finally {
      restore();
      await fixture.release();
    }
  },
});

Deno.test({
  name: "WebGPU computes the next run while the last one's outputs are read back; each run gets its own outputs",
  ignore: !adapter,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const fixture = await webgpuSession("batch1_multi_output.onnx");
    // The first readback is held until the other runs' readbacks have started (or 10 s have passed): they can only
    // start if those runs were computed meanwhile.
    const RUNS = 4;
    let calls = 0;
    let heldUntil = "";
    let othersStarted!: () => void;
    const others = new Promise<void>((resolve) => othersStarted = resolve);
    const restore = aroundMapAsync(async (mapAsync) => {
      const call = ++calls;
      if (call === 2 * RUNS) othersStarted();
      if (call === 1) {
        let timer: number | undefined;
        heldUntil = await Promise.race([
          others.then(() => "the others started" as const),
          new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), 10_000)),
        ]);
        clearTimeout(timer);
      }
      return await mapAsync();
    });
    try {
      const inputs = Array.from({ length: RUNS }, (_, i) => new Float32Array([i, 3, -1, 2 * i]));
      const outs = await Promise.all(
        inputs.map((x) => fixture.run({ x: { type: "float32", data: x, dims: [1, 4] } })),
      );
      assertEquals(calls, 2 * RUNS);
      for (const [i, out] of outs.entries()) {
        assertEquals(Array.from(out.y.data as Float32Array), Array.from(inputs[i], (v) => v * 2), `run ${i}`);
        const top = inputs[i].indexOf(Math.max(...inputs[i]));
        assertEquals(Array.from(out.top.data as BigInt64Array), [BigInt(top)], `run ${i}`);
      }
      assertEquals(heldUntil, "the others started", "the other runs were computed while the first's readback waited");
    } finally {
      restore();
      await fixture.release();
    }
  },
});

Deno.test({
  name: "WebGPU serves a model with an output type ort-web cannot leave on the GPU (float64) beside one it can",
  ignore: !adapter,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const session = await webgpuSession("mixed_outputs.onnx");
    try {
      const out = await session.run({
        a: { type: "float64", data: new Float64Array([1.5, -2, 1e300, 0.1]), dims: [2, 2] },
        b: { type: "float32", data: new Float32Array([1, 2, 3, 4]), dims: [2, 2] },
      });
      assertEquals(out.a2.type, "float64");
      assertEquals([Array.from(out.a2.data as Float64Array), out.a2.dims], [[1.5, -2, 1e300, 0.1], [2, 2]]);
      assertEquals([Array.from(out.b2.data as Float32Array), out.b2.dims], [[2, 4, 6, 8], [2, 2]]);
    } finally {
      await session.release();
    }
  },
});

Deno.test({
  name:
    "WebGPU graph capture (measured by tern backends): replays follow each run's new inputs, with a plain WebGPU session's runs in between; another shape is refused by name",
  ignore: !adapter,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const captured = await (await createCapturedWebGpuBackend({ allowSoftwareAdapter: true })).load(
      await Deno.readFile(new URL("../testdata/batch1_multi_output.onnx", import.meta.url)),
      "batch1_multi_output.onnx",
    );
    // On ort-web's default device, such runs in between made a captured session's next output its run before's;
    // the captured session has a device of its own.
    const plain = await webgpuSession("batch1_multi_output.onnx");
    try {
      assertEquals(captured.backend, "webgpu-capture");
      // The first runs warm up and capture; the later ones replay the captured commands on the new inputs.
      for (let i = 0; i < 4; i++) {
        const x = new Float32Array([0.5, 3, -1, 2 + i * 5]);
        const out = await captured.run({ x: { type: "float32", data: x, dims: [1, 4] } });
        assertEquals(Array.from(out.y.data as Float32Array), Array.from(x, (v) => v * 2), `run ${i}`);
        assertEquals(Array.from(out.top.data as BigInt64Array), [i === 0 ? 1n : 3n], `run ${i}`);
        await plain.run({ x: { type: "float32", data: new Float32Array([9, 8, 7, 6]), dims: [1, 4] } });
      }
      await assertRejects(
        () => captured.run({ x: { type: "float32", data: new Float32Array(8), dims: [2, 4] } }),
        /a captured graph runs the input shape of its first run: 'x' was \[1,4\], now \[2,4\]/,
      );
    } finally {
      await captured.release();
      await plain.release();
    }
  },
});

Deno.test({
  name: "WebGPU graph capture refuses a model with operators WebGPU lacks, naming the model",
  ignore: !adapter,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const backend = await createCapturedWebGpuBackend({ allowSoftwareAdapter: true });
    const demo = await Deno.readFile(DEMO_MODEL_URL);
    await assertRejects(() => backend.load(demo, "demo"), /model demo: WebGPU graph capture could not load it: /);
  },
});
