/**
 * @module
 * Bounds what a power cut can take from a log committed with
 * synchronous=NORMAL: while commits arrive, the WAL file is synced every
 * `intervalMs`. The sync goes through a file handle of its own and runs on
 * Deno's blocking pool, so commits go on meanwhile. fsync flushes the file,
 * not the handle, so the frames SQLite wrote through its own handle reach the
 * disk; a transaction cut short by the power is dropped whole by SQLite's WAL
 * recovery (frame checksums), never half-applied.
 */

/** Syncs one WAL file on a timer while it is being written. */
export class WalSyncer {
  readonly #path: string;
  readonly #timer: number;
  #file: Deno.FsFile | undefined;
  #dirty = false;
  #syncing: Promise<void> | undefined;
  #failing = false;

  /** Starts the timer for the WAL at `path`. */
  constructor(path: string, intervalMs: number) {
    this.#path = path;
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
      this.#file ??= await Deno.open(this.#path, { read: true });
      await this.#file.syncData();
      this.#failing = false;
    } catch (err) {
      this.#dirty = true; // try again on the next tick
      if (!(err instanceof Deno.errors.NotFound) && !this.#failing) {
        this.#failing = true; // reported once until a sync succeeds again
        console.error(`inference log: syncing the WAL failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}
