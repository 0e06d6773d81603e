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
    }, start);
    if (end !== start + shape.size) throw ragged(column, r);
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
    if (Array.isArray(value)) throw ragged(t.column, t.row);
    t.write(
      t.data,
      offset,
      value,
      () => `column '${t.column}', row ${t.row}, element ${offset - t.start}`,
    );
    return offset + 1;
  }
  if (!Array.isArray(value) || value.length !== dims[depth]) {
    throw ragged(t.column, t.row);
  }
  for (const item of value) offset = fill(item, dims, depth + 1, t, offset);
  return offset;
}

function ragged(column: string, row: number): BadInput {
  return new BadInput(
    `column '${column}', row ${row}: nested lists are ragged (not rectangular)`,
    "wrong_shape",
  );
}
