/**
 * The hub's storage contract, on libSQL (one hub process: concurrent calls
 * through its one handle) and on PostgreSQL (a throwaway cluster, through
 * two handles at once as two hub processes hold them): names unique, a join token bound once, a request-token id
 * claimed once, a page's rows stored once when both handles ingest it at the
 * same time, reads by id and time, and removal.
 */
import { openPgHubStore } from "../../src/hub/store_pg.ts";
import { openSqliteHubStore } from "../../src/hub/store_sqlite.ts";
import type { HubLogRow, HubStore } from "../../src/hub/store.ts";
import { assertEquals, assertRejects } from "../support/assert.ts";
import { startPostgres } from "../support/postgres.ts";

const edge = (id: string, name: string) => ({
  id,
  name,
  workspaceId: "default",
  pipelineUrl: null,
  tokenHash: "0".repeat(64),
  tokenCreatedAt: 1000,
  createdAt: 1000,
});

function rows(first: number, n: number): HubLogRow[] {
  return Array.from({ length: n }, (_, i) => ({
    rowId: first + i,
    time: 10_000 + first + i,
    inJson: `{"x":[${first + i}]}`,
    outJson: '{"y":[1.5]}',
    anomalyCount: 0,
    pipelineVersion: "v",
    lastModel: "{}",
    elapsedJson: "[1,2]",
    droppedJson: "[]",
    partition: "edge-1",
    // Rows past 1,000 come from a pipeline with a validation and a shadow.
    anomalyJson: first + i > 1000 ? `{"too_high":${(first + i) % 2 === 0}}` : "{}",
    shadowJson: first + i > 1000 ? '{"challenger":{"y":[2.5]}}' : "{}",
  }));
}

async function contract(a: HubStore, b: HubStore): Promise<void> {
  await a.addEdge(edge("id-1", "edge-1"));
  await assertRejects(() => b.addEdge(edge("id-2", "edge-1")), /an edge named 'edge-1' already exists/);

  const bound = await Promise.all([
    a.bindKey("id-1", { publicKey: "{}", thumbprint: "key-a" }, 2000),
    b.bindKey("id-1", { publicKey: "{}", thumbprint: "key-b" }, 2000),
  ]);
  assertEquals(bound.filter(Boolean).length, 1, "the join token is burned once");

  const claims = await Promise.all([a.claimTokenId("jti-1", 5000), b.claimTokenId("jti-1", 5000)]);
  assertEquals(claims.filter(Boolean).length, 1, "a token id is accepted once");
  await a.purgeTokenIds(6000);
  assertEquals(await b.claimTokenId("jti-1", 9000), true, "expired ids are forgotten");

  const page = rows(1, 1500);
  const results = await Promise.all([a.ingest("id-1", "k-1", page, 3000), b.ingest("id-1", "k-1", page, 3000)]);
  assertEquals(results.map((r) => r.storedRows).sort(), [0, 1500]);
  const overlap = await b.ingest("id-1", "k-2", rows(1001, 1000), 3000);
  assertEquals(overlap, { storedRows: 500, duplicateRows: 500 });
  const view = (await a.edgeByName("edge-1"))!;
  assertEquals([view.rowsReceived, view.pagesReceived, view.duplicateRows, view.largestPageRows, view.lastContact], [
    2000,
    2,
    2000,
    1500,
    3000,
  ]);

  assertEquals((await b.readRows("id-1", {}, 1995, 100)).map((r) => r.rowId), [1996, 1997, 1998, 1999, 2000]);
  assertEquals((await a.readRows("id-1", { start: 10_011, end: 10_013 }, 0, 100)).map((r) => r.rowId), [11, 12, 13]);
  assertEquals((await a.readRows("id-1", {}, 0, 1))[0], page[0]);
  // Validation results and shadow outputs are kept per row, and the edge lists the Arrow columns its rows have had.
  assertEquals((await b.readRows("id-1", {}, 1999, 1))[0], rows(2000, 1)[0]);
  assertEquals((await a.edgeByName("edge-1"))!.logColumns, '["anomaly.too_high","shadow_data"]');

  await b.checkIn("id-1", { status: "Running", pipelineInUse: "reg/p:1", backlogRows: 42, evictedRows: 7, now: 4000 });
  const [checked] = await a.edges();
  assertEquals([checked.backlogRows, checked.evictedRows, checked.lastContact], [42, 7, 4000]);
  assertEquals(await a.setPipeline("edge-1", "reg/p:2"), true);
  assertEquals((await b.edgeByName("edge-1"))?.pipelineUrl, "reg/p:2");
  assertEquals(await a.setPipeline("nobody", "x"), false);

  assertEquals(await b.removeEdge("edge-1"), true);
  assertEquals(await a.edgeByName("edge-1"), undefined);
  assertEquals((await a.readRows("id-1", {}, 0, 10)).length, 0, "its rows went with it");
  // An upload authenticated just before the removal stores nothing under the removed id.
  await assertRejects(() => a.ingest("id-1", "k-3", rows(3001, 10), 5000), /the edge was removed from this Ops/);
  assertEquals((await b.readRows("id-1", {}, 0, 10)).length, 0, "rows stored for a removed edge");
  assertEquals(await a.removeEdge("edge-1"), false);
}

Deno.test("hub store contract on libSQL (one hub process: both sides through its one handle)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-hub-store-" });
  const store = await openSqliteHubStore(dir);
  try {
    await contract(store, store);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hub store contract on PostgreSQL, through two handles migrating at the same time", async () => {
  const pg = await startPostgres();
  try {
    const [a, b] = await Promise.all([openPgHubStore(pg.url), openPgHubStore(pg.url)]);
    try {
      await contract(a, b);
    } finally {
      await a.close();
      await b.close();
    }
  } finally {
    await pg.stop();
  }
});
