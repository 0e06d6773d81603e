/**
 * @module
 * `POST /logs`: the inference log, read a page at a time, sent in one piece
 * up to WHOLE_LOG_REPLY_BYTES and streamed beyond (constant memory), as
 * pandas-records JSON or, with `Accept: …arrow.file|stream`, as Arrow.
 * Body `{}` returns every row; optional filters `start`, `end` (ms
 * since epoch or ISO 8601), `after` (a row's `metadata.id`) and `limit`.
 * Any Content-Type is read as JSON, so the docs' doubled
 * `Content-Type: Content-Type: application/json; …` works.
 * `GET /logs/status`: queue, commits, evictions and size.
 * Both replies carry `X-Tern-Log-Evicted`: rows the storage cap has evicted.
 */
import { Hono } from "hono";
import { Unavailable } from "../../errors.ts";
import { parseLogQuery } from "../../codec/log_filter.ts";
import { arrowCodecs } from "../../codec/arrow_codecs.ts";
import { logJsonStream } from "../../codec/log_json.ts";
import { gatherSmallBody } from "../../codec/gathered_body.ts";
import { refuseEncodedBody } from "../plain_body.ts";
import { ARROW_MEDIA_TYPE, arrowReplyFormat, PANDAS_RECORDS } from "../../codec/media.ts";
import type { AppDeps } from "../app.ts";

/** Log routes. */
export function logsRoutes({ logs }: AppDeps): Hono {
  const open = () => {
    if (!logs) throw new Unavailable("the inference log is off (LOG_DURABILITY=off)");
    return logs;
  };
  return new Hono()
    .post("/logs", async (c) => {
      refuseEncodedBody(c.req.raw);
      const { read, readJson, writer, columns } = open();
      const filter = parseLogQuery(await c.req.text(), new URL(c.req.url).search);
      const headers = { "x-tern-log-evicted": String(writer.evictedRows) };
      const arrow = arrowReplyFormat(c.req.header("accept"));
      // Arrow: one schema for every page, so the validation and shadow columns the log has ever held.
      const extra = arrow && columns ? await columns() : [];
      if (arrow) {
        const { logArrowStream } = await arrowCodecs();
        return new Response(await gatherSmallBody(logArrowStream(read(filter), arrow, "/logs", extra)), {
          headers: { ...headers, "content-type": ARROW_MEDIA_TYPE[arrow] },
        });
      }
      return new Response(await gatherSmallBody(logJsonStream(readJson(filter), "/logs")), {
        headers: { ...headers, "content-type": PANDAS_RECORDS },
      });
    })
    .get("/logs/status", async (c) => {
      const status = await open().status();
      c.header("x-tern-log-evicted", String(status.evictedRows));
      return c.json(status);
    });
}
