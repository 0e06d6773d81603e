/**
 * @module
 * Ships the inference log to Ops, driven by the backlog: woken after each log
 * commit, it sends full pages of PLATEAU_PAGE_SIZE rows back to back and a
 * partial page once its rows have waited `lingerMs`. A page is marked uploaded
 * (logs/upload.ts) only after Ops acknowledged it, so a crash between the two
 * sends the page again and Ops, which stores each (edge, row id) once, keeps
 * it once. While Ops is unreachable it retries with exponential backoff and
 * jitter; serving never waits on it. A page refused as too large (413, from
 * Ops or a proxy before it) is sent again at half the rows, down to one, and
 * later pages keep that size. A page refused as malformed (400) is halved to
 * find the row Ops refuses. A single row refused either way can never go: it
 * is passed over (said in an error line, and marked done: it stays readable on
 * this edge's /logs until the storage cap evicts it), so the rows after it go.
 */
import { errorText } from "../errors.ts";
import type { UploadLog } from "../logs/mod.ts";
import { type Backoff, sleep } from "./backoff.ts";
import { OpsRefused, OpsUnavailable } from "./errors.ts";
import type { UploadPage } from "./page.ts";
import type { UploadReply } from "./protocol.ts";

/** How often a failure that lasts is said again. */
const FAILURE_REMINDER_MS = 10 * 60_000;

/** Whether Ops' reply acknowledges exactly `page`: its ids and row count, each row stored or already held. */
function acknowledges(reply: UploadReply, page: UploadPage): boolean {
  return reply !== null && typeof reply === "object" && reply.first_id === page.firstId &&
    reply.last_id === page.lastId && reply.rows === page.rows &&
    reply.stored_rows + reply.duplicate_rows === page.rows;
}

/** What the uploader needs. */
export interface UploaderOptions {
  log: UploadLog;
  /** Sends one page (OpsClient.upload with the session's key). */
  send(page: UploadPage): Promise<UploadReply>;
  /** The edge's name: every row is sent as this partition's. */
  partition: string;
  pageRows: number;
  /** How long a partial page waits for more rows. */
  lingerMs: number;
  /** Looks for rows at least this often even without a wake. */
  idleMs: number;
  backoff: Backoff;
  signal: AbortSignal;
  /** After each acknowledged page. */
  onUploaded(reply: UploadReply): void;
  /** Ops refused the edge: the uploader has stopped. */
  onRefused(err: OpsRefused): void;
  info(line: string): void;
  error(line: string): void;
  debug?: (line: string) => void;
}

/** The upload loop; `run` until the signal aborts or Ops refuses. */
export class LogUploader {
  readonly #o: UploaderOptions;
  #wakeUp: (() => void) | undefined;
  #woken = false;
  #uploadedRows = 0;

  constructor(options: UploaderOptions) {
    this.#o = options;
  }

  /** Rows committed: look for a page. */
  wake(): void {
    this.#woken = true;
    this.#wakeUp?.();
  }

  /** Rows acknowledged by Ops in this process. */
  get uploadedRows(): number {
    return this.#uploadedRows;
  }

