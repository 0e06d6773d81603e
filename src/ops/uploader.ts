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
 * later pages keep that size. A page Ops refuses as malformed (400 `bad_page`)
 * is halved to find the row it refuses. A single row refused either way can
 * never go: once Ops takes a row after it (so pages do get through), it is
 * passed over (said in an error line, and marked done: it stays readable on
 * this edge's /logs until the storage cap evicts it); when 100 rows in a row
 * are refused so, the upload waits with backoff as for any failure.
 */
import { errorText } from "../errors.ts";
import type { UploadLog } from "../logs/mod.ts";
import { type Backoff, sleep } from "./backoff.ts";
import { OpsRefused, OpsUnavailable } from "./errors.ts";
import type { UploadPage } from "./page.ts";
import type { UploadReply } from "./protocol.ts";

/** The most rows refused one after another that are passed over before the upload waits instead. */
const MAX_TRIAL_ROWS = 100;

/** How long rows stay on trial: once Ops takes a row within it, they are passed over; after it, sent again. */
export const TRIAL_MS = 60_000;

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
  /** How long refused rows stay on trial (default TRIAL_MS). */
  trialMs?: number;
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
    /** Rows up to this id are on disk here (UploadLog.durableThrough): a page past it waits for a sync first. */
    let durable = 0;
    /** Rows Ops said it held already, since that was last said (at most every FAILURE_REMINDER_MS). */
    let heldAgain = 0;
    let lastHeldLine = -Infinity;
    /** Rows Ops refused alone, passed over until Ops takes the row after them; `before`: the cursor before them. */
    let trial: { rows: number[]; before: number; why: string; since: number } | undefined;
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
        if (last > durable) durable = await o.log.durableThrough();
        const reply = await o.send(page);
        if (!acknowledges(reply, page)) {
          throw new OpsUnavailable(
            `Ops answered the upload of rows ${first}-${last} with ${
              JSON.stringify(reply)?.slice(0, 200)
            }, which does not acknowledge them (is OPSCENTER_HOST's path right?)`,
          );
        }
        if (trial && performance.now() - trial.since > (o.trialMs ?? TRIAL_MS)) {
          // Long since they were refused (no rows came after them, or Ops was away): Ops may take them now, so
          // they are sent again before anything is passed over. (The rows just taken are sent again too: Ops
          // keeps each row once.)
          after = trial.before;
          trial = undefined;
          pageRows = largest;
          continue;
        }
        try {
          // Ops took the row after those on trial: they are passed over (marked first: marks go in id order).
          for (const row of trial?.rows ?? []) await o.log.markUploaded(row, row);
          await o.log.markUploaded(first, last);
        } catch (err) {
          throw new Error(
            `Ops stored rows ${first}-${last}, but marking them uploaded in the local log failed (${
              errorText(err)
            }); they will be sent again, and Ops keeps them once`,
          );
        }
        if (trial) {
          const before = passedOver;
          passedOver += trial.rows.length;
          if (before < 10 || Math.floor(passedOver / 1000) > Math.floor(before / 1000)) {
            const which = trial.rows.length === 1 ? `row ${trial.rows[0]}` : `rows ${trial.rows.join(", ")}`;
            o.error(
              `Ops upload: Ops will not take log ${which} (${trial.why}); passed over, they stay readable on this ` +
                `edge's /logs until the storage cap evicts them, and the rows after them went on (${passedOver} ` +
                `passed over since start${before < 10 && passedOver >= 10 ? "; from now on said every 1000th" : ""})`,
            );
          }
          trial = undefined;
          // The 413s that narrowed the pages down to it may have been that row's alone: full pages are tried again.
          largest = o.pageRows;
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
        heldAgain += reply.duplicate_rows;
        if (heldAgain > 0 && Date.now() - lastHeldLine >= FAILURE_REMINDER_MS) {
          lastHeldLine = Date.now();
          o.info(
            `Ops upload: Ops already held ${heldAgain} of the log rows sent (up to row ${last}): pages sent again ` +
              "after a lost reply or a restart; were this edge's log files put back from a copy, Ops keeps its own " +
              "rows under those ids",
          );
          heldAgain = 0;
        }
        o.onUploaded(reply);
      } catch (err) {
        if (err instanceof OpsRefused) {
          o.onRefused(err);
          return;
        }
        if (o.signal.aborted) return;
        // Too large (from Ops or any proxy), or a page Ops itself calls malformed: a proxy's own 400 (a client
        // certificate it wants, a header it strips) says nothing about the rows and is retried as any failure.
        const refused = err instanceof OpsUnavailable &&
            (err.status === 413 || (err.status === 400 && err.code === "bad_page"))
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
        // A single row refused is passed over on trial: the rows after it are sent one by one, and only once Ops
        // takes one (so pages do get through) are the rows on trial marked done. Several bad rows in a row (one
        // request's) stay on trial together; when MAX_TRIAL_ROWS are refused with none taken (a hub too old for a
        // column every page has), the trial is undone and the upload waits with backoff, rows kept.
        if (refused && (trial?.rows.length ?? 0) < MAX_TRIAL_ROWS) {
          if (!trial) {
            trial = { rows: [], before: after, why: errorText(err), since: performance.now() };
            o.error(`Ops upload: Ops refused log row ${first} alone (${trial.why}); trying the rows after it`);
          }
          trial.rows.push(first);
          after = last;
          pageRows = 1;
          continue;
        }
        if (refused && trial) {
          after = trial.before;
          trial = undefined;
          pageRows = largest;
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
