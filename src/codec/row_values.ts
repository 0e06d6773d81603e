/**
 * @module
 * Builds a model input tensor from per-row values that are scalars or nested
 * JS lists: pandas-records rows, and Arrow columns off the fast path.
 */
import { BadInput } from "../errors.ts";
import { allocate, type HostTensor, type TensorSpec } from "../engine/tensor.ts";
import { type ElementWriter, elementWriter } from "./convert.ts";
import { RowShape } from "./row_shape.ts";

/** Fills `spec` from `rows` values read with `valueAt`; `column` names the source in errors. */
export function tensorFromRowValues(
  rows: number,
  valueAt: (row: number) => unknown,
  spec: TensorSpec,
  column: string,
): HostTensor {
  const shape = new RowShape(spec);
  const values: unknown[] = new Array(rows);
  const observed: number[][] = new Array(rows);
  for (let r = 0; r < rows; r++) {
    values[r] = valueAt(r);
    observed[r] = observeShape(values[r], column, r);
    shape.accept(observed[r], r, column, values[r]);
  }
  const data = allocate(spec.type, rows * shape.size);
  const write = elementWriter(spec.type);
  for (let r = 0; r < rows; r++) {
    const start = r * shape.size;
    const end = fill(values[r], observed[r], 0, {
      data,
      write,
      column,
      row: r,
      start,
      value: values[r],
      dims: observed[r],
    }, start);
    if (end !== start + shape.size) throw ragged(column, r, values[r], observed[r]);
  }
  return { type: spec.type, data, dims: shape.tensorDims(rows) };
}

/** Deepest list nesting accepted in a row (deeper bodies would only exhaust the stack). */
const MAX_NESTING = 32;

/** Dims of a (nested) list, read along first elements; a scalar has []. */
function observeShape(value: unknown, column: string, row: number): number[] {
  const dims: number[] = [];
  while (Array.isArray(value)) {
    if (dims.length === MAX_NESTING) {
      throw new BadInput(`column '${column}', row ${row}: lists nested deeper than ${MAX_NESTING}`, "wrong_shape");
    }
    dims.push(value.length);
    value = value[0];
  }
  return dims;
}

interface FillTarget {
  data: HostTensor["data"];
  write: ElementWriter;
  column: string;
  row: number;
  start: number;
  /** The whole row and its dims (read along first elements), for the message when it is ragged. */
  value: unknown;
  dims: number[];
}

/** Writes a row's elements in row-major order; returns the next offset. */
function fill(
  value: unknown,
  dims: number[],
  depth: number,
  t: FillTarget,
  offset: number,
): number {
  if (depth === dims.length) {
    if (Array.isArray(value)) throw ragged(t.column, t.row, t.value, t.dims);
    t.write(
      t.data,
      offset,
      value,
      () => `column '${t.column}', row ${t.row}, element ${offset - t.start}`,
    );
    return offset + 1;
  }
  if (!Array.isArray(value) || value.length !== dims[depth]) {
    throw ragged(t.column, t.row, t.value, t.dims);
  }
  for (const item of value) offset = fill(item, dims, depth + 1, t, offset);
  return offset;
}

function ragged(column: string, row: number, value: unknown, dims: readonly number[]): BadInput {
  const where = firstMismatch(value, dims, 0, "");
  return new BadInput(
    `column '${column}', row ${row}: nested lists are ragged (not rectangular)${where ? `: ${where}` : ""}`,
    "wrong_shape",
  );
}

/** Where a row first departs from `dims` (the lengths of its first elements), e.g. `[1] holds 2 items where …`. */
function firstMismatch(value: unknown, dims: readonly number[], depth: number, path: string): string | undefined {
  const here = path || "the row";
  if (depth === dims.length) return Array.isArray(value) ? `${here} is a list where a number belongs` : undefined;
  if (!Array.isArray(value)) {
    const what = value === null ? "null" : typeof value === "object" ? "an object" : `a ${typeof value}`;
    return `${here} is ${what} where a list of ${dims[depth]} belongs (as the first at that depth is)`;
  }
  if (value.length !== dims[depth]) {
    return `${here} holds ${value.length} item${value.length === 1 ? "" : "s"} where the first list at that depth ` +
      `holds ${dims[depth]}`;
  }
  for (let i = 0; i < value.length; i++) {
    const found = firstMismatch(value[i], dims, depth + 1, `${path}[${i}]`);
    if (found) return found;
  }
  return undefined;
}
