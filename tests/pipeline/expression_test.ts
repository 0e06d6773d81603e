/**
 * The validation language: what it accepts and computes per row, and how it
 * refuses what it cannot run (saying where), checked against the names a
 * pipeline has (alike in every variant of a split last step); float16 read
 * by value.
 */
import { compileExpression, type NameInfo, type TensorRef } from "../../src/pipeline/expression.ts";
import type { HostTensor, TensorSpec } from "../../src/engine/tensor.ts";
import { toHalfBits } from "../../src/codec/convert.ts";
import { compileValidations } from "../../src/pipeline/checks.ts";
import { assertEquals, assertThrows } from "../support/assert.ts";

const NAMES: Record<string, NameInfo> = {
  "out.variable": { type: "float32", width: 1 },
  "out.probs": { type: "float32", width: 3 },
  "out.flag": { type: "bool", width: 1 },
  "out.label": { type: "string", width: 1 },
  "out.output:0": { type: "int64", width: 2 },
  "in.tensor": { type: "float32", width: 4 },
};
const resolve = (ref: TensorRef) => NAMES[`${ref.scope}.${ref.name}`];

/** Two rows of tensors. */
const TENSORS: Record<string, HostTensor> = {
  "out.variable": { type: "float32", data: new Float32Array([1_500_000, 20]), dims: [2, 1] },
  "out.probs": { type: "float32", data: new Float32Array([0.1, 0.2, 0.7, 0.5, 0.4, 0.1]), dims: [2, 3] },
  "out.flag": { type: "bool", data: new Uint8Array([1, 0]), dims: [2, 1] },
  "out.output:0": { type: "int64", data: new BigInt64Array([3n, 4n, -1n, 9n]), dims: [2, 2] },
  "in.tensor": { type: "float32", data: new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]), dims: [2, 4] },
};

/** The expression's result on each of the two rows. */
function rows(text: string): boolean[] {
  const test = compileExpression(text, resolve).bind((ref) => TENSORS[`${ref.scope}.${ref.name}`], 2);
  return [test(0), test(1)];
}

Deno.test("a NaN output fails every range check, as IEEE 754 has it; `x != x` is true for exactly it (the docs' advice)", () => {
  const nan: Record<string, HostTensor> = {
    ...TENSORS,
    "out.variable": { type: "float32", data: new Float32Array([NaN, 20]), dims: [2, 1] },
  };
  const on = (text: string) => {
    const test = compileExpression(text, resolve).bind((ref) => nan[`${ref.scope}.${ref.name}`], 2);
    return [test(0), test(1)];
  };
  assertEquals(on("variable > 1e6 or variable < 0"), [false, false]);
  assertEquals(on("variable != variable"), [true, false]);
  assertEquals(on("variable != variable or variable > 1e6 or variable < 0"), [true, false]);
});

Deno.test("comparisons, element access, and/or/not, arithmetic and precedence, per row", () => {
  assertEquals(rows("variable > 1000000.0"), [true, false]);
  assertEquals(rows("out.variable[0] > 1e6"), [true, false]);
  assertEquals(rows("probs[2] >= 0.5 and probs[0] < 0.2"), [true, false]);
  assertEquals(rows("probs[2] > 0.5 || probs[1] == 0.4000000059604645"), [true, true]);
  assertEquals(rows("not (variable < 100)"), [true, false]);
  assertEquals(rows("!flag"), [false, true]);
  assertEquals(rows("flag == true"), [true, false]);
  assertEquals(rows("in.tensor[0] + in.tensor[1] * 2 == 5"), [true, false]); // * before +
  assertEquals(rows("(in.tensor[0] + in.tensor[1]) * 2 == 6"), [true, false]);
  assertEquals(rows("in.tensor[3] % 3 == 1"), [true, false]);
  assertEquals(rows("-in.tensor[0] < -2 or in.tensor[2] / 2 == 1.5"), [true, true]);
  assertEquals(rows("`output:0`[1] - out.`output:0`[0] > 0"), [true, true]);
  assertEquals(rows("variable > 10 and variable < 100 or flag"), [true, true]); // and binds tighter than or
});

Deno.test("what the language refuses, each saying where and why", () => {
  const refuses = (text: string, message: RegExp) => assertThrows(() => compileExpression(text, resolve), message);
  refuses("", /the expression is empty/);
  refuses("variable >", /expected a number, a name or '\(', found the end \(at 11/);
  refuses("variable > 1 1", /unexpected number 1 \(at 14/);
  refuses("variable + 1", /must be true or false/);
  refuses("nope > 1", /out\.nope is not an output of the pipeline's last step \(at 1/);
  refuses("in.nope > 1", /in\.nope is not an input of its first step/);
  refuses("probs > 0.5", /out\.probs holds 3 values per row; pick one: out\.probs\[i\]/);
  refuses("probs[3] > 0.5", /out\.probs\[3\] is past its 3 values per row/);
  refuses("probs[0.5] > 0", /an index is a whole number/);
  refuses("label == 1", /holds strings, which validations cannot use/);
  refuses("variable and flag", /'and' takes true\/false, not a number/);
  refuses("flag + 1 > 0", /'\+' takes numbers, not true\/false/);
  refuses("variable > 1 and -flag", /'-' takes numbers, not true\/false \(at 18 in/);
  refuses("variable > 1 and not variable", /'not' takes true\/false, not a number \(at 18 in/);
  refuses("1 < variable < 3", /comparisons do not chain/);
  refuses("variable > 1; Deno.exit()", /unexpected character ";"/);
  refuses("`unclosed > 1", /not closed/);
  refuses("(".repeat(100) + "flag" + ")".repeat(100), /nested deeper than 64/);
});

Deno.test("a float16 tensor is compared by its values, not by the bits it is held in", () => {
  const half: HostTensor = {
    type: "float16",
    data: new Uint16Array([toHalfBits(0.5), toHalfBits(2000)]),
    dims: [2, 1],
  };
  const test = compileExpression("h < 1 and h > 0.25 or h == 2000", () => ({ type: "float16", width: 1 }))
    .bind(() => half, 2);
  assertEquals([test(0), test(1)], [true, true]);
  const large = compileExpression("h > 1000", () => ({ type: "float16", width: 1 })).bind(() => half, 2);
  assertEquals([large(0), large(1)], [false, true]);
});

Deno.test("a validation of a split last step needs the output alike in every variant", () => {
  const out = (type: "float32" | "bool", width: number): TensorSpec[] => [{ name: "y", type, shape: ["N", width] }];
  const inputs: TensorSpec[] = [{ name: "x", type: "float32", shape: ["N", 1] }];
  compileValidations([{ name: "high", expression: "y > 0.5" }], [out("float32", 1), out("float32", 1)], inputs);
  // A width one variant leaves open is not a difference: it is checked per row when the check runs.
  const open: TensorSpec[] = [{ name: "y", type: "float32", shape: ["N", "M"] }];
  compileValidations([{ name: "high", expression: "y[0] > 0.5" }], [open, out("float32", 3)], inputs);
  assertThrows(
    () => compileValidations([{ name: "high", expression: "y > 0.5" }], [out("float32", 1), out("float32", 3)], inputs),
    /validation 'high': out\.y is float32, 1 per row in the last step's first variant but float32, 3 per row in variant 2/,
  );
  assertThrows(
    () => compileValidations([{ name: "high", expression: "y > 0.5" }], [out("float32", 1), out("bool", 1)], inputs),
    /out\.y is float32, 1 per row .* but bool, 1 per row in variant 2: a validation needs it alike/,
  );
});
