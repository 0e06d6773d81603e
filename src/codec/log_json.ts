/**
 * @module
 * A `/logs` row, and a log reply streamed a page at a time, as pandas-records
 * JSON text in the Wallaroo edge shape (see log_records.ts for the fields).
 * Apart from the Arrow form so that the reading log worker and a JSON `/logs`
 * reply do without apache-arrow.
 */
import type { StoredLogRow } from "../logs/rows.ts";
import { errorText } from "../errors.ts";

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

/** The rows as a pandas-records JSON list; a page may come as rows or as its list items' JSON text already. */
export function logJsonStream(
  pages: AsyncGenerator<StoredLogRow[] | string>,
  label: string,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let first = true;
  let done = false;
  return new ReadableStream({
    async pull(controller) {
      if (done) return controller.close();
      const next = await nextPage(pages, label);
      if (next.done) {
        controller.enqueue(encoder.encode(first ? "[]" : "]"));
        done = true;
        return controller.close();
      }
      const page = next.value;
      controller.enqueue(
        encoder.encode((first ? "[" : ",") + (typeof page === "string" ? page : page.map(logRecordJson).join(","))),
      );
      first = false;
    },
    async cancel() {
      await pages.return(undefined);
    },
  });
}

/** The next page; a failure is logged with `label` (the client sees a cut-off body) and thrown. */
export async function nextPage<T>(pages: AsyncGenerator<T>, label: string): Promise<IteratorResult<T>> {
  try {
    return await pages.next();
  } catch (err) {
    console.error(`${label}: reading the log failed mid-reply: ${errorText(err)}`);
    throw err;
  }
}
