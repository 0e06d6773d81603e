/**
 * `tern backends`: every runtime on one model at the batch sizes adaptive batching forms, with outputs compared
 * to native's; what is not available says why. Through the real process (and dist/tern with TERN_BIN: the
 * command a GPU machine without Deno is checked with).
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { runTern } from "../support/tern_process.ts";
import { probeWebGpu } from "../../src/engine/webgpu.ts";

const FIXED_BATCH_MODEL = new URL("../testdata/batch1_multi_output.onnx", import.meta.url);

const LINEAR_MODEL = new URL("../testdata/pipeline/linear.onnx", import.meta.url);

/**
 * `tern backends` on a copy of `url` named `name` in a temporary folder under /tmp (which tern may read), with
 * BATCH_MAX_ROWS 8 and the software WebGPU adapter allowed; the folder is gone when this returns.
 */
async function backendsOnCopy(url: URL, name: string, timeoutMs: number) {
  const dir = await Deno.makeTempDir({ prefix: "tern-backends-" });
  try {
    const model = `${dir}/${name}`;
    await Deno.copyFile(url, model);
    const out = await runTern(["backends", model, "--batch-max-rows", "8"], { WEBGPU_ALLOW_SOFTWARE: "true" }, {
      timeoutMs,
    });
    return { model, ...out };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `backend batch N` lines: backend → batch → [ms, rows/s, max |Δ|, mismatches]. */
function figures(stdout: string): Map<string, Map<number, number[]>> {
  const found = new Map<string, Map<number, number[]>>();
  for (
    const m of stdout.matchAll(
      /^ {2}([\w-]+) batch (\d+): ([\d.]+) ms per run, ([\d.]+) rows\/s, max \|Δ\| ([\d.e+-]+), (\d+) non-float/gm,
    )
  ) {
    if (!found.has(m[1])) found.set(m[1], new Map());
    found.get(m[1])!.set(Number(m[2]), [Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])]);
  }
  return found;
}

Deno.test("tern backends times native and WASM on the demo at batch 1, 8, 32 and 64, their outputs agree, and CUDA says why it is not there", async () => {
  const { code, stdout, stderr } = await runTern(["backends"], {}, { timeoutMs: 120_000 });
  assertEquals(code, 0, stderr);
  const found = figures(stdout);
  for (const backend of ["native", "wasm"]) {
    assertEquals([...found.get(backend)?.keys() ?? []], [1, 8, 32, 64], `${backend} lines:\n${stdout}`);
    for (const [batch, [ms, rowsPerSecond]] of found.get(backend)!) {
      // rows/s = batch / time per run, the time printed rounded to µs.
      const [low, high] = [batch * 1000 / (ms + 0.0005), batch * 1000 / Math.max(ms - 0.0005, 1e-9)];
      assert(ms > 0 && rowsPerSecond >= low * 0.999 && rowsPerSecond <= high * 1.001, `${backend} ${batch}: ${stdout}`);
    }
  }
  // The same random-forest regressor on two runtimes: the same prices, to float32 rounding of large values.
  for (const [, [, , maxAbsDiff, mismatches]] of found.get("wasm")!) {
    assert(maxAbsDiff < 1, `WASM's outputs differ from native's by ${maxAbsDiff}`);
    assertEquals(mismatches, 0);
  }
  assertMatch(stdout, /^cuda: not available: .*ONNXRUNTIME_LIB_DIR/m);
  assertMatch(stdout, /^WebGPU adapter: /m);
  assertMatch(stdout, /^fastest at batch 64: (native|wasm)$/m);
});

Deno.test("tern backends on a model file with a fixed batch of 1 measures that batch only; BATCH_MAX_ROWS bounds the sizes; WebGPU runs when allowed", async () => {
  const { model, code, stdout, stderr } = await backendsOnCopy(FIXED_BATCH_MODEL, "model.onnx", 120_000);
  assertEquals(code, 0, stderr);
  const found = figures(stdout);
  assertEquals([...found.get("native")!.keys()], [1], stdout);
  assertMatch(stdout, new RegExp(`^model ${model}: x float32 \\[1,4\\]`, "m"));
  // Float and int64 outputs, the same on every runtime that ran.
  for (const [backend, byBatch] of found) {
    assertEquals(byBatch.get(1)?.slice(2), [0, 0], `${backend}: ${stdout}`);
  }
  assert(found.has("webgpu") || /^webgpu: not available/m.test(stdout), stdout);
});

Deno.test("tern backends names a model file it cannot read and exits 1", async () => {
  const { code, stderr } = await runTern(["backends", "/tmp/no-such-model.onnx"]);
  assertEquals(code, 1);
  assertMatch(stderr, /no-such-model\.onnx/);
});

Deno.test("tern backends on a model no runtime can run says why for each and exits 1", async () => {
  const unloadable = new URL("../testdata/pipeline/unloadable.onnx", import.meta.url);
  const { code, stdout, stderr } = await backendsOnCopy(unloadable, "unloadable.onnx", 120_000);
  assertEquals(code, 1, stdout + stderr);
  assertMatch(stdout, /^native: not available: .*NoSuchOperator/m);
  assertMatch(stderr, /no runtime ran the model \(the lines above say why\)/);
});

Deno.test({
  name:
    "tern backends measures WebGPU with graph capture beside plain WebGPU, a session per batch size, outputs checked on two input sets; it is never named fastest",
  // No WebGPU adapter at all (not even a software one): nothing to measure.
  ignore: !(await probeWebGpu()).adapter,
  fn: async () => {
    const { code, stdout, stderr } = await backendsOnCopy(LINEAR_MODEL, "linear.onnx", 180_000);
    assertEquals(code, 0, stderr);
    assertMatch(
      stdout,
      /^webgpu-capture: onnxruntime-web [\d.]+ WebGPU with graph capture on .*one input shape per session/m,
    );
    const found = figures(stdout);
    for (const backend of ["webgpu", "webgpu-capture"]) {
      assertEquals([...found.get(backend)?.keys() ?? []], [1, 8], `${backend} lines:\n${stdout}`);
      // Prices in the hundreds of thousands: float32 rounding differs by runtime, a stale output by far more.
      for (const [batch, [, , maxAbsDiff, mismatches]] of found.get(backend)!) {
        assert(maxAbsDiff < 1, `${backend} batch ${batch} differs from native by ${maxAbsDiff}:\n${stdout}`);
        assertEquals(mismatches, 0);
      }
    }
    assertEquals([...stdout.matchAll(/^fastest at batch \d+: (.*)$/gm)].filter((m) => m[1] === "webgpu-capture"), []);
  },
});
