/**
 * @module
 * The inference reply as an Arrow IPC file (`Accept:
 * application/vnd.apache.arrow.file`): the same fields as the pandas-records
 * reply, one row per input row. Tensors become fixed-size-list columns of
 * their own dtype, named as the Wallaroo SDK names them: `in.{input}` for
 * each model input and `out.{output}` for each output, each carrying its
 * per-row dims as field metadata `dim` (e.g. `[1,1]`). `original_data` is
 * represented by the `in.*` columns; `elapsed` and `check_failures` are list
 * columns; `shadow_data` is JSON text.
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
import { type InferenceReply, rowSlice } from "./reply.ts";

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
  const columns: [Field, Data][] = [];
  const add = (name: string, data: Data, metadata?: Map<string, string>) =>
    columns.push([new Field(name, data.type, false, metadata), data]);

  add(
    "time",
    single(
      vectorFromArray(
        new Array(rows).fill(reply.time),
        new TimestampMillisecond(),
      ),
    ),
  );
  for (const [name, t] of Object.entries(reply.input.tensors)) {
    const [data, dim] = tensorColumn(t, rows);
    add(`in.${name}`, data, new Map([["dim", JSON.stringify(dim)]]));
  }
  for (const [name, t] of reply.outputs) {
    const [data, dim] = tensorColumn(t, rows);
    add(`out.${name}`, data, new Map([["dim", JSON.stringify(dim)]]));
  }
  const elapsed = reply.elapsedNs.map(BigInt);
  add(
    "elapsed",
    single(
      vectorFromArray(
        new Array(rows).fill(elapsed),
        new List(new Field("item", new Int64(), false)),
      ),
    ),
  );
  add(
    "check_failures",
    single(
      vectorFromArray(
        new Array(rows).fill([]),
        new List(new Field("item", new Utf8(), false)),
      ),
    ),
  );
  for (
    const [name, value] of [
      ["model_name", reply.modelName],
      ["model_version", reply.modelVersion],
      ["pipeline_name", reply.pipelineName],
      ["shadow_data", "{}"],
    ]
  ) {
    add(name, single(vectorFromArray(new Array(rows).fill(value), new Utf8())));
  }
  const fields = columns.map(([f]) => f);
  const struct = makeData({
    type: new Struct(fields),
    length: rows,
    nullCount: 0,
    children: columns.map(([, d]) => d),
  });
  return tableToIPC(new Table(new RecordBatch(new Schema(fields), struct)), format);
}

/** One fixed-size-list column holding each row's slice of `t`, and that slice's dims. */
function tensorColumn(t: HostTensor, rows: number): [Data, number[]] {
  const first = rowSlice(t, rows, 0);
  const width = first.end - first.start;
  const perRowSlices = first.end !== t.data.length || rows === 1;
  // A tensor whose first dim is not the batch is repeated on every row.
  const values = perRowSlices ? t.data : repeat(t.data, rows);
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
  return [makeData({ type, length: rows, nullCount: 0, child }), first.dim];
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

function single<T extends DataType>(
  vector: { readonly data: readonly Data<T>[] },
): Data<T> {
  if (vector.data.length !== 1) {
    throw new Error("expected a single-chunk Arrow vector");
  }
  return vector.data[0];
}
