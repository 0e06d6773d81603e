/**
 * @module
 * Turns one served batch into log rows: one per input row, holding that row's
 * inputs and outputs as JSON. An input field whose JSON exceeds
 * LOG_FIELD_MAX_BYTES is left out and named in `dropped` (`in.<name>`); the
 * reply to the client always carries everything.
 */
import { type InferenceReply, rowSlice, valueWriter } from "../codec/reply.ts";
import { elementCount } from "../engine/tensor.ts";
import type { inferenceLog } from "./schema.ts";

/** Largest JSON text of one input field kept in a log row. */
export const LOG_FIELD_MAX_BYTES = 64 * 1024;

/** What the writer receives for one served batch. */
export interface LogEntry {
  reply: InferenceReply;
  pipelineVersion: string;
  modelSha: string;
}

/** A row as inserted. */
export type LogRow = typeof inferenceLog.$inferInsert;

/** The log rows of one entry. */
export function logRows(entry: LogEntry, partition: string): LogRow[] {
  const { reply } = entry;
  const rows = reply.input.rows;
  const lastModel = JSON.stringify({ model_name: reply.modelName, model_sha: entry.modelSha });
  const elapsedJson = JSON.stringify(reply.elapsedNs);
  const inputs = Object.entries(reply.input.tensors).map(([name, t]) => ({
    key: JSON.stringify(name),
    name,
    width: elementCount(t.dims.slice(1)),
    write: valueWriter(t),
  }));
  const outputs = reply.outputs.map(([name, t]) => ({ key: JSON.stringify(name), t, write: valueWriter(t) }));
  const out: LogRow[] = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const dropped: string[] = [];
    const inFields: string[] = [];
    for (const { key, name, width, write } of inputs) {
      // Cheap bound first: every element takes at least 2 bytes of JSON.
      const json = width * 2 > LOG_FIELD_MAX_BYTES ? undefined : `[${write(r * width, (r + 1) * width)}]`;
      if (json === undefined || json.length > LOG_FIELD_MAX_BYTES) dropped.push(`in.${name}`);
      else inFields.push(`${key}:${json}`);
    }
    const outFields = outputs.map(({ key, t, write }) => {
      const s = rowSlice(t, rows, r);
      return `${key}:[${write(s.start, s.end)}]`;
    });
    out[r] = {
      time: reply.time,
      inJson: `{${inFields.join(",")}}`,
      outJson: `{${outFields.join(",")}}`,
      anomalyCount: 0,
      pipelineName: reply.pipelineName,
      pipelineVersion: entry.pipelineVersion,
      lastModel,
      elapsedJson,
      droppedJson: JSON.stringify(dropped),
      partition,
    };
  }
  return out;
}
