import { LOG_FIELD_MAX_BYTES, type LogEntry, toLogRecord } from "../../src/logs/entry.ts";
import { recordRows } from "../../src/logs/rows.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { pythonReads } from "../support/python_json.ts";
import { demoEntry } from "../support/log_entry.ts";

/** The rows `/logs` shows for `entry`, logged as the record with first id 1. */
function rowsOf(entry: LogEntry) {
  return recordRows({ ...toLogRecord(entry, "edge"), id: 1, uploaded: 0 });
}

Deno.test("an input field too large for the log is left out of the record and named in dropped; outputs stay", () => {
  const entry = demoEntry(0, 2);
  const width = LOG_FIELD_MAX_BYTES; // ≥ 2 bytes of JSON per element: well past the limit
  entry.reply.input.tensors.image = { type: "float32", data: new Float32Array(2 * width), dims: [2, width] };
  const record = toLogRecord(entry, "edge");
  assert(record.payload.length < 1024, `the record holds ${record.payload.length} bytes: the image was not left out`);
  const rows = rowsOf(entry);
  assertEquals(rows.length, 2);
  for (const row of rows) {
    assertEquals(JSON.parse(row.droppedJson), ["in.image"]);
    assertEquals(Object.keys(JSON.parse(row.inJson)), ["tensor"]);
    assertEquals(JSON.parse(row.outJson), { variable: [123456.5] });
  }
  assertEquals(JSON.parse(rows[1].inJson).tensor[0], 1);
});

Deno.test("a 128×128 float image is left out of the record: as JSON (`0.0,` at least per value) it can never fit", () => {
  const entry = demoEntry(0, 1);
  entry.reply.input.tensors.image = { type: "float32", data: new Float32Array(128 * 128), dims: [1, 128, 128] };
  assert(toLogRecord(entry, "edge").payload.length < 1024, "the image is not stored");
  assertEquals(JSON.parse(rowsOf(entry)[0].droppedJson), ["in.image"]);
});

Deno.test("a field that fits the record but not a log row's JSON is dropped from that row when read", () => {
  const entry = demoEntry(0, 1);
  const width = 16_000; // 0.0 each would fit (64,001 characters); 0.1234567 takes 9
  entry.reply.input.tensors.wide = { type: "float64", data: new Float64Array(width).fill(0.1234567), dims: [1, width] };
  assert(toLogRecord(entry, "edge").payload.length > width * 8, "stored: its values decide");
  const [row] = rowsOf(entry);
  assertEquals(JSON.parse(row.droppedJson), ["in.wide"]);
  assertEquals(Object.keys(JSON.parse(row.inJson)), ["tensor"]);
});

Deno.test("the log writes whole float values in float form, so /logs reads back floats in Python", async () => {
  const entry = demoEntry(4, 1);
  entry.reply.outputs = [["variable", { type: "float32", data: new Float32Array([757758]), dims: [1, 1] }]];
  const [row] = rowsOf(entry);
  assertEquals(row.outJson, `{"variable":[757758.0]}`);
  assert(row.inJson.startsWith(`{"tensor":[4.0,1.5,1.5,`), row.inJson);
  assertEquals(await pythonReads(row.outJson, "type(v['variable'][0]).__name__"), "float");
});

Deno.test("validations, shadows and the shared fields come back for every row of a record, with consecutive ids", () => {
  const entry = demoEntry(10, 3, 1234);
  entry.reply.checks = { names: ["too_high", "neg"], flags: new Uint8Array([1, 0, 0, 0, 1, 1]) };
  entry.reply.shadows = [{
    model: "shadow-1",
    outputs: [["y", { type: "int64", data: new BigInt64Array([7n, 8n, 9n]), dims: [3] }]],
  }];
  const record = toLogRecord(entry, "edge");
  assertEquals(record.extraColumns, ["anomaly.too_high", "anomaly.neg", "shadow_data"]);
  const rows = recordRows({ ...record, id: 41, uploaded: 1 });
  assertEquals(rows.map((r) => [r.id, r.uploaded, r.anomalyCount]), [[41, 1, 1], [42, 0, 0], [43, 0, 2]]);
  assertEquals(rows.map((r) => r.anomalyJson), [
    `{"too_high":true,"neg":false}`,
    `{"too_high":false,"neg":false}`,
    `{"too_high":true,"neg":true}`,
  ]);
  assertEquals(rows.map((r) => r.shadowJson), [7, 8, 9].map((y) => `{"shadow-1":{"y":[${y}]}}`));
  assertEquals(rows[2], {
    ...rows[2],
    time: 1234,
    pipelineName: "house-price-estimator",
    pipelineVersion: entry.pipelineVersion,
    lastModel: JSON.stringify({ model_name: "house-price-estimator", model_sha: entry.modelSha }),
    elapsedJson: "[1000,2000]",
    droppedJson: "[]",
    partition: "edge",
  });
  assertEquals(JSON.parse(rows[2].inJson).tensor[0], 12);
  assertEquals(recordRows({ ...record, id: 41, uploaded: 0 }, 1, 2).map((r) => r.id), [42], "a range of rows");
});
