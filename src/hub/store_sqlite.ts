/**
 * @module
 * The hub's storage in a libSQL file (`hub.db` in the state directory), the
 * default. One connection (its PRAGMAs are per connection), WAL so `tern hub
 * add-edge` can write while `tern hub serve` runs, synchronous=FULL: a page
 * acknowledged to an edge is on the disk, since the edge may then evict it.
 * libSQL runs each statement synchronously, so calls are taken one at a time;
 * a transaction never interleaves with another call. One hub process per
 * file (several hubs need PostgreSQL); other processes, such as `tern hub
 * add-edge`, wait for its short transactions on the file lock.
 */
import { createClient } from "@libsql/client";
import { and, asc, eq, gt, gte, isNull, lt, lte, type SQL, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { fileURLToPath } from "node:url";
import { Conflict } from "../errors.ts";
import { edges, logRows, seenTokens, uploads } from "./schema_sqlite.ts";
import { checkInColumns, chunks, type HubStore, removedEdge } from "./store.ts";
import { extraColumnsOf } from "../codec/extra_columns.ts";

/** drizzle-kit's output, embedded in the compiled binary. */
const MIGRATIONS = fileURLToPath(new URL("./migrations/sqlite", import.meta.url));

/** File name of the hub's database inside its state directory. */
export const HUB_DB_FILE = "hub.db";

/** The hub's database file in state directory `dir`. */
export function hubDbPath(dir: string): string {
  return `${dir.replace(/\/+$/, "")}/${HUB_DB_FILE}`;
}

/** Opens (creating and migrating) `dir/hub.db`. */
export async function openSqliteHubStore(dir: string): Promise<HubStore> {
  await Deno.mkdir(dir, { recursive: true });
  const client = createClient({ url: `file:${hubDbPath(dir)}`, concurrency: 1 });
  for (
    const pragma of ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA busy_timeout = 10000"]
  ) await client.execute(pragma);
  const db = drizzle(client);
  await migrate(db, { migrationsFolder: MIGRATIONS });

  let tail: Promise<unknown> = Promise.resolve();
  /** Runs `fn` after every earlier call has settled. */
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => {});
    return run;
  };

  return {
    kind: "libsql",
    addEdge: (edge) =>
      serial(async () => {
        const added = await db.insert(edges).values(edge).onConflictDoNothing().returning({ id: edges.id });
        if (added.length === 0) {
          throw new Conflict(`an edge named '${edge.name}' already exists`, "edge_exists");
        }
      }),
    removeEdge: (name) =>
      serial(() =>
        db.transaction(async (tx) => {
          const gone = await tx.delete(edges).where(eq(edges.name, name)).returning({ id: edges.id });
          if (gone.length === 0) return false;
          await tx.delete(logRows).where(eq(logRows.edgeId, gone[0].id));
          await tx.delete(uploads).where(eq(uploads.edgeId, gone[0].id));
          return true;
        }, { behavior: "immediate" })
      ),
    setPipeline: (name, pipelineUrl) =>
      serial(async () =>
        (await db.update(edges).set({ pipelineUrl }).where(eq(edges.name, name)).returning({ id: edges.id }))
          .length > 0
      ),
    edges: () => serial(() => db.select().from(edges).orderBy(asc(edges.name))),
    edgeByName: (name) => serial(async () => (await db.select().from(edges).where(eq(edges.name, name)))[0]),
    bindKey: (edgeId, key, now) =>
      serial(async () =>
        (await db.update(edges)
          .set({
            publicKey: key.publicKey,
            keyThumbprint: key.thumbprint,
            tokenUsedAt: now,
            joinedAt: now,
            lastContact: now,
          })
          .where(and(eq(edges.id, edgeId), isNull(edges.tokenUsedAt)))
          .returning({ id: edges.id })).length > 0
      ),
    checkIn: (edgeId, r) =>
      serial(async () => {
        await db.update(edges)
          .set(checkInColumns(r))
          .where(eq(edges.id, edgeId));
      }),
    claimTokenId: (jti, expiresAt) =>
      serial(async () =>
        (await db.insert(seenTokens).values({ jti, expiresAt }).onConflictDoNothing().returning({
          jti: seenTokens.jti,
        }))
          .length > 0
      ),
    purgeTokenIds: (now) =>
      serial(async () => {
        await db.delete(seenTokens).where(lt(seenTokens.expiresAt, now));
      }),
    ingest: (edgeId, key, rows, now) =>
      serial(() =>
        db.transaction(async (tx) => {
          // The edge may have been removed since its request was authenticated (remove-edge is another process):
          // its rows would be stored under an id nothing names.
          const live = await tx.select({ id: edges.id }).from(edges).where(eq(edges.id, edgeId));
          if (live.length === 0) throw removedEdge();
          let stored = 0;
          for (const part of chunks(rows)) {
            stored += (await tx.insert(logRows)
              .values(part.map((r) => ({ ...r, edgeId, receivedAt: now })))
              .onConflictDoNothing()
              .returning({ rowId: logRows.rowId })).length;
          }
          const newPage = (await tx.insert(uploads)
            .values({
              idempotencyKey: key,
              edgeId,
              firstId: rows[0].rowId,
              lastId: rows[rows.length - 1].rowId,
              rows: rows.length,
              storedRows: stored,
              receivedAt: now,
            })
            .onConflictDoNothing()
            .returning({ key: uploads.idempotencyKey })).length;
          // The extra Arrow columns (validations, shadows) this edge's rows have had, for /edges/{name}/logs.
          const seen = extraColumnsOf(rows);
          let logColumns: string | undefined;
          if (seen.length) {
            const [edge] = await tx.select({ logColumns: edges.logColumns }).from(edges).where(eq(edges.id, edgeId));
            const known: string[] = JSON.parse(edge?.logColumns ?? "[]");
            if (seen.some((c) => !known.includes(c))) {
              logColumns = JSON.stringify([...new Set([...known, ...seen])].sort());
            }
          }
          await tx.update(edges).set({
            ...(logColumns ? { logColumns } : {}),
            rowsReceived: sql`${edges.rowsReceived} + ${stored}`,
            pagesReceived: sql`${edges.pagesReceived} + ${newPage}`,
            duplicateRows: sql`${edges.duplicateRows} + ${rows.length - stored}`,
            largestPageRows: sql`max(${edges.largestPageRows}, ${rows.length})`,
            lastContact: now,
          }).where(eq(edges.id, edgeId));
          return { storedRows: stored, duplicateRows: rows.length - stored };
        }, { behavior: "immediate" })
      ),
    readRows: (edgeId, filter, after, limit) =>
      serial(() => {
        const where: SQL[] = [eq(logRows.edgeId, edgeId), gt(logRows.rowId, after)];
        if (filter.start !== undefined) where.push(gte(logRows.time, filter.start));
        if (filter.end !== undefined) where.push(lte(logRows.time, filter.end));
        return db.select({
          rowId: logRows.rowId,
          time: logRows.time,
          inJson: logRows.inJson,
          outJson: logRows.outJson,
          anomalyCount: logRows.anomalyCount,
          pipelineVersion: logRows.pipelineVersion,
          lastModel: logRows.lastModel,
          elapsedJson: logRows.elapsedJson,
          droppedJson: logRows.droppedJson,
          partition: logRows.partition,
          anomalyJson: logRows.anomalyJson,
          shadowJson: logRows.shadowJson,
        }).from(logRows).where(and(...where)).orderBy(asc(logRows.rowId)).limit(limit);
      }),
    close: () =>
      serial(() => {
        client.close();
        return Promise.resolve();
      }),
  };
}