  /** Uploads until stopped. */
  async run(): Promise<void> {
    const o = this.#o;
    let after = 0;
    let failing = false;
    let lastFailureLine = 0;
    let passedOver = 0;
    // The page size: `largest` is what Ops (or a proxy) takes, lowered by 413s; a 400 narrows `pageRows` below it
    // only until the page goes.
    let largest = o.pageRows;
    let pageRows = largest;
    while (!o.signal.aborted) {
      let page: UploadPage | undefined;
      try {
        this.#woken = false;
        page = await o.log.pendingPage(after, pageRows, o.partition);
        if (!page) {
          await this.#waitForWake(o.idleMs);
          continue;
        }
        if (!page.full) {
          await sleep(o.lingerMs, o.signal);
          page = await o.log.pendingPage(after, pageRows, o.partition);
          if (!page || o.signal.aborted) continue;
        }
      } catch (err) {
        if (o.signal.aborted) return;
        o.error(`Ops upload: reading the inference log failed: ${errorText(err)}; trying again`);
        await sleep(o.backoff.next(), o.signal);
        continue;
      }
      const { firstId: first, lastId: last } = page;
      try {
        const reply = await o.send(page);
        if (!acknowledges(reply, page)) {
          throw new OpsUnavailable(
            `Ops answered the upload of rows ${first}-${last} with ${
              JSON.stringify(reply)?.slice(0, 200)
            }, which does not acknowledge them (is OPSCENTER_HOST's path right?)`,
          );
        }
        try {
          await o.log.markUploaded(first, last);
        } catch (err) {
          throw new Error(
            `Ops stored rows ${first}-${last}, but marking them uploaded in the local log failed (${
              errorText(err)
            }); they will be sent again, and Ops keeps them once`,
          );
        }
        after = last;
        pageRows = largest;
        this.#uploadedRows += page.rows;
        o.backoff.reset();
        if (failing) o.info(`Ops upload: Ops is reachable again; uploading the backlog`);
        failing = false;
        o.debug?.(
          `ops: uploaded log rows ${first}-${last} (${reply.stored_rows} new, ${reply.duplicate_rows} already held)`,
        );
        o.onUploaded(reply);
      } catch (err) {
        if (err instanceof OpsRefused) {
          o.onRefused(err);
          return;
        }
        if (o.signal.aborted) return;
        const refused = err instanceof OpsUnavailable && (err.status === 413 || err.status === 400)
          ? err.status
          : undefined;
        if (refused && page.rows > 1) {
          pageRows = Math.ceil(page.rows / 2);
          if (refused === 413) {
            largest = pageRows;
            o.error(`Ops upload: a page of ${page.rows} rows was too large (413); sending pages of ${pageRows} rows`);
          } else {
            o.error(
              `Ops upload: Ops refused a page of ${page.rows} rows (${errorText(err)}); sending halves to find the row`,
            );
          }
          continue;
        }
        if (refused) {
          // Marked as done, as an acknowledged row is: the rows after it in its record can then be marked too, and
          // it is the first the storage cap evicts. It stays readable on this edge's /logs until then.
          try {
            await o.log.markUploaded(first, last);
          } catch (markErr) {
            o.error(`Ops upload: passing over log row ${first} failed (${errorText(markErr)}); trying again`);
            await sleep(o.backoff.next(), o.signal);
            continue;
          }
          passedOver++;
          if (passedOver <= 10 || passedOver % 1000 === 0) {
            o.error(
              `Ops upload: Ops will not take log row ${first} (${errorText(err)}); it is passed over, stays readable ` +
                `on this edge's /logs until the storage cap evicts it, and the rows after it go on (${passedOver} ` +
                `passed over since start${passedOver === 10 ? "; from now on said every 1000th" : ""})`,
            );
          }
          after = last;
          pageRows = largest;
          continue;
        }
        // Said when failing starts, then every 10 minutes while it lasts.
        if (!failing || Date.now() - lastFailureLine >= FAILURE_REMINDER_MS) {
          lastFailureLine = Date.now();
          o.error(
            `Ops upload failed: ${errorText(err)}; retrying with backoff (serving goes on, rows stay in the log)`,
          );
        }
        failing = true;
        await sleep(o.backoff.next(), o.signal);
      }
    }
  }

  /** Waits for a wake, `ms`, or the stop signal. */
  async #waitForWake(ms: number): Promise<void> {
    if (this.#woken) return;
    const woken = new Promise<void>((resolve) => this.#wakeUp = resolve);
    const stop = new AbortController();
    const abort = () => stop.abort();
    this.#o.signal.addEventListener("abort", abort, { once: true });
    await Promise.race([woken, sleep(ms, stop.signal)]);
    stop.abort();
    this.#o.signal.removeEventListener("abort", abort);
    this.#wakeUp = undefined;
  }
}
