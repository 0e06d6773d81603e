/**
 * @module
 * What a user of the binary notices first: its size (the budget of docs/delivery.md), `tern --version` naming the
 * commit it was built from, and `tern health`, the container HEALTHCHECK (a scratch image has no curl). Against the
 * source too, except the size.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { runTern, startTern } from "../support/tern_process.ts";

const BIN = Deno.env.get("TERN_BIN");

/** dist/tern's budget, in bytes. */
const SIZE_BUDGET = 180_000_000;

/** The budgets of what `deno task compile` builds (and of the WASM-only variant, when built), in bytes. */
const BUDGETS: Record<string, number> = {
  "dist/tern-aarch64": SIZE_BUDGET,
  "dist/tern-wasm": 120_000_000,
};

Deno.test({
  name: "the binary is within its 180 MB budget, the aarch64 one too, and the WASM-only variant within 120 MB",
  ignore: BIN === undefined,
  fn: () => {
    for (const [path, budget] of [[BIN!, SIZE_BUDGET] as const, ...Object.entries(BUDGETS)]) {
      let size: number;
      try {
        size = Deno.statSync(new URL(`../../${path}`, import.meta.url)).size;
      } catch {
        assert(path !== BIN && path !== "dist/tern-aarch64", `${path} was not built`);
        continue;
      }
      assert(size <= budget, `${path} is ${size} bytes, over ${budget}`);
    }
  },
});

Deno.test("tern --version prints the version and the commit it was built from", async () => {
  const out = await runTern(["--version"]);
  assertEquals(out.code, 0, out.stderr);
  const commit = BIN === undefined ? /commit [0-9a-f]{12}, from source$/ : /commit [0-9a-f]{12}(-dirty)?$/;
  assertMatch(out.stdout.trim(), /^tern \d+\.\d+\.\d+ \(deno 2\.7\.11\), commit /);
  assertMatch(out.stdout.trim(), commit);
});

Deno.test("tern health exits 0 while tern serves and is ready, and 1 naming the URL when nothing answers", async () => {
  const tern = await startTern();
  const port = new URL(tern.url).port;
  try {
    const ready = await runTern(["health", "--port", port]);
    assertEquals(ready.code, 0, ready.stderr);
    assertMatch(ready.stdout, /health\/ready: 200/);
  } finally {
    await tern.stop();
  }
  const gone = await runTern(["health"], { PORT: port });
  assertEquals(gone.code, 1);
  assertMatch(gone.stderr, new RegExp(`tern: health: http://127\\.0\\.0\\.1:${port}/health/ready: `));
});

const WASM_BIN = new URL("../../dist/tern-wasm", import.meta.url).pathname;

Deno.test({
  name: "the WASM-only variant (dist/tern-wasm) serves the demo on WASM and says native onnxruntime is not in it",
  ignore: BIN === undefined || !(() => {
    try {
      return Deno.statSync(WASM_BIN).isFile;
    } catch {
      return false;
    }
  })(),
  fn: async () => {
    // startTern runs `wrap` with tern's command line: dist/tern's path is dropped for the variant's.
    const tern = await startTern({ wrap: ["sh", "-c", `shift; exec '${WASM_BIN}' "$@"`, "sh"] });
    try {
      assertMatch(tern.output(), /Backend native not used: .*not in this build/);
      assertMatch(tern.output(), /Model house-price-estimator: .*backend wasm/);
      const res = await fetch(`${tern.url}/infer`, {
        method: "POST",
        headers: { "content-type": "application/json; format=pandas-records" },
        body: JSON.stringify([{
          tensor: [4, 2.5, 2900, 5505, 2, 0, 0, 3, 8, 2900, 0, 47.6063, -122.02, 2970, 5251, 12, 0, 0],
        }]),
      });
      assertEquals(res.status, 200);
      await res.body?.cancel();
    } finally {
      assertEquals(await tern.stop(), 0);
    }
  },
});
