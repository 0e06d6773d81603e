/**
 * @module
 * Decodes an Arrow IPC body (file or stream format) into model input tensors.
 * A column maps to the model input of the same name. Fixed-size-list columns
 * (nested to any depth), list columns and scalar columns of numeric types are
 * copied straight from Arrow's buffers (or, for one chunk already of the
 * model's dtype, used in place); any other layout (nulls, bool or
 * string lists, list of lists) goes through per-row values and the same rules
 * as pandas-records. Compressed bodies (LZ4_FRAME, ZSTD) are read through the
 * decoders arrow_compression.ts registers.
 */
import { type Data, DataType, Precision, type Table, tableFromIPC, Type, Vector } from "apache-arrow";
import { BadInput, errorText, TernError } from "../errors.ts";
import { allocate, type DType, type HostTensor, type TensorSpec } from "../engine/tensor.ts";
import { CorruptCompressedBuffer } from "./arrow_compression.ts";
import { verifyArrowBody } from "./arrow_verify.ts";
import { copyNumeric } from "./convert.ts";
import { type DecodedInput, keepsOriginalData, missingColumn } from "./decoded_input.ts";
import { RowShape } from "./row_shape.ts";
import { tensorFromRowValues } from "./row_values.ts";

/**
 * Reads an Arrow IPC file or stream and builds one tensor per model input.
 * A compressed body's buffers may expand to `maxUncompressedBytes` in all
 * (PayloadTooLarge beyond).
 */
export function decodeArrow(
  bytes: Uint8Array,
  inputs: readonly TensorSpec[],
  maxUncompressedBytes?: number,
): DecodedInput {
  const table = readTable(bytes, maxUncompressedBytes);
  const rows = table.numRows;
  if (rows === 0) throw new BadInput("the Arrow table has no rows", "no_rows");
  const tensors: Record<string, HostTensor> = {};
  for (const spec of inputs) {
    const column = table.getChild(spec.name);
    if (!column) throw missingColumn("the Arrow table", spec, table.schema.fields.map((f) => f.name));
    try {
      tensors[spec.name] = fastTensor(column, rows, spec) ??
        tensorFromRowValues(rows, (r) => plain(valueAt(column, r, spec.name)), spec, spec.name);
    } catch (err) {
      throw asBadInput(err, `column '${spec.name}'`);
    }
  }
  const original = keepsOriginalData(tensors, rows) ? originalRows(table, tensors) : undefined;
  return {
    rows,
    tensors,
    originalData: original ? original.value : () => null,
    originalJson: original ? original.json : () => "null",
    sent: { table },
  };
}

function readTable(bytes: Uint8Array, maxUncompressedBytes?: number): Table {
  verifyArrowBody(bytes, maxUncompressedBytes);
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (err) {
    if (err instanceof CorruptCompressedBuffer) {
      throw new BadInput(`corrupt compressed Arrow buffer: ${err.message}`, "invalid_arrow");
    }
    throw asBadInput(err, "body is not a readable Arrow IPC file or stream");
  }
  if (table.schema.fields.length === 0) {
    throw new BadInput("body is not a readable Arrow IPC file or stream: no schema found", "invalid_arrow");
  }
  // Every row takes at least one bit of some buffer: a larger count is a corrupt length.
  if (table.numRows > 8 * bytes.length + 64) {
    throw new BadInput(`corrupt Arrow body: ${table.numRows} rows claimed in ${bytes.length} bytes`, "invalid_arrow");
  }
  table.schema.fields.forEach((field, i) => {
    for (const chunk of table.getChildAt(i)!.data) checkLengths(chunk, field.name);
  });
  return table;
}

/**
 * apache-arrow takes each array's length from the record batch as given;
 * here the buffers must hold that many values, so no later read runs past them.
 */
