/**
 * @module
 * `POST /logs`: the inference log, streamed a page at a time (constant
 * memory), as pandas-records JSON or, with `Accept: …arrow.file|stream`, as
 * Arrow. Body `{}` returns every row; optional filters `start`, `end` (ms
 * since epoch or ISO 8601), `after` (a row's `metadata.id`) and `limit`.
 * Any Content-Type is read as JSON, so the docs' doubled
 * `Content-Type: Content-Type: application/json; …` works.
 * `GET /logs/status`: queue, commits, evictions and size.
 * Both replies carry `X-Tern-Log-Evicted`: rows the storage cap has evicted.
 */
import { AsyncByteQueue, RecordBatchFileWriter, RecordBatchStreamWriter } from "apache-arrow";
import { Hono } from "hono";
import { BadInput, errorText, Unavailable } from "../../errors.ts";
import { logRecordBatch, logRecordJson } from "../../codec/log_records.ts";
import { ARROW_MEDIA_TYPE, arrowReplyFormat, PANDAS_RECORDS } from "../../codec/media.ts";
import type { LogFilter, StoredLogRow } from "../../logs/mod.ts";
import type { AppDeps } from "../app.ts";

/** Log routes. */
export function logsRoutes({ logs }: AppDeps): Hono {
  const open = () => {
    if (!logs) throw new Unavailable("the inference log is off (LOG_DURABILITY=off)");
    return logs;
  };
  return new Hono()
    .post("/logs", async (c) => {
      const { read, writer, columns } = open();
      const filter = parseFilter(await c.req.text());
      const headers = { "x-tern-log-evicted": String(writer.evictedRows) };
      const arrow = arrowReplyFormat(c.req.header("accept"));
      // Arrow: one schema for every page, so the validation and shadow columns the log has ever held.
      const extra = arrow && columns ? await columns() : [];
      const pages = read(filter);
      if (arrow) {
        return new Response(arrowStream(pages, arrow, extra), {
          headers: { ...headers, "content-type": ARROW_MEDIA_TYPE[arrow] },
        });
      }
      return new Response(jsonStream(pages), { headers: { ...headers, "content-type": PANDAS_RECORDS } });
    })
    .get("/logs/status", async (c) => {
      const status = await open().writer.status();
      c.header("x-tern-log-evicted", String(status.evictedRows));
      return c.json(status);
    });
}

const FILTER_KEYS = new Set(["start", "end", "after", "limit"]);

/** Reads `{}` or `{start, end, after, limit}`; an empty body is `{}`. */
export function parseFilter(text: string): LogFilter {
  if (text.trim() === "") return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new BadInput(`body is not valid JSON: ${(err as Error).message}`, "invalid_json");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new BadInput("body must be a JSON object: {} or {start, end, after, limit}", "bad_filter");
  }
  const unknown = Object.keys(body).filter((k) => !FILTER_KEYS.has(k));
  if (unknown.length) {
    throw new BadInput(
      `unknown log filter ${unknown.map((k) => `'${k}'`).join(", ")}; filters: start, end, after, limit`,
      "bad_filter",
    );
  }
  const b = body as Record<string, unknown>;
  return {
    start: time("start", b.start),
    end: time("end", b.end),
    after: whole("after", b.after, 0),
    limit: whole("limit", b.limit, 1),
  };
}

function time(name: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === "number" ? v : typeof v === "string" ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms)) {
    throw new BadInput(
      `'${name}' must be ms since the epoch or an ISO 8601 time, got ${JSON.stringify(v)}`,
      "bad_filter",
    );
  }
  return ms;
}

function whole(name: string, v: unknown, min: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new BadInput(`'${name}' must be a whole number ≥ ${min}, got ${JSON.stringify(v)}`, "bad_filter");
  }
  return v;
}

/** The next page; a failure mid-stream is logged here (the client sees a cut-off body). */
async function nextPage(pages: AsyncGenerator<StoredLogRow[]>): Promise<IteratorResult<StoredLogRow[]>> {
  try {
    return await pages.next();
  } catch (err) {
    console.error(`/logs: reading the log failed mid-reply: ${errorText(err)}`);
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
      const text = next.value.map(logRecordJson).join(",");
      controller.enqueue(encoder.encode((first ? "[" : ",") + text));
      first = false;
    },
    async cancel() {
      await pages.return(undefined);
    },
  });
}

/** Collects what an Arrow writer emits, so each pull hands on exactly one page's bytes. */
class ChunkSink extends AsyncByteQueue {
  #chunks: Uint8Array[] = [];
  override write(value: unknown): void {
    this.#chunks.push(value as Uint8Array);
  }
  take(): Uint8Array[] {
    return this.#chunks.splice(0);
  }
}

/**
 * Arrow file or stream, one record batch per page, written only when the
 * client pulls (backpressure: constant memory however slow the client).
 */
function arrowStream(
  pages: AsyncGenerator<StoredLogRow[]>,
  format: "file" | "stream",
  extra: readonly string[],
): ReadableStream<Uint8Array> {
  const sink = new ChunkSink();
  const writer = (format === "file" ? new RecordBatchFileWriter() : new RecordBatchStreamWriter()).reset(sink);
  let wrote = false;
  let done = false;
  return new ReadableStream({
    async pull(controller) {
      const next = await nextPage(pages);
      if (!next.done) {
        writer.write(logRecordBatch(next.value, extra));
        wrote = true;
      } else {
        if (!wrote) writer.write(logRecordBatch([], extra)); // an empty log is still a table with its columns
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
