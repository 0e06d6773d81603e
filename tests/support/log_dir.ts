/**
 * @module
 * A temporary log folder for the log's tests, and every row of an open log.
 */
import type { InferenceLog, LogFilter } from "../../src/logs/mod.ts";

/** Runs `fn` in a new temporary folder (named `prefix…`), removed afterwards. */
export async function withTempDir(prefix: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every row of `log` that `filter` selects, all pages. */
export async function allRows(log: InferenceLog, filter: LogFilter = {}) {
  const rows = [];
  for await (const page of log.read(filter)) rows.push(...page);
  return rows;
}
