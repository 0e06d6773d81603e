import { LOG_FIELD_MAX_BYTES, logRows } from "../../src/logs/entry.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { pythonReads } from "../support/python_json.ts";
import { demoEntry } from "../support/log_entry.ts";

Deno.test("an input field too large for the log is left out and named in dropped; outputs stay", () => {
  const entry = demoEntry(0, 2);
  const width = LOG_FIELD_MAX_BYTES; // ≥ 2 bytes of JSON per element: well past the limit
  entry.reply.input.tensors.image = { type: "float32", data: new Float32Array(2 * width), dims: [2, width] };
  const rows = logRows(entry, "edge");
  assertEquals(rows.length, 2);
  for (const row of rows) {
    assertEquals(JSON.parse(row.droppedJson), ["in.image"]);
    assertEquals(Object.keys(JSON.parse(row.inJson)), ["tensor"]);
    assertEquals(JSON.parse(row.outJson), { variable: [123456.5] });
  }
  assertEquals(JSON.parse(rows[1].inJson).tensor[0], 1);
});

Deno.test("the log writes whole float values in float form, so /logs reads back floats in Python", async () => {
  const entry = demoEntry(4, 1);
  entry.reply.outputs = [["variable", { type: "float32", data: new Float32Array([757758]), dims: [1, 1] }]];
  const [row] = logRows(entry, "edge");
  assertEquals(row.outJson, `{"variable":[757758.0]}`);
  assert(row.inJson.startsWith(`{"tensor":[4.0,1.5,1.5,`), row.inJson);
  assertEquals(await pythonReads(row.outJson, "type(v['variable'][0]).__name__"), "float");
});
