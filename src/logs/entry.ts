/**
 * @module
 * Turns one served batch into log rows: one per input row, holding that row's
 * inputs and outputs as JSON, its validation results (`anomaly`: the count
 * and each check by name) and its shadows' outputs. An input field whose JSON exceeds
 * LOG_FIELD_MAX_BYTES is left out and named in `dropped` (`in.<name>`); the
 * reply to the client always carries everything.
 */
import { type InferenceReply, rowSlice, valueWriter } from "../codec/reply.ts";
import { elementCount, type HostTensor } from "../engine/tensor.ts";
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
  const outputs = outJson(reply.outputs, rows);
  const shadows = (reply.shadows ?? []).map((s) => ({ key: JSON.stringify(s.model), out: outJson(s.outputs, rows) }));
  const checks = reply.checks;
  const checkKeys = checks?.names.map((n) => JSON.stringify(n)) ?? [];
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
    let anomalyCount = 0;
    let anomalyJson = "{}";
    if (checks) {
      const n = checkKeys.length;
      const fields: string[] = new Array(n);
      for (let k = 0; k < n; k++) {
        const failed = checks.flags[r * n + k] === 1;
        if (failed) anomalyCount++;
        fields[k] = `${checkKeys[k]}:${failed}`;
      }
      anomalyJson = `{${fields.join(",")}}`;
    }
    out[r] = {
      time: reply.time,
      inJson: `{${inFields.join(",")}}`,
      outJson: outputs(r),
      anomalyCount,
      anomalyJson,
      shadowJson: shadows.length ? `{${shadows.map((s) => `${s.key}:${s.out(r)}`).join(",")}}` : "{}",
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

/** Row `r`'s JSON object of `tensors`: name → this row's values. */
function outJson(tensors: readonly [string, HostTensor][], rows: number): (r: number) => string {
  const outputs = tensors.map(([name, t]) => ({ key: JSON.stringify(name), t, write: valueWriter(t) }));
  return (r) =>
    `{${
      outputs.map(({ key, t, write }) => {
        const s = rowSlice(t, rows, r);
        return `${key}:[${write(s.start, s.end)}]`;
      }).join(",")
    }}`;
}
