/**
 * @module
 * A log reply streamed a page at a time as Arrow, as the edge's `/logs` and the
 * hub's `/edges/{name}/logs` both send it: an Arrow file or stream with one
 * record batch per page (the JSON form is logJsonStream, log_json.ts). Each page is read and encoded only
 * when the client pulls (constant memory however large the log or slow the
 * client). A failure mid-stream is logged with `label` (the client sees a
 * cut-off body).
 */
import { AsyncByteQueue, RecordBatchFileWriter, RecordBatchStreamWriter } from "apache-arrow";
import type { StoredLogRow } from "../logs/query.ts";
import { logRecordBatch } from "./log_records.ts";
import { nextPage } from "./log_json.ts";
import { concatBytes } from "./bytes.ts";

/** Pages of log rows, oldest first. */
export type LogPages = AsyncGenerator<StoredLogRow[]>;

/**
 * The rows as an Arrow file or stream, one record batch per page (an empty log is still a table with its columns);
 * `extra`: the validation and shadow columns every page carries, so all pages share one schema.
 */
export function logArrowStream(
  pages: LogPages,
  format: "file" | "stream",
  label: string,
  extra: readonly string[] = [],
): ReadableStream<Uint8Array> {
  const sink = new ChunkSink();
  const writer = (format === "file" ? new RecordBatchFileWriter() : new RecordBatchStreamWriter()).reset(sink);
  let wrote = false;
  let done = false;
  return new ReadableStream({
    async pull(controller) {
      const next = await nextPage(pages, label);
      if (!next.done) {
        writer.write(logRecordBatch(next.value, extra));
        wrote = true;
      } else {
        if (!wrote) writer.write(logRecordBatch([], extra));
        writer.finish();
        done = true;
      }
      controller.enqueue(sink.take());
      if (done) controller.close();
    },
    async cancel() {
      await pages.return(undefined);
    },
  });
}

/** Collects what an Arrow writer emits (a few bytes a call), so each pull hands on one page's bytes in one piece. */
class ChunkSink extends AsyncByteQueue {
  #chunks: Uint8Array[] = [];
  override write(value: unknown): void {
    this.#chunks.push(value as Uint8Array);
  }
  take(): Uint8Array {
    return concatBytes(this.#chunks.splice(0));
  }
}
