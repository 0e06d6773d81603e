/**
 * @module
 * `POST /edges/{name}/logs`: an edge's uploaded inference log, in the shapes
 * of the edge's own `POST /logs` (codec/log_records.ts makes both): pandas-
 * records JSON, or Arrow file/stream with `Accept: …arrow.file|stream`,
 * read a page at a time, sent in one piece up to WHOLE_LOG_REPLY_BYTES and streamed
 * beyond (constant memory however large the log).
 */
import { Hono } from "hono";
import { parseLogQuery } from "../../codec/log_filter.ts";
import { logArrowStream } from "../../codec/log_stream.ts";
import { logJsonStream } from "../../codec/log_json.ts";
import { gatherSmallBody } from "../../codec/gathered_body.ts";
import { ARROW_MEDIA_TYPE, arrowReplyFormat, PANDAS_RECORDS } from "../../codec/media.ts";
import { NotFound } from "../../errors.ts";
import type { StoredLogRow } from "../../logs/query.ts";
import type { HubLogFilter, HubLogRow, HubStore } from "../store.ts";

/** Rows per page read from the database. */
const PAGE_ROWS = 1000;

/** The route. */
export function edgeLogsRoutes(store: HubStore): Hono {
  return new Hono().post("/edges/:name/logs", async (c) => {
    const name = c.req.param("name");
    const filter = parseLogQuery(await c.req.text(), new URL(c.req.url).search);
    const edge = await store.edgeByName(name);
    if (!edge) throw new NotFound(`no edge named '${name}'`);
    const pages = readPages(store, edge.id, filter);
    const arrow = arrowReplyFormat(c.req.header("accept"));
    if (arrow) {
      const stream = logArrowStream(pages, arrow, "/edges/…/logs", JSON.parse(edge.logColumns));
      return new Response(await gatherSmallBody(stream), {
        headers: { "content-type": ARROW_MEDIA_TYPE[arrow] },
      });
    }
    return new Response(await gatherSmallBody(logJsonStream(pages, "/edges/…/logs")), {
      headers: { "content-type": PANDAS_RECORDS },
    });
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
    anomalyJson: r.anomalyJson,
    shadowJson: r.shadowJson,
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
