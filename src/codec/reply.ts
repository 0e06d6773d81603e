/**
 * @module
 * The inference reply in the Wallaroo edge shape, as pandas-records JSON: one
 * record per input row with `check_failures`, `elapsed` (ns: [0] input
 * decoding, then one per step), `model_name`, `model_version`,
 * `original_data`, `outputs` (one `{TypeName: {data, dim, v}}` per output
 * tensor, this row's slice), `pipeline_name`, `shadow_data`, `time` (ms).
 */
import { type DType, elementCount, type HostTensor } from "../engine/tensor.ts";
import { fromHalfBits } from "./convert.ts";
import type { DecodedInput } from "./decoded_input.ts";

/** Everything a reply encoder needs about one inference batch. */
export interface InferenceReply {
  pipelineName: string;
  modelName: string;
  modelVersion: string;
  /** Request arrival, ms since epoch. */
  time: number;
  /** ns: [0] input decoding, [1..n] each pipeline step. */
  elapsedNs: number[];
  /** Output tensors of the last step, in model order. */
  outputs: [string, HostTensor][];
  input: DecodedInput;
}

/** Wallaroo's type key for each dtype in `outputs`. */
export const TYPE_NAME: Record<DType, string> = {
  float32: "Float",
  float64: "Double",
  float16: "Half",
  int8: "Int8",
  int16: "Int16",
  int32: "Int32",
  int64: "Int64",
  uint8: "Uint8",
  uint16: "Uint16",
  uint32: "Uint32",
  uint64: "Uint64",
  bool: "Bool",
  string: "String",
};

/** One row's slice of an output tensor: its elements and dims `[1, ...rest]`. */
export interface RowSlice {
  start: number;
  end: number;
  dim: number[];
}

/**
 * Where row `row` lives in `t`. When the tensor's first dim is the row count,
 * each row gets its own slice; otherwise (a model that reduces the batch) every
 * row carries the whole tensor.
 */
export function rowSlice(t: HostTensor, rows: number, row: number): RowSlice {
  if (t.dims.length > 0 && t.dims[0] === rows) {
    const width = elementCount(t.dims.slice(1));
    return {
      start: row * width,
      end: (row + 1) * width,
      dim: [1, ...t.dims.slice(1)],
    };
  }
  return { start: 0, end: elementCount(t.dims), dim: [...t.dims] };
}

/** JSON-ready values of `t` in [start, end): int64 as numbers, bool as booleans, half as numbers. */
export function jsonValues(
  t: HostTensor,
  start: number,
  end: number,
): unknown[] {
  const part = t.data.slice(start, end) as ArrayLike<unknown>;
  switch (t.type) {
    case "int64":
    case "uint64":
      return Array.from(part as ArrayLike<bigint>, Number);
    case "bool":
      return Array.from(part as ArrayLike<number>, (b) => b !== 0);
    case "float16":
      return Array.from(part as ArrayLike<number>, fromHalfBits);
    default:
      return Array.from(part);
  }
}

/** Encodes the reply as a pandas-records JSON string. */
export function encodeRecordsReply(reply: InferenceReply): string {
  const rows = reply.input.rows;
  const records = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const outputs = reply.outputs.map(([, t]) => {
      const s = rowSlice(t, rows, r);
      return {
        [TYPE_NAME[t.type]]: {
          data: jsonValues(t, s.start, s.end),
          dim: s.dim,
          v: 1,
        },
      };
    });
    records[r] = {
      check_failures: [],
      elapsed: reply.elapsedNs,
      model_name: reply.modelName,
      model_version: reply.modelVersion,
      original_data: reply.input.originalData(r),
      outputs,
      pipeline_name: reply.pipelineName,
      shadow_data: {},
      time: reply.time,
    };
  }
  return JSON.stringify(records);
}
