import { timeRuns } from "../../src/engine/warmup.ts";
import { assert, assertEquals } from "../support/assert.ts";

const INPUTS = [{ name: "x", type: "float32" as const, shape: [1, 4] }];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("timing gives up on a backend after two slow runs in a row, not after one hiccup", async () => {
  let calls = 0;
  const slow = await timeRuns(INPUTS, async () => {
    calls++;
    await sleep(15);
  }, 1);
  assertEquals(calls, 3, "one untimed run and two timed ones");
  assert(slow >= 15);

  calls = 0;
  const hiccup = await timeRuns(INPUTS, async () => {
    calls++;
    if (calls === 2) await sleep(15); // the first timed run only
  }, 1);
  assert(calls >= 8, `stopped after ${calls} runs`);
  assert(hiccup < 15, `median ${hiccup} ms`);
});

Deno.test("timing feeds zeros of the model's shape, symbolic dims as 1", async () => {
  const seen: number[][] = [];
  await timeRuns([{ name: "x", type: "float32", shape: ["batch", 3] }], (feeds) => {
    seen.push([...feeds.x.dims, ...(feeds.x.data as Float32Array)]);
    return Promise.resolve();
  });
  assertEquals(seen[0], [1, 3, 0, 0, 0]);
});
