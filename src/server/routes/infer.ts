/**
 * @module
 * `POST /infer` and `POST /pipelines/{name}`: decode the body (pandas-records
 * or Arrow), run the pipeline, reply in the Wallaroo shape (pandas-records, or
 * Arrow when the Accept header asks for it). Each request holds the pipeline
 * it started on until its run (and its shadows) are done: a swap to a new
 * version never changes or frees it underneath.
 */
import { Hono } from "hono";
import { setImmediate } from "node:timers";
import { BadInput, NotFound, Unavailable } from "../../errors.ts";
import { tooManyRows } from "../../codec/decoded_input.ts";
import { arrowCodecs } from "../../codec/arrow_codecs.ts";
import { ARROW_MEDIA_TYPE, arrowReplyFormat, PANDAS_RECORDS, requestFormat } from "../../codec/media.ts";
import { refuseEncodedBody } from "../plain_body.ts";
import { decodePandasRecords } from "../../codec/pandas_records.ts";
import { buildLargeRecordsReply, encodeRecordsReply, type InferenceReply } from "../../codec/reply.ts";
import { type LoadedPipeline, replyOf, runPipeline, settledAfter } from "../../pipeline/loaded.ts";
import type { RouteDeps } from "../app.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const lenientUtf8 = new TextDecoder("utf-8");
/**
 * Requests of this many rows or more let the event loop turn between building log rows and the reply, and get
 * their JSON reply built REPLY_CHUNK_ROWS records a turn, so /health and small requests get in between; one
 * longer than WHOLE_REPLY_CHARS is streamed rather than held whole (buildLargeRecordsReply says why not sooner).
 */
const YIELD_ROWS = 1_000;
const REPLY_CHUNK_ROWS = 500;
/** The longest JSON reply held whole, in characters (bytes, but for non-ASCII strings in the data). */
const WHOLE_REPLY_CHARS = 4 << 20;
/** Bodies of this many bytes or more are decoded in a turn of the event loop of their own. */
const YIELD_BYTES = 1 << 20;

