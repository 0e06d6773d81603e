/**
 * The Arrow reply's `in.*` columns: every column sent, in the order sent, so a
 * caller can join predictions to its own columns (an `id`); model inputs as
 * tensors, the others with their Arrow type (Arrow requests) or a type
 * inferred from their JSON values (pandas-records requests).
 */
import {
  Field,
  FixedSizeList,
  Float32,
  Int64,
  List,
  Table,
  tableFromIPC,
  tableToIPC,
  Type,
  Utf8,
  Vector,
  vectorFromArray,
} from "apache-arrow";
import { decodeArrow } from "../../src/codec/arrow_input.ts";
import { encodeArrowReply } from "../../src/codec/arrow_reply.ts";
import type { DecodedInput } from "../../src/codec/decoded_input.ts";
import { decodePandasRecords } from "../../src/codec/pandas_records.ts";
import { encodeRecordsReply, type InferenceReply } from "../../src/codec/reply.ts";
import type { TensorSpec } from "../../src/engine/tensor.ts";
import { assertEquals } from "../support/assert.ts";

const SPEC: TensorSpec[] = [{ name: "tensor", type: "float32", shape: ["N", 2] }];

/** The Arrow reply for `input` with one float32 output per row (the row's first feature × 10). */
function replyTable(input: DecodedInput): Table {
  const x = input.tensors.tensor.data as Float32Array;
  const y = Float32Array.from({ length: input.rows }, (_, r) => x[2 * r] * 10);
  const reply: InferenceReply = {
    pipelineName: "p",
    modelName: "m",
    modelVersion: "v",
    time: 1700000000000,
    elapsedNs: [1, 2],
    outputs: [["y", { type: "float32", data: y, dims: [input.rows, 1] }]],
    input,
  };
  return tableFromIPC(encodeArrowReply(reply));
}

const fields = (t: Table) => t.schema.fields.map((f) => `${f.name}: ${f.type}`);
const plain = (v: unknown): unknown => v instanceof Vector ? Array.from(v, plain) : v;
const values = (t: Table, name: string) => Array.from(t.getChild(name)!, plain);

Deno.test("Arrow in: the Arrow reply carries the id and label columns with their types and values", () => {
  const sent = new Table({
    id: vectorFromArray([101n, 102n, 103n], new Int64()),
    tensor: vectorFromArray([[1, 2], [3, 4], [5, 6]], new FixedSizeList(2, new Field("item", new Float32()))),
    label: vectorFromArray(["a", null, "c"], new Utf8()),
  });
  const table = replyTable(decodeArrow(tableToIPC(sent), SPEC));
  assertEquals(fields(table).slice(0, 5), [
    "time: Timestamp<MILLISECOND>",
    "in.id: Int64",
    "in.tensor: FixedSizeList[2]<Float32>",
    "in.label: Utf8",
    "out.y: FixedSizeList[1]<Float32>",
  ]);
  assertEquals(values(table, "in.id"), [101n, 102n, 103n]);
  assertEquals(values(table, "in.label"), ["a", null, "c"]);
  assertEquals(values(table, "in.tensor"), [[1, 2], [3, 4], [5, 6]]);
  assertEquals(values(table, "out.y"), [[10], [30], [50]]);
});

