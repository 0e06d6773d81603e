import { createOrtNativeBackend } from "../../src/engine/ort_native.ts";
import { autoBackend, NATIVE_ENOUGH_MS } from "../../src/engine/select.ts";
import { createPlacedNativeBackend } from "../../src/engine/off_thread.ts";
import { DEMO_MODEL_URL } from "../../src/pipeline/demo.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { ortTest, wasmBackend } from "../support/backend.ts";
import { loadReference, maxRelativeError } from "../support/reference.ts";
import { cnnFeeds, cnnModelPath } from "../support/cnn.ts";

const ref = loadReference();

ortTest("native and WASM backends give the same outputs on the demo forest (and match scikit-learn)", async () => {
  const bytes = await Deno.readFile(DEMO_MODEL_URL);
  const feeds = { tensor: { type: "float32" as const, data: new Float32Array(ref.inputs.flat()), dims: [1000, 18] } };
  const outputs = [];
  for (const backend of [await createOrtNativeBackend({ threads: 2 }), wasmBackend()]) {
    const session = await backend.load(bytes, "demo");
    try {
      assertEquals(session.backend, backend.name);
      outputs.push(Array.from((await session.run(feeds)).variable.data as Float32Array));
    } finally {
      await session.release();
    }
  }
  assert(maxRelativeError(outputs[0], ref.predictions) <= 1e-4);
  assert(maxRelativeError(outputs[0], outputs[1]) <= 1e-6, "native and wasm differ");
});

ortTest("native and WASM give the same outputs on the ResNet-50-shaped CNN: probabilities and class", async () => {
  const bytes = await Deno.readFile(await cnnModelPath());
  const results = [];
  for (const backend of [await createOrtNativeBackend({ threads: 2 }), wasmBackend()]) {
    const session = await backend.load(bytes, "cnn");
    try {
      const out = await session.run(cnnFeeds());
      assertEquals([out.probs.dims, out.class.dims], [[1, 1001], [1]]);
      results.push({ probs: out.probs.data as Float32Array, top: (out.class.data as BigInt64Array)[0] });
    } finally {
      await session.release();
    }
  }
  const [native, wasm] = results;
  const sum = native.probs.reduce((a, b) => a + b, 0);
  assert(Math.abs(sum - 1) < 1e-3, `softmax sums to ${sum}`);
  // Random weights make the probabilities nearly uniform (≈ 1/1001 each), so the tolerance is a
  // fraction of their spread, not of their size: measured, the backends differ by about 1 ulp.
  const spread = Math.max(...native.probs) - Math.min(...native.probs);
  let worst = 0;
  for (let i = 0; i < 1001; i++) worst = Math.max(worst, Math.abs(native.probs[i] - wasm.probs[i]));
  assert(worst <= spread * 1e-3, `native and wasm probabilities differ by up to ${worst} (spread ${spread})`);
  assertEquals(wasm.top, native.top);
  assertEquals(native.top, BigInt(native.probs.indexOf(Math.max(...native.probs))));
});

ortTest("native and WASM agree on a Mul + ArgMax graph with an int64 output (batch-1 fixture)", async () => {
  const bytes = await Deno.readFile(new URL("../testdata/batch1_multi_output.onnx", import.meta.url));
  const feeds = { x: { type: "float32" as const, data: new Float32Array([0.5, 3, -1, 2]), dims: [1, 4] } };
  const results = [];
  for (const backend of [await createOrtNativeBackend({ threads: 1 }), wasmBackend()]) {
    const session = await backend.load(bytes, "fixture");
    try {
      const out = await session.run(feeds);
      results.push([Array.from(out.y.data as Float32Array), Array.from(out.top.data as BigInt64Array)]);
    } finally {
      await session.release();
    }
  }
  assertEquals(results[0], [[1, 6, -2, 4], [1n]]);
  assertEquals(results[1], results[0]);
});

ortTest(
  "auto keeps the faster backend for a model that takes milliseconds, and reports every warm-up figure",
  async () => {
    const lines: string[] = [];
    const auto = autoBackend([await createOrtNativeBackend({ threads: 2 }), wasmBackend()], (l) => lines.push(l));
    const session = await auto.load(await Deno.readFile(await cnnModelPath()), "cnn");
    try {
      const figures = session.warmupMs!;
      assertEquals(Object.keys(figures).sort(), ["native", "wasm"]);
      assert(figures.native >= NATIVE_ENOUGH_MS, `the CNN took ${figures.native} ms a run on native`);
      const fastest = Object.entries(figures).sort((a, b) => a[1] - b[1])[0][0];
      assertEquals(session.backend, fastest);
      assert(lines.some((l) => l.includes(`chose ${fastest}`)), lines.join("\n"));
    } finally {
      await session.release();
    }
  },
);

ortTest(
  "auto keeps a model native runs in under a millisecond on native, and says the others were not timed",
  async () => {
    const lines: string[] = [];
    const auto = autoBackend([await createOrtNativeBackend({ threads: 2 }), wasmBackend()], (l) => lines.push(l));
    const session = await auto.load(await Deno.readFile(DEMO_MODEL_URL), "demo");
    try {
      assertEquals(session.backend, "native");
      assertEquals(Object.keys(session.warmupMs!), ["native"]);
      assert(session.warmupMs!.native < NATIVE_ENOUGH_MS);
      assert(lines.some((l) => /chose native \(under 1 ms a run: wasm not timed\)/.test(l)), lines.join("\n"));
    } finally {
      await session.release();
    }
  },
);

ortTest(
  "auto loads a model that refuses the warm-up's zeros, untimed, on the first runtime that loads it (native)",
  async () => {
    const lines: string[] = [];
    const auto = autoBackend([await createPlacedNativeBackend({ threads: 1 }), wasmBackend()], (l) => lines.push(l));
    const session = await auto.load(await Deno.readFile(new URL("../testdata/pairs.onnx", import.meta.url)), "pairs");
    try {
      assertEquals(session.backend, "native");
      const out = await session.run({ x: { type: "float32", data: new Float32Array([1, 2, 3, 4]), dims: [1, 4] } });
      assertEquals([Array.from(out.y.data as Float32Array), out.y.dims], [[1, 2, 3, 4], [2, 2]]);
      assert(lines.some((l) => /backend native not timed: the model rejected the input/.test(l)), lines.join("\n"));
      assert(
        lines.some((l) => /warm-up median per run native untimed, wasm untimed; chose native/.test(l)),
        lines.join("\n"),
      );
    } finally {
      await session.release();
    }
  },
);

ortTest("auto skips a backend that cannot load a model and says why", async () => {
  const lines: string[] = [];
  const broken = { name: "broken", description: "always fails", load: () => Promise.reject(new Error("no such op")) };
  const auto = autoBackend([broken, wasmBackend()], (l) => lines.push(l));
  const session = await auto.load(await Deno.readFile(DEMO_MODEL_URL), "demo");
  try {
    assertEquals(session.backend, "wasm");
    assert(lines.some((l) => /backend broken skipped: no such op/.test(l)));
  } finally {
    await session.release();
  }
});
