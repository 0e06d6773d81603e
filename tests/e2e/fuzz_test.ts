/**
 * Fuzz against the running server: fast-check generates bad request bodies
 * (tests/support/fuzz_requests.ts) and sends each to the real tern, one at a
 * time so a failure shrinks to the smallest body that shows it. Every reply
 * must be below 500 and, when an error, a JSON `{error, code}`; every 500
 * bodies a good request still gets its prediction; the process is alive at
 * the end and its resident memory stays bounded. 10,000 bodies in the test
 * suite (TERN_FUZZ_BODIES), 100,000 in the long run (docs/guarantees.md).
 */
import fc from "fast-check";
import { assert, assertEquals } from "../support/assert.ts";
import { recordFigures, residentBytes, sized } from "../support/figures.ts";
import { badRequests, type FuzzRequest } from "../support/fuzz_requests.ts";
import { loadReference, recordsBody } from "../support/reference.ts";
import { startTern } from "../support/tern_process.ts";

const ref = loadReference();
const BODIES = Number(Deno.env.get("TERN_FUZZ_BODIES") ?? sized(10_000, 100_000));
/** Resident-memory growth over the run that fails it (the engine's documented budget is 1.5 GB in all). */
const RSS_GROWTH_LIMIT = 256 * 2 ** 20;

Deno.test(`fuzz: ${BODIES} generated bad bodies → no crash, no 5xx, a JSON error with a code each, bounded memory`, async () => {
  const tern = await startTern({ args: ["--max-request-size", "64Ki"], env: { LOG_DURABILITY: "durable" } });
  const kinds = new Map<string, number>();
  const statuses = new Map<number, number>();
  let sent = 0;
  const good = async () => {
    const res = await fetch(`${tern.url}/infer`, {
      method: "POST",
      headers: { "content-type": "application/json; format=pandas-records" },
      body: recordsBody([ref.inputs[sent % ref.inputs.length]]),
    });
    assertEquals(res.status, 200, "a good request after bad ones");
    await res.body?.cancel();
  };
  try {
    const pipeline = (await (await fetch(`${tern.url}/pipelines`)).json()).pipelines[0].id;
    const model = (await (await fetch(`${tern.url}/models`)).json()).models[0].name;
    for (let i = 0; i < 50; i++) await good();
    const rssStart = residentBytes(tern.pid);
    let rssPeak = rssStart;
    const check = async (r: FuzzRequest) => {
      const res = await fetch(`${tern.url}${r.path}`, { method: "POST", headers: r.headers, body: r.body });
      const body = new Uint8Array(await res.arrayBuffer());
      sent++;
      kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500) throw new Error(`${res.status}: ${new TextDecoder().decode(body)}`);
      if (res.status >= 400) {
        assert(/^application\/json/.test(res.headers.get("content-type") ?? ""), `${res.status} is not JSON`);
        const reply = JSON.parse(new TextDecoder().decode(body));
        assertEquals(Object.keys(reply).sort(), ["code", "error"]);
        assert(typeof reply.code === "string" && reply.code.length > 0, "a code");
      }
      if (sent % 500 === 0) {
        await good();
        rssPeak = Math.max(rssPeak, residentBytes(tern.pid));
      }
    };
    await fc.assert(fc.asyncProperty(badRequests(pipeline, model), check), { numRuns: BODIES, seed: seedOf() });
    await good();
    const rssEnd = residentBytes(tern.pid);
    rssPeak = Math.max(rssPeak, rssEnd);
    recordFigures("fuzz", {
      bodies: sent,
      kinds: Object.fromEntries(kinds),
      statuses: Object.fromEntries(statuses),
      five_xx: [...statuses].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0),
      rss_start_bytes: rssStart,
      rss_end_bytes: rssEnd,
      rss_peak_bytes: rssPeak,
    });
    assert(rssPeak - rssStart < RSS_GROWTH_LIMIT, `resident memory grew ${rssPeak - rssStart} bytes`);
    assert(sent >= BODIES, `${sent} bodies sent`);
  } finally {
    assertEquals(await tern.stop(), 0, "tern exits cleanly after the fuzz run");
  }
});

/** TERN_FUZZ_SEED replays a run; otherwise each run draws new bodies (fast-check prints the seed of a failure). */
function seedOf(): number | undefined {
  const seed = Deno.env.get("TERN_FUZZ_SEED");
  return seed === undefined ? undefined : Number(seed);
}
