/**
 * End to end through the real tern process (source, or TERN_BIN): the demo
 * pipeline's catalog, and 1,000 reference rows as Arrow file, Arrow stream and
 * pandas-records JSON, checked against scikit-learn's predictions.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { tableFromIPC } from "apache-arrow";
import { arrowBody, loadReference, maxRelativeError, recordsBody } from "../support/reference.ts";
import { pythonReads } from "../support/python_json.ts";
import { startTern } from "../support/tern_process.ts";

const ref = loadReference();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const JSON_TYPE = "application/json; format=pandas-records";
const ARROW_FILE = "application/vnd.apache.arrow.file";

interface WallarooRecord {
  check_failures: unknown[];
  elapsed: number[];
  model_name: string;
  model_version: string;
  original_data: { tensor: number[]; id?: number; label?: string } | null;
  outputs: { Float: { data: number[]; dim: number[]; v: number } }[];
  pipeline_name: string;
  shadow_data: Record<string, unknown>;
  time: number;
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

function checkRecords(records: WallarooRecord[], before: number, after: number) {
  assertEquals(records.length, ref.inputs.length);
  const predictions = records.map((r) => r.outputs[0].Float.data[0]);
  const worst = maxRelativeError(predictions, ref.predictions);
  assert(worst <= 1e-4, `max relative error ${worst} > 1e-4`);
  for (const [i, r] of records.entries()) {
    assertEquals(Object.keys(r).sort(), [
      "check_failures",
      "elapsed",
      "model_name",
      "model_version",
      "original_data",
      "outputs",
      "pipeline_name",
      "shadow_data",
      "time",
    ]);
    assertEquals(r.outputs.length, 1);
    assertEquals(r.outputs[0].Float.dim, [1, 1]);
    assertEquals(r.outputs[0].Float.v, 1);
    assertEquals(r.pipeline_name, "house-price-estimator");
    assertEquals(r.model_name, "house-price-estimator");
    assertMatch(r.model_version, UUID);
    assertEquals(r.check_failures, []);
    assertEquals(r.shadow_data, {});
    assertEquals(r.original_data?.tensor, ref.inputs[i]);
    assertEquals(r.elapsed.length, 2);
    assert(r.elapsed.every((ns) => Number.isInteger(ns) && ns >= 0), `elapsed ${r.elapsed}`);
    assert(r.time >= before && r.time <= after, `time ${r.time} outside [${before}, ${after}]`);
  }
}

Deno.test("demo pipeline end to end", async (t) => {
  const tern = await startTern();
  try {
    await t.step("GET /pipelines lists the demo as Running", async () => {
      const res = await fetch(`${tern.url}/pipelines`);
      assertEquals(res.status, 200);
      assertEquals(await res.json(), { pipelines: [{ id: "house-price-estimator", status: "Running" }] });
    });

    await t.step("GET /models reports the sha256 of the committed .onnx and a UUID version", async () => {
      const res = await fetch(`${tern.url}/models`);
      const body = await res.json();
      const onnx = await Deno.readFile(new URL("../../assets/demo/house-price-estimator.onnx", import.meta.url));
      assertEquals(body.models.length, 1);
      const [model] = body.models;
      assertEquals(
        Object.keys(model).filter((k) => ["name", "sha", "status", "version"].includes(k)).sort(),
        ["name", "sha", "status", "version"],
      );
      assert(["native", "wasm"].includes(model.backend), `backend ${model.backend}`);
      assertEquals(model.name, "house-price-estimator");
      assertEquals(model.sha, await sha256Hex(onnx));
      assertEquals(model.status, "Running");
      assertMatch(model.version, UUID);
    });

    for (const format of ["file", "stream"] as const) {
      await t.step(`1,000-row Arrow ${format} matches scikit-learn to 1e-4`, async () => {
        const before = Date.now();
        const res = await fetch(`${tern.url}/infer`, {
          method: "POST",
          headers: { "content-type": `application/vnd.apache.arrow.${format}` },
          body: arrowBody(ref.inputs, format),
        });
        assertEquals(res.status, 200);
        assertEquals(res.headers.get("content-type"), JSON_TYPE);
        checkRecords(await res.json(), before, Date.now());
      });
    }

    for (const name of ["polars_lz4_1000.arrow", "polars_zstd_1000.arrows"]) {
      await t.step(`the same rows compressed by polars (${name}) match scikit-learn to 1e-4`, async () => {
        const before = Date.now();
        const res = await fetch(`${tern.url}/infer`, {
          method: "POST",
          headers: { "content-type": name.endsWith(".arrow") ? ARROW_FILE : "application/vnd.apache.arrow.stream" },
          body: await Deno.readFile(new URL(`../testdata/arrow/${name}`, import.meta.url)),
        });
        assertEquals(res.status, 200);
        const records: WallarooRecord[] = await res.json();
        checkRecords(records, before, Date.now());
        assertEquals(records[999].original_data, { id: 999, label: "row-999", tensor: ref.inputs[999] });
      });
    }

    await t.step(
      "the same rows as pandas-records JSON match scikit-learn to 1e-4, in a reply sent in one piece",
      async () => {
        const before = Date.now();
        const res = await fetch(`${tern.url}/pipelines/house-price-estimator`, {
          method: "POST",
          // identity: Deno's fetch drops Content-Length from a body it decompresses
          headers: { "content-type": JSON_TYPE, "accept-encoding": "identity" },
          body: recordsBody(ref.inputs),
        });
        assertEquals(res.status, 200);
        // Not chunked: a streamed reply's small last write waits for the client's delayed ACK (40 ms).
        const body = new Uint8Array(await res.arrayBuffer());
        assertEquals(res.headers.get("content-length"), String(body.length));
        checkRecords(JSON.parse(new TextDecoder().decode(body)), before, Date.now());
      },
    );

    await t.step("Accept: Arrow returns the same predictions as an Arrow table", async () => {
      const res = await fetch(`${tern.url}/infer`, {
        method: "POST",
        headers: { "content-type": JSON_TYPE, accept: ARROW_FILE },
        body: recordsBody(ref.inputs),
      });
      assertEquals(res.status, 200);
      assertEquals(res.headers.get("content-type"), ARROW_FILE);
      const table = tableFromIPC(new Uint8Array(await res.arrayBuffer()));
      assertEquals(table.numRows, 1000);
      assertEquals(table.schema.fields.map((f) => f.name), [
        "time",
        "in.tensor",
        "out.variable",
        "elapsed",
        "check_failures",
        "model_name",
        "model_version",
        "pipeline_name",
        "shadow_data",
      ]);
      const out = table.getChild("out.variable")!;
      const predictions = Array.from({ length: 1000 }, (_, i) => out.get(i)!.get(0) as number);
      assert(maxRelativeError(predictions, ref.predictions) <= 1e-4);
      assertEquals(Array.from(table.getChild("in.tensor")!.get(7)!.toArray()), ref.inputs[7]);
      assertEquals(table.getChild("pipeline_name")!.get(999), "house-price-estimator");
      assertEquals(table.schema.fields[2].metadata.get("dim"), "[1,1]");
    });

    await t.step("Accept: Arrow stream returns an Arrow stream", async () => {
      const res = await fetch(`${tern.url}/infer`, {
        method: "POST",
        headers: { "content-type": JSON_TYPE, accept: "application/vnd.apache.arrow.stream" },
        body: recordsBody(ref.inputs.slice(0, 3)),
      });
      assertEquals(res.headers.get("content-type"), "application/vnd.apache.arrow.stream");
      const bytes = new Uint8Array(await res.arrayBuffer());
      assertEquals(Array.from(bytes.slice(0, 4)), [255, 255, 255, 255]);
      assertEquals(tableFromIPC(bytes).numRows, 3);
    });

    await t.step("the README's Arrow example file gets a prediction per row, each with its id", async () => {
      const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
      const path = /--data-binary @(\S+) -o predictions\.arrow/.exec(readme)?.[1];
      assertEquals(path, "examples/rows.arrow");
      const rows = await Deno.readFile(new URL(`../../${path}`, import.meta.url));
      const res = await fetch(`${tern.url}/pipelines/house-price-estimator`, {
        method: "POST",
        headers: { "content-type": ARROW_FILE, accept: ARROW_FILE },
        body: rows,
      });
      assertEquals(res.status, 200);
      const table = tableFromIPC(new Uint8Array(await res.arrayBuffer()));
      const sent = tableFromIPC(rows);
      assertEquals(table.numRows, sent.numRows);
      assertEquals(table.schema.fields.slice(1, 4).map((f) => `${f.name}: ${f.type}`), [
        "in.id: Int64",
        "in.tensor: FixedSizeList[18]<Float32>",
        "out.variable: FixedSizeList[1]<Float32>",
      ]);
      assertEquals(Array.from(table.getChild("in.id")!), [1001n, 1002n, 1003n, 1004n]);
      // The same rows as JSON give the same predictions, in the same order.
      const json = await fetch(`${tern.url}/infer`, {
        method: "POST",
        headers: { "content-type": JSON_TYPE },
        body: recordsBody(Array.from(sent.getChild("tensor")!, (v) => Array.from(v!))),
      });
      const predictions = Array.from(table.getChild("out.variable")!, (v) => v!.get(0));
      assertEquals(predictions, (await json.json()).map((r: WallarooRecord) => r.outputs[0].Float.data[0]));
      assert(predictions.every((p) => p! > 50_000 && p! < 5_000_000), `predictions ${predictions}`);
    });

    await t.step(
      "a whole-valued float prediction is written as a float (565769.0), which Python reads as float",
      async () => {
        const res = await fetch(`${tern.url}/infer`, {
          method: "POST",
          headers: { "content-type": JSON_TYPE },
          body: recordsBody([ref.inputs[22], ref.inputs[0]]), // the forest predicts 565769 for row 22
        });
        const text = await res.text();
        assert(text.includes(`"outputs":[{"Float":{"data":[565769.0],"dim":[1,1],"v":1}}]`), text);
        assertEquals(
          await pythonReads(text, "[type(r['outputs'][0]['Float']['data'][0]).__name__ for r in v]"),
          "['float', 'float']",
        );
      },
    );

    await t.step("the docs' doubled 'Content-Type: Content-Type: …' header still reads JSON", async () => {
      const res = await fetch(`${tern.url}/infer`, {
        method: "POST",
        headers: { "content-type": "Content-Type: application/json; format=pandas-records" },
        body: recordsBody(ref.inputs.slice(0, 2)),
      });
      assertEquals(res.status, 200);
      assertEquals((await res.json()).length, 2);
    });

    await t.step("health: liveness and readiness answer 200 once loaded", async () => {
      const live = await fetch(`${tern.url}/health`);
      assertEquals(await live.json(), { status: "ok", pipeline: "Running" });
      const ready = await fetch(`${tern.url}/health/ready`);
      assertEquals(ready.status, 200);
      assertEquals((await ready.json()).pipeline, "house-price-estimator");
    });

    await t.step("start-up says it serves the built-in demo", () => {
      assertMatch(tern.output(), /No PIPELINE_URL set: serving the built-in demo pipeline/);
      assertMatch(tern.output(), /Pipeline house-price-estimator .* is Running/);
    });
  } finally {
    assertEquals(await tern.stop(), 0);
  }
});
