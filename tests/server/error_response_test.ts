/**
 * The 500 reply and its log line for an unexpected error: a failed drizzle query (whose own message carries every
 * parameter: inference rows, keys) is told by its cause, and its SQL only in the log.
 */
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { sql } from "drizzle-orm";
import { errorResponse } from "../../src/server/error_response.ts";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";

Deno.test("a failed database query: 500 naming its cause; the log line has its SQL; neither has its parameters", async () => {
  const client = createClient({ url: ":memory:" });
  const db = drizzle(client);
  const secret = '{"tensor":[4.2,1.0]} edge-key-abc';
  const err = await db.run(sql`insert into missing_table (v) values (${secret})`).then(() => undefined, (e) => e);
  client.close();
  assert(err instanceof Error && String(err.message).includes(secret)); // drizzle's own message carries it
  const lines: string[] = [];
  const res = errorResponse(err, (line) => lines.push(line));
  const body = await res.json();
  assertEquals([res.status, body.code], [500, "internal"]);
  assertMatch(body.error, /^internal error: database query failed: .*no such table: missing_table/);
  assertMatch(
    lines.join("\n"),
    /database query failed: .*no such table: missing_table[\s\S]*\(query: insert into missing_table/,
  );
  for (const text of [body.error, ...lines]) assert(!text.includes(secret), text);
});
