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
 * later pages keep that size.
 */
import { errorText } from "../errors.ts";
import type { UploadLog } from "../logs/mod.ts";
import { type Backoff, sleep } from "./backoff.ts";
import { OpsRefused, OpsUnavailable } from "./errors.ts";
import type { UploadPage } from "./page.ts";
import type { UploadReply } from "./protocol.ts";

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
    let pageRows = o.pageRows;
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
        await o.log.markUploaded(first, last);
        after = last;
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
        if (err instanceof OpsUnavailable && err.status === 413 && page.rows > 1) {
          pageRows = Math.ceil(page.rows / 2);
          o.error(`Ops upload: a page of ${page.rows} rows was too large (413); sending pages of ${pageRows} rows`);
          continue;
        }
        if (!failing) {
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
