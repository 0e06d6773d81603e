/**
 * @module
 * A stored log record back into log rows, one per input row: its inputs and
 * outputs as JSON objects, its validation results (`anomaly`: the count and
 * each check by name) and its shadows' outputs, with the fields the record
 * shares. Runs where rows are read (the `/logs` and Ops reading worker), not
 * on the serving thread. An input field whose JSON exceeds LOG_FIELD_MAX_BYTES
 * is left out and named in `dropped`.
 */
import { rowLayout, valueWriter } from "../codec/reply.ts";
import { elementCount, type HostTensor } from "../engine/tensor.ts";
import { LOG_FIELD_MAX_BYTES, type LogRecord } from "./entry.ts";
import { decodePayload } from "./payload.ts";

/**
 * A log row as `/logs` and the Ops upload see it. Its validation results and shadow outputs (`anomalyJson`,
 * `shadowJson`, `{}` when absent) are optional here, so rows from elsewhere (the hub's, written before
 * validations existed) are rows too.
 */
export interface StoredLogRow {
  /** Monotonic, never reused: upload order and the `after` cursor of `/logs`. */
  id: number;
  /** Request arrival, ms since epoch. */
  time: number;
  /** JSON object: input name → this row's values (fields too large are left out, see `dropped`). */
  inJson: string;
  /** JSON object: output name → this row's values. */
  outJson: string;
  /** Validations this row failed. */
  anomalyCount: number;
  /** JSON object: validation name → whether this row failed it (`{}` without validations). */
  anomalyJson?: string;
  /** JSON object: shadow model → {output name → this row's values} (`{}` without shadows). */
  shadowJson?: string;
  pipelineName: string;
  pipelineVersion: string;
  lastModel: string;
  elapsedJson: string;
  /** JSON list of input fields left out for size, e.g. `["in.image"]`. */
  droppedJson: string;
  partition: string;
  /** 1 once the Ops server has the row. */
  uploaded: number;
}

/**
 * A record as stored: its first row's id, how many of its rows (from the first) Ops has, and its payload:
 * binary (payload.ts), or, for a row written before records existed, the JSON array
 * `[in, out, anomaly_count, anomaly, shadow, dropped]` of that one row.
 */
export interface StoredRecord extends Omit<LogRecord, "payload" | "extraColumns"> {
  id: number;
  uploaded: number;
  payload: Uint8Array | string;
}

/** Rows `from` … `to − 1` of `record` (all of them by default). */
export function recordRows(record: StoredRecord, from = 0, to = record.rows): StoredLogRow[] {
  const shared = (r: number) => ({
    id: record.id + r,
    time: record.time,
    pipelineName: record.pipelineName,
    pipelineVersion: record.pipelineVersion,
    lastModel: record.lastModel,
    elapsedJson: record.elapsedJson,
    partition: record.partition,
    uploaded: r < record.uploaded ? 1 : 0,
  });
  if (typeof record.payload === "string") {
    const [inJson, outJson, anomalyCount, anomalyJson, shadowJson, droppedJson] = JSON.parse(record.payload);
    return from < 1 && to > 0
      ? [{ ...shared(0), inJson, outJson, anomalyCount, anomalyJson, shadowJson, droppedJson }]
      : [];
  }
  const rows = record.rows;
  const { inputs, outputs, shadows, checks } = decodePayload(record.payload, rows);
  const inputFields = inputs.map(([name, t]) => ({
    key: JSON.stringify(name),
    name,
    width: t ? elementCount(t.dims.slice(1)) : 0,
    write: t && valueWriter(t),
  }));
  const outJson = objectOf(outputs, rows);
  const shadowJsons = shadows.map((s) => ({ key: JSON.stringify(s.model), out: objectOf(s.outputs, rows) }));
  const checkKeys = checks?.names.map((n) => JSON.stringify(n)) ?? [];
  const out: StoredLogRow[] = [];
  for (let r = from; r < Math.min(to, rows); r++) {
    const dropped: string[] = [];
    const inFields: string[] = [];
    for (const { key, name, width, write } of inputFields) {
      const json = write && `[${write(r * width, (r + 1) * width)}]`;
      if (json === null || json.length > LOG_FIELD_MAX_BYTES) dropped.push(`in.${name}`);
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
    out.push({
      ...shared(r),
      inJson: `{${inFields.join(",")}}`,
      outJson: outJson(r),
      anomalyCount,
      anomalyJson,
      shadowJson: shadowJsons.length ? `{${shadowJsons.map((s) => `${s.key}:${s.out(r)}`).join(",")}}` : "{}",
      droppedJson: JSON.stringify(dropped),
    });
  }
  return out;
}

/** Row `r`'s JSON object of `tensors`: name → this row's values. */
function objectOf(tensors: readonly [string, HostTensor][], rows: number): (r: number) => string {
  const fields = tensors.map(([name, t], i) => ({
    key: (i ? "," : "{") + JSON.stringify(name) + ":[",
    ...rowLayout(t, rows),
    write: valueWriter(t),
  }));
  if (fields.length === 0) return () => "{}";
  return (r) => {
    let text = "";
    for (const { key, step, width, write } of fields) text += key + write(r * step, r * step + width) + "]";
    return text + "}";
  };
}
