/**
 * @module
 * The inference log's public face: `openInferenceLog` starts the log worker
 * (writes, migrations, storage cap); the reading worker (`/logs`, Ops
 * uploads) starts on first use.
 *
 * @example
 * const log = await openInferenceLog({ dir, sync: "normal", walLimitBytes: 4 << 20 }, { durability: "durable", partition });
 * await log.writer.append(entry);
 * for await (const page of log.read({ limit: 10 })) console.log(page);
 * await log.close();
 */
import { inLogDir, logDbPath } from "./db.ts";
import { JOURNAL_FILE, LogJournal } from "./journal.ts";
import { type LogFilter, readLog, readLogJson, type StoredLogRow } from "./query.ts";
import { openLogPages, openLogStore, type StoreSettings } from "./store.ts";
import { LogWriter, type LogWriterOptions, type LogWriterStatus } from "./writer.ts";
import type { UploadPage } from "../ops/page.ts";

export type { LogEntry } from "./entry.ts";
export type { LogFilter, StoredLogRow } from "./query.ts";
export type { LogDurability, LogWriterStatus } from "./writer.ts";
export { LogWriter } from "./writer.ts";

/** What the Ops uploader reads and marks (src/ops/uploader.ts). */
export interface UploadLog {
  /**
   * The next Ops upload page: up to `limit` rows not yet uploaded with id > `after`, encoded as from the edge named
   * `partition`; absent when none.
   */
  pendingPage(after: number, limit: number, partition: string): Promise<UploadPage | undefined>;
  /** Marks rows `firstId`…`lastId` uploaded (they are evicted first under the storage cap). */
  markUploaded(firstId: number, lastId: number): Promise<number>;
  /**
   * Makes the rows committed so far durable and returns the last one's id: the uploader sends no row a power cut
   * could still take from this log, as its id would then be handed out again for a row Ops would drop.
   */
  durableThrough(): Promise<number>;
  /** Rows not yet uploaded. */
  backlog(): Promise<number>;
  /** Rows the storage cap evicted before Ops had them, since the log was created. */
  evictedUnsent(): Promise<number>;
}

/** An open inference log. */
export interface InferenceLog {
  writer: LogWriter;
  /** The database file. */
  path: string;
  /** The writer's counters once the rows acknowledged so far are in the database (what `/logs/status` shows). */
  status(): Promise<LogWriterStatus>;
  /** Rows matching a filter, a page at a time. */
  read(filter: LogFilter): AsyncGenerator<StoredLogRow[]>;
  /** The same pages as pandas-records JSON text (list items, no brackets), built off the serving thread. */
  readJson(filter: LogFilter): AsyncGenerator<string>;
  /** The Arrow `/logs` columns beyond the fixed ones that rows have had (`anomaly.<name>`, `shadow_data`). */
  columns(): Promise<string[]>;
  /** The Ops uploader's side. */
  upload: UploadLog;
  /** Commits what is queued and stops the log's workers. */
  close(): Promise<void>;
}

/** What else opening the log does. */
export interface OpenLogHooks {
  /**
   * Given the id the next row would get, where row ids must continue instead (undefined: where they are). Asked
   * before anything is committed, rows a journal left included (src/ops/edge_ops.ts: a log behind the ids Ops has).
   */
  continueIds?(nextRowId: number): Promise<number | undefined>;
}

/** Opens the log in `settings.dir`; the writer gets `writerOptions` (its capBytes is settings.capBytes). */
export async function openInferenceLog(
  settings: StoreSettings,
  writerOptions: Omit<LogWriterOptions, "capBytes">,
  hooks: OpenLogHooks = {},
): Promise<InferenceLog> {
  // The log worker migrates the file before the reading worker (on first use) opens it.
  const store = await openLogStore(settings);
  let journal;
  try {
    const from = await hooks.continueIds?.(await store.nextRowId());
    if (from !== undefined) await store.raiseNextRowId(from);
    journal = openJournal(settings.dir, store.journalSeqAtOpen);
  } catch (err) {
    await store.close();
    throw err;
  }
  const pages = openLogPages(settings.dir);
  const writer = new LogWriter(store, { ...writerOptions, capBytes: settings.capBytes, journal });
  // Reads see every row acknowledged before them: journaled rows are committed first (writer.ts).
  const settled = <T>(read: () => Promise<T>) => writer.settle().then(read);
  return {
    writer,
    path: logDbPath(settings.dir),
    status: () => settled(() => writer.status()),
    read: async function* (filter) {
      await writer.settle();
      yield* readLog(pages.page, filter);
    },
    readJson: async function* (filter) {
      await writer.settle();
      yield* readLogJson(pages.pageJson, filter);
    },
    columns: () => settled(pages.columns),
    upload: {
      pendingPage: pages.pendingPage,
      markUploaded: store.markUploaded,
      durableThrough: store.durableThrough,
      backlog: () => settled(pages.backlog),
      evictedUnsent: () => settled(pages.evictedUnsent),
    },
    close: async () => {
      await writer.close();
      await pages.close();
    },
  };
}

/**
 * The log's journal (journal.ts), opened (created if need be) whatever the durability: its lock keeps a second
 * tern off this log, and rows a durable run left in it are committed.
 */
function openJournal(dir: string, committedSeq: number) {
  return LogJournal.open(inLogDir(dir, JOURNAL_FILE), committedSeq);
}
