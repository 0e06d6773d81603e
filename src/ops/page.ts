/**
 * @module
 * A log page on the wire (docs/ops-protocol.md, POST /v1/logs): an Arrow IPC
 * stream with exactly the columns of the edge's `/logs` Arrow reply, made by
 * the same codec (codec/log_records.ts), with the `anomaly.<name>` and
 * `shadow_data` columns its rows have values for. Built in the log's reading
 * worker (logs/store_worker.ts), off the serving thread: a 1,000-row page
 * takes several ms to encode.
 */
import { Table, tableToIPC } from "apache-arrow";
import { logRecordBatch } from "../codec/log_records.ts";
import { extraColumnsOf } from "../codec/extra_columns.ts";
import type { StoredLogRow } from "../logs/query.ts";

/** The rows as an Arrow IPC stream. */
export function encodePage(rows: StoredLogRow[]): Uint8Array {
  return tableToIPC(new Table(logRecordBatch(rows, extraColumnsOf(rows))), "stream");
}

/** A page is cut short before its JSON columns pass this many bytes (Ops takes bodies up to 64 MiB). */
export const MAX_PAGE_BYTES = 16 * 2 ** 20;

/** The longest prefix of `rows` (at least one row) whose JSON text stays within `maxBytes`. */
export function withinBytes(rows: StoredLogRow[], maxBytes = MAX_PAGE_BYTES): StoredLogRow[] {
  let bytes = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    bytes += r.inJson.length + r.outJson.length + (r.shadowJson?.length ?? 0) + (r.anomalyJson?.length ?? 0) +
      r.lastModel.length + r.elapsedJson.length + r.droppedJson.length + 64;
    if (bytes > maxBytes && i > 0) return rows.slice(0, i);
  }
  return rows;
}

/** One upload page, encoded: its body and the row ids it spans. */
export interface UploadPage {
  body: Uint8Array;
  firstId: number;
  lastId: number;
  rows: number;
  /** It holds as many rows as were asked for, or was cut short by MAX_PAGE_BYTES: no reason to wait for more. */
  full: boolean;
}

/**
 * The page Ops gets for `rows` (not empty, in id order), read for a page of `pageRows`, from the edge named
 * `partition`: Ops takes only rows of that partition, and a row logged before the edge joined (partition: the
 * host's name) or under an earlier EDGE_NAME is this edge's too.
 */
export function uploadPage(rows: StoredLogRow[], pageRows: number, partition: string): UploadPage {
  const sent = withinBytes(rows).map((r) => r.partition === partition ? r : { ...r, partition });
  return {
    body: encodePage(sent),
    firstId: sent[0].id,
    lastId: sent[sent.length - 1].id,
    rows: sent.length,
    full: sent.length < rows.length || rows.length >= pageRows,
  };
}
