/**
 * @module
 * The inference log writer. Requests never wait on their own INSERT: they
 * queue their rows, and one commit loop writes everything queued in a single
 * transaction (group commit), then starts the next with whatever arrived
 * meanwhile.
 * - `durable` and `fsync`: `append` resolves once the rows are committed, so a
 *   reply is only sent for a logged inference (how far the commit reaches the
 *   disk is the store's business: see db.ts). `durable` with a journal
 *   (journal.ts): the rows of each event-loop turn are written to the journal
 *   in one write(), `append` resolves, and the journaled rows are committed to
 *   the database in batches, as async rows are; a kill loses none of them (the
 *   next start commits what the journal holds past the database). Rows the
 *   journal cannot take (a group over JOURNAL_GROUP_BYTES, a full or failed
 *   journal) are committed before `append` resolves, as without one.
 * - `async`: `append` resolves once the rows are queued; rows are gathered for
 *   ASYNC_WINDOW_MS per commit. A crash loses what is queued: normally that
 *   window plus the commit under way, at most `maxPendingRows` rows when the
 *   disk falls behind.
 * Backpressure: an append that would take the queue past `maxPendingRows`
 * waits up to `maxWaitMs` for room, then fails with Unavailable (503):
 * nothing is accepted and then forgotten. One append never holds more than
 * `maxPendingRows` rows (MAX_REQUEST_ROWS is capped to it), so no commit does. A failed commit is retried
 * (COMMIT_ATTEMPTS, with backoff); after that durable appends get a 503 and
 * async rows are counted in `lostRows` and reported on stderr; journaled rows
 * stay queued and in the journal, and are tried again (RETRY_PAUSE_MS later).
 * `settle` waits until what was appended before it is in the database: `/logs`
 * calls it first, so a reply's row is there to read.
 */
import { setImmediate } from "node:timers";
import { errorText, PayloadTooLarge, Unavailable } from "../errors.ts";
import { type LogEntry, type LogRecord, toLogRecord } from "./entry.ts";
import type { LogStore } from "./store.ts";
import type { JournalFrame, LogJournal } from "./journal.ts";
import { bytesOf, INLINE_MAX_BYTES } from "./inline_commit.ts";

/** When a reply may leave relative to its log row's commit (LOG_DURABILITY less `off`). */
export type LogDurability = "fsync" | "durable" | "async";

/** Writer settings. */
export interface LogWriterOptions {
  durability: LogDurability;
  /** Edge name written in every row's metadata. */
  partition: string;
  /** LOCAL_INFERENCE_STORAGE in bytes, if set (for status; the store enforces it). */
  capBytes?: number;
  /** Queued rows beyond which appends wait (default 20,000). */
  maxPendingRows?: number;
  /** How long an append waits for room before a 503 (default 2,000 ms). */
  maxWaitMs?: number;
  /**
   * The log's journal (journal.ts) and its frames still to commit, committed first whatever the durability;
   * `durable` replies wait for it instead of the commit.
   */
  journal?: { journal: LogJournal; pending: JournalFrame[] };
}

/** What `/logs/status` shows. */
export interface LogWriterStatus {
  durability: LogDurability;
  pendingRows: number;
  committedRows: number;
  /** Transactions that committed them: fewer than appends when commits are shared. */
  commits: number;
  evictedRows: number;
  lostRows: number;
  usedBytes: number;
  capBytes: number | null;
}

interface Pending {
  record: LogRecord;
  /** Order of arrival (what `settle` waits for). */
  ordinal: number;
  /** Settled by its commit: a reply waits on it. */
  done?: { resolve: () => void; reject: (err: Error) => void };
  /** The journal frame holding it: acknowledged, it waits for a batch commit. */
  seq?: number;
  /** Its commit failed once (journaled rows are kept and tried again); `settle` does not wait for it. */
  retry?: boolean;
}

/** async mode: how long the writer gathers rows before a commit. */
export const ASYNC_WINDOW_MS = 20;
/** async mode: commit at once when this many rows are queued. */
const ASYNC_BATCH_ROWS = 2000;
/** Tries of one commit before its rows are given up. */
const COMMIT_ATTEMPTS = 3;
/** After journaled rows failed every try: the pause before they are tried again. */
const RETRY_PAUSE_MS = 1000;
/**
 * Largest group of records written to the journal (bytes as the store counts them): a larger one is committed by
 * the log worker before its replies leave, as without a journal, off the serving thread.
 */
export const JOURNAL_GROUP_BYTES = INLINE_MAX_BYTES;

