/**
 * @module
 * Keeps the log within LOCAL_INFERENCE_STORAGE. After each commit the bytes in
 * use ((page_count − freelist_count) × page_size) are compared with the cap;
 * past it, records (a served request's rows, entry.ts) are evicted down to 90 %
 * of the cap: those already uploaded to Ops first, then the oldest. SQLite
 * reuses freed pages, so the file stops growing at about the cap plus one
 * commit (the documented margin). The WAL beside it is checkpointed and
 * truncated after each eviction, and otherwise bounded by wal_autocheckpoint
 * (db.ts). Every eviction is counted, in rows, in `log_counters` and survives
 * restarts; so are, apart, the rows evicted before Ops had them (`evicted_unsent`:
 * with Ops away longer than the cap holds, rows Ops will never get).
 */
import type { Client } from "@libsql/client";
import { PENDING, UPLOADED } from "./upload.ts";

/** Fraction of the cap that eviction brings the log back down to. */
const EVICT_TO = 0.9;

/** Bytes of database pages holding data. */
export async function usedBytes(client: Client): Promise<number> {
  const read = async (pragma: string) => Number((await client.execute(`PRAGMA ${pragma}`)).rows[0][0]);
  // One after another: the client is a single connection (db.ts).
  const pages = await read("page_count");
  const free = await read("freelist_count");
  return (pages - free) * await read("page_size");
}

/** A log_counters value, 0 when it was never set. */
async function counter(client: Client, name: string): Promise<number> {
  const r = await client.execute({ sql: "SELECT value FROM log_counters WHERE name = ?", args: [name] });
  return r.rows.length ? Number(r.rows[0][0]) : 0;
}

/** Total rows evicted since the log was created. */
export function evictedTotal(client: Client): Promise<number> {
  return counter(client, "evicted");
}

/** Rows evicted before Ops had them (not marked uploaded), since the log was created. */
export function evictedUnsentTotal(client: Client): Promise<number> {
  return counter(client, "evicted_unsent");
}

/** The last journal frame the database holds (journal.ts), 0 when none. */
export function journalSeq(client: Client): Promise<number> {
  return counter(client, "journal_seq");
}

/** Evicts records while the log is over `capBytes`; returns how many rows went. */
export async function enforceCap(client: Client, capBytes: number): Promise<number> {
  let evicted = 0;
  for (let round = 0; round < 8; round++) {
    const used = await usedBytes(client);
    if (used <= capBytes) break;
    const records = Number((await client.execute("SELECT count(*) FROM inference_batch")).rows[0][0]);
    if (records === 0) break;
    const perRecord = used / records;
    const count = Math.min(records, Math.max(1, Math.ceil((used - capBytes * EVICT_TO) / perRecord)));
    const tx = await client.transaction("write");
    try {
      // Uploaded records first, then the oldest: each DELETE walks its partial index (upload.ts) in id order.
      let deleted = 0;
      let rows = 0;
      let unsent = 0;
      for (const which of [UPLOADED, PENDING]) {
        if (deleted >= count) break;
        // A record's `uploaded` counts its rows Ops has, from its first (entry.ts).
        const gone = (await tx.execute({
          sql: "DELETE FROM inference_batch WHERE id IN " +
            `(SELECT id FROM inference_batch WHERE ${which} ORDER BY id LIMIT ?) RETURNING rows, uploaded`,
          args: [count - deleted],
        })).rows;
        deleted += gone.length;
        for (const r of gone) {
          rows += Number(r[0]);
          unsent += Math.max(0, Number(r[0]) - Number(r[1]));
        }
      }
      // The marks of minutes whose first records went fold into the latest of them, pointing at the oldest record
      // kept: a read from any of those minutes still starts at or before every record of them (schema.ts).
      const oldest = "(SELECT min(id) FROM inference_batch)";
      await tx.execute(
        `UPDATE log_time_marks SET first_id = ${oldest} ` +
          `WHERE minute = (SELECT max(minute) FROM log_time_marks WHERE first_id < ${oldest})`,
      );
      await tx.execute(`DELETE FROM log_time_marks WHERE first_id < ${oldest}`);
      for (const [name, value] of [["evicted", rows], ["evicted_unsent", unsent]] as const) {
        await tx.execute({
          sql: "INSERT INTO log_counters (name, value) VALUES (?, ?) " +
            "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
          args: [name, value],
        });
      }
      await tx.commit();
      evicted += rows;
    } finally {
      tx.close();
    }
  }
  // Hand the freed pages' WAL frames back to the database file and shrink the WAL.
  if (evicted > 0) await client.execute("PRAGMA wal_checkpoint(TRUNCATE)");
  return evicted;
}
