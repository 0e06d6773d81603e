import { Batcher } from "../../src/pipeline/batcher.ts";
import { DEMO_MODEL_URL } from "../../src/pipeline/demo.ts";
import { BadInput } from "../../src/errors.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { ortTest, wasmBackend } from "../support/backend.ts";
import { loadReference, maxRelativeError } from "../support/reference.ts";

const ref = loadReference();
const feeds = (rows: number[][]) => ({
  tensor: { type: "float32" as const, data: new Float32Array(rows.flat()), dims: [rows.length, 18] },
});

ortTest("concurrent runs are joined into fewer session runs, and each caller gets its own rows", async () => {
  const session = await wasmBackend().load(await Deno.readFile(DEMO_MODEL_URL), "demo");
  try {
    const batcher = new Batcher(session, { maxRows: 64 });
    // 30 callers with 1, 2 or 3 rows each.
    const calls = Array.from({ length: 30 }, (_, i) => ref.inputs.slice(i * 3, i * 3 + 1 + (i % 3)));
    const outs = await Promise.all(calls.map((rows) => batcher.run(feeds(rows), rows.length)));
    for (const [i, out] of outs.entries()) {
      assertEquals(out.variable.dims, [calls[i].length, 1]);
      const expected = ref.predictions.slice(i * 3, i * 3 + calls[i].length);
      assert(maxRelativeError(out.variable.data as Float32Array, expected) <= 1e-4, `caller ${i}`);
    }
    assertEquals(batcher.requests, 30);
    assert(batcher.runs < 10, `${batcher.runs} session runs for 30 callers`);
  } finally {
    await session.release();
  }
});

ortTest("a request that cannot join (or is refused) fails alone; the others are served", async () => {
  const session = await wasmBackend().load(await Deno.readFile(DEMO_MODEL_URL), "demo");
  try {
    const batcher = new Batcher(session, { maxRows: 64 });
    const bad = { tensor: { type: "float32" as const, data: new Float32Array(17), dims: [1, 17] } };
    const results = await Promise.allSettled([
      batcher.run(feeds([ref.inputs[0]]), 1),
      batcher.run(bad, 1),
      batcher.run(feeds([ref.inputs[1]]), 1),
    ]);
    assertEquals(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
    assert((results[1] as PromiseRejectedResult).reason instanceof BadInput);
    const second = (results[2] as PromiseFulfilledResult<Record<string, { data: Float32Array }>>).value;
    assert(maxRelativeError(second.variable.data, ref.predictions.slice(1, 2)) <= 1e-4);
  } finally {
    await session.release();
  }
});