/** Group-committing writer over a LogStore. */
export class LogWriter {
  readonly #store: LogStore;
  readonly #options: Required<Omit<LogWriterOptions, "capBytes" | "journal">> & { capBytes?: number };
  readonly #journal: LogJournal | undefined;
  /** `durable` with a journal: appends are journaled. */
  readonly #journaling: boolean;
  /** Durable appends of this event-loop turn, for one journal write. */
  #toJournal: Pending[] = [];
  #journalTurn: Promise<void> | undefined;
  /** The batch being committed. */
  #inFlight: Pending[] = [];
  #queue: Pending[] = [];
  #appended = 0;
  /** `settle` calls waiting: the window is skipped meanwhile. */
  #settleWaiters: { ordinal: number; resolve: () => void }[] = [];
  #endWindow: (() => void) | undefined;
  /** Set by `close`: journaled rows whose commit fails are left in the journal for the next start. */
  #closing = false;
  #queuedRows = 0;
  #committing: Promise<void> | undefined;
  #roomWaiters: (() => void)[] = [];
  #committedRows = 0;
  #commits = 0;
  #evictedRows = 0;
  #lostRows = 0;
  #commitListeners: (() => void)[] = [];

  /** A writer committing through `store` (see store.ts). */
  constructor(store: LogStore, options: LogWriterOptions) {
    this.#store = store;
    const { journal, ...rest } = options;
    this.#options = { maxPendingRows: 20_000, maxWaitMs: 2_000, ...rest };
    this.#evictedRows = store.evictedAtOpen;
    this.#journaling = journal !== undefined && options.durability === "durable";
    if (journal) {
      this.#journal = journal.journal;
      // Acknowledged before the last stop, not yet in the database: committed first.
      for (const { seq, records } of journal.pending) {
        for (const record of records) {
          this.#queue.push({ record, ordinal: ++this.#appended, seq });
          this.#queuedRows += record.rows;
        }
      }
      if (this.#queue.length > 0) this.#committing = this.#commitLoop();
    }
  }

  /** Queues one served batch's rows; see the module doc for when it resolves. */
  async append(entry: LogEntry): Promise<void> {
    if (entry.reply.input.rows > this.#options.maxPendingRows) {
      throw new PayloadTooLarge(
        `${entry.reply.input.rows} rows are more than the inference log queues at once (${this.#options.maxPendingRows})`,
      );
    }
    const record = toLogRecord(entry, this.#options.partition);
    const deadline = Date.now() + this.#options.maxWaitMs;
    // Checked again after every wait, right before queueing: no await between the check and the push.
    while (this.#queuedRows > 0 && this.#queuedRows + record.rows > this.#options.maxPendingRows) {
      await this.#waitForRoom(deadline);
    }
    const pending: Pending = { record, ordinal: ++this.#appended };
    const committed = this.#options.durability !== "async"
      ? new Promise<void>((resolve, reject) => pending.done = { resolve, reject })
      : undefined;
    this.#queuedRows += record.rows;
    if (this.#journaling && this.#journal?.usable) {
      this.#toJournal.push(pending);
      this.#journalTurn ??= new Promise((resolve) => setImmediate(resolve)).then(() => this.#writeJournal());
    } else {
      this.#queue.push(pending);
      this.#committing ??= this.#commitLoop();
    }
    await committed;
  }

  /** Resolves once every row appended before the call is in the database (or failed to get there). */
  async settle(): Promise<void> {
    const ordinal = this.#appended;
    if (this.#settledThrough() >= ordinal) return;
    await new Promise<void>((resolve) => {
      this.#settleWaiters.push({ ordinal, resolve });
      this.#endWindow?.();
    });
  }

  /** Counters for `/logs/status` and the `/logs` reply headers. */
  async status(): Promise<LogWriterStatus> {
    return {
      durability: this.#options.durability,
      pendingRows: this.#queuedRows,
      committedRows: this.#committedRows,
      commits: this.#commits,
      evictedRows: this.#evictedRows,
      lostRows: this.#lostRows,
      usedBytes: await this.#store.usedBytes(),
      capBytes: this.#options.capBytes ?? null,
    };
  }

  /** Calls `listener` after every commit (the Ops uploader follows the backlog this way). */
  onCommit(listener: () => void): void {
    this.#commitListeners.push(listener);
  }

  /** Rows evicted by the storage cap since the log was created. */
  get evictedRows(): number {
    return this.#evictedRows;
  }

  /** Commits everything queued (at shutdown). */
  async flush(): Promise<void> {
    while (this.#journalTurn || this.#committing) {
      await this.#journalTurn;
      await this.#committing;
    }
  }

  /** Commits everything queued, then closes the journal and the store. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#endWindow?.();
    await this.flush();
    await this.#journal?.close();
    await this.#store.close();
  }

  /** Writes this turn's durable appends to the journal in one frame and acknowledges them; see the module doc. */
  #writeJournal(): void {
    this.#journalTurn = undefined;
    const group = this.#toJournal;
    this.#toJournal = [];
    const journal = this.#journal!;
    const records = group.map((p) => p.record);
    if (journal.usable && !journal.full && bytesOf(records) <= JOURNAL_GROUP_BYTES) {
      try {
        const seq = journal.write(records);
        for (const p of group) {
          p.seq = seq;
          p.done?.resolve();
          p.done = undefined;
        }
      } catch (err) {
        console.error(`inference log: a journal write failed; these replies wait for the commit: ${errorText(err)}`);
      }
    }
    this.#queue.push(...group);
    this.#committing ??= this.#commitLoop();
  }

  /** The last ordinal such that every row up to it is committed, or failed, or waits for a retry. */
  #settledThrough(): number {
    for (const list of [this.#inFlight, this.#queue, this.#toJournal]) {
      for (const p of list) if (!p.retry) return p.ordinal - 1;
    }
    return this.#appended;
  }

  /** Waits `ms`, or less when `settle` is called meanwhile. */
  #window(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const end = () => {
        clearTimeout(timer);
        this.#endWindow = undefined;
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.#endWindow = end;
    });
  }

