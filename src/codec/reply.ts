/**
 * @module
 * The inference reply in the Wallaroo edge shape, as pandas-records JSON: one
 * record per input row with `check_failures` (the names of the validations
 * the row failed), `elapsed` (ns: [0] input decoding, then one per step),
 * `model_name`, `model_version` (the last step's model served),
 * `original_data`, `outputs` (one `{TypeName: {data, dim, v}}` per output
 * tensor, this row's slice), `pipeline_name`, `shadow_data` (each shadow
 * model's outputs, shaped as `outputs`), `time` (ms).
 */
import { type DType, elementCount, type HostTensor } from "../engine/tensor.ts";
import { fromHalfBits } from "./convert.ts";
import type { DecodedInput } from "./decoded_input.ts";
import { type CheckResults, failedChecks } from "../pipeline/checks.ts";

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
  /** The validations' results, when the pipeline has any. */
  checks?: CheckResults;
  /** Each shadow model's outputs that came in time, in model order. */
  shadows?: readonly { model: string; outputs: [string, HostTensor][] }[];
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

/** Where every row of `t` lives: row r's elements are [r × step, r × step + width), its dims `dim`. */
export interface RowLayout {
  step: number;
  width: number;
  dim: number[];
}

/**
 * How `t` splits into `rows` rows. When the tensor's first dim is the row count, each row gets its own slice;
 * otherwise (a model that reduces the batch) every row carries the whole tensor (step 0).
 */
export function rowLayout(t: HostTensor, rows: number): RowLayout {
  if (t.dims.length > 0 && t.dims[0] === rows) {
    const width = elementCount(t.dims.slice(1));
    return { step: width, width, dim: [1, ...t.dims.slice(1)] };
  }
  return { step: 0, width: elementCount(t.dims), dim: [...t.dims] };
}

/**
 * Encodes the reply as a pandas-records JSON string. The parts shared by every
 * record are serialised once; each record adds its original data and output
 * slices (as JSON.stringify writes them, except that float outputs keep float
 * form, `757758.0`; non-finite floats become null).
 */
export function encodeRecordsReply(reply: InferenceReply): string {
  return `[${recordsEncoder(reply)(0, reply.input.rows)}]`;
}

/** How a large reply is built: `rowsPerChunk` records a turn, whole up to `wholeChars` characters. */
export interface LargeReplyOptions {
  rowsPerChunk: number;
  wholeChars: number;
  /** Resolves on a later turn of the event loop. */
  turn: () => Promise<void>;
  /** Called once a streamed reply is out or the client went away (not for a whole one). */
  done: () => void;
}

/**
 * The same JSON as encodeRecordsReply, encoded `rowsPerChunk` records at a time with a turn of the event loop
 * between chunks, so a large reply never blocks the event loop for long. Up to `wholeChars` characters it comes
 * back as one string, which Deno.serve sends in one write. Beyond that it is a stream of UTF-8 chunks, never held
 * whole, that starts with what was built and encodes each further chunk when the client pulls it. A stream ends
 * with small writes, and Deno.serve leaves Nagle's algorithm on (it offers no TCP_NODELAY): a small write waits
 * for the client's delayed ACK of the one before, 40 ms on Linux. So only replies too large to hold are streamed.
 */
export async function buildLargeRecordsReply(
  reply: InferenceReply,
  { rowsPerChunk, wholeChars, turn, done }: LargeReplyOptions,
): Promise<string | ReadableStream<Uint8Array>> {
  const chunks = recordChunks(reply, rowsPerChunk);
  const built: string[] = [];
  let chars = 0;
  for (let i = 0; i < chunks.count; i++) {
    if (i > 0) await turn();
    built.push(chunks.text(i));
    chars += built[i].length;
    if (chars > wholeChars && i + 1 < chunks.count) return chunkStream(built.join(""), chunks, i + 1, done);
  }
  return built.join("");
}

/** The reply's JSON text in `count` pieces of `rowsPerChunk` records, brackets included. */
interface RecordChunks {
  count: number;
  text(i: number): string;
}

function recordChunks(reply: InferenceReply, rowsPerChunk: number): RecordChunks {
  const encode = recordsEncoder(reply);
  const rows = reply.input.rows;
  return {
    count: Math.max(1, Math.ceil(rows / rowsPerChunk)),
    text(i) {
      const from = i * rowsPerChunk;
      const end = Math.min(rows, from + rowsPerChunk);
      return (i === 0 ? "[" : ",") + encode(from, end) + (end === rows ? "]" : "");
    },
  };
}

