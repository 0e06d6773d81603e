/**
 * @module
 * The inference reply as an Arrow IPC file (`Accept:
 * application/vnd.apache.arrow.file`): the same fields as the pandas-records
 * reply, one row per input row. Tensors become fixed-size-list columns of
 * their own dtype, named as the Wallaroo SDK names them: `in.{input}` for
 * each model input and `out.{output}` for each output, each carrying its
 * per-row dims as field metadata `dim` (e.g. `[1,1]`). `original_data` is
 * represented by the `in.*` columns: one per column sent, in the order sent;
 * those that are not model inputs keep their Arrow type and values (Arrow
 * requests) or take a type inferred from their JSON values (pandas-records
 * requests). `elapsed` and `check_failures` (the names of the validations
 * each row failed) are list columns; `shadow_data` is each row's JSON text of
 * the pandas-records reply's `shadow_data`. An Arrow request of several record batches gets a reply of
 * as many, of the same lengths.
 */
import {
  Bool,
  type Data,
  type DataType,
  Field,
  FixedSizeList,
  Float16,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  List,
  makeData,
  Null,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableToIPC,
  TimestampMillisecond,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import type { DType, HostTensor } from "../engine/tensor.ts";
import type { DecodedInput } from "./decoded_input.ts";
import { type InferenceReply, rowLayout, shadowDataEncoder } from "./reply.ts";
import { type CheckResults, failedChecks } from "../pipeline/checks.ts";

const ARROW_TYPE: Record<DType, () => DataType> = {
  float32: () => new Float32(),
  float64: () => new Float64(),
  float16: () => new Float16(),
  int8: () => new Int8(),
  int16: () => new Int16(),
  int32: () => new Int32(),
  int64: () => new Int64(),
  uint8: () => new Uint8(),
  uint16: () => new Uint16(),
  uint32: () => new Uint32(),
  uint64: () => new Uint64(),
  bool: () => new Bool(),
  string: () => new Utf8(),
};

/** Encodes the reply as an Arrow IPC file (or stream). */
export function encodeArrowReply(reply: InferenceReply, format: "file" | "stream" = "file"): Uint8Array {
  const rows = reply.input.rows;
  /** Each column's field and its data: one Data of all rows, or one per input record batch. */
  const columns: [Field, Data | Data[]][] = [];
  const add = (name: string, data: Data, metadata?: Map<string, string>) =>
    columns.push([new Field(name, data.type, false, metadata), data]);

  add(
    "time",
    makeData({
      type: new TimestampMillisecond(),
      length: rows,
      nullCount: 0,
      data: new BigInt64Array(rows).fill(BigInt(reply.time)),
    }),
  );
  for (const column of inputColumns(reply.input)) {
    if ("tensor" in column) {
      const [data, dim] = tensorColumn(column.tensor, rows);
      add(`in.${column.name}`, data, new Map([["dim", JSON.stringify(dim)]]));
    } else {
      const { name, type, nullable, metadata } = column.field;
      columns.push([new Field(`in.${name}`, type, nullable, metadata), column.data]);
    }
  }
  for (const [name, t] of reply.outputs) {
    const [data, dim] = tensorColumn(t, rows);
    add(`out.${name}`, data, new Map([["dim", JSON.stringify(dim)]]));
  }
  add("elapsed", repeatedInt64List(reply.elapsedNs, rows));
  add("check_failures", checkFailuresData(reply.checks, rows));
  for (
    const [name, value] of [
      ["model_name", reply.modelName],
      ["model_version", reply.modelVersion],
      ["pipeline_name", reply.pipelineName],
    ]
  ) {
    add(name, utf8Data(rows, value));
  }
  add("shadow_data", utf8Data(rows, reply.shadows?.length ? shadowDataEncoder(reply) : "{}"));
  const fields = columns.map(([f]) => f);
  const schema = new Schema(fields);
  const type = new Struct(fields);
  // The record batches of an Arrow request (one for JSON): columns carried over as sent are used chunk by chunk,
  // the others sliced to match.
  const lengths = reply.input.sent && "table" in reply.input.sent
    ? reply.input.sent.table.batches.map((b) => b.numRows)
    : [rows];
  let offset = 0;
  const batches = lengths.map((length, k) => {
    const children = columns.map(([, d]) =>
      Array.isArray(d) ? d[k] : lengths.length === 1 ? d : d.slice(offset, length)
    );
    offset += length;
    return new RecordBatch(schema, makeData({ type, length, nullCount: 0, children }));
  });
  return tableToIPC(new Table(schema, batches), format);
}

/** An `in.*` column: a model input's tensor, or a column carried over as sent (its data per record batch, or whole). */
type InputColumn =
  | { name: string; tensor: HostTensor }
  | { field: Field; data: Data | Data[] };

/** The input columns in the order sent; model inputs as their tensors. */
function inputColumns(input: DecodedInput): InputColumn[] {
  const { tensors, sent } = input;
  const fromTensors = () => Object.entries(tensors).map(([name, tensor]) => ({ name, tensor }));
  if (!sent) return fromTensors();
  const out: InputColumn[] = [];
  const seen = new Set<string>();
  if ("table" in sent) {
    sent.table.schema.fields.forEach((field, i) => {
      if (seen.has(field.name)) return;
      seen.add(field.name);
      const tensor = Object.hasOwn(tensors, field.name) ? tensors[field.name] : undefined; // e.g. a `constructor` column
      out.push(tensor ? { name: field.name, tensor } : { field, data: sent.table.getChildAt(i)!.data.slice() });
    });
    return out;
  }
  const { records } = sent;
  for (const record of records) {
    for (const name of Object.keys(record)) {
      if (seen.has(name)) continue;
      seen.add(name);
      const tensor = Object.hasOwn(tensors, name) ? tensors[name] : undefined;
      if (tensor) {
        out.push({ name, tensor });
      } else {
        const values = records.map((r) => Object.hasOwn(r, name) ? r[name] : null);
        const type = inferType(values, 0);
        const data = single(vectorFromArray(arrowValues(values, type), type));
        out.push({ field: new Field(name, type, data.nullCount > 0), data });
      }
    }
  }
  return out;
}

/** Lists deeper than this are carried as JSON text. */
const MAX_INFERRED_DEPTH = 32;

/**
 * The Arrow type of a JSON column that is not a model input: Bool, Int64
 * (whole numbers within ±2^53), Float64 (other numbers), Utf8 (strings), a
 * List of the type of the elements, or, for objects, mixed values and
 * columns of nulls, Utf8 holding each value's JSON text.
 */
function inferType(values: readonly unknown[], depth: number): DataType {
  let kind: "boolean" | "number" | "string" | "list" | "json" | undefined;
  let whole = true;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    const k = Array.isArray(v) ? "list" : typeof v === "object" ? "json" : typeof v;
    if (kind !== undefined && kind !== k) return new Utf8();
    if (k !== "boolean" && k !== "number" && k !== "string" && k !== "list") return new Utf8();
    kind = k;
    if (k === "number" && !Number.isSafeInteger(v)) whole = false;
  }
  switch (kind) {
    case "boolean":
      return new Bool();
    case "number":
      return whole ? new Int64() : new Float64();
    case "string":
      return new Utf8();
    case "list": {
      if (depth >= MAX_INFERRED_DEPTH) return new Utf8();
      const items = values.flatMap((v) => (Array.isArray(v) ? v : []));
      const item = items.length === 0 ? new Null() : inferType(items, depth + 1);
      return new List(new Field("item", item, true));
    }
    default:
      return new Utf8();
  }
}