Deno.test("Arrow in of several record batches: the reply has the same batches, each row's columns together", () => {
  const batch = (ids: bigint[], labels: string[], rows: number[][]) =>
    new Table({
      id: vectorFromArray(ids, new Int64()),
      label: vectorFromArray(labels, new Utf8()),
      tensor: vectorFromArray(rows, new FixedSizeList(2, new Field("item", new Float32()))),
    });
  const sent = batch([1n, 2n], ["a", "b"], [[1, 0], [2, 0]]).concat(batch([3n], ["c"], [[3, 0]]));
  const table = replyTable(decodeArrow(tableToIPC(sent, "stream"), SPEC));
  assertEquals(table.batches.map((b) => b.numRows), [2, 1]);
  assertEquals(values(table, "in.id"), [1n, 2n, 3n]);
  assertEquals(values(table, "in.label"), ["a", "b", "c"]);
  assertEquals(values(table, "out.y"), [[10], [20], [30]]);
  assertEquals(values(table, "time"), [1700000000000, 1700000000000, 1700000000000]);
  // The columns every row shares are sliced with the batches, as the tensors are.
  assertEquals(values(table, "elapsed"), [[1n, 2n], [1n, 2n], [1n, 2n]]);
  for (const [name, value] of [["model_name", "m"], ["model_version", "v"], ["pipeline_name", "p"]]) {
    assertEquals(values(table, name), [value, value, value]);
  }
  assertEquals(values(table, "shadow_data"), ["{}", "{}", "{}"]);
  assertEquals(values(table, "check_failures"), [[], [], []]);
  assertEquals(fields(table).filter((f) => !f.startsWith("in.") && !f.startsWith("out.")), [
    "time: Timestamp<MILLISECOND>",
    "elapsed: List<Int64>",
    "check_failures: List<Utf8>",
    "model_name: Utf8",
    "model_version: Utf8",
    "pipeline_name: Utf8",
    "shadow_data: Utf8",
  ]);
});

Deno.test("Arrow in compressed by polars: int64 and string columns come back as sent", () => {
  for (const name of ["polars_lz4_3.arrow", "polars_zstd_3.arrows"]) {
    const body = Deno.readFileSync(new URL(`../testdata/arrow/${name}`, import.meta.url));
    const sent = tableFromIPC(body);
    const d = decodeArrow(body, [{ name: "tensor", type: "float32", shape: ["N", 18] }]);
    const x = d.tensors.tensor.data as Float32Array;
    const table = replyTable({
      ...d,
      tensors: { tensor: { ...d.tensors.tensor, data: x.filter((_, i) => i % 9 === 0) } },
    });
    assertEquals(table.getChild("in.id")!.type.typeId, Type.Int);
    assertEquals(String(table.getChild("in.label")!.type), String(sent.getChild("label")!.type));
    assertEquals(values(table, "in.id"), [0n, 1n, 2n]);
    assertEquals(values(table, "in.label"), ["row-0", "row-1", "row-2"]);
  }
});

Deno.test("JSON in: the Arrow reply carries every column, typed from its values", () => {
  const records = [
    { id: 1, label: "a", tensor: [1, 2], score: 0.5, flag: true, tags: ["x", "y"], meta: { k: 1 }, maybe: null },
    { id: 2, label: "b", tensor: [3, 4], score: 2, flag: false, tags: [], meta: { k: 2 }, maybe: 7 },
  ];
  const table = replyTable(decodePandasRecords(JSON.stringify(records), SPEC));
  assertEquals(fields(table).slice(1, 9), [
    "in.id: Int64",
    "in.label: Utf8",
    "in.tensor: FixedSizeList[2]<Float32>",
    "in.score: Float64",
    "in.flag: Bool",
    "in.tags: List<Utf8>",
    "in.meta: Utf8",
    "in.maybe: Int64",
  ]);
  assertEquals(values(table, "in.id"), [1n, 2n]);
  assertEquals(values(table, "in.label"), ["a", "b"]);
  assertEquals(values(table, "in.score"), [0.5, 2]);
  assertEquals(values(table, "in.flag"), [true, false]);
  assertEquals(values(table, "in.tags"), [["x", "y"], []]);
  assertEquals(values(table, "in.meta"), [`{"k":1}`, `{"k":2}`]);
  assertEquals(values(table, "in.maybe"), [null, 7n]);
  assertEquals(table.schema.fields.find((f) => f.name === "in.maybe")!.nullable, true);
  assertEquals(values(table, "out.y"), [[10], [30]]);
});

