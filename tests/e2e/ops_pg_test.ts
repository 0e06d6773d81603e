/**
 * Two `tern hub` processes on one PostgreSQL (Debian's postgresql, started by
 * the test in a temporary folder) behind a round-robin proxy serve one edge:
 * 10,000 inferences, with both hubs stopped for part of the run, reach
 * PostgreSQL exactly once while the uploads alternate between the hubs; and
 * either hub shows the same fleet.
 */
import { ATTESTATION_LINE } from "../../src/ops/agent.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { addEdge, edgeOf, freePort, type HubProcess, startHub, until } from "../support/hub_process.ts";
import { startOpsProxy } from "../support/ops_proxy.ts";
import { startPostgres } from "../support/postgres.ts";
import { loadReference, recordsBody } from "../support/reference.ts";
import { startTern, type TernProcess } from "../support/tern_process.ts";

const ref = loadReference();
const PAGE = 500;

async function infer(tern: TernProcess, rows: number): Promise<void> {
  for (let sent = 0; sent < rows; sent += 500) {
    const batch = Array.from({ length: 500 }, (_, i) => ref.inputs[(sent + i) % ref.inputs.length]);
    const res = await fetch(`${tern.url}/infer`, {
      method: "POST",
      headers: { "content-type": "application/json; format=pandas-records" },
      body: recordsBody(batch),
    });
    await res.body?.cancel();
    assertEquals(res.status, 200);
  }
}

Deno.test("two hubs on one PostgreSQL: uploads alternate between them, a stop of both mid-run, every row stored exactly once", async () => {
  const pg = await startPostgres();
  const dir = await Deno.makeTempDir({ prefix: "tern-e2e-ops-pg-" });
  const state = { databaseUrl: pg.url };
  const ports = [freePort(), freePort()];
  let hubs: HubProcess[] = [];
  let tern: TernProcess | undefined;
  try {
    hubs = await Promise.all(ports.map((p) => startHub(state, p)));
    const proxy = startOpsProxy(hubs.map((h) => h.host));
    try {
      const bundle = await addEdge(state, "edge-pg", proxy.host);
      tern = await startTern({
        env: {
          EDGE_BUNDLE: bundle,
          PERSISTENT_VOLUME_DIR: `${dir}/persist`,
          OPS_CHECKIN_INTERVAL: "1",
          PLATEAU_PAGE_SIZE: String(PAGE),
          LOCAL_INFERENCE_STORAGE: "256Mi",
        },
      });
      const t = tern;
      await until("the join", () => t.output().includes(ATTESTATION_LINE));
      await infer(t, 3000);
      await until("some rows uploaded", async () => (await edgeOf(hubs[0].url, "edge-pg")).rows_received > 0);
      for (const h of hubs) await h.stop();
      await infer(t, 4000);
      await until("the outage noticed", () => /Ops upload failed/.test(t.output()));
      hubs = await Promise.all(ports.map((p) => startHub(state, p)));
      await infer(t, 3000);
      await until(
        "all rows in PostgreSQL",
        async () => (await edgeOf(hubs[1].url, "edge-pg")).rows_received === 10_000,
      );

      assert(proxy.uploadsBy.every((n) => n > 0), `uploads per hub: ${proxy.uploadsBy.join(", ")}`);
      // The edge checks in every second, so a check-in can land between the two reads: read both again until they
      // come from the same moment (a lasting difference still fails, by the timeout and the assertion below).
      let [a, b] = await Promise.all(hubs.map((h) => edgeOf(h.url, "edge-pg")));
      await until("both hubs read at one moment", async () => {
        [a, b] = await Promise.all(hubs.map((h) => edgeOf(h.url, "edge-pg")));
        return JSON.stringify(a) === JSON.stringify(b);
      });
      assertEquals(a, b, "both hubs show the same edge");
      assert(a.largest_page_rows <= PAGE, `a page of ${a.largest_page_rows} rows`);
      const rows = await (await fetch(`${hubs[0].url}/edges/edge-pg/logs`, { method: "POST", body: "{}" })).json();
      assertEquals(
        rows.map((r: { metadata: { id: number } }) => r.metadata.id),
        Array.from({ length: 10_000 }, (_, i) => i + 1),
      );
      assert(rows.every((r: { metadata: { partition: string } }) => r.metadata.partition === "edge-pg"));
      const atEdge = await (await fetch(`${t.url}/logs`, { method: "POST", body: "{}" })).json();
      assertEquals(rows, atEdge, "PostgreSQL holds the edge's rows as the edge logged them");
    } finally {
      await tern?.stop();
      await proxy.stop();
    }
  } finally {
    for (const h of hubs) await h.stop();
    await pg.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
