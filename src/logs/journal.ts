/**
 * @module
 * The durable log's acknowledgement path: an append-only file
 * (`inference-log.journal`, beside the database) that a group of records
 * reaches with one write() before their replies leave. A write() into the page
 * cache survives a kill of tern as a WAL commit does, and costs about 2.5 µs
 * here against 30–40 µs for a one-record SQLite commit, which was most of a
 * durable 1-row request's time on the serving thread. The writer then commits
 * the journaled records to the database in batches (writer.ts) and, with them,
 * the sequence number of the last frame they came from (log_counters
 * `journal_seq`); the file is emptied once every frame written is in the
 * database. At start-up the frames past `journal_seq` are the acknowledged rows
 * still to commit: nothing is lost and nothing committed twice.
 *
 * A frame: body length (u32), CRC-32 of the body (u32), sequence number (u64),
 * then the body: the length of a JSON list of the records' fields (u32), that
 * list, and their payloads one after another. A kill during a write leaves at
 * most a torn last frame, which was never acknowledged: reading stops at the
 * first frame that is short or fails its CRC, and the file is cut back there
 * before anything is appended. A failed or short write is cut back the same
 * way; a journal that cannot be cut back is given up (`usable` false) and the
 * writer commits to the database before replying, as it did without one.
 *
 * One process at a time: a second tern on the same folder would replay frames
 * the first is committing, and empty the file under it. The journal is held
 * through an exclusive SQLite lock on `inference-log.journal.lock` (POSIX
 * locks, released by the kernel when the holder dies), taken without waiting:
 * a second process fails to start, naming the folder.
 */
import { crc32 } from "node:zlib";
import Database from "libsql";
import { errorText } from "../errors.ts";
import type { LogRecord } from "./entry.ts";
import { WAL_SYNC_MS, WalSyncer } from "./wal_sync.ts";

/** File name of the journal in the log's folder. */
export const JOURNAL_FILE = "inference-log.journal";

const HEADER_BYTES = 16;
/** Largest journal file kept before the writer commits to the database before replying again (bytes). */
export const JOURNAL_MAX_BYTES = 16 << 20;

/** The fields of a record as a frame's JSON list holds them (the payload follows the list). */
type RecordFields = Omit<LogRecord, "payload"> & { payloadBytes: number };

/** One frame read back: its sequence number and records. */
export interface JournalFrame {
  seq: number;
  records: LogRecord[];
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** The bytes of one frame holding `records`. */
export function encodeFrame(seq: number, records: readonly LogRecord[]): Uint8Array {
  const fields: RecordFields[] = records.map(({ payload, ...rest }) => ({ ...rest, payloadBytes: payload.length }));
  const json = utf8.encode(JSON.stringify(fields));
  let bodyBytes = 4 + json.length;
  for (const r of records) bodyBytes += r.payload.length;
  const frame = new Uint8Array(HEADER_BYTES + bodyBytes);
  const view = new DataView(frame.buffer);
  view.setUint32(HEADER_BYTES, json.length);
  frame.set(json, HEADER_BYTES + 4);
  let at = HEADER_BYTES + 4 + json.length;
  for (const r of records) {
    frame.set(r.payload, at);
    at += r.payload.length;
  }
  view.setUint32(0, bodyBytes);
  view.setUint32(4, crc32(frame.subarray(HEADER_BYTES)));
  view.setBigUint64(8, BigInt(seq));
  return frame;
}

/**
 * The whole frames at the start of `bytes`, and where they end: reading stops at the first frame that is
 * short, fails its CRC or does not parse (a torn write).
 */
export function decodeFrames(bytes: Uint8Array): { frames: JournalFrame[]; validBytes: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames: JournalFrame[] = [];
  let at = 0;
  while (at + HEADER_BYTES <= bytes.length) {
    const bodyBytes = view.getUint32(at);
    const end = at + HEADER_BYTES + bodyBytes;
    if (bodyBytes < 4 || end > bytes.length) break;
    const body = bytes.subarray(at + HEADER_BYTES, end);
    if (crc32(body) !== view.getUint32(at + 4)) break;
    const records = recordsOf(body);
    if (!records) break;
    frames.push({ seq: Number(view.getBigUint64(at + 8)), records });
    at = end;
  }
  return { frames, validBytes: at };
}

/** A frame body's records, or undefined when it does not parse. */
function recordsOf(body: Uint8Array): LogRecord[] | undefined {
  try {
    const jsonBytes = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(0);
    const fields = JSON.parse(utf8Decoder.decode(body.subarray(4, 4 + jsonBytes))) as RecordFields[];
    let at = 4 + jsonBytes;
    const records = fields.map(({ payloadBytes, ...rest }) => {
      const payload = body.slice(at, at + payloadBytes);
      at += payloadBytes;
      return { ...rest, payload };
    });
    return at === body.length ? records : undefined;
  } catch {
    return undefined;
  }
}

/** The open journal of one log. */
export class LogJournal {
  readonly #path: string;
  readonly #file: Deno.FsFile;
  readonly #sync: WalSyncer;
  readonly #lock: Database.Database;
  #bytes: number;
  #lastSeq: number;
  #committedSeq: number;
  #usable = true;

