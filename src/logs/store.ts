/**
 * @module
 * Where the writer's commits happen: a worker thread that owns the write
 * connection. libSQL's client runs each statement synchronously under its
 * promise API, so a commit (and its fsync, with LOG_DURABILITY=fsync) on the main thread
 * stalled every request being served meanwhile; in the worker it overlaps them.
 * Except small commits with `sync: "normal"` (LOG_DURABILITY=durable): they
 * write a few WAL pages and no fsync, and take less time on the serving thread
 * than the round trip to the worker does (inline_commit.ts).
 * `/logs` pages come from a second worker on its own connection, so a large
 * export neither blocks inferences nor delays commits.
 *
 * @example
 * const store = await openLogStore({ dir, sync: "normal", walLimitBytes, capBytes });
 * const { evicted } = await store.commit(records);
 */
import type { LogRecord } from "./entry.ts";
import type { JsonPageSource, PageSource } from "./query.ts";
import type { StoreReply, StoreRequest, StoreSettings } from "./store_worker.ts";
import type { UploadPage } from "../ops/page.ts";
import { startWorkerChannel, type WorkerChannel } from "../worker_channel.ts";
import { logDbPath } from "./db.ts";
import { InlineCommitter } from "./inline_commit.ts";
import { WAL_SYNC_MS } from "./wal_sync.ts";
import { errorText } from "../errors.ts";

export type { StoreSettings } from "./store_worker.ts";

/** A request before the store numbers it. */
type Unsent = StoreRequest extends infer R ? R extends StoreRequest ? Omit<R, "id"> : never : never;

/** The write side of the log. */
export interface LogStore {
  /** Rows evicted by the cap since the log was created (read at open). */
  readonly evictedAtOpen: number;
  /** The last journal frame (journal.ts) the database held at open, 0 when none. */
  readonly journalSeqAtOpen: number;
  /** True once the worker has died: every call fails at once. */
  readonly failed: boolean;
  /**
   * Inserts `records` in one transaction (with `journalSeq`, the last journal frame they complete), then applies
   * the cap; returns rows evicted.
   */
  commit(records: LogRecord[], journalSeq?: number): Promise<{ evicted: number }>;
  /** Bytes of database pages holding data. */
  usedBytes(): Promise<number>;
  /** Stops the worker (pending commits are answered first). */
  close(): Promise<void>;
}

/** The write side's part for the Ops uploader (writes: they go through the writing worker). */
export interface UploadMarker {
  /** Marks rows `firstId`…`lastId` uploaded to Ops; returns how many were still waiting. */
  markUploaded(firstId: number, lastId: number): Promise<number>;
  /** The id the next row committed gets. */
  nextRowId(): Promise<number>;
  /** Makes the rows committed so far durable (a WAL sync, unless each commit was synced); returns the last one's id. */
  durableThrough(): Promise<number>;
  /** No row committed after this gets an id below `id` (ids already handed out stay as they are). */
  raiseNextRowId(id: number): Promise<void>;
}

/** A log worker's request channel. */
type LogWorker = WorkerChannel<Unsent, StoreReply>;

/** Starts a store_worker. */
function startLogWorker(): LogWorker {
  return startWorkerChannel<Unsent, StoreReply>(
    new URL("./store_worker.ts", import.meta.url),
    "log worker",
    (reply) => reply.error === undefined ? undefined : new Error(reply.error),
  );
}