  /** Waits until a commit frees room, or throws Unavailable at `deadline`. */
  async #waitForRoom(deadline: number): Promise<void> {
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new Unavailable(
        `the inference log is behind (${this.#queuedRows} rows waiting to be written); retry shortly`,
      );
    }
    let timer: number | undefined;
    await new Promise<void>((resolve) => {
      this.#roomWaiters.push(resolve);
      timer = setTimeout(resolve, left);
    });
    clearTimeout(timer);
  }

  async #commitLoop(): Promise<void> {
    while (this.#queue.length > 0) {
      if (this.#queue.some((p) => p.done)) {
        // A reply waits: let the requests whose I/O is ready share this commit, the costly part of a durable reply
        // without a journal (1-row at 4 conns, inline commits: 1.0 → 2.1 rows per commit, +20–50 % req/s measured).
        await new Promise((resolve) => setImmediate(resolve));
      } else if (!this.#closing && this.#settleWaiters.length === 0 && this.#queuedRows < ASYNC_BATCH_ROWS) {
        // Nobody waits: gather a window's worth of rows per commit (fewer, larger transactions).
        await this.#window(this.#queue.every((p) => p.retry) ? RETRY_PAUSE_MS : ASYNC_WINDOW_MS);
      }
      const batch = this.#inFlight = this.#queue;
      this.#queue = [];
      const records = batch.map((p) => p.record);
      const rows = records.reduce((n, r) => n + r.rows, 0);
      const seq = batch.reduce<number | undefined>((last, p) => p.seq === undefined ? last : p.seq, undefined);
      try {
        const { evicted } = await this.#commitWithRetries(records, seq);
        if (seq !== undefined) this.#journal?.committed(seq);
        this.#committedRows += rows;
        this.#commits++;
        this.#evictedRows += evicted;
        this.#queuedRows -= rows;
        for (const p of batch) p.done?.resolve();
        for (const listener of this.#commitListeners) listener();
      } catch (err) {
        const message = `inference log write failed: ${errorText(err)}`;
        // Journaled rows were acknowledged and stay in the journal: kept, first in line, for another try.
        const kept = batch.filter((p) => p.seq !== undefined);
        const dropped = batch.filter((p) => p.seq === undefined);
        const droppedRows = dropped.reduce((n, p) => n + p.record.rows, 0);
        if (this.#options.durability === "async") {
          this.#lostRows += droppedRows;
          console.error(`${message} (${droppedRows} rows not logged)`);
        }
        if (kept.length > 0) {
          console.error(
            `${message} (${rows - droppedRows} journaled rows kept; ${
              this.#closing ? "the next start commits them" : "tried again shortly"
            })`,
          );
        }
        for (const p of dropped) p.done?.reject(new Unavailable(message));
        if (this.#closing) this.#queuedRows -= rows;
        else {
          this.#queue.unshift(...kept.map((p) => ({ ...p, retry: true })));
          this.#queuedRows -= droppedRows;
        }
      } finally {
        this.#inFlight = [];
        for (const wake of this.#roomWaiters.splice(0)) wake();
        const through = this.#settledThrough();
        const waiting = this.#settleWaiters.filter((w) => w.ordinal > through);
        for (const w of this.#settleWaiters) if (w.ordinal <= through) w.resolve();
        this.#settleWaiters = waiting;
      }
    }
    this.#committing = undefined;
  }

  async #commitWithRetries(records: LogRecord[], journalSeq?: number): Promise<{ evicted: number }> {
    for (let attempt = 1;; attempt++) {
      try {
        return await this.#store.commit(records, journalSeq);
      } catch (err) {
        if (attempt >= COMMIT_ATTEMPTS || this.#store.failed) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100 * 4 ** (attempt - 1)));
      }
    }
  }
}
