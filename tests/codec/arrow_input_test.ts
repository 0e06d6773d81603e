import {
  Bool,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  Int64,
  List,
  Table,
  tableFromArrays,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import { decodeArrow } from "../../src/codec/arrow_input.ts";
import type { TensorSpec } from "../../src/engine/tensor.ts";
import { BadInput } from "../../src/errors.ts";
import { assert, assertEquals, assertThrows } from "../support/assert.ts";
import { arrowBody, loadReference } from "../support/reference.ts";

const ipc = (t: Table, format: "file" | "stream" = "file") => tableToIPC(t, format);
const fsl = (width: number, leaf: Float32 | Float64 | Int32 | Int64 | Bool | Utf8) =>
  new FixedSizeList(width, new Field("item", leaf));

Deno.test("FixedSizeList<float64> converts to a float32 input", () => {
  const t = new Table({ x: vectorFromArray([[1.5, 2], [3, 4]], fsl(2, new Float64())) });
  const d = decodeArrow(ipc(t), [{ name: "x", type: "float32", shape: ["N", 2] }]);
  assertEquals(d.tensors.x.dims, [2, 2]);
  assert(d.tensors.x.data instanceof Float32Array);
  assertEquals(Array.from(d.tensors.x.data), [1.5, 2, 3, 4]);
  assertEquals(d.originalData(1), { x: [3, 4] });
});

Deno.test("nested FixedSizeLists fill a [N,2,3] input", () => {
  const t = new Table({
    x: vectorFromArray([[[1, 2, 3], [4, 5, 6]]], new FixedSizeList(2, new Field("row", fsl(3, new Float32())))),
  });
  const d = decodeArrow(ipc(t, "stream"), [{ name: "x", type: "float32", shape: ["N", 2, 3] }]);
  assertEquals(d.tensors.x.dims, [1, 2, 3]);
  assertEquals(Array.from(d.tensors.x.data as Float32Array), [1, 2, 3, 4, 5, 6]);
});

Deno.test("variable List columns and scalar columns map by name", () => {
  const t = new Table({
    seq: vectorFromArray([[1, 2, 3], [4, 5, 6]], new List(new Field("item", new Int32()))),
    scale: vectorFromArray([0.5, 2], new Float64()),
  });
  const d = decodeArrow(ipc(t), [
    { name: "seq", type: "int64", shape: ["N", "T"] },
    { name: "scale", type: "float32", shape: ["N"] },
  ]);
  assertEquals(d.tensors.seq.dims, [2, 3]);
  assertEquals(Array.from(d.tensors.seq.data as BigInt64Array), [1n, 2n, 3n, 4n, 5n, 6n]);
  assertEquals(d.tensors.scale.dims, [2]);
  assertEquals(Array.from(d.tensors.scale.data as Float32Array), [0.5, 2]);
});

Deno.test("nulls read as NaN for floats and are refused for integers", () => {
  const t = new Table({ x: vectorFromArray([[1, null], [3, 4]], fsl(2, new Float64())) });
  const d = decodeArrow(ipc(t), [{ name: "x", type: "float32", shape: ["N", 2] }]);
  assertEquals(Array.from(d.tensors.x.data as Float32Array), [1, NaN, 3, 4]);
  assertThrows(
    () => decodeArrow(ipc(t), [{ name: "x", type: "int32", shape: ["N", 2] }]),
    /row 0, element 1: expected a number for int32, got null/,
  );
});

Deno.test("int64 values outside an int32 input's range are refused", () => {
  const t = tableFromArrays({ x: new BigInt64Array([1n, 2n ** 40n]) });
  assertThrows(
    () => decodeArrow(ipc(t), [{ name: "x", type: "int32", shape: ["N"] }]),
    /row 1, element 0: 1099511627776 is not a whole number in int32's range/,
  );
});

Deno.test("tables of several record batches are read whole", () => {
  const ref = loadReference();
  const a = new Table({ tensor: vectorFromArray(ref.inputs.slice(0, 3), fsl(18, new Float32())) });
  const b = new Table({ tensor: vectorFromArray(ref.inputs.slice(3, 5), fsl(18, new Float32())) });
  const d = decodeArrow(ipc(a.concat(b)), [{ name: "tensor", type: "float32", shape: ["N", 18] }]);
  assertEquals(d.rows, 5);
  assertEquals(
    Array.from(d.tensors.tensor.data as Float32Array).slice(18 * 4),
    Array.from(
      new Float32Array(ref.inputs[4]),
    ),
  );
});

Deno.test("a string column where floats are due is refused by name", () => {
  const t = new Table({ tensor: vectorFromArray([["a", "b"]], fsl(2, new Utf8())) });
  assertThrows(
    () => decodeArrow(ipc(t), [{ name: "tensor", type: "float32", shape: ["N", 2] }]),
    /element 0: expected a number for float32, got string "a"/,
  );
});

Deno.test("every single-bit flip of a small Arrow file or stream ends in a table or a BadInput", () => {
  // apache-arrow alone hangs or runs out of memory on some of these (see arrow_verify.ts).
  const spec: TensorSpec[] = [{ name: "tensor", type: "float32", shape: ["N", 18] }];
  const rows = loadReference().inputs.slice(0, 3);
  for (const format of ["file", "stream"] as const) {
    const body = arrowBody(rows, format);
    let refused = 0;
    for (let i = 0; i < body.length; i++) {
      for (const mask of [0x01, 0x04, 0x10, 0x80]) {
        const copy = body.slice();
        copy[i] ^= mask;
        try {
          const d = decodeArrow(copy, spec);
          assertEquals(d.tensors.tensor.data.length, d.rows * 18);
        } catch (err) {
          if (!(err instanceof BadInput)) throw new Error(`flip ${mask} at ${i} of the ${format}: ${err}`);
          refused++;
        }
      }
    }
    assert(refused > body.length, `only ${refused} of ${body.length * 4} flips refused in the ${format}`);
  }
});

Deno.test("row counts larger than the buffers behind them are refused before any per-row work", () => {
  // A 2-row column whose record batch and field node claim 5,000,000 rows: apache-arrow
  // accepts the lengths, and the per-row path would walk (and allocate for) all of them.
  for (
    const [name, vector] of [
      ["nullable float32", vectorFromArray([1.5, null], new Float32())],
      ["utf8", vectorFromArray(["a", "b"], new Utf8())],
      ["list<int32>", vectorFromArray([[1], [2, 3]], new List(new Field("item", new Int32())))],
    ] as const
  ) {
    const body = tableToIPC(new Table({ x: vector }), "stream");
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const schemaEnd = 8 + view.getInt32(4, true);
    let patched = 0;
    for (let at = schemaEnd; at + 8 <= body.length; at += 8) {
      if (view.getBigInt64(at, true) === 2n) {
        view.setBigInt64(at, 5_000_000n, true);
        patched++;
      }
    }
    assert(patched >= 2, `${name}: found ${patched} lengths to patch`);
    assertThrows(
      () => decodeArrow(body, [{ name: "x", type: name === "utf8" ? "string" : "float32", shape: ["N"] }]),
      (err: Error) => err instanceof BadInput && /Arrow buffers hold fewer values|rows claimed/.test(err.message),
    );
  }
});

Deno.test("originalJson writes each row as JSON.stringify writes originalData, on fast and per-value columns", () => {
  const t = new Table({
    f32: vectorFromArray([[1.5, NaN, -0], [Infinity, 47.4165, 3070]], fsl(3, new Float32())),
    i64: vectorFromArray([[2n ** 53n, -7n], [0n, 1n]], fsl(2, new Int64())),
    f64as32: vectorFromArray([[0.1, 2], [3, -Infinity]], fsl(2, new Float64())),
    // Whole values at and past the int32 range (written through their small-integer form inside it).
    big: vectorFromArray([[2 ** 31, -(2 ** 31), 2 ** 31 - 1], [1e21, -1e-7, 2 ** 32]], fsl(3, new Float64())),
    label: vectorFromArray(['a "quoted" é', null], new Utf8()),
    n: vectorFromArray([[1, null], [3, 4]], new List(new Field("item", new Int32()))),
  });
  const d = decodeArrow(ipc(t), [
    { name: "f32", type: "float32", shape: ["N", 3] },
    { name: "i64", type: "int64", shape: ["N", 2] },
    { name: "f64as32", type: "float32", shape: ["N", 2] },
    { name: "big", type: "float64", shape: ["N", 3] },
  ]);
  for (const row of [0, 1]) assertEquals(d.originalJson!(row), JSON.stringify(d.originalData(row)));
  assertEquals(JSON.parse(d.originalJson!(0)).f32, [1.5, null, 0]);
  assertEquals(JSON.parse(d.originalJson!(1)).label, null);
});
