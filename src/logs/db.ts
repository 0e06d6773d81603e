/**
 * @module
 * The inference log database (a libSQL file in PERSISTENT_VOLUME_DIR): its
 * path, the PRAGMAs of a writing connection, the page-reading connection of
 * an open log. Opening one (@libsql/client, drizzle, migrations) is in
 * db_open.ts, which the serving thread does not load.
 */
import type { Client } from "@libsql/client";
import Database from "libsql";
import type { LibSQLDatabase } from "drizzle-orm/libsql";

/** File name of the log database inside PERSISTENT_VOLUME_DIR. */
export const LOG_DB_FILE = "inference-log.db";

/** An open log database. */
export interface LogDb {
  client: Client;
  db: LibSQLDatabase;
  path: string;
}

/** Each log's page-reading connection, once opened (pagesConnection). */
const pageConnections = new WeakMap<LogDb, Database.Database>();

/**
 * A second connection to `log`, synchronous (`libsql`, the engine under @libsql/client), that reads pages of
 * records (query.ts): @libsql/client builds an object of getters for every result row, which took two thirds
 * of a 1,000-record query. Opened on first use: only the reading worker reads pages.
 */
export function pagesConnection(log: LogDb): Database.Database {
  let pages = pageConnections.get(log);
  if (!pages) {
    pages = new Database(log.path);
    pages.exec("PRAGMA busy_timeout = 5000");
    pageConnections.set(log, pages);
  }
  return pages;
}

/** Closes `log`'s connections. */
export function closeLogDb(log: LogDb): void {
  pageConnections.get(log)?.close();
  pageConnections.delete(log);
  log.client.close();
}

/** Options for opening the log. */
export interface OpenLogOptions {
  /**
   * `full`: each commit is synced to the disk before it returns (synchronous=FULL).
   * `normal`: a commit is written to the WAL (it survives a crash or kill of tern)
   * and synced at checkpoints or by the store's timer (synchronous=NORMAL).
   */
  sync: "full" | "normal";
  /** Largest WAL kept between checkpoints, bytes (part of the storage cap's margin). */
  walLimitBytes: number;
  /** How long a write waits for another connection's lock (default 5,000 ms; 0: fail at once with SQLITE_BUSY). */
  busyTimeoutMs?: number;
  /** false: this connection never checkpoints by itself (another one does). Default true. */
  autoCheckpoint?: boolean;
}

/** The PRAGMAs every writing connection sets (they are per connection). */
export function connectionPragmas(options: OpenLogOptions): string[] {
  const walPages = Math.max(16, Math.floor(options.walLimitBytes / 4096));
  return [
    "PRAGMA journal_mode = WAL",
    `PRAGMA synchronous = ${options.sync === "full" ? "FULL" : "NORMAL"}`,
    `PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 5000}`,
    `PRAGMA wal_autocheckpoint = ${options.autoCheckpoint === false ? 0 : walPages}`,
    `PRAGMA journal_size_limit = ${walPages * 4096}`,
  ];
}

/** Path of the log database in `dir`. */
export function logDbPath(dir: string): string {
  return inLogDir(dir, LOG_DB_FILE);
}

/** Path of the file `name` in the log's folder `dir`. */
export function inLogDir(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, "")}/${name}`;
}
