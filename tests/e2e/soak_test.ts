/**
 * Soak (bounded, loopback only): tern with the durable log and upload to a
 * real `tern hub` serves four clients for a fixed number of requests; zero
 * errors, every row at the hub once, and resident memory and open file
 * descriptors sampled throughout, their growth reported (and bounded). 8,000
 * requests in the test suite, 200,000 in the long run (TERN_SOAK_REQUESTS).
 */
import { assert, assertEquals } from "../support/assert.ts";
import { openFds, recordFigures, residentBytes, sized } from "../support/figures.ts";
import { addEdge, edgeOf, freePort, startHub, until } from "../support/hub_process.ts";
import { loadReference, recordsBody } from "../support/reference.ts";
import { startTern } from "../support/tern_process.ts";

const ref = loadReference();
const REQUESTS = Number(Deno.env.get("TERN_SOAK_REQUESTS") ?? sized(8_000, 200_000));
const RSS_GROWTH_LIMIT = 256 * 2 ** 20;
const FD_GROWTH_LIMIT = 64;

Deno.test(`soak: ${REQUESTS} requests with logging and upload on → zero errors, bounded memory and descriptors`, async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-e2e-soak-" });
  const state = { stateDir: `${dir}/hub` };
  const hub = await startHub(state, freePort());
  const bundle = await addEdge(state, "edge-soak", hub.host);
  const tern = await startTern({
    env: {
      EDGE_BUNDLE: bundle,
      PERSISTENT_VOLUME_DIR: `${dir}/persist`,
      OPS_CHECKIN_INTERVAL: "1",
      PLATEAU_PAGE_SIZE: "1000",
      LOCAL_INFERENCE_STORAGE: "512Mi",
      LOG_DURABILITY: "durable",
    },
  });
  try {
    const body = (n: number) => recordsBody([ref.inputs[n % 1000]]);
    const send = async (n: number) => {
      const res = await fetch(`${tern.url}/infer`, {
        method: "POST",
        headers: { "content-type": "application/json; format=pandas-records" },
        body: body(n),
      });
      await res.body?.cancel();
      return res.status;
    };
    for (let i = 0; i < 200; i++) assertEquals(await send(i), 200);
    const start = { rss: residentBytes(tern.pid), fds: openFds(tern.pid) };
    const samples: { requests: number; rss: number; fds: number }[] = [];
    let next = 200;
    let errors = 0;
    const total = REQUESTS + 200;
    const every = Math.max(1000, Math.floor(REQUESTS / 50));
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < total) {
        const n = next++;
        if ((await send(n).catch(() => 0)) !== 200) errors++;
        if (n % every === 0) samples.push({ requests: n, rss: residentBytes(tern.pid), fds: openFds(tern.pid) });
      }
    }));
    await until("every row at the hub", async () => (await edgeOf(hub.url, "edge-soak")).rows_received === total);
    await until("no backlog reported", async () => (await edgeOf(hub.url, "edge-soak")).backlog_rows === 0);
    const end = { rss: residentBytes(tern.pid), fds: openFds(tern.pid) };
    const peak = Math.max(end.rss, ...samples.map((s) => s.rss));
    const maxFds = Math.max(end.fds, ...samples.map((s) => s.fds));
    const edge = await edgeOf(hub.url, "edge-soak");
    recordFigures("soak", {
      requests: REQUESTS,
      errors,
      rows_at_hub: edge.rows_received,
      rss_start_bytes: start.rss,
      rss_end_bytes: end.rss,
      rss_peak_bytes: peak,
      rss_growth_bytes: end.rss - start.rss,
      fds_start: start.fds,
      fds_end: end.fds,
      fds_max: maxFds,
      samples,
    });
    assertEquals(errors, 0);
    assertEquals(edge.rows_received, total);
    assert(peak - start.rss < RSS_GROWTH_LIMIT, `resident memory grew ${peak - start.rss} bytes`);
    assert(maxFds - start.fds < FD_GROWTH_LIMIT, `open descriptors grew from ${start.fds} to ${maxFds}`);
  } finally {
    await tern.stop();
    await hub.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