function checkLengths(data: Data, column: string): void {
  const n = data.length;
  const short = () =>
    new BadInput(`column '${column}': the Arrow buffers hold fewer values than the ${n} claimed`, "invalid_arrow");
  const bitmap = data.nullBitmap;
  if (bitmap && bitmap.length > 0 && bitmap.length * 8 < n) throw short();
  const offsets = data.valueOffsets as ArrayLike<number | bigint> | undefined;
  let end = 0;
  if (offsets && offsets.length > 0) {
    if (offsets.length < n + 1) throw short();
    let previous = Number(offsets[0]);
    if (previous < 0) throw short();
    for (let i = 1; i <= n; i++) {
      const next = Number(offsets[i]);
      if (next < previous) throw short();
      previous = next;
    }
    end = previous;
  }
  const type = data.type;
  if (DataType.isFixedSizeList(type)) {
    if (data.children[0].length < n * type.listSize) throw short();
  } else if (DataType.isList(type) || DataType.isMap(type)) {
    if (data.children[0].length < end) throw short();
  } else if (DataType.isUtf8(type) || DataType.isBinary(type) || DataType.isLargeUtf8(type)) {
    if ((data.values?.length ?? 0) < end) throw short();
  } else if (DataType.isBool(type)) {
    if ((data.values?.length ?? 0) * 8 < n) throw short();
  } else if (data.values && data.children.length === 0 && data.values.length < n * (data.stride || 1)) {
    throw short();
  }
  if (DataType.isStruct(type)) {
    for (const child of data.children) if (child.length < n) throw short();
  }
  for (const child of data.children) checkLengths(child, column);
}

/** A row's value; Arrow gives undefined (nulls are null) when a corrupt buffer is too short. */
function valueAt(column: Vector, row: number, name: string): unknown {
  const value = column.get(row);
  if (value === undefined) throw shortBuffer(name, row);
  return value;
}

function asBadInput(err: unknown, context: string): TernError {
  if (err instanceof TernError) return err;
  return new BadInput(
    `${context}: ${errorText(err)}`,
    "invalid_arrow",
  );
}

/** One sent column's reader: its value in a row, and that value as JSON text. */
interface ColumnReader {
  name: string;
  value(row: number): unknown;
  json(row: number): string;
}

/**
 * Reads a row back as the client sent it, as an object (`value`) or as its JSON text (`json`, what
 * JSON.stringify writes of `value`, built without the object). A column that filled a model input of its own
 * dtype with one flat list per row is read from that tensor (fast); any other column through apache-arrow's
 * values.
 */
function originalRows(
  table: Table,
  tensors: Record<string, HostTensor>,
): { value(row: number): unknown; json(row: number): string } {
  const readers = table.schema.fields.map((field, i): ColumnReader => {
    const column = table.getChildAt(i)!;
    const t = Object.hasOwn(tensors, field.name) ? tensors[field.name] : undefined; // a `toString` column is no tensor
    const layout = numericLayout(column.type);
    if (t && layout && !layout.list && layout.dims.length === 1 && layout.dtype === t.type && t.type !== "float16") {
      const width = layout.dims[0];
      const data = t.data as Float32Array;
      const asNumber = t.type === "int64" || t.type === "uint64";
      return {
        name: field.name,
        value: (row) => {
          const part = data.subarray(row * width, (row + 1) * width);
          return asNumber ? Array.from(part as unknown as BigInt64Array, Number) : Array.from(part);
        },
        json: (row) => numbersJson(data, row * width, (row + 1) * width),
      };
    }
    const value = (row: number) => plain(column.get(row));
    return { name: field.name, value, json: (row) => JSON.stringify(value(row)) };
  });
  const value = (row: number) => Object.fromEntries(readers.map((r) => [r.name, r.value(row)]));
  if (new Set(readers.map((r) => r.name)).size < readers.length) {
    return { value, json: (row) => JSON.stringify(value(row)) }; // repeated names: the object keeps the last
  }
  const keys = readers.map((r, i) => (i ? "," : "{") + JSON.stringify(r.name) + ":");
  return {
    value,
    json: (row) => {
      let text = "";
      for (let i = 0; i < readers.length; i++) text += keys[i] + readers[i].json(row);
      return readers.length ? text + "}" : "{}";
    },
  };
}

/**
 * Elements [start, end) of a numeric typed array as a JSON list, as JSON.stringify writes their numbers. A
 * whole value in int32 range is written through its small-integer form, which V8 turns into text several times
 * faster than a float's (most of the demo's 18,000 inputs per 1,000 rows are whole: 0.74 → 0.65 ms).
 */
function numbersJson(data: HostTensor["data"], start: number, end: number): string {
  let text = "[";
  for (let i = start; i < end; i++) {
    const v = Number(data[i]);
    const whole = v | 0;
    text += (i > start ? "," : "") + (whole === v ? whole : Number.isFinite(v) ? v : "null");
  }
  return text + "]";
}

