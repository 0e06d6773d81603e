/**
 * @module
 * The queries the Ops uploader needs (src/ops/uploader.ts): a page of rows not
 * yet uploaded, marking a page uploaded by id range, and the backlog. The
 * `uploaded` flag is the upload cursor: it lives in the log itself, so an
 * upload resumes where it stopped after a restart, and uploaded rows are the
 * first the storage cap evicts (cap.ts). The (uploaded, id) index serves all
 * three.
 */
import { and, asc, between, count, eq, gt } from "drizzle-orm";
import type { LogDb } from "./db.ts";
import type { StoredLogRow } from "./query.ts";
import { inferenceLog } from "./schema.ts";

/** Up to `limit` rows not yet uploaded with id > `after`, in id order. */
export function pendingRows(log: LogDb, after: number, limit: number): Promise<StoredLogRow[]> {
  return log.db.select().from(inferenceLog)
    .where(and(eq(inferenceLog.uploaded, 0), gt(inferenceLog.id, after)))
    .orderBy(asc(inferenceLog.id)).limit(limit);
}

/** Marks rows `firstId`…`lastId` uploaded; returns how many were still waiting. */
export async function markUploaded(log: LogDb, firstId: number, lastId: number): Promise<number> {
  const marked = await log.db.update(inferenceLog).set({ uploaded: 1 })
    .where(and(eq(inferenceLog.uploaded, 0), between(inferenceLog.id, firstId, lastId)))
    .returning({ id: inferenceLog.id });
  return marked.length;
}

/** Rows not yet uploaded. */
export async function backlogRows(log: LogDb): Promise<number> {
  const [row] = await log.db.select({ n: count() }).from(inferenceLog).where(eq(inferenceLog.uploaded, 0));
  return row?.n ?? 0;
}
