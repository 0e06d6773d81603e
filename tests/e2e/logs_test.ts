/**
 * The inference log through the real process: every inference is in
 * `/logs`, readable by pandas as users do, as Arrow, with filters; and a
 * kill -9 in the middle of a request stream loses no row whose reply was sent,
 * with LOG_DURABILITY=durable (commits reach the WAL) and =fsync (and the disk).
 */
import { requireSystemPackage } from "../support/system_packages.ts";
import { createClient } from "@libsql/client";
import { tableFromIPC } from "apache-arrow";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { arrowBody, loadReference, recordsBody } from "../support/reference.ts";
import { startTern } from "../support/tern_process.ts";

const ref = loadReference();
const JSON_TYPE = "application/json; format=pandas-records";

async function infer(url: string, rows: number[][]): Promise<Response> {
  return await fetch(`${url}/infer`, {
    method: "POST",
    headers: { "content-type": JSON_TYPE },
    body: recordsBody(rows),
  });
}

async function logs(url: string, body: unknown = {}, headers: Record<string, string> = {}): Promise<Response> {
  return await fetch(`${url}/logs`, {
    method: "POST",
    headers: { "content-type": JSON_TYPE, ...headers },
    body: JSON.stringify(body),
  });
}

Deno.test("POST /logs returns every inference in the documented shape, as JSON, for pandas, and as Arrow", async (t) => {
  const tern = await startTern({ env: { EDGE_BUNDLE: bundle("edge-7") } });
  try {
    const before = Date.now();
    for (let i = 0; i < 5; i++) {
      const res = await infer(tern.url, ref.inputs.slice(i * 4, i * 4 + 4));
      await res.body?.cancel();
      assertEquals(res.status, 200);
    }
    const N = 20;

    await t.step("N inferences → N rows with exactly time, in, out, anomaly, metadata", async () => {
      const res = await logs(tern.url, {}, { "content-type": "Content-Type: application/json; format=pandas-records" });
      assertEquals(res.status, 200);
      assertEquals(res.headers.get("x-tern-log-evicted"), "0");
      const rows = await res.json();
      assertEquals(rows.length, N);
      for (const [i, row] of rows.entries()) {
        assertEquals(Object.keys(row).sort(), ["anomaly", "in", "metadata", "out", "time"]);
        assertEquals(row.in.tensor.map(Math.fround), ref.inputs[i].map(Math.fround));
        assert(Math.abs(row.out.variable[0] - ref.predictions[i]) / ref.predictions[i] < 1e-4);
        assertEquals(row.anomaly, { count: 0 });
        assert(row.time >= before && row.time <= Date.now());
        assertEquals(
          Object.keys(row.metadata).sort(),
          ["dropped", "elapsed", "id", "last_model", "partition", "pipeline_version"],
        );
        assertEquals(JSON.parse(row.metadata.last_model).model_name, "house-price-estimator");
        assertMatch(JSON.parse(row.metadata.last_model).model_sha, /^[0-9a-f]{64}$/);
        assertEquals(row.metadata.partition, "edge-7");
        assertEquals(row.metadata.dropped, []);
        assertEquals(row.metadata.elapsed.length, 2);
        assertEquals(row.metadata.id, i + 1);
      }
    });

    await t.step("pandas reads the reply with read_json(orient='records') into N rows × 5 columns", async () => {
      await requireSystemPackage("python3-pandas");
      const file = await Deno.makeTempFile({ suffix: ".json" });
      try {
        await Deno.writeFile(file, new Uint8Array(await (await logs(tern.url)).arrayBuffer()));
        const out = await new Deno.Command("/usr/bin/python3", {
          args: [
            "-c",
            "import sys, pandas as pd; df = pd.read_json(sys.argv[1], orient='records'); " +
            "print(df.shape[0], df.shape[1], ','.join(sorted(df.columns)), df['metadata'][0]['partition'])",
            file,
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assertEquals(new TextDecoder().decode(out.stderr), "");
        assertEquals(new TextDecoder().decode(out.stdout).trim(), `${N} 5 anomaly,in,metadata,out,time edge-7`);
      } finally {
        await Deno.remove(file);
      }
    });

    await t.step("the Arrow reply reads back to the same values", async () => {
      const json = await (await logs(tern.url)).json();
      const res = await logs(tern.url, {}, { accept: "application/vnd.apache.arrow.file" });
      assertEquals(res.headers.get("content-type"), "application/vnd.apache.arrow.file");
      const table = tableFromIPC(new Uint8Array(await res.arrayBuffer()));
      assertEquals(table.numRows, N);
      for (let i = 0; i < N; i++) {
        assertEquals(table.getChild("time")!.get(i), json[i].time);
        assertEquals(JSON.parse(table.getChild("in")!.get(i)), json[i].in);
        assertEquals(JSON.parse(table.getChild("out")!.get(i)), json[i].out);
        assertEquals(table.getChild("anomaly.count")!.get(i), 0);
        assertEquals(table.getChild("metadata.last_model")!.get(i), json[i].metadata.last_model);
        assertEquals(
          Array.from(table.getChild("metadata.elapsed")!.get(i)!.toArray(), Number),
          json[i].metadata.elapsed,
        );
        assertEquals(table.getChild("metadata.partition")!.get(i), "edge-7");
        assertEquals(Number(table.getChild("metadata.id")!.get(i)), i + 1);
      }
    });

    await t.step("filters: after, limit, time range; bad filters are a 400 naming them", async () => {
      assertEquals(
        (await (await logs(tern.url, { after: 15 })).json()).map((r: { metadata: { id: number } }) => r.metadata.id),
        [16, 17, 18, 19, 20],
      );
      assertEquals((await (await logs(tern.url, { after: 2, limit: 3 })).json()).length, 3);
      assertEquals(await (await logs(tern.url, { start: new Date(Date.now() + 60_000).toISOString() })).json(), []);
      assertEquals((await (await logs(tern.url, { end: Date.now() })).json()).length, N);
      const bad = await logs(tern.url, { since: 1 });
      assertEquals(bad.status, 400);
      assertMatch((await bad.json()).error, /unknown log filter 'since'/);
      const badLimit = await logs(tern.url, { limit: 0 });
      assertEquals(badLimit.status, 400);
      assertMatch((await badLimit.json()).error, /'limit' must be a whole number ≥ 1/);
    });

    await t.step("GET /logs/status reports the counters", async () => {
      const status = await (await fetch(`${tern.url}/logs/status`)).json();
      assertEquals([status.durability, status.committedRows, status.pendingRows, status.evictedRows], [
        "durable",
        N,
        0,
        0,
      ]);
    });
  } finally {
    assertEquals(await tern.stop(), 0);
  }
});

Deno.test("/logs as an Arrow stream: an empty log is a 0-row table; a small log comes in one piece, a large one streamed; a client leaving mid-download harms nothing", async () => {
  const tern = await startTern();
  try {
    const ARROW_STREAM = "application/vnd.apache.arrow.stream";
    const empty = await logs(tern.url, {}, { accept: ARROW_STREAM });
    assertEquals(empty.headers.get("content-type"), ARROW_STREAM);
    const table = tableFromIPC(new Uint8Array(await empty.arrayBuffer()));
    assertEquals([table.numRows, table.schema.fields.length], [0, 10]);

    // 4,000 rows: four pages, over 1 MiB in every format.
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${tern.url}/infer`, {
        method: "POST",
        headers: { "content-type": "application/vnd.apache.arrow.file" },
        body: arrowBody(ref.inputs),
      });
      await res.body?.cancel();
      assertEquals(res.status, 200);
    }
    for (const accept of [ARROW_STREAM, "application/vnd.apache.arrow.file", JSON_TYPE]) {
      // A few rows in one piece (a streamed reply's small last write waits 40 ms for the client's delayed ACK).
      // (identity: Deno's fetch drops Content-Length from a body it decompresses)
      const few = await logs(tern.url, { limit: 3 }, { accept, "accept-encoding": "identity" });
      assertEquals(few.headers.get("content-length"), String((await few.arrayBuffer()).byteLength));
      const res = await logs(tern.url, {}, { accept, "accept-encoding": "identity" });
      assertEquals(res.headers.get("content-length"), null, `${accept}: the whole log is streamed`);
      const reader = res.body!.getReader();
      assert((await reader.read()).value!.length > 0);
      await reader.cancel(); // the client goes away after the first chunk
    }
    const full = tableFromIPC(new Uint8Array(await (await logs(tern.url, {}, { accept: ARROW_STREAM })).arrayBuffer()));
    assertEquals(full.numRows, 4000);
    assertEquals((await (await fetch(`${tern.url}/health`)).json()).status, "ok");
  } finally {
    assertEquals(await tern.stop(), 0);
  }
});

for (const mode of ["durable", "fsync"]) {
  Deno.test(`LOG_DURABILITY=${mode}: kill -9 under load loses no acknowledged row, and the database stays intact`, () =>
    crashTest(mode));
}

async function crashTest(mode: string) {
  const persist = await Deno.makeTempDir({ prefix: "tern-crash-" });
  try {
    const env = { PERSISTENT_VOLUME_DIR: persist, LOG_DURABILITY: mode };
    let tern = await startTern({ env });
    const acked = new Set<number>();
    let next = 0;
    let stop = false;
    // Four clients stream single-row requests; each row's first feature is its request number.
    const clients = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const n = next++;
        const row = [n, ...ref.inputs[n % 1000].slice(1)];
        try {
          const res = await infer(tern.url, [row]);
          await res.body?.cancel();
          if (res.status === 200) acked.add(n);
        } catch {
          return; // connection refused or reset: the process is gone
        }
      }
    });
    while (acked.size < 300) await new Promise((r) => setTimeout(r, 10));
    await tern.kill("SIGKILL");
    stop = true;
    await Promise.all(clients);

    const db = createClient({ url: `file:${persist}/inference-log.db` });
    assertEquals((await db.execute("PRAGMA integrity_check")).rows[0][0], "ok");
    db.close();

    tern = await startTern({ env });
    try {
      const logged = new Set<number>();
      for (const row of await (await logs(tern.url)).json()) logged.add(row.in.tensor[0]);
      const lost = [...acked].filter((n) => !logged.has(n));
      assertEquals(lost, [], `${lost.length} of ${acked.size} acknowledged requests missing after the crash`);
      assertEquals((await (await fetch(`${tern.url}/logs/status`)).json()).durability, mode);
    } finally {
      await tern.stop();
    }
  } finally {
    await Deno.remove(persist, { recursive: true });
  }
}

function bundle(edgeName: string): string {
  return btoa(
    [`export EDGE_NAME=${edgeName}`, "export JOIN_TOKEN=one-time", "export OPSCENTER_HOST=ops.invalid"].join("\n"),
  );
}