/** A stream of `first`, then of chunks `from`… each encoded when pulled; `done` once all are out or on cancel. */
function chunkStream(first: string, chunks: RecordChunks, from: number, done: () => void): ReadableStream<Uint8Array> {
  const utf8 = new TextEncoder();
  let pending: string | undefined = first;
  let next = from;
  return new ReadableStream({
    pull(controller) {
      controller.enqueue(utf8.encode(pending ?? chunks.text(next++)));
      pending = undefined;
      if (next === chunks.count) {
        controller.close();
        done();
      }
    },
    cancel: done,
  }, { highWaterMark: 0 });
}

/** Encodes records [from, to) of a reply, comma-separated (no brackets). */
function recordsEncoder(reply: InferenceReply): (from: number, to: number) => string {
  const rows = reply.input.rows;
  const checks = reply.checks;
  const elapsed = `,"elapsed":${JSON.stringify(reply.elapsedNs)},"model_name":${
    JSON.stringify(reply.modelName)
  },"model_version":${JSON.stringify(reply.modelVersion)},"original_data":`;
  const head = `{"check_failures":[]` + elapsed;
  const pipeline = `],"pipeline_name":${JSON.stringify(reply.pipelineName)},"shadow_data":`;
  const tail = `,"time":${reply.time}}`;
  const outputs = outputsEncoder(reply.outputs, rows);
  const shadows = shadowDataEncoder(reply);
  const input = reply.input;
  const original = input.originalJson
    ? input.originalJson.bind(input)
    : (r: number) => JSON.stringify(input.originalData(r) ?? null);
  return (from, to) => {
    const parts: string[] = new Array(to - from);
    for (let r = from; r < to; r++) {
      const start = checks ? `{"check_failures":${JSON.stringify(failedChecks(checks, r))}` + elapsed : head;
      parts[r - from] = start + original(r) + `,"outputs":[` +
        outputs(r) + pipeline + shadows(r) + tail;
    }
    return parts.join(",");
  };
}

/** Row `r`'s `outputs` list items (no brackets) of `tensors`. */
function outputsEncoder(tensors: [string, HostTensor][], rows: number): (r: number) => string {
  const outputs = tensors.map(([, t]) => {
    const { step, width, dim } = rowLayout(t, rows);
    return {
      step,
      width,
      open: `{"${TYPE_NAME[t.type]}":{"data":[`,
      close: `],"dim":[${dim.join(",")}],"v":1}}`,
      write: valueWriter(t),
    };
  });
  return (r) => {
    let text = "";
    for (let o = 0; o < outputs.length; o++) {
      const { step, width, open, close, write } = outputs[o];
      text += (o ? "," : "") + open + write(r * step, r * step + width) + close;
    }
    return text;
  };
}

/** Row `r`'s `shadow_data` JSON object: each shadow model's outputs, shaped as `outputs`. */
export function shadowDataEncoder(reply: InferenceReply): (r: number) => string {
  const shadows = (reply.shadows ?? []).map((s) => ({
    key: JSON.stringify(s.model),
    outputs: outputsEncoder(s.outputs, reply.input.rows),
  }));
  if (shadows.length === 0) return () => "{}";
  return (r) => `{${shadows.map((s) => `${s.key}:[${s.outputs(r)}]`).join(",")}}`;
}

/** Serialises elements [start, end) of a tensor as JSON list items (no brackets). */
export function valueWriter(t: HostTensor): (start: number, end: number) => string {
  const d = t.data;
  const join = (start: number, end: number, item: (i: number) => string) => {
    let text = "";
    for (let i = start; i < end; i++) text += (i > start ? "," : "") + item(i);
    return text;
  };
  switch (t.type) {
    case "string":
      return (a, b) => join(a, b, (i) => JSON.stringify((d as string[])[i]));
    case "bool":
      return (a, b) => join(a, b, (i) => (d[i] ? "true" : "false"));
    case "int64":
    case "uint64":
      return (a, b) => join(a, b, (i) => String(Number(d[i])));
    case "float16":
      return (a, b) => join(a, b, (i) => float(fromHalfBits(d[i] as number)));
    case "float32":
    case "float64":
      return (a, b) => join(a, b, (i) => float(d[i] as number));
    default:
      return (a, b) => join(a, b, (i) => String(d[i]));
  }
}

/**
 * A float as JSON in float form: whole values get `.0` (757758 → `757758.0`), so
 * readers such as Python's json give a float for every row, not an int for some;
 * ≥ 1e21 already prints with an exponent; non-finite values are null.
 */
function float(v: number): string {
  if (!Number.isFinite(v)) return "null";
  return Number.isInteger(v) && v < 1e21 && v > -1e21 ? v + ".0" : String(v);
}