Deno.test("JSON in: mixed, nested and missing values fall back to JSON text or nulls", () => {
  const records = [
    { tensor: [1, 2], mixed: 1, nested: [[1, 2], [3]], sometimes: "x" },
    { tensor: [3, 4], mixed: "one", nested: [[4.5]] },
  ];
  const table = replyTable(decodePandasRecords(JSON.stringify(records), SPEC));
  assertEquals(fields(table).slice(1, 5), [
    "in.tensor: FixedSizeList[2]<Float32>",
    "in.mixed: Utf8",
    "in.nested: List<List<Float64>>",
    "in.sometimes: Utf8",
  ]);
  assertEquals(values(table, "in.mixed"), ["1", "one"]);
  assertEquals(values(table, "in.nested"), [[[1, 2], [3]], [[4.5]]]);
  assertEquals(values(table, "in.sometimes"), ["x", null]);
  assertEquals(table.getChild("in.nested")!.type.children[0].type instanceof List, true);
});

Deno.test("the per-row columns say what the pandas-records reply says: checks failed, shadows, names, elapsed", () => {
  const rows = 7;
  const input = decodePandasRecords(
    JSON.stringify(Array.from({ length: rows }, (_, r) => ({ tensor: [r, -r] }))),
    SPEC,
  );
  const reply: InferenceReply = {
    pipelineName: "prix-maison-é",
    modelName: "modèle ünïcode",
    modelVersion: "",
    time: 1700000000000,
    elapsedNs: [3, 5, 8],
    outputs: [["y", { type: "float32", data: Float32Array.from({ length: rows }, (_, r) => r), dims: [rows, 1] }]],
    input,
    // Row 2 fails both checks, rows 3 and 6 one each, the rest none.
    checks: { names: ["too_big", "negative"], flags: Uint8Array.from([0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 1, 0]) },
    shadows: [{
      model: "challenger",
      outputs: [["y", {
        type: "float32",
        data: Float32Array.from({ length: rows }, (_, r) => r / 2),
        dims: [rows, 1],
      }]],
    }],
  };
  const records = JSON.parse(encodeRecordsReply(reply));
  const table = tableFromIPC(encodeArrowReply(reply));
  assertEquals(values(table, "check_failures"), records.map((r: { check_failures: string[] }) => r.check_failures));
  assertEquals(values(table, "check_failures")[2], ["too_big", "negative"]);
  assertEquals(
    values(table, "shadow_data").map((s) => JSON.parse(s as string)),
    records.map((r: { shadow_data: unknown }) => r.shadow_data),
  );
  for (const name of ["model_name", "model_version", "pipeline_name"]) {
    assertEquals(values(table, name), records.map((r: Record<string, unknown>) => r[name]));
  }
  assertEquals(values(table, "model_name")[rows - 1], "modèle ünïcode");
  assertEquals(values(table, "elapsed"), records.map((r: { elapsed: number[] }) => r.elapsed.map(BigInt)));
});

Deno.test("columns named as an object's inherited members (constructor, toString) come back as sent, JSON or Arrow in", () => {
  const records = [{ tensor: [1, 2], constructor: 1, toString: "a", hasOwnProperty: true }];
  const fromJson = replyTable(decodePandasRecords(JSON.stringify(records), SPEC));
  assertEquals(fields(fromJson).slice(1, 5), [
    "in.tensor: FixedSizeList[2]<Float32>",
    "in.constructor: Int64",
    "in.toString: Utf8",
    "in.hasOwnProperty: Bool",
  ]);
  assertEquals(values(fromJson, "in.toString"), ["a"]);
  const sent = new Table({
    tensor: vectorFromArray([[1, 2]], new FixedSizeList(2, new Field("item", new Float32()))),
    toString: vectorFromArray(["b"], new Utf8()),
  });
  const fromArrow = replyTable(decodeArrow(tableToIPC(sent, "file"), SPEC));
  assertEquals(values(fromArrow, "in.toString"), ["b"]);
  assertEquals(values(fromArrow, "out.y"), [[10]]);
});
