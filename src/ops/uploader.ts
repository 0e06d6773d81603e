/**
 * @module
 * Ships the inference log to Ops, driven by the backlog: woken after each log
 * commit, it sends full pages of PLATEAU_PAGE_SIZE rows back to back and a
 * partial page once its rows have waited `lingerMs`. A page is marked uploaded
 * (logs/upload.ts) only after Ops acknowledged it, so a crash between the two
 * sends the page again and Ops, which stores each (edge, row id) once, keeps
 * it once. While Ops is unreachable it retries with exponential backoff and
 * jitter; serving never waits on it.
 */
import { errorText } from "../errors.ts";
import type { UploadLog } from "../logs/mod.ts";
import type { StoredLogRow } from "../logs/query.ts";
import { type Backoff, sleep } from "./backoff.ts";
import { OpsRefused } from "./errors.ts";
import type { UploadReply } from "./protocol.ts";

/** A page is cut short before its JSON columns pass this many bytes (Ops takes bodies up to 64 MiB). */
export const MAX_PAGE_BYTES = 16 * 2 ** 20;

/** The longest prefix of `rows` (at least one row) whose JSON text stays within `maxBytes`. */
export function withinBytes(rows: StoredLogRow[], maxBytes = MAX_PAGE_BYTES): StoredLogRow[] {
  let bytes = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    bytes += r.inJson.length + r.outJson.length + r.lastModel.length + r.elapsedJson.length + r.droppedJson.length + 64;
    if (bytes > maxBytes && i > 0) return rows.slice(0, i);
  }
  return rows;
}

/** What the uploader needs. */
export interface UploaderOptions {
  log: UploadLog;
  /** Sends one page (OpsClient.upload with the session's key). */
  send(rows: StoredLogRow[]): Promise<UploadReply>;
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
    while (!o.signal.aborted) {
      let rows: StoredLogRow[];
      try {
        this.#woken = false;
        rows = await o.log.pending(after, o.pageRows);
        if (rows.length === 0) {
          await this.#waitForWake(o.idleMs);
          continue;
        }
        if (rows.length < o.pageRows) {
          await sleep(o.lingerMs, o.signal);
          rows = await o.log.pending(after, o.pageRows);
          if (rows.length === 0 || o.signal.aborted) continue;
        }
        rows = withinBytes(rows);
      } catch (err) {
        if (o.signal.aborted) return;
        o.error(`Ops upload: reading the inference log failed: ${errorText(err)}; trying again`);
        await sleep(o.backoff.next(), o.signal);
        continue;
      }
      const first = rows[0].id;
      const last = rows[rows.length - 1].id;
      try {
        const reply = await o.send(rows);
        await o.log.markUploaded(first, last);
        after = last;
        this.#uploadedRows += rows.length;
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
