/**
 * @module
 * Bounds what a power cut can take from a log committed with
 * synchronous=NORMAL: while commits arrive, the WAL file is synced every
 * `intervalMs`. The sync goes through a file handle of its own and runs on
 * Deno's blocking pool, so commits go on meanwhile. fsync flushes the file,
 * not the handle, so the frames SQLite wrote through its own handle reach the
 * disk; a transaction cut short by the power is dropped whole by SQLite's WAL
 * recovery (frame checksums), never half-applied. A WAL file new to this
 * syncer also gets its folder synced once, so the file itself survives.
 * A sync happens at most every `intervalMs` plus the time a sync takes.
 */
import { errorText } from "../errors.ts";

/** sync "normal": how often the WAL is synced while commits arrive (a row waits at most about twice this). */
export const WAL_SYNC_MS = 1000;

/** Syncs one WAL file on a timer while it is being written. */
export class WalSyncer {
  readonly #path: string;
  readonly #what: string;
  readonly #timer: number;
  #file: Deno.FsFile | undefined;
  #dirty = false;
  #syncing: Promise<void> | undefined;

  /** Starts the timer for the WAL (or another file the log appends to, named `what` in errors) at `path`. */
  constructor(path: string, intervalMs: number, what = "the WAL") {
    this.#path = path;
    this.#what = what;
    this.#timer = setInterval(() => void this.sync(), intervalMs);
  }

  /** Marks that a commit was written since the last sync. */
  committed(): void {
    this.#dirty = true;
  }

  /** Syncs the WAL now if anything was committed since the last sync. */
  sync(): Promise<void> {
    if (!this.#dirty || this.#syncing) return this.#syncing ?? Promise.resolve();
    this.#dirty = false;
    this.#syncing = this.#syncOnce().finally(() => this.#syncing = undefined);
    return this.#syncing;
  }

  /**
   * Syncs the WAL now, whatever was committed through this syncer: fsync flushes the file, so rows another
   * connection committed before this call are on disk once it resolves. A sync under way may have begun before
   * them, so another follows it.
   */
  async flush(): Promise<void> {
    await this.#syncing;
    this.#dirty = true;
    await this.sync();
  }

  /** Stops the timer after a last sync. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#syncing;
    await this.sync();
    this.#file?.close();
    this.#file = undefined;
  }

  async #syncOnce(): Promise<void> {
    try {
      // SQLite may have replaced the file (it deletes the WAL when its last connection closes).
      if (this.#file && (await this.#file.stat()).ino !== (await Deno.stat(this.#path)).ino) {
        this.#file.close();
        this.#file = undefined;
      }
      if (!this.#file) {
        this.#file = await Deno.open(this.#path, { read: true });
        await syncFolderOf(this.#path); // the new file's directory entry
      }
      await this.#file.syncData();
    } catch (err) {
      this.#dirty = true; // try again on the next tick
      // Every failure is reported: after a failed fsync the kernel may have dropped the pages it could not write.
      if (!(err instanceof Deno.errors.NotFound)) {
        console.error(
          `inference log: syncing ${this.#what} failed; rows committed since the last sync may not survive a power cut: ${
            errorText(err)
          }`,
        );
      }
    }
  }
}

async function syncFolderOf(path: string): Promise<void> {
  const dir = await Deno.open(path.slice(0, path.lastIndexOf("/")) || "/", { read: true });
  try {
    await dir.syncData();
  } finally {
    dir.close();
  }
}
