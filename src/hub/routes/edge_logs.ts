/**
 * @module
 * `POST /edges/{name}/logs`: an edge's uploaded inference log, in the shapes
 * of the edge's own `POST /logs` (codec/log_records.ts makes both): pandas-
 * records JSON, or Arrow file/stream with `Accept: …arrow.file|stream`,
 * streamed a page at a time (constant memory however large the log).
 */
import { AsyncByteQueue, RecordBatchFileWriter, RecordBatchStreamWriter } from "apache-arrow";
import { Hono } from "hono";
import { logRecordBatch, logRecordJson } from "../../codec/log_records.ts";
import { ARROW_MEDIA_TYPE, arrowReplyFormat, PANDAS_RECORDS } from "../../codec/media.ts";
import { errorText, NotFound } from "../../errors.ts";
import type { StoredLogRow } from "../../logs/query.ts";
import { parseHubLogFilter } from "../log_filter.ts";
import type { HubLogFilter, HubLogRow, HubStore } from "../store.ts";

/** Rows per page read from the database. */
const PAGE_ROWS = 1000;

/** The route. */
export function edgeLogsRoutes(store: HubStore): Hono {
  return new Hono().post("/edges/:name/logs", async (c) => {
    const name = c.req.param("name");
    const filter = parseHubLogFilter(await c.req.text());
    const edge = await store.edgeByName(name);
    if (!edge) throw new NotFound(`no edge named '${name}'`);
    const pages = readPages(store, edge.id, filter);
    const arrow = arrowReplyFormat(c.req.header("accept"));
    if (arrow) {
      return new Response(arrowStream(pages, arrow), { headers: { "content-type": ARROW_MEDIA_TYPE[arrow] } });
    }
    return new Response(jsonStream(pages), { headers: { "content-type": PANDAS_RECORDS } });
  });
}

/** A hub row in the edge log's row type, which the codec writes (pipeline_name is not on the wire). */
function asLogRow(r: HubLogRow): StoredLogRow {
  return {
    id: r.rowId,
    time: r.time,
    inJson: r.inJson,
    outJson: r.outJson,
    anomalyCount: r.anomalyCount,
    pipelineName: "",
    pipelineVersion: r.pipelineVersion,
    lastModel: r.lastModel,
    elapsedJson: r.elapsedJson,
    droppedJson: r.droppedJson,
    partition: r.partition,
    uploaded: 1,
  };
}

async function* readPages(store: HubStore, edgeId: string, filter: HubLogFilter): AsyncGenerator<StoredLogRow[]> {
  let after = filter.after ?? 0;
  let left = filter.limit ?? Infinity;
  while (left > 0) {
    const rows = await store.readRows(edgeId, filter, after, Math.min(PAGE_ROWS, left));
    if (rows.length === 0) return;
    yield rows.map(asLogRow);
    after = rows[rows.length - 1].rowId;
    left -= rows.length;
    if (rows.length < PAGE_ROWS) return;
  }
}

async function nextPage(pages: AsyncGenerator<StoredLogRow[]>): Promise<IteratorResult<StoredLogRow[]>> {
  try {
    return await pages.next();
  } catch (err) {
    console.error(`/edges/…/logs: reading the log failed mid-reply: ${errorText(err)}`);
    throw err;
  }
}

function jsonStream(pages: AsyncGenerator<StoredLogRow[]>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let first = true;
  let done = false;
  return new ReadableStream({
    async pull(controller) {
      if (done) return controller.close();
      const next = await nextPage(pages);
      if (next.done) {
        controller.enqueue(encoder.encode(first ? "[]" : "]"));
        done = true;
        return controller.close();
      }
      controller.enqueue(encoder.encode((first ? "[" : ",") + next.value.map(logRecordJson).join(",")));
      first = false;
    },
    async cancel() {
      await pages.return(undefined);
    },
  });
}

/** Collects what an Arrow writer emits, so each pull hands on one page's bytes. */
class ChunkSink extends AsyncByteQueue {
  #chunks: Uint8Array[] = [];
  override write(value: unknown): void {
    this.#chunks.push(value as Uint8Array);
  }
  take(): Uint8Array[] {
    return this.#chunks.splice(0);
  }
}

function arrowStream(pages: AsyncGenerator<StoredLogRow[]>, format: "file" | "stream"): ReadableStream<Uint8Array> {
  const sink = new ChunkSink();
  const writer = (format === "file" ? new RecordBatchFileWriter() : new RecordBatchStreamWriter()).reset(sink);
  let wrote = false;
  let done = false;
  return new ReadableStream({
    async pull(controller) {
      const next = await nextPage(pages);
      if (!next.done) {
        writer.write(logRecordBatch(next.value));
        wrote = true;
      } else {
        if (!wrote) writer.write(logRecordBatch([]));
        writer.finish();
        done = true;
      }
      for (const chunk of sink.take()) controller.enqueue(chunk);
      if (done) controller.close();
    },
    async cancel() {
      await pages.return(undefined);
    },
  });
}
