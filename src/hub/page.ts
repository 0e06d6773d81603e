/**
 * @module
 * Reads a log page an edge uploaded (docs/ops-protocol.md, POST /v1/logs):
 * the Arrow stream is verified before apache-arrow reads it
 * (codec/arrow_verify.ts), then every rule is checked: the `/logs` columns,
 * ids whole and increasing, partition = the edge's name, `in`/`out` (and
 * `shadow_data`, when sent) JSON objects (they are spliced into `/edges/{name}/logs` replies as they are),
 * and the idempotency key naming this edge and the page's first and last id.
 */
import { type Table, tableFromIPC } from "apache-arrow";
import { verifyArrowBody } from "../codec/arrow_verify.ts";
import { BadInput, errorText, TernError } from "../errors.ts";
import { MAX_PAGE_ROWS, pageKey } from "../ops/protocol.ts";
import type { HubLogRow } from "./store.ts";

const COLUMNS = [
  "time",
  "in",
  "out",
  "anomaly.count",
  "metadata.last_model",
  "metadata.pipeline_version",
  "metadata.elapsed",
  "metadata.dropped",
  "metadata.partition",
  "metadata.id",
] as const;

function bad(message: string): BadInput {
  return new BadInput(message, "bad_page");
}

/** Decodes and checks one page from edge `edgeName` (registration `edgeId`) sent under `key`. */
export function decodePage(body: Uint8Array, edgeId: string, edgeName: string, key: string | undefined): HubLogRow[] {
  if (!key) throw bad("a log page needs an Idempotency-Key header: <edge_id>:<first id>-<last id>");
  try {
    verifyArrowBody(body);
  } catch (err) {
    throw bad(`the page is not a valid Arrow IPC stream: ${(err as Error).message}`);
  }
  let table: Table;
  try {
    table = tableFromIPC(body);
  } catch (err) {
    throw bad(`the page is not a readable Arrow IPC stream: ${errorText(err)}`);
  }
  const missing = COLUMNS.filter((c) => !table.getChild(c));
  if (missing.length) throw bad(`the page lacks the column(s) ${missing.join(", ")}`);
  const n = table.numRows;
  if (n === 0) throw bad("the page holds no rows");
  if (n > MAX_PAGE_ROWS) throw bad(`the page holds ${n} rows; at most ${MAX_PAGE_ROWS}`);
  const col = (name: typeof COLUMNS[number]) => table.getChild(name)!;
  const [time, inn, out, anomaly, lastModel, version, elapsed, dropped, partition, id] = COLUMNS.map(col);
  // Validation results (`anomaly.<name>`, bool) and shadow outputs (`shadow_data`), when the edge's pipeline has them.
  const checks = table.schema.fields
    .filter((f) => f.name.startsWith("anomaly.") && f.name !== "anomaly.count")
    .map((f) => [f.name.slice("anomaly.".length), table.getChild(f.name)!] as const);
  const shadows = table.getChild("shadow_data");
  const rows: HubLogRow[] = new Array(n);
  let previous = 0;
  for (let i = 0; i < n; i++) {
    const rowId = Number(id.get(i));
    if (!Number.isSafeInteger(rowId) || rowId <= previous) {
      throw bad(`row ${i}: metadata.id ${rowId} is not a whole number above the previous row's (${previous})`);
    }
    previous = rowId;
    if (partition.get(i) !== edgeName) {
      throw bad(`row ${i}: metadata.partition must be the edge name '${edgeName}'`);
    }
    const row = (): HubLogRow => ({
      rowId,
      time: Number(time.get(i)),
      inJson: jsonObject(inn.get(i), i, "in"),
      outJson: jsonObject(out.get(i), i, "out"),
      anomalyCount: Number(anomaly.get(i) ?? 0),
      pipelineVersion: String(version.get(i) ?? ""),
      lastModel: String(lastModel.get(i) ?? ""),
      elapsedJson: JSON.stringify(Array.from(elapsed.get(i)?.toArray() ?? [], Number)),
      droppedJson: JSON.stringify(Array.from(dropped.get(i)?.toArray() ?? [], String)),
      partition: edgeName,
      // A row without a check (null: served before the pipeline had it) has no entry, as on the edge's /logs.
      anomalyJson: checks.length
        ? JSON.stringify(Object.fromEntries(checks.flatMap(([name, c]) => {
          const failed = c.get(i);
          return failed === null || failed === undefined ? [] : [[name, failed === true]];
        })))
        : "{}",
      shadowJson: shadows ? jsonObject(shadows.get(i) ?? "{}", i, "shadow_data") : "{}",
    });
    try {
      rows[i] = row();
    } catch (err) {
      // A column of another type than the protocol's (text where a list belongs…): the page's fault, not the hub's.
      if (err instanceof TernError) throw err;
      throw bad(`row ${i}: a column does not have the protocol's type (${errorText(err)})`);
    }
    if (!Number.isFinite(rows[i].time)) throw bad(`row ${i}: time is not a number`);
  }
  const expected = pageKey(edgeId, rows[0].rowId, rows[n - 1].rowId);
  if (key !== expected) throw bad(`the Idempotency-Key must be '${expected}' for this page`);
  return rows;
}

function jsonObject(value: unknown, row: number, column: string): string {
  if (typeof value === "string") {
    try {
      const parsed = JSON.parse(value);
      if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) return value;
    } catch { /* reported below */ }
  }
  throw bad(`row ${row}: '${column}' must be JSON text of an object`);
}
