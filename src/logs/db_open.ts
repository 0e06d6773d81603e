/**
 * @module
 * Opens the inference log database through @libsql/client and drizzle: the
 * log worker's writing connection, which applies the committed migrations,
 * and reading connections. Only worker threads (store_worker.ts) and tests
 * load it: the serving thread commits through libsql's synchronous API
 * (inline_commit.ts) and never evaluates @libsql/client.
 */
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { fileURLToPath } from "node:url";
import { connectionPragmas, type LogDb, logDbPath, type OpenLogOptions } from "./db.ts";

/** drizzle-kit's output, embedded in the compiled binary. */
const MIGRATIONS = fileURLToPath(new URL("./migrations", import.meta.url));

/** Opens (creating if needed) `dir/inference-log.db` and migrates it. */
export async function openLogDb(dir: string, options: OpenLogOptions): Promise<LogDb> {
  await Deno.mkdir(dir, { recursive: true });
  const path = logDbPath(dir);
  // One connection: PRAGMAs are per connection, and a pool would hand out ones without them.
  const client = createClient({ url: `file:${path}`, concurrency: 1 });
  for (const pragma of connectionPragmas(options)) await client.execute(pragma);
  const db = drizzle(client);
  await migrate(db, { migrationsFolder: MIGRATIONS });
  return { client, db, path };
}

/** Opens the log read-only in spirit (queries only) on its own connection; the writer has migrated it. */
export async function openLogReader(dir: string): Promise<LogDb> {
  const path = logDbPath(dir);
  const client = createClient({ url: `file:${path}`, concurrency: 1 });
  await client.execute("PRAGMA busy_timeout = 5000");
  return { client, db: drizzle(client), path };
}
