/**
 * @module
 * A log page on the wire (docs/ops-protocol.md, POST /v1/logs): an Arrow IPC
 * stream with exactly the columns of the edge's `/logs` Arrow reply, made by
 * the same codec (codec/log_records.ts), with the `anomaly.<name>` and
 * `shadow_data` columns its rows have values for.
 */
import { Table, tableToIPC } from "apache-arrow";
import { logRecordBatch } from "../codec/log_records.ts";
import { extraColumnsOf } from "../codec/extra_columns.ts";
import type { StoredLogRow } from "../logs/query.ts";

/** The rows as an Arrow IPC stream. */
export function encodePage(rows: StoredLogRow[]): Uint8Array {
  return tableToIPC(new Table(logRecordBatch(rows, extraColumnsOf(rows))), "stream");
}
