/**
 * @module
 * The log worker (see store.ts). One instance owns the writing connections
 * (`open`, `commit` = insert + storage cap, `usedBytes`, `markUploaded`,
 * `nextId`, `raiseNextId`);
 * another, opened with `openReader`, serves `/logs` pages (`page`) and the Ops
 * uploader's reads (`pendingPage`, encoded here, and `backlog`) on its own connection, so neither
 * exports nor commits run on the thread that serves inferences.
 * Requests are answered one at a time; `close` ends either.
 *
 * With `sync: "normal"` commits are not synced one by one; instead the WAL
 * file is synced every WAL_SYNC_MS while commits arrive, off this thread's
 * queue, so a power cut loses at most about that much of the log.
 */
import { errorText } from "../errors.ts";
import { LogAppender } from "./appender.ts";
import { enforceCap, evictedTotal, evictedUnsentTotal, journalSeq, usedBytes } from "./cap.ts";
import { closeLogDb, type LogDb, type OpenLogOptions } from "./db.ts";
import { openLogDb, openLogReader } from "./db_open.ts";
import { type LogFilter, readExtraColumns, readPage, type StoredLogRow } from "./query.ts";
import { backlogRows, markUploaded, pendingRows } from "./upload.ts";
import type { LogRecord } from "./entry.ts";
import { WAL_SYNC_MS, WalSyncer } from "./wal_sync.ts";
import { answerRequests } from "../worker_channel.ts";
import { logRecordJson } from "../codec/log_json.ts";
import type { UploadPage } from "../ops/page.ts";

/** How the worker opens the log. */
export interface StoreSettings extends OpenLogOptions {
  dir: string;
  /** LOCAL_INFERENCE_STORAGE in bytes, if set. */
  capBytes?: number;
}

/** A request to the worker. */
export type StoreRequest =
  | { id: number; op: "open"; settings: StoreSettings }
  | { id: number; op: "openReader"; dir: string }
  | { id: number; op: "page"; filter: LogFilter; after: number; limit: number }
  /** A page as pandas-records JSON text: built here, it crosses to the serving thread as one string. */
  | { id: number; op: "pageJson"; filter: LogFilter; after: number; limit: number }
  | { id: number; op: "columns" }
  /**
   * `checkpoint`: checkpoint the WAL first (it grew through commits on the serving thread); `journalSeq`: the last
   * journal frame these records complete (journal.ts), recorded with them.
   */
  | { id: number; op: "commit"; records: LogRecord[]; checkpoint?: boolean; journalSeq?: number }
  | { id: number; op: "enforceCap" }
  | { id: number; op: "usedBytes" }
  | { id: number; op: "pendingPage"; after: number; limit: number; partition: string }
  | { id: number; op: "backlog" }
  | { id: number; op: "evictedUnsent" }
  | { id: number; op: "markUploaded"; firstId: number; lastId: number }
  | { id: number; op: "nextId" }
  /** Rows committed so far made durable (the WAL synced now with sync "normal"); answers `nextId` as it was. */
  | { id: number; op: "durableThrough" }
  /** No row committed after this gets an id below `atLeast`. */
  | { id: number; op: "raiseNextId"; atLeast: number }
  | { id: number; op: "close" };

/** The worker's answer to request `id`. */
export interface StoreReply {
  id: number;
  error?: string;
  evicted?: number;
  /** `open`: the last journal frame the database holds. */
  journalSeq?: number;
  usedBytes?: number;
  rows?: StoredLogRow[];
  /** `pendingPage`: the next upload page, absent when no row is pending. */
  page?: UploadPage;
  /** `pageJson`: the page's rows as JSON list items, how many (`count`) and the last one's id. */
  json?: string;
  lastId?: number;
  /** Rows counted (`backlog`, `evictedUnsent`) or marked (`markUploaded`). */
  count?: number;
  /** `nextId`: the id the next row gets. */
  nextId?: number;
  /** Extra Arrow columns (`columns`). */
  columns?: string[];
}

let log: LogDb | undefined;
let appender: LogAppender | undefined;
let walSync: WalSyncer | undefined;
let capBytes: number | undefined;

async function handle(request: StoreRequest): Promise<Omit<StoreReply, "id">> {
  switch (request.op) {
    case "openReader":
      log = await openLogReader(request.dir);
      return {};
    case "page":
      return { rows: readPage(opened(), request.filter, request.after, request.limit) };
    case "pageJson": {
      const rows = readPage(opened(), request.filter, request.after, request.limit);
      return { json: rows.map(logRecordJson).join(","), count: rows.length, lastId: rows.at(-1)?.id };
    }
    case "columns":
      return { columns: await readExtraColumns(opened()) };
    case "open":
      try {
        log = await openLogDb(request.settings.dir, request.settings);
        appender = new LogAppender(log.path, request.settings);
        if (request.settings.sync === "normal") walSync = new WalSyncer(`${log.path}-wal`, WAL_SYNC_MS);
        capBytes = request.settings.capBytes;
        return { evicted: await evictedTotal(log.client), journalSeq: await journalSeq(log.client) };
      } catch (err) {
        await closeAll();
        throw err;
      }
    case "commit": {
      const appender = writing();
      if (request.checkpoint) appender.checkpoint();
      appender.append(request.records, request.journalSeq);
      walSync?.committed();
      return { evicted: await evictOverCap() };
    }
    case "enforceCap":
      return { evicted: await evictOverCap() };
    case "usedBytes":
      return { usedBytes: await usedBytes(opened().client) };
    case "pendingPage": {
      const rows = pendingRows(opened(), request.after, request.limit);
      if (rows.length === 0) return {};
      // Loaded on the first page: apache-arrow is not needed here without Ops.
      const { uploadPage } = await import("../ops/page.ts");
      return { page: uploadPage(rows, request.limit, request.partition) };
    }
    case "backlog":
      return { count: await backlogRows(opened()) };
    case "evictedUnsent":
      return { count: await evictedUnsentTotal(opened().client) };
    case "markUploaded":
      return { count: await markUploaded(opened(), request.firstId, request.lastId) };
    case "nextId":
      return { nextId: writing().nextId() };
    case "durableThrough": {
      const next = writing().nextId();
      await walSync?.flush(); // with sync "full" every commit was synced already
      return { nextId: next };
    }
    case "raiseNextId":
      writing().raiseNextId(request.atLeast);
      return {};
    case "close":
      await closeAll();
      return {};
  }
}

/** Applies the storage cap after rows were committed. A failure is reported, not turned into a failed commit. */
async function evictOverCap(): Promise<number> {
  if (capBytes === undefined) return 0;
  return await enforceCap(opened().client, capBytes).catch((err) => {
    console.error(`inference log eviction failed: ${errorText(err)}`);
    return 0;
  });
}

async function closeAll(): Promise<void> {
  await walSync?.close();
  appender?.close();
  if (log) closeLogDb(log);
  log = appender = walSync = undefined;
}

function writing(): LogAppender {
  if (!appender) throw new Error("the log is not open for writing");
  return appender;
}

function opened(): LogDb {
  if (!log) throw new Error("the log is not open");
  return log;
}

answerRequests(handle, (err) => errorText(err));