/** Copies numeric FixedSizeList chains, flat Lists and scalars without per-element work; undefined if not such a column. */
function fastTensor(
  column: Vector,
  rows: number,
  spec: TensorSpec,
): HostTensor | undefined {
  if (spec.type === "string") return undefined;
  const layout = numericLayout(column.type);
  if (!layout) return undefined;
  const shape = new RowShape(spec);
  let out: HostTensor["data"] | undefined;
  let row = 0;
  for (const chunk of column.data) {
    if (!noNulls(chunk)) return undefined;
    if (layout.list) {
      const offsets = chunk.valueOffsets as Int32Array;
      const leaf = chunk.children[0];
      for (let i = 0; i < chunk.length; i++, row++) {
        const begin = Number(offsets[i]);
        const count = Number(offsets[i + 1]) - begin;
        if (!(begin >= 0 && count >= 0 && begin + count <= leaf.values.length)) throw shortBuffer(spec.name, row);
        shape.accept([count], row, spec.name);
        out ??= allocate(spec.type, rows * shape.size);
        copyNumeric(
          leaf.values,
          begin,
          layout.dtype,
          out,
          row * shape.size,
          spec.type,
          count,
          where(spec.name, row),
        );
      }
    } else {
      shape.accept(layout.dims, row, spec.name);
      let leaf: Data = chunk;
      while (leaf.type.typeId === Type.FixedSizeList) leaf = leaf.children[0];
      const width = shape.size;
      if (leaf.values.length < chunk.length * width) throw shortBuffer(spec.name, row);
      if (column.data.length === 1 && layout.dtype === spec.type) {
        // One chunk already of the model's dtype: the tensor is a view of the request body (an image: no 600 KB copy).
        out = (leaf.values as Float32Array).subarray(0, rows * width);
        break;
      }
      out ??= allocate(spec.type, rows * shape.size);
      // The chunk's rows are contiguous in the leaf buffer: one copy (and one error locator) per chunk.
      const first = row;
      copyNumeric(
        leaf.values,
        0,
        layout.dtype,
        out,
        first * width,
        spec.type,
        chunk.length * width,
        (k) => `column '${spec.name}', row ${first + Math.floor(k / width)}, element ${k % width}`,
      );
      row += chunk.length;
    }
  }
  return out && { type: spec.type, data: out, dims: shape.tensorDims(rows) };
}

function shortBuffer(column: string, row: number): BadInput {
  return new BadInput(
    `column '${column}', row ${row}: the Arrow buffers hold fewer values than the column claims`,
    "invalid_arrow",
  );
}

function where(column: string, row: number) {
  return (element: number) => `column '${column}', row ${row}, element ${element}`;
}

interface NumericLayout {
  dtype: DType;
  /** Per-row dims of a FixedSizeList chain ([] for scalars). */
  dims: number[];
  /** A variable-length List of numbers. */
  list: boolean;
}

function numericLayout(type: DataType): NumericLayout | undefined {
  if (type.typeId === Type.List) {
    const leaf = numericDType(type.children[0].type);
    return leaf ? { dtype: leaf, dims: [], list: true } : undefined;
  }
  const dims: number[] = [];
  while (type.typeId === Type.FixedSizeList) {
    dims.push((type as unknown as { listSize: number }).listSize);
    type = type.children[0].type;
  }
  const dtype = numericDType(type);
  return dtype ? { dtype, dims, list: false } : undefined;
}

function numericDType(type: DataType): DType | undefined {
  if (DataType.isFloat(type)) {
    return type.precision === Precision.HALF ? "float16" : type.precision === Precision.SINGLE ? "float32" : "float64";
  }
  if (DataType.isInt(type)) {
    return `${type.isSigned ? "int" : "uint"}${type.bitWidth}` as DType;
  }
  return undefined;
}

function noNulls(data: Data): boolean {
  if (data.nullCount > 0) return false;
  return data.children.every(noNulls);
}

/** An Arrow value as plain JSON-ready JS: lists to arrays, structs to objects, int64 to number. */
function plain(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return Number(value);
  if (typeof value !== "object") return value;
  if (value instanceof Vector || ArrayBuffer.isView(value)) return Array.from(value as Iterable<unknown>, plain);
  const json = (value as { toJSON?: () => unknown }).toJSON?.();
  if (json && typeof json === "object") {
    return Object.fromEntries(Object.entries(json).map(([k, x]) => [k, plain(x)]));
  }
  return value;
}
