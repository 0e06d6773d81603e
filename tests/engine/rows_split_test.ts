/**
 * Large batches on a second runtime (src/engine/rows_split.ts, auto's timing in select.ts). No GPU runs here, so
 * the GPU's cost shape (a large fixed cost per run, little per row) is played by a stand-in: the real native
 * session of the same model, whose runs wait a fixed time; the CPU's (a cost per row) by one whose runs wait in
 * proportion to their rows. Outputs are always the real model's.
 */
import type { Backend, ModelSession } from "../../src/engine/backend.ts";
import { createOrtNativeBackend } from "../../src/engine/ort_native.ts";
import { largeFromRows, splitByRows } from "../../src/engine/rows_split.ts";
import { autoBackend } from "../../src/engine/select.ts";
import { PipelineManager } from "../../src/pipeline/manager.ts";
import { modelStep, sha256Hex, uuidFromSha256 } from "../../src/pipeline/spec.ts";
import { createApp } from "../../src/server/app.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { ortTest, wasmBackend } from "../support/backend.ts";

const LINEAR = new URL("../testdata/pipeline/linear.onnx", import.meta.url);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rowsOf = (n: number) => ({
  tensor: { type: "float32" as const, data: new Float32Array(n * 18).map((_, i) => i % 7), dims: [n, 18] },
});

/** `session` counting its runs (by rows) and releases. */
function counted(session: ModelSession) {
  const runs: number[] = [];
  let released = 0;
  const wrapped: ModelSession = {
    backend: session.backend,
    inputs: session.inputs,
    outputs: session.outputs,
    run: (feeds) => {
      runs.push(feeds.tensor.dims[0]);
      return session.run(feeds);
    },
    release: () => {
      released++;
      return session.release();
    },
  };
  return { session: wrapped, runs, released: () => released };
}

/**
 * A backend named `name` over real native sessions whose runs first wait `delayMs(rows)`; its sessions counted.
 * `offThread` marks them as running off the serving thread, as the native backend does with slow models.
 */
async function standIn(name: string, delayMs: (rows: number) => number, offThread = false) {
  const native = await createOrtNativeBackend({ threads: 1 });
  const sessions: ReturnType<typeof counted>[] = [];
  const backend: Backend = {
    name,
    description: `${name} stand-in (native, delayed)`,
    async load(model, label) {
      const real = await native.load(model, label);
      const c = counted({
        ...real,
        backend: name,
        inputs: real.inputs,
        outputs: real.outputs,
        run: async (feeds) => {
          await sleep(delayMs(feeds.tensor.dims[0]));
          return real.run(feeds);
        },
        release: () => real.release(),
      });
      sessions.push(c);
      return { ...c.session, offThread };
    },
  };
  return { backend, sessions };
}

/**
 * linear.onnx loaded by `auto` over a "cpu-like" stand-in (`cpuMsPerRow` a row, off the serving thread with
 * `offThread`) and a "gpu-like" one (`gpuMsPerRun` a run), with batches of up to `maxRows` rows for the GPU stand-in.
 */
async function autoOverStandIns(
  { cpuMsPerRow, gpuMsPerRun, maxRows, offThread = false }: {
    cpuMsPerRow: number;
    gpuMsPerRun: number;
    maxRows: number;
    offThread?: boolean;
  },
) {
  const cpu = await standIn("cpu-like", (rows) => cpuMsPerRow * rows, offThread);
  const gpu = await standIn("gpu-like", () => gpuMsPerRun);
  const lines: string[] = [];
  const auto = autoBackend([cpu.backend, gpu.backend], (l) => lines.push(l), { maxRows, backends: ["gpu-like"] });
  const session = await auto.load(await Deno.readFile(LINEAR), "linear");
  return { cpu, gpu, lines, session };
}

