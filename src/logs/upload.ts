/**
 * @module
 * The queries the Ops uploader needs (src/ops/uploader.ts): a page of rows not
 * yet uploaded, marking a page uploaded by id range, and the backlog. Each
 * record counts its rows Ops has (`uploaded`, from its first row: pages go in
 * id order); that count is the upload cursor. It lives in the log itself, so
 * an upload resumes where it stopped after a restart, and uploaded records
 * are the first the storage cap evicts (cap.ts). The partial index of records
 * still pending serves all three.
 */
import type { LogDb } from "./db.ts";
import { recordPage, type StoredLogRow } from "./query.ts";

/**
 * Records with rows Ops does not have yet, and those it has whole: the predicates of the schema's two partial
 * indexes (schema.ts), written as they are so that SQLite uses those indexes.
 */
export const PENDING = "uploaded < rows";
export const UPLOADED = "uploaded >= rows";

/** Up to `limit` rows not yet uploaded with id > `after`, in id order. */
export function pendingRows(log: LogDb, after: number, limit: number): StoredLogRow[] {
  return recordPage(log, { sql: PENDING, args: [] }, after, limit, (record) => record.uploaded);
}

/**
 * Marks rows `firstId`…`lastId` uploaded; returns how many were still waiting. A record's count only grows,
 * and only over rows that follow those already marked: a range that skips rows of a record leaves it as it
 * was (the uploader sends pages in id order, so its ranges never do).
 */
export async function markUploaded(log: LogDb, firstId: number, lastId: number): Promise<number> {
  const marked = "min(rows, ?2 - id + 1)";
  const where = `${PENDING} AND id <= ?2 AND ${marked} > uploaded AND id + uploaded >= ?1`;
  const [counted] = await log.client.batch([
    {
      sql: `SELECT coalesce(sum(${marked} - uploaded), 0) FROM inference_batch WHERE ${where}`,
      args: [firstId, lastId],
    },
    { sql: `UPDATE inference_batch SET uploaded = ${marked} WHERE ${where}`, args: [firstId, lastId] },
  ], "write");
  return Number(counted.rows[0][0]);
}

/** Rows not yet uploaded. */
export async function backlogRows(log: LogDb): Promise<number> {
  const { rows } = await log.client.execute(
    `SELECT coalesce(sum(rows - uploaded), 0) FROM inference_batch WHERE ${PENDING}`,
  );
  return Number(rows[0][0]);
}
