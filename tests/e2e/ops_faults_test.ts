/**
 * @module
 * Ops faults on the upload path, with real processes (tern, tern hub, and a
 * proxy between them that answers 500 and 401, stalls, and cuts a connection
 * in the middle of a reply after the hub stored the page): serving never
 * fails, the faults are reported, and once they stop the hub holds every row
 * exactly once.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { startFaultProxy, type UploadFault } from "../support/fault_proxy.ts";
import { addEdge, edgeOf, freePort, startHub, until } from "../support/hub_process.ts";
import { loadReference, recordsBody } from "../support/reference.ts";
import { startTern } from "../support/tern_process.ts";

const ROWS = 2_000;
const PAGE = 100;
const FAULTS: UploadFault[] = ["500", "401", "slow", "drop", "500", "drop", "slow", "401"];

Deno.test("uploads through 500s, 401s, a stalled hub and connections cut mid-reply: serving goes on, every row at the hub once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-ops-faults-" });
  const state = { stateDir: `${dir}/hub` };
  const hub = await startHub(state, freePort());
  const proxy = startFaultProxy(hub.host, FAULTS);
  try {
    const bundle = await addEdge(state, "edge-f", proxy.host);
    const tern = await startTern({
      env: {
        EDGE_BUNDLE: bundle,
        PERSISTENT_VOLUME_DIR: `${dir}/persist`,
        OPS_CHECKIN_INTERVAL: "1",
        PLATEAU_PAGE_SIZE: String(PAGE),
        LOCAL_INFERENCE_STORAGE: "64Mi",
      },
    });
    try {
      const inputs = loadReference().inputs;
      for (let sent = 0; sent < ROWS; sent += 250) {
        const res = await fetch(`${tern.url}/infer`, {
          method: "POST",
          headers: { "content-type": "application/json; format=pandas-records" },
          body: recordsBody(Array.from({ length: 250 }, (_, i) => inputs[(sent + i) % inputs.length])),
        });
        assertEquals(res.status, 200, "serving never waits on Ops");
        await res.body?.cancel();
      }
      await until("every row at the hub", async () => (await edgeOf(hub.url, "edge-f")).rows_received === ROWS);
      await until("a check-in reporting no backlog", async () => (await edgeOf(hub.url, "edge-f")).backlog_rows === 0);
      assertEquals(proxy.injected, FAULTS);
      const edge = await edgeOf(hub.url, "edge-f");
      assert(edge.largest_page_rows <= PAGE, `a page of ${edge.largest_page_rows} rows`);
      // The pages whose reply was cut were stored, sent again, and counted as duplicates, not stored twice.
      assert(edge.duplicate_rows > 0, "a page whose reply was cut is sent again");
      const rows = await (await fetch(`${hub.url}/edges/edge-f/logs`, { method: "POST", body: "{}" })).json();
      assertEquals(
        rows.map((r: { metadata: { id: number } }) => r.metadata.id),
        Array.from({ length: ROWS }, (_, i) => i + 1),
      );
      assertMatch(tern.output(), /Ops upload failed/);
    } finally {
      await tern.stop();
    }
  } finally {
    await proxy.stop();
    await hub.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
