/**
 * @module
 * One request cannot take the box: the largest request tern accepts by
 * default (MAX_REQUEST_SIZE of pandas-records JSON, MAX_REQUEST_ROWS rows),
 * sent four at a time with the durable log on, keeps tern's peak resident
 * memory under the 1.5 GB the Wallaroo docs give the engine container
 * (`--memory=1536m`), while /health keeps answering; one row too many is a
 * 413 naming MAX_REQUEST_ROWS. /health must be answered while the large
 * requests are being served (a 100 MiB body once blocked it for 17.7 s); its
 * latencies are printed, not asserted (shared machines are noisy).
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { loadReference } from "../support/reference.ts";
import { startTern } from "../support/tern_process.ts";

const JSON_TYPE = "application/json; format=pandas-records";
const MEMORY_LIMIT_BYTES = 1536 * 2 ** 20;
const DEFAULT_MAX_BYTES = 16 * 2 ** 20;
const DEFAULT_MAX_ROWS = 10_000;

/** `rows` demo records padded with a `note` column so the body is just under `bytes`. */
function worstBody(rows: number, bytes: number): string {
  const inputs = loadReference().inputs;
  const bare = JSON.stringify(
    Array.from({ length: rows }, (_, i) => ({ tensor: inputs[i % inputs.length], note: "" })),
  );
  const pad = Math.floor((bytes - bare.length) / rows) - 1;
  const note = "n".repeat(Math.max(0, pad));
  return JSON.stringify(Array.from({ length: rows }, (_, i) => ({ tensor: inputs[i % inputs.length], note })));
}

function peakRss(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

Deno.test("the worst accepted request, four at once, stays under 1.5 GB and /health keeps answering", async () => {
  const tern = await startTern({ env: { CONFIG_CPUS: "2" } });
  try {
    const body = worstBody(DEFAULT_MAX_ROWS, DEFAULT_MAX_BYTES);
    assert(body.length <= DEFAULT_MAX_BYTES && body.length > DEFAULT_MAX_BYTES * 0.95, `body of ${body.length} bytes`);
    const probe = new Worker(new URL("../support/health_probe_worker.ts", import.meta.url), { type: "module" });
    let probing!: () => void;
    const firstProbe = new Promise<void>((resolve) => probing = resolve);
    const probed = new Promise<{ ms: number; at: number }[]>((resolve, reject) => {
      probe.onmessage = (e) => e.data === "probing" ? probing() : resolve(e.data);
      probe.onerror = (e) => reject(new Error(e.message));
    });
    probe.postMessage({ url: tern.url });
    await firstProbe;
    const started = Date.now();
    let firstDone = Infinity;
    const replies = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const res = await fetch(`${tern.url}/infer`, {
          method: "POST",
          headers: { "content-type": JSON_TYPE },
          body,
        });
        const text = await res.text();
        firstDone = Math.min(firstDone, Date.now());
        const rows = text.match(/"check_failures"/g)?.length ?? 0;
        return { status: res.status, rows, notes: text.match(/"note":"n+"/g)?.length ?? 0 };
      }),
    );
    probe.postMessage("stop");
    const probes = await probed;
    probe.terminate();
    const latencies = probes.map((p) => p.ms);
    const whileServing = probes.filter((p) => p.at > started && p.at < firstDone).length;
    for (const r of replies) assertEquals(r, { status: 200, rows: DEFAULT_MAX_ROWS, notes: DEFAULT_MAX_ROWS });
    const peak = peakRss(tern.pid);
    latencies.sort((a, b) => a - b);
    const worst = latencies[latencies.length - 1];
    console.log(
      `4 × ${(body.length / 2 ** 20).toFixed(1)} MiB / ${DEFAULT_MAX_ROWS} rows: peak RSS ${
        (peak / 2 ** 20).toFixed(0)
      } MiB; /health ${latencies.length} probes (${whileServing} while all four were served), p50 ${
        latencies[latencies.length >> 1].toFixed(1)
      } ms, max ${worst.toFixed(1)} ms`,
    );
    assert(peak < MEMORY_LIMIT_BYTES, `peak RSS ${peak} bytes`);
    assert(whileServing >= 2, `/health was answered ${whileServing} times while the large requests were served`);
  } finally {
    await tern.stop();
  }
});

Deno.test("one row more than MAX_REQUEST_ROWS is a 413 naming the limit, and the log queue is never bypassed", async () => {
  const tern = await startTern({ args: ["--max-request-rows", "100"] });
  try {
    const rows = loadReference().inputs.slice(0, 101).map((tensor) => ({ tensor }));
    const res = await fetch(`${tern.url}/infer`, {
      method: "POST",
      headers: { "content-type": JSON_TYPE },
      body: JSON.stringify(rows),
    });
    assertEquals(res.status, 413);
    const error = await res.json();
    assertEquals(error.code, "too_many_rows");
    assertMatch(error.error, /the request has 101 rows; the limit is 100 \(MAX_REQUEST_ROWS\)/);
    const ok = await fetch(`${tern.url}/infer`, {
      method: "POST",
      headers: { "content-type": JSON_TYPE },
      body: JSON.stringify(rows.slice(0, 100)),
    });
    assertEquals([ok.status, (await ok.json()).length], [200, 100]);
  } finally {
    await tern.stop();
  }
});
