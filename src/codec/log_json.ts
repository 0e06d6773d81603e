/**
 * @module
 * A `/logs` row as pandas-records JSON text, in the Wallaroo edge shape (see
 * log_records.ts for the fields). Apart from the Arrow form so that the
 * reading log worker builds pages of it without loading apache-arrow.
 */
import type { StoredLogRow } from "../logs/rows.ts";

/** One row as a pandas-records JSON object (text). Stored JSON columns are spliced in as they are. */
export function logRecordJson(row: StoredLogRow): string {
  const checks = !row.anomalyJson || row.anomalyJson === "{}" ? "" : "," + row.anomalyJson.slice(1, -1);
  const shadows = !row.shadowJson || row.shadowJson === "{}" ? "" : `"shadow_data":${row.shadowJson},`;
  return `{"time":${row.time},"in":${row.inJson},"out":${row.outJson},"anomaly":{"count":${row.anomalyCount}${checks}},` +
    `${shadows}"metadata":{"last_model":${JSON.stringify(row.lastModel)},"pipeline_version":${
      JSON.stringify(row.pipelineVersion)
    },"elapsed":${row.elapsedJson},"dropped":${row.droppedJson},"partition":${
      JSON.stringify(row.partition)
    },"id":${row.id}}}`;
}