Deno.test("large batches go to the runtime that wins there, from the rows where the two lines cross", () => {
  // The H200 run: native CPU 9.2 ms at batch 1 and about 8 ms an image; WebGPU 43 ms at 1 and 159 ms at 64.
  assertEquals(largeFromRows({ at1: 9.2, atRows: 512 }, { at1: 43, atRows: 159 }, 64), 7);
  // At 7 rows the CPU's line is at 9.2 + 6 × 7.98 ≈ 57 ms, the GPU's at 43 + 6 × 1.84 ≈ 54 ms; at 6 it is the other way.
  assertEquals(largeFromRows({ at1: 1, atRows: 10 }, { at1: 5, atRows: 12 }, 64), undefined, "slower at the batch");
  assertEquals(largeFromRows({ at1: 5, atRows: 50 }, { at1: 4, atRows: 10 }, 64), 2, "faster at both: from 2 rows");
  assertEquals(largeFromRows({ at1: 1, atRows: 100 }, { at1: 50, atRows: 99 }, 64), 63, "crosses near the end");
  assertEquals(largeFromRows({ at1: 1, atRows: 10 }, { at1: 5, atRows: 2 }, 1), undefined, "no batch to time");
});

ortTest(
  "a split session runs small batches on one runtime and large ones on the other, with the same outputs",
  async () => {
    const bytes = await Deno.readFile(LINEAR);
    const native = await createOrtNativeBackend({ threads: 1 });
    const small = counted(await native.load(bytes, "linear"));
    const large = counted(await wasmBackend().load(bytes, "linear"));
    const split = splitByRows(small.session, large.session, { backend: "wasm", fromRows: 4, timedRows: 8, ms: {} });
    try {
      assertEquals(split.backend, "native");
      for (const n of [1, 3, 4, 10]) {
        const out = await split.run(rowsOf(n));
        const alone = await native.load(bytes, "linear");
        const expected = await alone.run(rowsOf(n));
        await alone.release();
        assertEquals(out.variable.dims, [n, 1]);
        const got = out.variable.data as Float32Array;
        const want = expected.variable.data as Float32Array;
        assert(got.every((v, i) => Math.abs(v - want[i]) <= 1e-4 * Math.max(1, Math.abs(want[i]))), `${n} rows`);
      }
      assertEquals(small.runs, [1, 3]);
      assertEquals(large.runs, [4, 10]);
    } finally {
      await split.release();
    }
    assertEquals([small.released(), large.released()], [1, 1], "releasing the split releases both");
  },
);

ortTest(
  "auto gives large batches to a batching runtime that is faster there, and keeps one-row runs where they are fastest",
  async () => {
    const { cpu, gpu, lines, session } = await autoOverStandIns({ cpuMsPerRow: 2, gpuMsPerRun: 12, maxRows: 32 });
    try {
      assertEquals(session.backend, "cpu-like");
      const large = session.largeBatches!;
      assertEquals(large.backend, "gpu-like");
      assertEquals(large.timedRows, 32);
      assert(large.ms["cpu-like"] >= 64 && large.ms["gpu-like"] < large.ms["cpu-like"], JSON.stringify(large.ms));
      // The lines cross at 1 + 10 × 31 / 62 = 6 rows with exact timers (from 7); late timers move it a little.
      assert(large.fromRows >= 4 && large.fromRows <= 10, `from ${large.fromRows} rows`);
      assert(
        lines.some((l) => l.includes(`runs of ${large.fromRows} rows or more go to gpu-like`)),
        lines.join("\n"),
      );
      const [cpuSession] = cpu.sessions;
      const [gpuSession] = gpu.sessions;
      const cpuRuns = cpuSession.runs.length;
      const gpuRuns = gpuSession.runs.length;
      await session.run(rowsOf(1));
      await session.run(rowsOf(large.fromRows));
      assertEquals(cpuSession.runs.slice(cpuRuns), [1]);
      assertEquals(gpuSession.runs.slice(gpuRuns), [large.fromRows]);
    } finally {
      await session.release();
    }
    assertEquals([cpu.sessions[0].released(), gpu.sessions[0].released()], [1, 1]);
  },
);

