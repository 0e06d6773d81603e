/**
 * @module
 * Small commits on the serving thread. With `sync: "normal"` a commit only
 * writes its WAL frames into the page cache (no fsync: the WalSyncer syncs the
 * WAL on a timer), so a commit of a few rows takes tens of µs on its own
 * connection here, while the round trip to the log worker cost about 150–900 µs
 * on this 2-core machine (measured: a bare worker echo alone is 165 µs, and a
 * 1-row durable request at 1 connection went from 0.6–1.2 ms p50 through the
 * worker to 0.4 ms inline). So commits of up to INLINE_MAX_BYTES of records
 * are made here; larger ones, fsync mode, eviction and the Ops marks stay in
 * the worker.
 *
 * What this connection does not do on the serving thread:
 * - wait for a lock: busy_timeout is 0, so when the worker holds the write lock
 *   (eviction, an Ops mark, a large commit) `commit` answers "busy" at once and
 *   the store sends those rows through the worker, which waits its turn;
 * - checkpoint: wal_autocheckpoint is off here (a checkpoint copies up to the WAL
 *   limit and syncs twice: milliseconds). The frames written here are counted
 *   (estimated); a commit that would take the WAL past its limit goes through
 *   the worker, which checkpoints first. No commit runs meanwhile (the writer
 *   commits one batch at a time), so that checkpoint copies the whole WAL and
 *   the commit starts it again from the beginning: the WAL stays within its
 *   limit. (A checkpoint running in the worker while commits went on here never
 *   caught up, and the WAL kept growing.)
 */
import { LogAppender } from "./appender.ts";
import type { OpenLogOptions } from "./db.ts";
import type { LogRecord } from "./entry.ts";
import { WalSyncer } from "./wal_sync.ts";

/** Largest commit made on the serving thread, in bytes of records (64 WAL pages: about 0.1–0.3 ms here). */
export const INLINE_MAX_BYTES = 256 * 1024;

const PAGE_BYTES = 4096;
/** Pages a commit touches besides its records: the table's and the pending index's leaves, a minute's mark, page 1. */
const FIXED_PAGES = 4;

/**
 * Bytes of `records` as stored: the payload and the elapsed list (the fields records share are in log_sources,
 * written once), and 64 for the row's header, its numbers and its index entries.
 */
export function bytesOf(records: readonly LogRecord[]): number {
  let bytes = 0;
  for (const r of records) bytes += r.payload.length + r.elapsedJson.length + 64;
  return bytes;
}

/** The WAL frames a commit of `bytes` writes, estimated (a new source's row, rare, is not counted). */
function framesOf(bytes: number): number {
  // A quarter more for pages left part-full.
  return FIXED_PAGES + Math.ceil(bytes * 1.25 / PAGE_BYTES);
}

/** Commits small batches on this thread; see the module doc. */
export class InlineCommitter {
  readonly #appender: LogAppender;
  readonly #walSync: WalSyncer;
  readonly #walLimitFrames: number;
  readonly #capBytes: number | undefined;
  #frames = 0;

  /**
   * Opens its own connection to the (migrated) log at `path`; `walSyncMs` is how often this thread's commits
   * are synced to the disk.
   */
  constructor(path: string, options: OpenLogOptions & { capBytes?: number }, walSyncMs: number) {
    this.#appender = new LogAppender(path, { ...options, busyTimeoutMs: 0, autoCheckpoint: false });
    this.#walSync = new WalSyncer(`${path}-wal`, walSyncMs);
    this.#walLimitFrames = Math.max(16, Math.floor(options.walLimitBytes / PAGE_BYTES));
    // What opening and migrating left in the WAL (once, at start-up; a WAL no longer in use counts in full).
    this.#frames = Math.ceil(walBytesAt(`${path}-wal`) / PAGE_BYTES);
    this.#capBytes = options.capBytes;
  }

  /**
   * Commits `records` here and returns "committed", or "overCap" when the log is now past `capBytes` (the caller
   * has the worker evict). Or, writing nothing: "worker" when it is too large or another connection holds the
   * write lock, "checkpoint" when it would take the WAL past its limit. The caller then commits it through the
   * worker (and, for "checkpoint", has the worker checkpoint first).
   */
  commit(records: readonly LogRecord[], journalSeq?: number): "committed" | "overCap" | "worker" | "checkpoint" {
    const bytes = bytesOf(records);
    const frames = framesOf(bytes);
    if (this.#frames + frames > this.#walLimitFrames) {
      this.#frames = frames; // the worker checkpoints, then commits: its frames start the WAL again
      return "checkpoint";
    }
    this.#frames += frames; // whichever connection writes them, they lengthen the WAL
    if (bytes > INLINE_MAX_BYTES) return "worker";
    try {
      this.#appender.append(records, journalSeq);
    } catch (err) {
      if (isBusy(err)) return "worker";
      throw err;
    }
    this.#walSync.committed();
    return this.#capBytes !== undefined && this.#appender.usedBytes() > this.#capBytes ? "overCap" : "committed";
  }

  /** Syncs what this thread committed and closes the connection. */
  async close(): Promise<void> {
    await this.#walSync.close();
    this.#appender.close();
  }
}

/** Size of the WAL file at `path`, 0 when there is none. */
function walBytesAt(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

/** SQLITE_BUSY (or BUSY_*) from libsql: another connection has the write lock. */
function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}