/** Starts the writing log worker, which opens and migrates the database. */
export async function openLogStore(settings: StoreSettings): Promise<LogStore & UploadMarker> {
  const worker = startLogWorker();
  const opened = await worker.call({ op: "open", settings }).catch((err) => {
    worker.terminate();
    throw err;
  });
  let inline: InlineCommitter | undefined;
  if (settings.sync === "normal") {
    try {
      inline = new InlineCommitter(logDbPath(settings.dir), settings, WAL_SYNC_MS);
    } catch (err) {
      await worker.call({ op: "close" }).finally(() => worker.terminate());
      throw err;
    }
  }
  const evictedBy = async (reply: Promise<StoreReply>) => ({ evicted: (await reply).evicted ?? 0 });
  return {
    evictedAtOpen: opened.evicted ?? 0,
    journalSeqAtOpen: opened.journalSeq ?? 0,
    get failed() {
      return worker.failed;
    },
    commit: async (records, journalSeq) => {
      const outcome = worker.failed ? "worker" : inline?.commit(records, journalSeq) ?? "worker";
      if (outcome === "committed") return { evicted: 0 };
      // Over the cap is rare: eviction runs in the worker, as does the WAL's checkpoint. The rows are committed:
      // an eviction that fails (the worker died) is reported, not turned into a failed commit to be retried.
      if (outcome === "overCap") {
        return await evictedBy(worker.call({ op: "enforceCap" })).catch((err) => {
          console.error(`inference log eviction failed: ${errorText(err)}`);
          return { evicted: 0 };
        });
      }
      return await evictedBy(
        worker.call({ op: "commit", records, checkpoint: outcome === "checkpoint", journalSeq }),
      );
    },
    usedBytes: async () => (await worker.call({ op: "usedBytes" })).usedBytes ?? 0,
    markUploaded: async (firstId, lastId) => (await worker.call({ op: "markUploaded", firstId, lastId })).count ?? 0,
    nextRowId: async () => (await worker.call({ op: "nextId" })).nextId ?? 1,
    durableThrough: async () => ((await worker.call({ op: "durableThrough" })).nextId ?? 1) - 1,
    raiseNextRowId: async (atLeast) => void await worker.call({ op: "raiseNextId", atLeast }),
    close: async () => {
      await inline?.close();
      await worker.call({ op: "close" });
      worker.terminate();
    },
  };
}

/** The read side of the log: pages for `/logs` and the Ops uploader, from a worker of its own. */
export interface LogPages {
  page: PageSource;
  /** A page as pandas-records JSON text, built in the worker. */
  pageJson: JsonPageSource;
  /** The Arrow `/logs` columns beyond the fixed ones that rows have had (`anomaly.<name>`, `shadow_data`). */
  columns(): Promise<string[]>;
  /**
   * The next Ops upload page: up to `limit` rows not yet uploaded with id > `after`, encoded as from the edge named
   * `partition`; absent when none.
   */
  pendingPage(after: number, limit: number, partition: string): Promise<UploadPage | undefined>;
  /** Rows not yet uploaded. */
  backlog(): Promise<number>;
  /** Rows the storage cap evicted before Ops had them, since the log was created. */
  evictedUnsent(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The reading log worker on `dir` (already migrated by the writer), started
 * on first use: `/logs` and Ops uploads need it, start-up does not (its
 * start, a thread loading the log's modules and libSQL, competed with the
 * models' on two cores). A worker that failed to open is tried again on the
 * next call.
 */
export function openLogPages(dir: string): LogPages {
  let opening: Promise<LogWorker> | undefined;
  let closed = false;
  const call = async (request: Unsent): Promise<StoreReply> => {
    if (closed) throw new Error("the inference log is closed");
    opening ??= (async () => {
      const worker = startLogWorker();
      try {
        await worker.call({ op: "openReader", dir });
        return worker;
      } catch (err) {
        worker.terminate();
        opening = undefined;
        throw err;
      }
    })();
    return await (await opening).call(request);
  };
  return {
    page: async (filter, after, limit) => (await call({ op: "page", filter, after, limit })).rows ?? [],
    pageJson: async (filter, after, limit) => {
      const reply = await call({ op: "pageJson", filter, after, limit });
      return { value: reply.json ?? "", rows: reply.count ?? 0, lastId: reply.lastId ?? after };
    },
    columns: async () => (await call({ op: "columns" })).columns ?? [],
    pendingPage: async (after, limit, partition) => (await call({ op: "pendingPage", after, limit, partition })).page,
    backlog: async () => (await call({ op: "backlog" })).count ?? 0,
    evictedUnsent: async () => (await call({ op: "evictedUnsent" })).count ?? 0,
    close: async () => {
      closed = true; // a call after this (an Ops tick racing the stop) starts no new worker
      const worker = await opening?.catch(() => undefined);
      if (!worker) return;
      await worker.call({ op: "close" });
      worker.terminate();
    },
  };
}
