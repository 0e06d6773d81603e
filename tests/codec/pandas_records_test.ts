import { decodePandasRecords } from "../../src/codec/pandas_records.ts";
import type { TensorSpec } from "../../src/engine/tensor.ts";
import { BadInput } from "../../src/errors.ts";
import { assertEquals, assertThrows } from "../support/assert.ts";

const f32: TensorSpec = { name: "tensor", type: "float32", shape: ["N", 4] };

Deno.test("flat and [1,k]-nested rows both fill [N,k]; null becomes NaN", () => {
  const d = decodePandasRecords(JSON.stringify([{ tensor: [1, 2, 3, 4] }, { tensor: [[5, 6, 7, null]] }]), [f32]);
  assertEquals(d.rows, 2);
  assertEquals(d.tensors.tensor.dims, [2, 4]);
  assertEquals(Array.from(d.tensors.tensor.data as Float32Array), [1, 2, 3, 4, 5, 6, 7, NaN]);
  assertEquals(d.originalData(1), { tensor: [[5, 6, 7, null]] });
});

Deno.test("symbolic per-row dims take the first row's size; later rows must agree", () => {
  const spec: TensorSpec = { name: "x", type: "float64", shape: ["batch", 2, "seq"] };
  const d = decodePandasRecords(JSON.stringify([{ x: [[1, 2, 3], [4, 5, 6]] }]), [spec]);
  assertEquals(d.tensors.x.dims, [1, 2, 3]);
  assertThrows(
    () => decodePandasRecords(JSON.stringify([{ x: [[1, 2, 3], [4, 5, 6]] }, { x: [[1, 2], [3, 4]] }]), [spec]),
    /row 1: got 4 values/,
  );
});

Deno.test("integers must be whole and in range; int64 becomes BigInt", () => {
  const i8: TensorSpec = { name: "a", type: "int8", shape: [-1] };
  assertEquals(Array.from(decodePandasRecords('[{"a": -128}, {"a": 127}]', [i8]).tensors.a.data as Int8Array), [
    -128,
    127,
  ]);
  assertThrows(() => decodePandasRecords('[{"a": 128}]', [i8]), /128 is not a whole number in int8's range/);
  assertThrows(() => decodePandasRecords('[{"a": 1.5}]', [i8]), /1.5 is not a whole number/);
  const i64: TensorSpec = { name: "a", type: "int64", shape: ["N", 2] };
  assertEquals(Array.from(decodePandasRecords('[{"a": [1, -2]}]', [i64]).tensors.a.data as BigInt64Array), [1n, -2n]);
});

Deno.test("bool and string inputs", () => {
  const b: TensorSpec = { name: "b", type: "bool", shape: ["N"] };
  assertEquals(Array.from(decodePandasRecords('[{"b": true}, {"b": 0}]', [b]).tensors.b.data as Uint8Array), [1, 0]);
  assertThrows(() => decodePandasRecords('[{"b": "yes"}]', [b]), /expected true\/false for bool, got string "yes"/);
  const s: TensorSpec = { name: "s", type: "string", shape: ["N", 2] };
  assertEquals(decodePandasRecords('[{"s": ["a", "b"]}]', [s]).tensors.s.data, ["a", "b"]);
  assertThrows(() => decodePandasRecords('[{"s": ["a", 1]}]', [s]), /element 1: expected a string/);
});

Deno.test("errors are BadInput with codes clients can branch on", () => {
  const code = (body: string) => {
    try {
      decodePandasRecords(body, [f32]);
    } catch (err) {
      if (err instanceof BadInput) return err.code;
    }
    return "none";
  };
  assertEquals(code("[]"), "no_rows");
  assertEquals(code("nope"), "invalid_json");
  assertEquals(code('{"tensor": [1,2,3,4]}'), "not_records");
  assertEquals(code('[{"x": [1,2,3,4]}]'), "missing_column");
  assertEquals(code('[{"tensor": [1,2,3]}]'), "wrong_shape");
  assertEquals(code('[{"tensor": [1,2,3,"4"]}]'), "wrong_dtype");
});

Deno.test("a row that is no list says what it is: null, a string, an object; a lone number says how many values", () => {
  const message = (row: string) => {
    try {
      decodePandasRecords(`[{"tensor": [1,2,3,4]}, {"tensor": ${row}}]`, [f32]);
    } catch (err) {
      return (err as Error).message;
    }
  };
  const takes = "; model input 'tensor' takes float32 [N,4], i.e. [4] per row";
  assertEquals(message("null"), `column 'tensor', row 1: got null${takes}`);
  assertEquals(message('"1,2,3,4"'), `column 'tensor', row 1: got a string ("1,2,3,4")${takes}`);
  assertEquals(message('{"a": 1}'), `column 'tensor', row 1: got an object${takes}`);
  assertEquals(message("7"), `column 'tensor', row 1: got 1 value (shape [])${takes}`);
});

Deno.test("a symbolic dim beside a fixed 1 takes a flat row; deep nesting and inherited names are refused", () => {
  const seq: TensorSpec = { name: "x", type: "float32", shape: ["N", "seq", 1] };
  assertEquals(decodePandasRecords('[{"x": [1, 2, 3]}]', [seq]).tensors.x.dims, [1, 3, 1]);
  let deep: unknown = [1, 2, 3, 4];
  for (let i = 0; i < 20_000; i++) deep = [deep];
  assertThrows(() => decodePandasRecords(JSON.stringify([{ tensor: deep }]), [f32]), /nested deeper than 32/);
  const ctor: TensorSpec = { name: "constructor", type: "float32", shape: ["N"] };
  assertThrows(() => decodePandasRecords('[{"x": 1}]', [ctor]), /row 0 has no column 'constructor'/);
});

Deno.test("original_data is dropped (null) for rows larger than the limit", () => {
  const big: TensorSpec = { name: "img", type: "float32", shape: [1, 3, 64, 64] };
  const row = Array.from({ length: 3 }, () => Array.from({ length: 64 }, () => new Array(64).fill(0.5)));
  const d = decodePandasRecords(JSON.stringify([{ img: row }]), [big]);
  assertEquals(d.tensors.img.dims, [1, 3, 64, 64]);
  assertEquals(d.originalData(0), null);
});

Deno.test("a ragged row says where it departs from the first list at that depth", () => {
  const spec: TensorSpec = { name: "x", type: "float32", shape: ["N", 2, 3] };
  const refused = (row: unknown, where: RegExp) =>
    assertThrows(() => decodePandasRecords(JSON.stringify([{ x: row }]), [spec]), where);
  refused(
    [[1, 2, 3], [4, 5]],
    /row 0: nested lists are ragged \(not rectangular\): \[1\] holds 2 items where the first list at that depth holds 3/,
  );
  refused([[1, 2, 3], [4, [5], 6]], /ragged \(not rectangular\): \[1\]\[1\] is a list where a number belongs/);
  refused([[1, 2, 3], null], /ragged \(not rectangular\): \[1\] is null where a list of 3 belongs/);
});