/** `values` as apache-arrow builds `type` from them: int64 as bigint, JSON text for Utf8 from non-strings. */
function arrowValues(values: readonly unknown[], type: DataType): unknown[] {
  return values.map((v) => {
    if (v === null || v === undefined) return null;
    if (type instanceof Int64) return BigInt(v as number);
    if (type instanceof Utf8) return typeof v === "string" ? v : JSON.stringify(v);
    if (type instanceof List) return arrowValues(v as unknown[], type.children[0].type);
    return v;
  });
}

/** One fixed-size-list column holding each row's slice of `t`, and that slice's dims. */
function tensorColumn(t: HostTensor, rows: number): [Data, number[]] {
  const { step, width, dim } = rowLayout(t, rows);
  // A tensor whose first dim is not the batch is repeated on every row.
  const values = step !== 0 || rows === 1 ? t.data : repeat(t.data, rows);
  const childType = ARROW_TYPE[t.type]();
  const child = t.type === "bool" || t.type === "string"
    ? single(vectorFromArray(
      t.type === "bool" ? Array.from(values as Uint8Array, (b) => b !== 0) : values as string[],
      childType,
    ))
    : makeData(
      {
        type: childType,
        length: rows * width,
        nullCount: 0,
        data: values,
      } as never,
    );
  const type = new FixedSizeList(width, new Field("item", childType, false));
  return [makeData({ type, length: rows, nullCount: 0, child }), dim];
}

