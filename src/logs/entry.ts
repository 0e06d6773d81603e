/**
 * @module
 * Turns one served request into its log record: the fields its rows share
 * (time, pipeline, model, elapsed, edge), once, and its tensors (inputs,
 * outputs, validation flags, shadow outputs) as one binary payload
 * (payload.ts). Nothing is formatted as text here, on the serving thread:
 * rows.ts turns a record back into one JSON row per input row when `/logs` or
 * the Ops uploader reads it. An input whose row cannot fit LOG_FIELD_MAX_BYTES
 * of JSON whatever its values is left out of the record; one whose row's JSON
 * turns out longer when read is dropped then. Either way it is named in
 * `dropped` (`in.<name>`); the reply to the client always carries everything.
 */
import { extraColumns } from "../codec/extra_columns.ts";
import type { InferenceReply } from "../codec/reply.ts";
import { type DType, elementCount } from "../engine/tensor.ts";
import { encodePayload } from "./payload.ts";

/** Largest JSON text of one input field kept in a log row. */
export const LOG_FIELD_MAX_BYTES = 64 * 1024;

/** What the writer receives for one served batch. */
export interface LogEntry {
  reply: InferenceReply;
  pipelineVersion: string;
  modelSha: string;
}

/** One served request as the log stores it. */
export interface LogRecord {
  time: number;
  /** Input rows: the record's rows take ids `id` … `id + rows − 1`. */
  rows: number;
  pipelineName: string;
  pipelineVersion: string;
  /** JSON string `{"model_name","model_sha"}` of the last step, as Wallaroo reports it. */
  lastModel: string;
  /** JSON list of ns: decoding, then each step. */
  elapsedJson: string;
  partition: string;
  /** The tensors (payload.ts). */
  payload: Uint8Array;
  /** The Arrow `/logs` columns its rows bring beyond the fixed ones (`anomaly.<name>`, `shadow_data`). */
  extraColumns: string[];
}

/** The fewest characters one element of `type` takes as JSON in a log row (rows.ts): `0`, `0.0`, `""`, `true`. */
const MIN_ELEMENT_JSON: Partial<Record<DType, number>> = { float16: 3, float32: 3, float64: 3, bool: 4, string: 2 };

/** The shortest JSON a row of `width` elements of `type` can have: `[` and `]`, the elements, their commas. */
function minRowJson(type: DType, width: number): number {
  return 2 + width * (MIN_ELEMENT_JSON[type] ?? 1) + Math.max(0, width - 1);
}

/** The log record of one entry. */
export function toLogRecord(entry: LogEntry, partition: string): LogRecord {
  const { reply } = entry;
  const checks = reply.checks;
  const shadows = reply.shadows ?? [];
  return {
    time: reply.time,
    rows: reply.input.rows,
    pipelineName: reply.pipelineName,
    pipelineVersion: entry.pipelineVersion,
    lastModel: JSON.stringify({ model_name: reply.modelName, model_sha: entry.modelSha }),
    elapsedJson: JSON.stringify(reply.elapsedNs),
    partition,
    payload: encodePayload({
      inputs: Object.entries(reply.input.tensors).map((
        [name, t],
      ) => [name, minRowJson(t.type, elementCount(t.dims.slice(1))) > LOG_FIELD_MAX_BYTES ? null : t]),
      outputs: reply.outputs,
      shadows,
      checks,
    }),
    extraColumns: extraColumns(checks?.names ?? [], shadows.length > 0),
  };
}
