/**
 * @module
 * `/logs` rows on the wire, in the Wallaroo edge shape: `time`, `in`, `out`,
 * `anomaly` (`{"count":N}`, and `"<validation>": true|false` for each
 * validation of the row's pipeline), `shadow_data` (only on rows with shadow
 * outputs: model → {output → values}), `metadata` (`last_model` as a JSON string,
 * `pipeline_version`, `elapsed`, `dropped`, `partition`, and tern's `id`, the
 * cursor for `after`). As pandas-records JSON, or as Arrow record batches
 * (columns listed in docs/api.md; `anomaly.<validation>` and `shadow_data`
 * columns for those the log has ever held, null or `{}` on rows without).
 */
import {
  Bool,
  Field,
  Int32,
  Int64,
  List,
  type RecordBatch,
  Table,
  TimestampMillisecond,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import type { StoredLogRow } from "../logs/query.ts";

/**
 * One page of rows as an Arrow record batch; `extra`: the columns beyond the fixed ones (`anomaly.<name>`,
 * `shadow_data`, as the log lists them), so every page of a reply has the same schema.
 */
export function logRecordBatch(rows: StoredLogRow[], extra: readonly string[] = []): RecordBatch {
  const strings = (f: (r: StoredLogRow) => string) => vectorFromArray(rows.map(f), new Utf8());
  const checks = extra.filter((c) => c.startsWith("anomaly."));
  const parsed = checks.length ? rows.map((r) => JSON.parse(r.anomalyJson ?? "{}") as Record<string, boolean>) : [];
  const columns = {
    "time": vectorFromArray(rows.map((r) => r.time), new TimestampMillisecond()),
    "in": strings((r) => r.inJson),
    "out": strings((r) => r.outJson),
    "anomaly.count": vectorFromArray(rows.map((r) => r.anomalyCount), new Int32()),
    ...Object.fromEntries(checks.map((c) => {
      const name = c.slice("anomaly.".length);
      return [c, vectorFromArray(parsed.map((p) => p[name] ?? null), new Bool())];
    })),
    ...(extra.includes("shadow_data") ? { "shadow_data": strings((r) => r.shadowJson ?? "{}") } : {}),
    "metadata.last_model": strings((r) => r.lastModel),
    "metadata.pipeline_version": strings((r) => r.pipelineVersion),
    "metadata.elapsed": vectorFromArray(
      rows.map((r) => (JSON.parse(r.elapsedJson) as number[]).map(BigInt)),
      new List(new Field("item", new Int64(), false)),
    ),
    "metadata.dropped": vectorFromArray(
      rows.map((r) => JSON.parse(r.droppedJson) as string[]),
      new List(new Field("item", new Utf8(), false)),
    ),
    "metadata.partition": strings((r) => r.partition),
    "metadata.id": vectorFromArray(rows.map((r) => BigInt(r.id)), new Int64()),
  };
  return new Table(columns).batches[0];
}