function repeat(data: HostTensor["data"], times: number): HostTensor["data"] {
  if (Array.isArray(data)) return new Array(times).fill(data).flat();
  const typed = data as Float32Array;
  const out = new (typed.constructor as Float32ArrayConstructor)(
    typed.length * times,
  );
  for (let i = 0; i < times; i++) out.set(typed, i * typed.length);
  return out as HostTensor["data"];
}

const utf8 = new TextEncoder();

/** A typed array, as fillRepeated uses it. */
interface Repeatable<T> {
  readonly length: number;
  set(source: T): void;
  copyWithin(target: number, start: number, end: number): unknown;
}

/**
 * Fills `out` with `out.length / one.length` copies of `one` by doubling the part already written: a few
 * memcpy calls in place of one small copy per row (which cost a 1,000-row reply about 0.1 ms per column).
 */
function fillRepeated<T extends Repeatable<T>>(out: T, one: T): T {
  if (one.length === 0 || out.length === 0) return out;
  out.set(one);
  for (let filled = one.length; filled < out.length; filled *= 2) {
    out.copyWithin(filled, 0, Math.min(filled, out.length - filled));
  }
  return out;
}

/** Offsets 0, k, 2k, … of `rows` list items of `k` elements each. */
function evenOffsets(rows: number, k: number): Int32Array {
  const offsets = new Int32Array(rows + 1);
  for (let r = 1; r <= rows; r++) offsets[r] = r * k;
  return offsets;
}

/** A List<Int64> column holding `values` on each of `rows` rows. */
function repeatedInt64List(values: readonly number[], rows: number): Data<List<Int64>> {
  const k = values.length;
  const items = fillRepeated(new BigInt64Array(rows * k), BigInt64Array.from(values, BigInt));
  const child = makeData({ type: new Int64(), length: rows * k, nullCount: 0, data: items });
  return makeData({
    type: new List(new Field("item", new Int64(), false)),
    length: rows,
    nullCount: 0,
    valueOffsets: evenOffsets(rows, k),
    child,
  });
}

/** The `check_failures` List<Utf8> column: the names of the validations each row failed (none without checks). */
function checkFailuresData(checks: CheckResults | undefined, rows: number): Data<List<Utf8>> {
  const valueOffsets = new Int32Array(rows + 1);
  const names: string[] = [];
  if (checks) {
    for (let r = 0; r < rows; r++) {
      names.push(...failedChecks(checks, r));
      valueOffsets[r + 1] = names.length;
    }
  }
  return makeData({
    type: new List(new Field("item", new Utf8(), false)),
    length: rows,
    nullCount: 0,
    valueOffsets,
    child: utf8Data(names.length, (k) => names[k]),
  });
}

/**
 * A Utf8 column of `rows` strings (or of one string on every row), built from their bytes: apache-arrow's
 * vectorFromArray took about 1 ms per 1,000-row column of the same string (measured here), most of a 1,000-row
 * reply's encoding time. A run of equal strings is encoded once and copied by doubling.
 */
function utf8Data(rows: number, valueAt: string | ((row: number) => string)): Data<Utf8> {
  if (typeof valueAt === "string") {
    const bytes = utf8.encode(valueAt);
    const data = fillRepeated(new Uint8Array(rows * bytes.length), bytes);
    return makeData({
      type: new Utf8(),
      length: rows,
      nullCount: 0,
      valueOffsets: evenOffsets(rows, bytes.length),
      data,
    });
  }
  const valueOffsets = new Int32Array(rows + 1);
  /** Runs of equal consecutive strings: their bytes and the row each run ends before. */
  const runs: { bytes: Uint8Array; end: number }[] = [];
  let text: string | undefined;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const value = valueAt(r);
    if (value !== text) runs.push({ bytes: utf8.encode(text = value), end: r + 1 });
    const run = runs[runs.length - 1];
    run.end = r + 1;
    total += run.bytes.length;
    valueOffsets[r + 1] = total;
  }
  const data = new Uint8Array(total);
  let row = 0;
  for (const { bytes, end } of runs) {
    fillRepeated(data.subarray(valueOffsets[row], valueOffsets[end]), bytes);
    row = end;
  }
  return makeData({ type: new Utf8(), length: rows, nullCount: 0, valueOffsets, data });
}

function single<T extends DataType>(
  vector: { readonly data: readonly Data<T>[] },
): Data<T> {
  if (vector.data.length !== 1) {
    throw new Error("expected a single-chunk Arrow vector");
  }
  return vector.data[0];
}
