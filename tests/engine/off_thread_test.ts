import { BadInput } from "../../src/errors.ts";
import { createPlacedBackend, createPlacedNativeBackend } from "../../src/engine/off_thread.ts";
import { createOrtNativeBackend } from "../../src/engine/ort_native.ts";
import { WARM_UP_MODEL } from "../../src/engine/warm_up_model.ts";
import { DEMO_MODEL_URL } from "../../src/pipeline/demo.ts";
import { assert, assertEquals, assertRejects } from "../support/assert.ts";
import { loadReference, maxRelativeError } from "../support/reference.ts";
import { ortTest, wasmBackend } from "../support/backend.ts";
import { timerTicksDuring } from "../support/timer_ticks.ts";

const SLOW = new URL("../testdata/slow_matmul.onnx", import.meta.url);
const MULTI = new URL("../testdata/batch1_multi_output.onnx", import.meta.url);
const ref = loadReference();

/** ort-web's WASM runtime, placed as INFERENCE_BACKEND=wasm places it (select.ts). */
function placedWasm(minMs?: number) {
  return createPlacedBackend(wasmBackend(), { kind: "wasm", options: { threads: 2 } }, { minMs });
}

const SLOW_RUNS = [
  // onnxruntime-node runs a model synchronously on the thread that calls it.
  { runtime: "native", placed: () => createPlacedNativeBackend({ threads: 2 }), beatMs: undefined },
  // ort-web computes on the thread that calls it. slow_matmul takes about 1 s a run on WASM here; told a time to
  // beat, the worker stops timing after two runs.
  { runtime: "wasm", placed: () => placedWasm(), beatMs: 1 },
];

for (const { runtime, placed, beatMs } of SLOW_RUNS) {
  ortTest(
    `${runtime}: a slow model runs in a worker thread of its own, and the serving thread's timers fire during its runs`,
    async () => {
      const session = await (await placed()).load(await Deno.readFile(SLOW), "slow", beatMs);
      try {
        assertEquals([session.backend, session.offThread], [runtime, true]);
        assert(session.runMs! >= 50, `runMs ${session.runMs}`);
        const { value: out, ticks } = await timerTicksDuring(() =>
          session.run({ x: { type: "float32", data: new Float32Array([2]), dims: [1, 1] } })
        );
        assertEquals(Array.from(out.s.data as Float32Array), [2 * 1024 * 1024]);
        // On the serving thread a run of ≥ 50 ms would let no 1 ms timer fire meanwhile.
        assert(ticks >= 10, `only ${ticks} timer ticks during a ${session.runMs} ms run`);
      } finally {
        await session.release();
      }
    },
  );
}

ortTest("a fast model runs on the serving thread, with the same outputs as the plain native backend", async () => {
  const backend = await createPlacedNativeBackend({ threads: 2 });
  const session = await backend.load(await Deno.readFile(DEMO_MODEL_URL), "demo");
  try {
    assertEquals([session.backend, session.offThread], ["native", false]);
    assert(session.runMs! < 50);
    const feeds = { tensor: { type: "float32" as const, data: new Float32Array(ref.inputs.flat()), dims: [1000, 18] } };
    const out = await session.run(feeds);
    assert(maxRelativeError(out.variable.data as Float32Array, ref.predictions) <= 1e-4);
  } finally {
    await session.release();
  }
});

ortTest(
  "through the worker thread: int64 and float outputs arrive intact, a rejected input is still a 400",
  async () => {
    const backend = await createPlacedNativeBackend({ threads: 1 }, 0); // every model off the serving thread
    const plain = await (await createOrtNativeBackend({ threads: 1 })).load(await Deno.readFile(MULTI), "multi");
    const session = await backend.load(await Deno.readFile(MULTI), "multi");
    try {
      assertEquals(session.offThread, true);
      assertEquals(session.inputs, plain.inputs);
      assertEquals(session.outputs, plain.outputs);
      const feeds = { x: { type: "float32" as const, data: new Float32Array([0.5, 3, -1, 2]), dims: [1, 4] } };
      assertEquals(await session.run(feeds), await plain.run(feeds));
      const wrong = { x: { type: "float32" as const, data: new Float32Array([1, 2]), dims: [1, 2] } };
      await assertRejects(() => session.run(wrong), BadInput);
      await assertRejects(() => session.run(wrong), /the model rejected the input/);
    } finally {
      await session.release();
      await plain.release();
    }
  },
);

ortTest("a model that refuses the warm-up's zeros still loads, and serves on the serving thread", async () => {
  const backend = await createPlacedNativeBackend({ threads: 1 });
  const session = await backend.load(await Deno.readFile(new URL("../testdata/pairs.onnx", import.meta.url)), "pairs");
  try {
    assertEquals([session.offThread, session.runMs], [false, undefined]);
    const out = await session.run({ x: { type: "float32", data: new Float32Array([1, 2, 3, 4]), dims: [1, 4] } });
    assertEquals([Array.from(out.y.data as Float32Array), out.y.dims], [[1, 2, 3, 4], [2, 2]]);
  } finally {
    await session.release();
  }
});

ortTest(
  "prewarm: loads after it are served as without it, a slow model off the serving thread and a fast one on it",
  async () => {
    const backend = await createPlacedNativeBackend({ threads: 1 });
    backend.prewarm!();
    backend.prewarm!(); // a second call starts no second worker; the loads below would leave it running
    const slow = await backend.load(await Deno.readFile(SLOW), "slow");
    const fast = await backend.load(await Deno.readFile(DEMO_MODEL_URL), "demo");
    try {
      assertEquals([slow.offThread, fast.offThread], [true, false]);
      const out = await slow.run({ x: { type: "float32", data: new Float32Array([3]), dims: [1, 1] } });
      assertEquals(Array.from(out.s.data as Float32Array), [3 * 1024 * 1024]);
    } finally {
      await slow.release();
      await fast.release();
    }
  },
);

ortTest("the warm-up model a prewarmed worker opens is a valid model: y = x", async () => {
  const session = await (await createOrtNativeBackend({ threads: 1 })).load(WARM_UP_MODEL, "warm-up");
  try {
    const out = await session.run({ x: { type: "float32", data: new Float32Array([4.5]), dims: [1] } });
    assertEquals(Array.from(out.y.data as Float32Array), [4.5]);
  } finally {
    await session.release();
  }
});

ortTest("WASM: a fast model runs on the serving thread; through a worker the outputs are the same", async () => {
  const bytes = await Deno.readFile(MULTI);
  const fast = await placedWasm().load(bytes, "multi");
  const through = await placedWasm(0).load(bytes, "multi"); // 0 ms: every model off the serving thread
  try {
    assertEquals([fast.offThread, through.offThread], [false, true]);
    assert(fast.runMs! < 50);
    const feeds = { x: { type: "float32" as const, data: new Float32Array([0.5, 3, -1, 2]), dims: [1, 4] } };
    assertEquals(await through.run(feeds), await fast.run(feeds));
    const wrong = { x: { type: "float32" as const, data: new Float32Array([1, 2]), dims: [1, 2] } };
    await assertRejects(() => through.run(wrong), BadInput);
  } finally {
    await fast.release();
    await through.release();
  }
});