/**
 * Resolves on a later turn of the event loop, after pending I/O (such as /health) is served. setImmediate runs
 * after the event loop's poll for I/O, as setTimeout(0) does, without a timer's ~1 ms floor: on a 1,000-row
 * request the two turns cost about 2 ms each through setTimeout(0) (measured in tern, demo, 2 cores).
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Inference routes. */
export function inferRoutes(
  {
    pipelines,
    now,
    maxBodyBytes,
    logs,
    maxRequestRows,
    random = Math.random,
    onInference,
    inflight: budget,
  }: RouteDeps,
): Hono {
  /** Serves one request; `release` gives its MAX_INFLIGHT_SIZE share back once its reply is built or streamed. */
  const infer = async (
    release: () => void,
    body: Uint8Array,
    contentType?: string,
    accept?: string,
    name?: string,
  ) => {
    const time = now();
    const pipeline = pipelines.acquire();
    if (!pipeline) {
      throw new Unavailable(
        `pipeline is ${pipelines.status}${pipelines.error ? `: ${pipelines.error}` : ""}`,
      );
    }
    let ran;
    try {
      ran = await decodeAndRun(pipeline, body, contentType, name);
    } catch (err) {
      void settledAfter(err).then(() => pipelines.release(pipeline));
      throw err;
    }
    const { run, input, decodeNs } = ran;
    // Held until the shadows this request started are done, which may be after the reply.
    void run.settled.then(() => pipelines.release(pipeline));
    const reply = replyOf(pipeline, run, input, time, decodeNs);
    onInference?.(pipeline, reply);
    return await respond(reply, pipeline.version, run.served.sha256, release, accept);
  };

  /** Decodes the body and runs it through `pipeline`; hold the pipeline until the run's `settled`. */
  const decodeAndRun = async (
    pipeline: LoadedPipeline,
    body: Uint8Array,
    contentType?: string,
    name?: string,
  ) => {
    if (name !== undefined && name !== pipeline.name) {
      throw new NotFound(
        `pipeline '${name}' not found; this engine serves '${pipeline.name}'`,
      );
    }
    if (body.length === 0) {
      throw new BadInput(
        "request body is empty: send pandas-records JSON or an Arrow IPC file",
        "empty_body",
      );
    }
    if (body.length >= YIELD_BYTES) await nextTurn();
    const arrow = requestFormat(contentType, body) === "arrow" ? await arrowCodecs() : undefined;
    const t0 = performance.now();
    const specs = pipeline.inputs;
    const input = arrow
      ? arrow.decodeArrow(body, specs, maxBodyBytes) // a compressed body expands to at most the request size limit
      : decodePandasRecords(decodeUtf8(body), specs, maxRequestRows);
    if (input.rows > maxRequestRows) throw tooManyRows(input.rows, maxRequestRows);
    const decodeNs = Math.round((performance.now() - t0) * 1e6);
    if (input.rows >= YIELD_ROWS) await nextTurn();
    return { run: await runPipeline(pipeline, input, random), input, decodeNs };
  };

  /** Logs the reply and encodes it; `release` gives the request's MAX_INFLIGHT_SIZE share back. */
  const respond = async (
    reply: InferenceReply,
    pipelineVersion: string,
    modelSha: string,
    release: () => void,
    accept?: string,
  ) => {
    const rows = reply.input.rows;
    const arrow = arrowReplyFormat(accept);
    // Loaded before the log append, whose promise nothing may leave unawaited.
    const encodeArrowReply = arrow ? (await arrowCodecs()).encodeArrowReply : undefined;
    // Durable logging: the reply leaves only once its rows are committed (group commit); it is
    // encoded while the commit is under way.
    const logged = logs?.writer.append({ reply, pipelineVersion, modelSha });
    // Awaited below, after the turns a large reply takes to build: a failure in between is not an unhandled rejection.
    logged?.catch(() => {});
    // Large requests decode, build log rows and build the reply in turns of the event loop of their own, so
    // /health and small requests get in between.
    if (rows >= YIELD_ROWS) await nextTurn();
    let response: Response;
    let streamed = false;
    try {
      if (arrow) {
        response = new Response(encodeArrowReply!(reply, arrow) as Uint8Array<ArrayBuffer>, {
          headers: { "content-type": ARROW_MEDIA_TYPE[arrow] },
        });
      } else {
        const body = rows >= YIELD_ROWS
          ? await buildLargeRecordsReply(reply, {
            rowsPerChunk: REPLY_CHUNK_ROWS,
            wholeChars: WHOLE_REPLY_CHARS,
            turn: nextTurn,
            done: release,
          })
          : encodeRecordsReply(reply);
        streamed = typeof body !== "string";
        response = new Response(body, { headers: { "content-type": PANDAS_RECORDS } });
      }
    } catch (err) {
      await logged?.catch(() => {}); // the encoding error is the one to report
      throw err;
    }
    await logged;
    if (!streamed) release();
    return response;
  };

  const handle = async (req: Request, name?: string) => {
    refuseEncodedBody(req);
    const release = await budget.takeFor(req, maxBodyBytes);
    try {
      const response = await infer(
        release,
        new Uint8Array(await req.arrayBuffer()),
        req.headers.get("content-type") ?? undefined,
        req.headers.get("accept") ?? undefined,
        name,
      );
      return response;
    } catch (err) {
      release();
      throw err;
    }
  };

  return new Hono()
    .post("/infer", (c) => handle(c.req.raw))
    .post("/pipelines/:name", (c) => handle(c.req.raw, c.req.param("name")));
}

/** The body as text; invalid UTF-8 is a 400. (The lenient decoder is ~10× faster; the strict one checks rarely.) */
function decodeUtf8(body: Uint8Array): string {
  const text = lenientUtf8.decode(body);
  if (!text.includes("\uFFFD")) return text;
  try {
    return utf8.decode(body);
  } catch {
    throw new BadInput("body is not valid UTF-8 JSON", "invalid_json");
  }
}