  private constructor(
    path: string,
    lock: Database.Database,
    file: Deno.FsFile,
    bytes: number,
    lastSeq: number,
    committedSeq: number,
  ) {
    this.#path = path;
    this.#lock = lock;
    this.#file = file;
    this.#bytes = bytes;
    this.#lastSeq = lastSeq;
    this.#committedSeq = committedSeq;
    this.#sync = new WalSyncer(path, WAL_SYNC_MS, "the log journal");
  }

  /**
   * Opens (or creates) the journal at `path` of a log whose database holds every frame up to `committedSeq`.
   * Returns it with the frames still to commit, in order; a torn tail is cut off first.
   */
  static open(path: string, committedSeq: number): { journal: LogJournal; pending: JournalFrame[] } {
    const lock = holdJournal(path);
    let file: Deno.FsFile;
    try {
      // Appending: every write lands at the end, also after the file is cut back or emptied.
      file = Deno.openSync(path, { read: true, append: true, create: true });
    } catch (err) {
      lock.close();
      throw err;
    }
    try {
      const bytes = Deno.readFileSync(path);
      const { frames, validBytes } = decodeFrames(bytes);
      if (validBytes < bytes.length) {
        console.error(
          `inference log: the journal's last ${bytes.length - validBytes} bytes are a write cut short ` +
            "(never acknowledged); they are dropped",
        );
      }
      const pending = frames.filter((f) => f.seq > committedSeq);
      // Frames all in the database already (a kill between a commit and the emptying) go too.
      const keep = pending.length > 0 ? validBytes : 0;
      if (keep < bytes.length) file.truncateSync(keep);
      const lastSeq = frames.reduce((last, f) => Math.max(last, f.seq), committedSeq);
      return { journal: new LogJournal(path, lock, file, keep, lastSeq, committedSeq), pending };
    } catch (err) {
      file.close();
      lock.close();
      throw err;
    }
  }

  /** False once a failed write could not be cut back: nothing more is written here. */
  get usable(): boolean {
    return this.#usable;
  }

  /** True once the file holds JOURNAL_MAX_BYTES: the database has fallen behind, and replies wait for it again. */
  get full(): boolean {
    return this.#bytes >= JOURNAL_MAX_BYTES;
  }

  /** Appends one frame of `records` and returns its sequence number; throws (writing nothing) on failure. */
  write(records: readonly LogRecord[]): number {
    if (!this.#usable) throw new Error("the log journal is not usable");
    const seq = this.#lastSeq + 1;
    const frame = encodeFrame(seq, records);
    try {
      for (let at = 0; at < frame.length;) at += this.#file.writeSync(frame.subarray(at));
    } catch (err) {
      this.#cutBack();
      throw err;
    }
    this.#bytes += frame.length;
    this.#lastSeq = seq;
    this.#sync.committed();
    return seq;
  }

  /** Notes that the database holds every frame up to `seq`; the file is emptied when that is all of them. */
  committed(seq: number): void {
    if (seq > this.#committedSeq) this.#committedSeq = seq;
    if (this.#committedSeq < this.#lastSeq || this.#bytes === 0) return;
    try {
      this.#file.truncateSync(0);
      this.#bytes = 0;
    } catch (err) {
      // The frames are committed; they are skipped at the next start. Writing goes on after them.
      console.error(`inference log: emptying the journal failed: ${errorText(err)}`);
    }
  }

  /** Syncs what was written and closes the file. */
  async close(): Promise<void> {
    await this.#sync.close();
    this.#file.close();
    this.#lock.close();
  }

  /** After a failed write: cuts the file back to its last whole frame, or gives the journal up. */
  #cutBack(): void {
    try {
      this.#file.truncateSync(this.#bytes);
    } catch (err) {
      this.#usable = false;
      console.error(
        `inference log: the journal at ${this.#path} could not be cut back after a failed write (${
          errorText(err)
        }); replies now wait for the database commit`,
      );
    }
  }
}

/** Takes the journal's lock (see the module doc), or throws naming the folder when another process holds it. */
function holdJournal(path: string): Database.Database {
  const lock = new Database(`${path}.lock`);
  try {
    lock.exec("PRAGMA busy_timeout = 0");
    // Nothing is ever written through it: without this, SQLite keeps an empty `.lock-journal` beside it while
    // the lock is held (and leaves it behind after a crash).
    lock.exec("PRAGMA journal_mode = OFF");
    lock.exec("PRAGMA locking_mode = EXCLUSIVE");
    lock.exec("BEGIN EXCLUSIVE");
    return lock;
  } catch (err) {
    lock.close();
    const busy = String((err as { code?: unknown })?.code ?? "").startsWith("SQLITE_BUSY");
    if (!busy) throw err;
    const folder = path.replace(/\/[^/]*$/, "") || "/";
    throw new Error(
      `another tern process is using the inference log in ${folder} (its journal is locked): ` +
        "run one tern per PERSISTENT_VOLUME_DIR",
    );
  }
}