ortTest("auto keeps batches on the one-row winner when the batching runtime is no faster at the batch", async () => {
  const { gpu, lines, session } = await autoOverStandIns({ cpuMsPerRow: 2, gpuMsPerRun: 80, maxRows: 16 });
  try {
    assertEquals(session.backend, "cpu-like");
    assertEquals(session.largeBatches, undefined);
    const stay =
      /median per run of 16 rows cpu-like .* ms, gpu-like .* ms \(cpu-like: 16 × its one-row time\); batches stay/;
    assert(lines.some((l) => stay.test(l)), lines.join("\n"));
    assertEquals(gpu.sessions[0].released(), 1, "the batching runtime's session is let go at once");
  } finally {
    await session.release();
  }
});

ortTest(
  "a CPU batch kept on the serving thread holds it at most 50 ms: larger batches go to the GPU sooner",
  async () => {
    for (const offThread of [false, true]) {
      // 20 ms a row against 100 ms a run: the lines cross at 1 + 80 × 31 / 620 = 5 rows (from 6).
      const { lines, session } = await autoOverStandIns({ cpuMsPerRow: 20, gpuMsPerRun: 100, maxRows: 32, offThread });
      try {
        const { fromRows } = session.largeBatches!;
        if (offThread) {
          assert(fromRows >= 4 && fromRows <= 7, `off the serving thread: from ${fromRows} rows`);
        } else {
          // 2 rows of 20 ms fit in 50 ms, 3 do not (with late timers 2 may not fit either).
          assert(fromRows === 2 || fromRows === 3, `on the serving thread: from ${fromRows} rows`);
          const fewer = /the lines cross at \d+: fewer, so that a batch holds the serving thread at most 50 ms/;
          assert(lines.some((l) => fewer.test(l)), lines.join("\n"));
        }
      } finally {
        await session.release();
      }
    }
  },
);

ortTest("served: a lone request runs on the one-row runtime, concurrent ones are batched onto the other", async () => {
  const cpu = await standIn("cpu-like", (rows) => 2 * rows);
  const gpu = await standIn("gpu-like", () => 12);
  const batching = { maxRows: 32, backends: ["gpu-like"] };
  const pipelines = new PipelineManager(autoBackend([cpu.backend, gpu.backend], () => {}, batching), batching);
  const bytes = await Deno.readFile(LINEAR);
  const sha256 = await sha256Hex(bytes);
  const version = uuidFromSha256(sha256);
  await pipelines.load({ name: "linear", version, steps: [modelStep({ name: "linear", version, sha256, bytes })] });
  const app = createApp({ pipelines, now: Date.now, maxBodyBytes: 1 << 20, maxInflightBytes: 64 << 20 });
  const infer = (row: number) =>
    app.request("/infer", {
      method: "POST",
      headers: { "content-type": "application/json; format=pandas-records" },
      body: JSON.stringify([{ tensor: Array.from({ length: 18 }, (_, i) => row + i) }]),
    });
  try {
    const models = await (await app.request("/models")).json();
    assertEquals(models.models[0].backend, "cpu-like");
    assertEquals(models.models[0].batching, true);
    assertEquals(models.models[0].large_batches.backend, "gpu-like");
    const fromRows = models.models[0].large_batches.from_rows;
    const cpuRuns = cpu.sessions[0].runs.length;
    const gpuRuns = gpu.sessions[0].runs.length;
    assertEquals((await infer(0)).status, 200);
    assertEquals(cpu.sessions[0].runs.slice(cpuRuns), [1], "a lone request");
    // 40 at once: the first runs alone, the rest queue behind it and are joined into batches of up to 32 rows.
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => infer(i)));
    assertEquals(replies.map((r) => r.status), Array(40).fill(200));
    const bodies = await Promise.all(replies.map((r) => r.json()));
    // linear.onnx sums its inputs' weighted values: each reply answers its own row, so the 40 answers differ.
    assertEquals(new Set(bodies.map((b) => JSON.stringify(b[0].outputs))).size, 40);
    const batched = gpu.sessions[0].runs.slice(gpuRuns);
    assert(
      batched.length > 0 && batched.every((n) => n >= fromRows),
      `GPU runs ${batched}, CPU runs ${cpu.sessions[0].runs}`,
    );
    assertEquals(
      batched.reduce((a, b) => a + b, 0) + cpu.sessions[0].runs.slice(cpuRuns + 1).reduce((a, b) => a + b, 0),
      40,
    );
  } finally {
    await pipelines.close();
  }
});
