/**
 * In-line updates through the real registry and the real tern: four clients
 * post without pause while five new versions are published to the tag tern
 * follows (PIPELINE_FOLLOW_INTERVAL=1). No request fails, every reply comes
 * from the version serving before or after its publish, and each client sees
 * each switch once (never back). A broken version (a model no runtime loads)
 * then leaves the last good one serving, reported in /pipelines, /models and
 * the log, until a good one is published. A version whose layer the registry
 * serves corrupt is not downloaded again at every check.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { publishSpec } from "../support/pipeline_specs.ts";
import { startRegistry } from "../support/registry.ts";
import { startTern } from "../support/tern_process.ts";

const CLIENTS = 4;
const X = 1000;

/**
 * Publishes offset_k.onnx (variable = tensor[0] + k) as model `price` of pipeline `prices` under `reference`; "broken":
 * a model file no runtime loads (tests/testdata/pipeline/unloadable.onnx).
 */
async function publishOffset(reference: string, k: number | "broken") {
  const out = await publishSpec(
    { name: "prices", steps: [{ model: "price", file: "price.onnx" }] },
    { "price.onnx": k === "broken" ? "unloadable" : `offset_${k}` },
    reference,
  );
  assertEquals(out.code, 0, out.stderr);
}

/** Waits (yielding to the clients) until `done()` holds; a hang guard of 2 minutes, far past any update here. */
async function until(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const give = Date.now() + 120_000;
  while (!(await done())) {
    if (Date.now() > give) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The row {tensor: [X, 0, …]} posted to tern's /infer: the reply's status and its output. */
async function inferX(url: string): Promise<[number, number]> {
  const res = await fetch(`${url}/infer`, {
    method: "POST",
    headers: { "content-type": "application/json; format=pandas-records" },
    body: JSON.stringify([{ tensor: [X, ...new Array(17).fill(0)] }]),
  });
  return [res.status, (await res.json())[0]?.outputs?.[0]?.Float?.data?.[0]];
}

/** One client's replies: the k each came from (its output minus X), in order. */
interface Client {
  seen: number[];
  failures: string[];
  /** model_version of each k seen. */
  versions: Map<number, string>;
}

Deno.test("five publishes under continuous load from four clients: no failed request, each switch seen once; a broken version leaves the last good one serving", async (t) => {
  const registry = await startRegistry("none");
  try {
    const reference = `${registry.host}/pipelines/prices:live`;
    await publishOffset(reference, 1);
    const tern = await startTern({ env: { PIPELINE_URL: reference, PIPELINE_FOLLOW_INTERVAL: "1" } });
    let running = true;
    const clients: Client[] = Array.from({ length: CLIENTS }, () => ({ seen: [], failures: [], versions: new Map() }));
    const body = JSON.stringify([{ tensor: [X, ...new Array(17).fill(0)] }]);
    const load = clients.map(async (c) => {
      while (running) {
        try {
          const res = await fetch(`${tern.url}/infer`, {
            method: "POST",
            headers: { "content-type": "application/json; format=pandas-records" },
            body,
          });
          const text = await res.text();
          if (res.status !== 200) {
            c.failures.push(`${res.status} ${text}`);
            continue;
          }
          const [reply] = JSON.parse(text);
          const k = reply.outputs[0].Float.data[0] - X;
          c.seen.push(k);
          const known = c.versions.get(k);
          if (known !== undefined && known !== reply.model_version) c.failures.push(`k=${k} came from two versions`);
          c.versions.set(k, reply.model_version);
        } catch (err) {
          c.failures.push(String(err));
        }
      }
    });
    /** Waits until every client's latest reply came from version k (each client keeps posting meanwhile). */
    const allOn = (k: number) =>
      until(() => {
        assertEquals(clients.flatMap((c) => c.failures), []);
        return clients.every((c) => c.seen[c.seen.length - 1] === k);
      }, `every client served by version ${k}`);
    try {
      await allOn(1);
      await t.step("five publishes: zero failed requests, each reply from the old or the new version", async () => {
        for (let k = 2; k <= 6; k++) {
          const before = clients.map((c) => c.seen.length);
          await publishOffset(reference, k);
          await allOn(k);
          for (const [i, c] of clients.entries()) {
            // Since this publish: replies of the version before it, then of this one, and nothing else.
            const since = c.seen.slice(before[i]);
            const switched = since.indexOf(k);
            assert(since.slice(0, switched).every((v) => v === k - 1), `client ${i}: ${since.join(",")}`);
            assert(since.slice(switched).every((v) => v === k), `client ${i} went back: ${since.join(",")}`);
          }
        }
        assertEquals(clients.flatMap((c) => c.failures), []);
        const output = tern.output();
        assertEquals(output.match(/Pipeline prices version \S+ is Running, loaded beside the old one/g)?.length, 5);
        assertEquals(new Set(clients.flatMap((c) => [...c.versions.values()])).size, 6);
        // The old version is released once its requests are done, once per publish.
        await until(() => tern.output().match(/Released prices version/g)?.length === 5, "five releases");
        const served = clients.reduce((n, c) => n + c.seen.length, 0);
        console.log(`${served} requests from ${CLIENTS} clients across 5 swaps, none failed`);
        const logged = await (await fetch(`${tern.url}/logs/status`)).json();
        assert(logged.committedRows >= served, `${logged.committedRows} rows logged for ${served} replies`);
      });

      await t.step(
        "a broken version (no runtime loads it) leaves the last good one serving, reported in /pipelines, /models and the log",
        async () => {
          const before = clients.map((c) => c.seen.length);
          await publishOffset(reference, "broken");
          let listed: { id: string; status: string; url?: string; error?: string }[] = [];
          await until(async () => {
            listed = (await (await fetch(`${tern.url}/pipelines`)).json()).pipelines;
            return listed.length > 1;
          }, "the broken version reported");
          assertEquals(listed[0], { id: "prices", status: "Running" });
          assertEquals([listed[1].id, listed[1].status, listed[1].url], ["prices", "Error", reference]);
          assertMatch(listed[1].error ?? "", /model price/);
          const models = (await (await fetch(`${tern.url}/models`)).json()).models;
          assertEquals(models.map((m: { status: string }) => m.status), ["Running", "Error"]);
          assertMatch(models[1].error, /model price/);
          assertMatch(
            tern.output(),
            /Update to \S+prices:live \(prices version \S+\) failed to load: .*model price.*; still serving prices version /,
          );
          // Serving went on, on the last good version, with no failed request: every client gets replies after it.
          const reported = clients.map((c) => c.seen.length);
          await until(() => clients.every((c, i) => c.seen.length > reported[i]), "replies after the broken publish");
          assert(clients.every((c, i) => c.seen.slice(before[i]).every((k) => k === 6)));
          assertEquals(clients.flatMap((c) => c.failures), []);

          await publishOffset(reference, 2);
          await allOn(2);
          assertEquals((await (await fetch(`${tern.url}/pipelines`)).json()).pipelines, [
            { id: "prices", status: "Running" },
          ]);
          assertEquals(clients.flatMap((c) => c.failures), []);
        },
      );
    } finally {
      running = false;
      await Promise.all(load);
      await tern.stop();
    }
  } finally {
    await registry.stop();
  }
});

Deno.test("a broken version an in-line update pulled is never what an offline start serves: restarted without the registry, tern serves the last good one", async () => {
  const registry = await startRegistry("none");
  const persist = await Deno.makeTempDir({ prefix: "tern-inline-cache-" });
  const env = { PIPELINE_FOLLOW_INTERVAL: "1", PERSISTENT_VOLUME_DIR: persist };
  try {
    const reference = `${registry.host}/pipelines/prices:live`;
    await publishOffset(reference, 3);
    const first = await startTern({ env: { ...env, PIPELINE_URL: reference } });
    try {
      await publishOffset(reference, "broken");
      await until(() => /failed to load/.test(first.output()), "the broken version refused");
    } finally {
      await first.stop();
    }
    await registry.stop(); // the site's link is down as the device reboots
    const again = await startTern({ env: { ...env, PIPELINE_URL: reference } });
    try {
      assertMatch(again.output(), /starting from the cached pipeline/);
      assertEquals(await inferX(again.url), [200, X + 3]);
    } finally {
      await again.stop();
    }
  } finally {
    await registry.stop();
    await Deno.remove(persist, { recursive: true });
  }
});

Deno.test("a version whose layer the registry serves corrupt is not downloaded again at every check; the good one serves on", async () => {
  const registry = await startRegistry("none");
  const persist = await Deno.makeTempDir({ prefix: "tern-inline-corrupt-" });
  try {
    const live = `${registry.host}/pipelines/prices:live`;
    await publishOffset(live, 3);
    // The next version goes to another tag first and its model blob is corrupted in the registry's storage, then
    // the followed tag is moved to it (as a registry's retag does): tern never sees it whole.
    await publishOffset(`${registry.host}/pipelines/prices:next`, 4);
    const model = await Deno.readFile("tests/testdata/pipeline/offset_4.onnx");
    const hex = Array.from(
      new Uint8Array(await crypto.subtle.digest("SHA-256", model)),
      (b) => b.toString(16).padStart(2, "0"),
    )
      .join("");
    const stored = `${registry.storage}/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`;
    const bytes = await Deno.readFile(stored);
    bytes[100] ^= 0xff;
    await Deno.writeFile(stored, bytes);
    const tern = await startTern({
      env: { PIPELINE_FOLLOW_INTERVAL: "1", PERSISTENT_VOLUME_DIR: persist, PIPELINE_URL: live },
    });
    try {
      const manifest = await fetch(`http://${registry.host}/v2/pipelines/prices/manifests/next`, {
        headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
      });
      const retag = await fetch(`http://${registry.host}/v2/pipelines/prices/manifests/live`, {
        method: "PUT",
        headers: { "content-type": manifest.headers.get("content-type")! },
        body: await manifest.arrayBuffer(),
      });
      assertEquals(retag.status, 201);
      await retag.body?.cancel();
      await until(() => /is not pulled again for 1 min/.test(tern.output()), "the corrupt version refused");
      assertMatch(tern.output(), new RegExp(`blob sha256:${hex} does not match its digest`));
      await new Promise((r) => setTimeout(r, 4000)); // four more checks of the tag
      assertEquals(tern.output().match(/names a new version/g)?.length, 1, tern.output());
      assertEquals(await inferX(tern.url), [200, X + 3]);
    } finally {
      await tern.stop();
    }
  } finally {
    await registry.stop();
    await Deno.remove(persist, { recursive: true });
  }
});
