import { tableFromIPC } from "apache-arrow";
import { encodeArrowReply } from "../../src/codec/arrow_reply.ts";
import { buildLargeRecordsReply, encodeRecordsReply, type InferenceReply } from "../../src/codec/reply.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { pythonReads } from "../support/python_json.ts";

function reply(outputs: InferenceReply["outputs"], rows = 2): InferenceReply {
  return {
    pipelineName: "p",
    modelName: "m",
    modelVersion: "v",
    time: 1700000000000,
    elapsedNs: [10, 20],
    outputs,
    input: {
      rows,
      tensors: { x: { type: "float32", data: new Float32Array(rows * 2).fill(1), dims: [rows, 2] } },
      originalData: (r) => ({ x: [r, r] }),
    },
  };
}

Deno.test("each record carries its own row's slice of every output, typed by dtype", () => {
  const records = JSON.parse(encodeRecordsReply(reply([
    ["probs", { type: "float32", data: new Float32Array([0.25, 0.75, 0.5, 0.5]), dims: [2, 2] }],
    ["class", { type: "int64", data: new BigInt64Array([1n, 0n]), dims: [2] }],
    ["flag", { type: "bool", data: new Uint8Array([1, 0]), dims: [2, 1] }],
  ])));
  assertEquals(records.length, 2);
  assertEquals(records[1].outputs, [
    { Float: { data: [0.5, 0.5], dim: [1, 2], v: 1 } },
    { Int64: { data: [0], dim: [1], v: 1 } },
    { Bool: { data: [false], dim: [1, 1], v: 1 } },
  ]);
  assertEquals(records[1].original_data, { x: [1, 1] });
  assertEquals(records[0].elapsed, [10, 20]);
  assertEquals(records[0].time, 1700000000000);
});

Deno.test("an output that is not per-row is given whole to every record", () => {
  const records = JSON.parse(encodeRecordsReply(reply([
    ["total", { type: "float64", data: new Float64Array([7]), dims: [1] }],
  ], 3)));
  assertEquals(records.map((r: { outputs: unknown[] }) => r.outputs[0]), [
    { Double: { data: [7], dim: [1], v: 1 } },
    { Double: { data: [7], dim: [1], v: 1 } },
    { Double: { data: [7], dim: [1], v: 1 } },
  ]);
});

Deno.test("the Arrow reply holds the same values in typed columns", () => {
  const table = tableFromIPC(encodeArrowReply(reply([
    ["probs", { type: "float32", data: new Float32Array([0.25, 0.75, 0.5, 0.5]), dims: [2, 2] }],
    ["label", { type: "string", data: ["cat", "dog"], dims: [2] }],
  ])));
  assertEquals(table.numRows, 2);
  assertEquals(Array.from(table.getChild("out.probs")!.get(0)!.toArray()), [0.25, 0.75]);
  assertEquals(table.getChild("out.label")!.get(1)!.get(0), "dog");
  assertEquals(Array.from(table.getChild("elapsed")!.get(1)!.toArray()), [10n, 20n]);
  assertEquals(table.getChild("time")!.get(0), 1700000000000);
  assertEquals(table.schema.fields.find((f) => f.name === "out.probs")!.metadata.get("dim"), "[1,2]");
});

Deno.test("whole float outputs are written in float form, so Python's json reads a float on every row", async () => {
  const text = encodeRecordsReply(reply([
    ["price", { type: "float32", data: new Float32Array([757758, 669903.75, NaN, -3]), dims: [4, 1] }],
    ["big", { type: "float64", data: new Float64Array([1e21, 0, 2 ** 53, -0.5]), dims: [4, 1] }],
    ["half", { type: "float16", data: new Uint16Array([0x3c00, 0x3800, 0x7c00, 0]), dims: [4, 1] }],
    ["class", { type: "int64", data: new BigInt64Array([1n, 0n, 7n, 2n]), dims: [4] }],
    ["count", { type: "int32", data: new Int32Array([5, 6, 7, 8]), dims: [4] }],
  ], 4));
  assert(text.includes(`{"Float":{"data":[757758.0],`), text);
  assert(text.includes(`{"Float":{"data":[-3.0],`), text);
  assert(text.includes(`{"Double":{"data":[1e+21],`), text);
  assert(text.includes(`{"Half":{"data":[1.0],`), text);
  assert(text.includes(`{"Int64":{"data":[1],`), text);
  assert(text.includes(`{"Float":{"data":[null],`), text);
  assertEquals(
    await pythonReads(
      text,
      "[[type(x).__name__ for o in r['outputs'] for x in list(o.values())[0]['data']] for r in v]",
    ),
    "[['float', 'float', 'float', 'int', 'int'], ['float', 'float', 'float', 'int', 'int'], " +
      "['NoneType', 'float', 'NoneType', 'int', 'int'], ['float', 'float', 'float', 'int', 'int']]",
  );
});

Deno.test("a large reply is built in chunks, a turn between each, and is byte for byte the one-piece reply: whole when short, else streamed", async () => {
  for (const [rows, perChunk] of [[7, 3], [6, 3], [1, 500], [1000, 500], [0, 500]]) {
    const r = reply(
      [["y", { type: "float32", data: new Float32Array(rows).map((_, i) => i / 4), dims: [rows, 1] }]],
      rows,
    );
    const expected = encodeRecordsReply(r);
    const chunks = Math.max(1, Math.ceil(rows / perChunk));
    for (const wholeChars of [expected.length, 0]) {
      let turns = 0;
      let done = 0;
      const body = await buildLargeRecordsReply(r, {
        rowsPerChunk: perChunk,
        wholeChars,
        turn: () => Promise.resolve(void turns++),
        done: () => done++,
      });
      const streamed = chunks > 1 && wholeChars === 0;
      assertEquals(typeof body === "string", !streamed, `${rows} rows, whole up to ${wholeChars} chars`);
      // A whole reply is built a chunk a turn; a streamed one stops turning once it streams (after its first chunk).
      assertEquals(turns, streamed ? 0 : chunks - 1);
      assertEquals(await new Response(body).text(), expected);
      assertEquals(done, streamed ? 1 : 0);
    }
  }
  // A limit of exactly the first chunk's length keeps it whole; the second chunk takes the reply past it.
  const r = reply([["y", { type: "float32", data: new Float32Array(7).map((_, i) => i / 4), dims: [7, 1] }]], 7);
  const options = { rowsPerChunk: 3, turn: () => Promise.resolve(), done: () => {} };
  const first = await (await buildLargeRecordsReply(r, { ...options, wholeChars: 0 }) as ReadableStream<Uint8Array>)
    .getReader().read();
  const firstChars = new TextDecoder().decode(first.value).length;
  let turns = 0;
  const body = await buildLargeRecordsReply(r, {
    ...options,
    wholeChars: firstChars,
    turn: () => Promise.resolve(void turns++),
  });
  assert(typeof body !== "string", "past the limit after two chunks of three");
  assertEquals(turns, 1);
  assertEquals(await new Response(body).text(), encodeRecordsReply(r));
});
