/**
 * Publish → serve → infer through Debian's docker-registry in three auth
 * modes, and what goes wrong in the field: bad credentials, a missing tag, a
 * layer whose bytes do not match its digest, the registry going away, a
 * corrupted cache, and copies made with skopeo.
 */
import { requireSystemPackage } from "../support/system_packages.ts";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { loadReference, maxRelativeError, recordsBody } from "../support/reference.ts";
import { REGISTRY_USER, type RegistryAuth, startRegistry, type TestRegistry } from "../support/registry.ts";
import { runTern, startTern } from "../support/tern_process.ts";
import { startFlakyProxy } from "../support/flaky_proxy.ts";
import { publishModel } from "../support/publish.ts";

const ref = loadReference();
const MODEL = new URL("../../assets/demo/house-price-estimator.onnx", import.meta.url).pathname;
const CREDENTIALS = { OCI_USERNAME: REGISTRY_USER.username, OCI_PASSWORD: REGISTRY_USER.password };
const MODEL_BYTES = await Deno.readFile(MODEL);
const MODEL_HEX = Array.from(
  new Uint8Array(await crypto.subtle.digest("SHA-256", MODEL_BYTES)),
  (b) => b.toString(16).padStart(2, "0"),
).join("");

async function publish(reference: string, env: Record<string, string> = {}) {
  const out = await publishModel(MODEL, "house-price", reference, env);
  assertEquals(out.code, 0, out.stderr + out.stdout);
  return out;
}

async function inferOne(url: string): Promise<number> {
  const res = await fetch(`${url}/infer`, {
    method: "POST",
    headers: { "content-type": "application/json; format=pandas-records" },
    body: recordsBody(ref.inputs.slice(0, 1)),
  });
  assertEquals(res.status, 200);
  return (await res.json())[0].outputs[0].Float.data[0];
}

for (const auth of ["none", "basic", "token"] as RegistryAuth[]) {
  Deno.test(`publish → serve → infer through a real registry (${auth} auth)`, async () => {
    const registry = await startRegistry(auth);
    try {
      const env = auth === "none" ? {} : CREDENTIALS;
      const reference = `${registry.host}/pipelines/house-price:v1`;
      const published = await publish(reference, env);
      assertMatch(published.stdout, new RegExp(`PIPELINE_URL=${reference.replace(/\./g, "\\.")}`));
      if (auth !== "none") assertMatch(published.stdout, /Login Succeeded/);

      const tern = await startTern({ env: { ...env, PIPELINE_URL: reference } });
      try {
        assert(maxRelativeError([await inferOne(tern.url)], ref.predictions.slice(0, 1)) <= 1e-4);
        const models = (await (await fetch(`${tern.url}/models`)).json()).models;
        const onnx = await Deno.readFile(MODEL);
        const sha = Array.from(
          new Uint8Array(await crypto.subtle.digest("SHA-256", onnx)),
          (b) => b.toString(16).padStart(2, "0"),
        ).join("");
        assertEquals(models[0].sha, sha);
        assertEquals((await (await fetch(`${tern.url}/pipelines`)).json()).pipelines, [
          { id: "house-price", status: "Running" },
        ]);
        const output = tern.output();
        for (
          const line of [
            /Fetching manifest and config for pipeline: /,
            /Fetching model layers/,
            /digest: sha256:.* Fetched/,
          ]
        ) assertMatch(output, line);
        if (auth !== "none") assertMatch(output, /Login Succeeded/);
        assert(!output.includes(REGISTRY_USER.password), "the password was printed");
        assertEquals(registry.tokensIssued() > 0, auth === "token", "Bearer tokens were used exactly in token mode");
      } finally {
        await tern.stop();
      }
    } finally {
      await registry.stop();
    }
  });
}

Deno.test("wrong password: exit non-zero naming the user, never printing the password (basic and token)", async () => {
  for (const auth of ["basic", "token"] as RegistryAuth[]) {
    const registry = await startRegistry(auth);
    try {
      await publish(`${registry.host}/pipelines/house-price:v1`, CREDENTIALS);
      const wrong = "not-the-Pa55word";
      const out = await runTern(["pull", `${registry.host}/pipelines/house-price:v1`], {
        OCI_USERNAME: REGISTRY_USER.username,
        OCI_PASSWORD: wrong,
        PERSISTENT_VOLUME_DIR: await Deno.makeTempDir(),
      });
      assertEquals(out.code, 1, `${auth}: ${out.stderr}`);
      assertMatch(out.stderr, new RegExp(`refused the credentials of user '${REGISTRY_USER.username}'`));
      assert(!(out.stderr + out.stdout).includes(wrong), `${auth}: the password was printed`);
      const none = await runTern(["pull", `${registry.host}/pipelines/house-price:v1`], {});
      assertEquals(none.code, 1);
      assertMatch(none.stderr, /requires a login: set OCI_USERNAME and OCI_PASSWORD/);
    } finally {
      await registry.stop();
    }
  }
});

Deno.test("a missing tag is a clear error; a layer whose bytes do not match its digest is refused", async () => {
  const registry = await startRegistry("none");
  try {
    const missing = await runTern(["pull", `${registry.host}/pipelines/house-price:nope`]);
    assertEquals(missing.code, 1);
    assertMatch(missing.stderr, /pipelines\/house-price:nope not found \(no such tag or digest/);

    await publish(`${registry.host}/pipelines/house-price:v1`);
    // Corrupt the model blob in the registry's own storage: it now serves other bytes under that digest.
    const onnx = await Deno.readFile(MODEL);
    const hex = Array.from(
      new Uint8Array(await crypto.subtle.digest("SHA-256", onnx)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    const stored = `${registry.storage}/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`;
    const bytes = await Deno.readFile(stored);
    bytes[1000] ^= 0xff;
    await Deno.writeFile(stored, bytes);
    const refused = await runTern(["pull", `${registry.host}/pipelines/house-price:v1`], {
      PERSISTENT_VOLUME_DIR: await Deno.makeTempDir(),
    });
    assertEquals(refused.code, 1);
    assertMatch(refused.stderr, new RegExp(`blob sha256:${hex} does not match its digest .*refused`));
  } finally {
    await registry.stop();
  }
});

Deno.test("offline: after tern pull, or a first start, tern serves from the cache with the registry gone; a corrupt file is detected", async () => {
  const persist = await Deno.makeTempDir({ prefix: "tern-cache-" });
  const servedBefore = await Deno.makeTempDir({ prefix: "tern-cache-served-" });
  const registry = await startRegistry("none");
  const reference = `${registry.host}/pipelines/house-price:v1`;
  try {
    await publish(reference);
    const pulled = await runTern(["pull", reference], { PERSISTENT_VOLUME_DIR: persist });
    assertEquals(pulled.code, 0, pulled.stderr);
    assertMatch(pulled.stdout, /Pulled pipeline house-price/);
    // Another device fills its cache by serving once.
    const first = await startTern({ env: { PERSISTENT_VOLUME_DIR: servedBefore, PIPELINE_URL: reference } });
    await first.stop();
    await registry.stop();

    const restarted = await startTern({ env: { PERSISTENT_VOLUME_DIR: servedBefore, PIPELINE_URL: reference } });
    try {
      assertMatch(restarted.output(), /is unreachable.*starting from the cached pipeline/);
      assert(maxRelativeError([await inferOne(restarted.url)], ref.predictions.slice(0, 1)) <= 1e-4);
    } finally {
      await restarted.stop();
    }

    const tern = await startTern({ env: { PERSISTENT_VOLUME_DIR: persist, PIPELINE_URL: reference } });
    try {
      assertMatch(tern.output(), /is unreachable.*starting from the cached pipeline/);
      assert(maxRelativeError([await inferOne(tern.url)], ref.predictions.slice(0, 1)) <= 1e-4);
    } finally {
      await tern.stop();
    }

    // Corrupt the cached model: with the registry away, tern refuses to serve it.
    const blobs = `${persist}/oci/blobs/sha256`;
    for await (const entry of Deno.readDir(blobs)) {
      const path = `${blobs}/${entry.name}`;
      if ((await Deno.stat(path)).size > 100_000) {
        const bytes = await Deno.readFile(path);
        bytes[500] ^= 0x01;
        await Deno.writeFile(path, bytes);
      }
    }
    const out = await runTern([], { PERSISTENT_VOLUME_DIR: persist, PIPELINE_URL: reference, PORT: "0" });
    assertEquals(out.code, 1);
    assertMatch(out.stderr, /cached model house-price-estimator sha256:[0-9a-f]+ is corrupt/);
  } finally {
    await registry.stop();
    await Deno.remove(persist, { recursive: true });
    await Deno.remove(servedBefore, { recursive: true });
  }
});

Deno.test("interop: skopeo copies the artifact to an oci: layout and into another repository; tern pulls the copy", async () => {
  const registry = await startRegistry("none");
  const layout = await Deno.makeTempDir({ prefix: "tern-oci-layout-" });
  try {
    await publish(`${registry.host}/pipelines/house-price:v1`);
    await requireSystemPackage("skopeo");
    const skopeo = async (...args: string[]) => {
      const out = await new Deno.Command("skopeo", { args, stdout: "piped", stderr: "piped" }).output();
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    };
    await skopeo(
      "copy",
      "--src-tls-verify=false",
      `docker://${registry.host}/pipelines/house-price:v1`,
      `oci:${layout}:house-price`,
    );
    await skopeo(
      "copy",
      "--dest-tls-verify=false",
      `oci:${layout}:house-price`,
      `docker://${registry.host}/mirror/house-price:copied`,
    );
    const tern = await startTern({ env: { PIPELINE_URL: `${registry.host}/mirror/house-price:copied` } });
    try {
      assert(maxRelativeError([await inferOne(tern.url)], ref.predictions.slice(0, 1)) <= 1e-4);
    } finally {
      await tern.stop();
    }
  } finally {
    await registry.stop();
    await Deno.remove(layout, { recursive: true });
  }
});

Deno.test("a flaky link: a 503 is retried and the model transfer cut halfway resumes with Range", () =>
  withRegistry("none", async (registry, persist) => {
    const proxy = startFlakyProxy(registry.host);
    try {
      await publish(`${registry.host}/pipelines/house-price:v1`);
      const out = await runTern(["pull", `${proxy.host}/pipelines/house-price:v1`], { PERSISTENT_VOLUME_DIR: persist });
      assertEquals(out.code, 0, out.stderr);
      const ranges = proxy.largeBlobRanges;
      assertEquals(ranges.length, 2, `model GETs: ${JSON.stringify(ranges)}`);
      assertEquals(ranges[0], null, "the first model GET started from byte 0");
      assertEquals(ranges[1], `bytes=${MODEL_BYTES.length >> 1}-`, "the second resumed where the cut left off");
      assertEquals(await Deno.readFile(`${persist}/oci/blobs/sha256/${MODEL_HEX}`), MODEL_BYTES);
    } finally {
      await proxy.stop();
    }
  }));

for (const [mode, status] of [["down", 503], ["limited", 429]] as const) {
  Deno.test(`a registry behind a load balancer answering ${status}: tern starts from its cache`, () =>
    withRegistry("none", async (registry, persist) => {
      const proxy = startFlakyProxy(registry.host, mode);
      try {
        await publish(`${registry.host}/pipelines/house-price:v1`);
        const reference = `${proxy.host}/pipelines/house-price:v1`;
        // Fill the cache under the proxy's reference straight from the registry's storage.
        const direct = await runTern(["pull", `${registry.host}/pipelines/house-price:v1`], {
          PERSISTENT_VOLUME_DIR: persist,
        });
        assertEquals(direct.code, 0, direct.stderr);
        const refs = `${persist}/oci/refs`;
        const [saved] = [...Deno.readDirSync(refs)];
        const manifest = JSON.parse(Deno.readTextFileSync(`${refs}/${saved.name}`)).manifest;
        const key = Array.from(
          new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(reference))),
          (b) => b.toString(16).padStart(2, "0"),
        ).join("");
        Deno.writeTextFileSync(`${refs}/${key}.json`, JSON.stringify({ reference, manifest }));

        const tern = await startTern({ env: { PERSISTENT_VOLUME_DIR: persist, PIPELINE_URL: reference } });
        try {
          assertMatch(tern.output(), new RegExp(`answered ${status}.*starting from the cached pipeline`));
          assert(maxRelativeError([await inferOne(tern.url)], ref.predictions.slice(0, 1)) <= 1e-4);
          // Retried; after a 429 no sooner than its Retry-After (1 s) asked.
          const [first, second] = proxy.arrivals;
          assert(second !== undefined, "the manifest was asked for once, not retried");
          if (status === 429) assert(second - first >= 900, `retried ${Math.round(second - first)} ms after a 429`);
        } finally {
          await tern.stop();
        }
      } finally {
        await proxy.stop();
      }
    }));
}

Deno.test("credentials go only to OCI_REGISTRY's host; a complete leftover .partial is kept; shared model files pull once", () =>
  withRegistry("basic", async (registry, persist) => {
    const reference = `${registry.host}/pipelines/house-price:v1`;
    await publish(reference, CREDENTIALS);
    // A PIPELINE_URL on another host than OCI_REGISTRY does not get the credentials.
    const elsewhere = await runTern(["pull", reference], { ...CREDENTIALS, OCI_REGISTRY: "registry.example.com" });
    assertEquals(elsewhere.code, 1);
    assertMatch(elsewhere.stderr, /requires a login/);

    // A download finished before a crash, not yet renamed: verified and kept. The registry's copy is corrupted
    // meanwhile, so a pull that threw the partial away and fetched the model again would fail its digest.
    await Deno.mkdir(`${persist}/oci/blobs/sha256`, { recursive: true });
    await Deno.writeFile(`${persist}/oci/blobs/sha256/${MODEL_HEX}.partial`, MODEL_BYTES);
    const stored = `${registry.storage}/docker/registry/v2/blobs/sha256/${MODEL_HEX.slice(0, 2)}/${MODEL_HEX}/data`;
    const corrupt = MODEL_BYTES.slice();
    corrupt[1000] ^= 0xff;
    await Deno.writeFile(stored, corrupt);
    const pulled = await runTern(["pull", reference], { ...CREDENTIALS, PERSISTENT_VOLUME_DIR: persist });
    await Deno.writeFile(stored, MODEL_BYTES);
    assertEquals(pulled.code, 0, pulled.stderr);
    assertEquals(await Deno.readFile(`${persist}/oci/blobs/sha256/${MODEL_HEX}`), MODEL_BYTES);

    // Two steps from one file: one blob, fetched once.
    const dir = await Deno.makeTempDir({ prefix: "tern-spec-" });
    await Deno.copyFile(MODEL, `${dir}/m.onnx`);
    await Deno.writeTextFile(
      `${dir}/pipeline.json`,
      JSON.stringify({ name: "twice", steps: [{ model: "a", file: "m.onnx" }, { model: "b", file: "m.onnx" }] }),
    );
    const twice = `${registry.host}/pipelines/twice:v1`;
    assertEquals((await runTern(["publish", dir, twice], CREDENTIALS)).code, 0);
    const both = await runTern(["pull", twice], { ...CREDENTIALS, PERSISTENT_VOLUME_DIR: await Deno.makeTempDir() });
    assertEquals(both.code, 0, both.stderr);
    assertEquals(both.stdout.match(/Fetched/g)?.length, 2);

    await Deno.writeTextFile(
      `${dir}/pipeline.json`,
      JSON.stringify({ name: "x", version: "1.0", steps: [{ model: "a", file: "m.onnx" }] }),
    );
    const badVersion = await runTern(["publish", dir, `${registry.host}/pipelines/x:v1`], CREDENTIALS);
    assertEquals(badVersion.code, 2);
    assertMatch(badVersion.stderr, /version '1.0' is not a UUID/);
    // A file that is not an ONNX model is refused before anything is pushed, not on every edge that pulls it.
    await Deno.writeTextFile(`${dir}/m.onnx`, "this is not an ONNX model");
    await Deno.writeTextFile(
      `${dir}/pipeline.json`,
      JSON.stringify({ name: "x", steps: [{ model: "a", file: "m.onnx" }] }),
    );
    const notOnnx = await runTern(["publish", dir, `${registry.host}/pipelines/x:v1`], CREDENTIALS);
    assertEquals(notOnnx.code, 2, notOnnx.stderr);
    assertMatch(notOnnx.stderr, /model file \S*m\.onnx is not an ONNX model: protobuf wire type 4 at byte 0/);
    const tags = await fetch(`http://${registry.host}/v2/pipelines/x/tags/list`, {
      headers: { authorization: `Basic ${btoa(`${REGISTRY_USER.username}:${REGISTRY_USER.password}`)}` },
    });
    assertEquals(tags.status, 404, "the refused pipeline was pushed");
    await tags.body?.cancel();
    await Deno.remove(dir, { recursive: true });
    // A mistyped folder is a usage error (2) saying what publish takes.
    const missing = await runTern(["publish", dir, `${registry.host}/pipelines/x:v1`], CREDENTIALS);
    assertEquals(missing.code, 2, missing.stderr);
    assertMatch(
      missing.stderr,
      /No such file or directory.*: tern publish takes a pipeline folder \(with pipeline\.json\)/,
    );
  }));

Deno.test("a pipeline pinned by the digest of an OCI index: pulled, then served offline", () =>
  withRegistry("none", async (registry, persist) => {
    await publish(`${registry.host}/pipelines/house-price:v1`);
    const manifest = await fetch(`http://${registry.host}/v2/pipelines/house-price/manifests/v1`, {
      headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
    });
    const manifestBytes = new Uint8Array(await manifest.arrayBuffer());
    const index = new TextEncoder().encode(JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        artifactType: "application/vnd.tern.pipeline.v1",
        digest: `sha256:${await hex(manifestBytes)}`,
        size: manifestBytes.length,
      }],
    }));
    const put = await fetch(`http://${registry.host}/v2/pipelines/house-price/manifests/idx`, {
      method: "PUT",
      headers: { "content-type": "application/vnd.oci.image.index.v1+json" },
      body: index,
    });
    await put.body?.cancel();
    assertEquals(put.status, 201);
    const pinned = `${registry.host}/pipelines/house-price@sha256:${await hex(index)}`;
    const pulled = await runTern(["pull", pinned], { PERSISTENT_VOLUME_DIR: persist });
    assertEquals(pulled.code, 0, pulled.stderr);
    await registry.stop();
    const tern = await startTern({ env: { PERSISTENT_VOLUME_DIR: persist, PIPELINE_URL: pinned } });
    try {
      assertMatch(tern.output(), /starting from the cached pipeline/);
      assert(maxRelativeError([await inferOne(tern.url)], ref.predictions.slice(0, 1)) <= 1e-4);
    } finally {
      await tern.stop();
    }
  }));

Deno.test("a registry that accepts connections but never answers is cut off after OCI_TIMEOUT", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn); // never read, never answered
  })();
  try {
    // A tern that hangs is killed at the time limit (a hang detector, not a speed bound) and fails the test.
    const out = await runTern(["pull", `127.0.0.1:${listener.addr.port}/pipelines/house-price:v1`], {
      OCI_TIMEOUT: "1",
      PERSISTENT_VOLUME_DIR: await Deno.makeTempDir(),
    }, { timeoutMs: 120_000 });
    assertEquals(out.code, 1, out.stderr);
    assertMatch(out.stderr, /is unreachable: no answer/);
  } finally {
    listener.close();
    for (const conn of held) conn.close();
    await accepting.catch(() => {});
  }
});

Deno.test("a token server that accepts but never answers is cut off after OCI_TIMEOUT: start-up uses the cache, or fails naming the token server", () =>
  withRegistry("token", async (registry, persist) => {
    const reference = `${registry.host}/pipelines/house-price:v1`;
    await publish(reference, CREDENTIALS);
    const pulled = await runTern(["pull", reference], { ...CREDENTIALS, PERSISTENT_VOLUME_DIR: persist });
    assertEquals(pulled.code, 0, pulled.stderr);
    registry.stallTokenServer();
    const env = { ...CREDENTIALS, PIPELINE_URL: reference, OCI_TIMEOUT: "1" };
    const hung = /token server http:\/\/127\.0\.0\.1:\d+ gave no answer within 1 s \(OCI_TIMEOUT\) in 3 attempts/;

    // A generous bound: without a timeout on the token request, tern never becomes ready.
    const tern = await startTern({ env: { ...env, PERSISTENT_VOLUME_DIR: persist }, readyTimeoutMs: 60_000 });
    try {
      assertMatch(tern.output(), new RegExp(`${hung.source}; starting from the cached pipeline`));
      assert(maxRelativeError([await inferOne(tern.url)], ref.predictions.slice(0, 1)) <= 1e-4);
    } finally {
      await tern.stop();
    }

    const empty = await Deno.makeTempDir({ prefix: "tern-registry-pv-empty-" });
    try {
      const out = await runTern([], { ...env, PORT: "0", PERSISTENT_VOLUME_DIR: empty }, { timeoutMs: 60_000 });
      assertEquals(out.code, 1, out.stderr);
      assertMatch(out.stderr, new RegExp(`Cannot get pipeline ${reference}: ${hung.source}.*never been pulled`));
    } finally {
      await Deno.remove(empty, { recursive: true });
    }
  }));

Deno.test("a layer tern cannot run (a tar+gzip layer, a python runtime) is refused at pull, naming the layer, its media type and runtime; nothing is cached", () =>
  withRegistry("none", async (registry, persist) => {
    const cases = [
      { tag: "python", mediaType: "application/vnd.tern.model.python.tar+gzip", runtime: "python" },
      { tag: "onnx-python", mediaType: "application/vnd.tern.model.onnx.v1", runtime: "python" },
      { tag: "octet", mediaType: "application/octet-stream", runtime: "onnx" },
    ];
    for (const c of cases) {
      const reference = `${registry.host}/pipelines/mixed:${c.tag}`;
      await pushRaw(registry.host, "pipelines/mixed", c.tag, [
        { mediaType: "application/vnd.tern.model.onnx.v1", bytes: MODEL_BYTES, name: "house-price", runtime: "onnx" },
        {
          mediaType: c.mediaType,
          bytes: new TextEncoder().encode(`not onnx: ${c.tag}`),
          name: "snake",
          runtime: c.runtime,
        },
      ]);
      const said = new RegExp(
        `layer 1 \\(model snake\\) has media type ${c.mediaType.replace(/[.+]/g, "\\$&")} and runtime ${c.runtime}: ` +
          `tern runs only application/vnd\\.tern\\.model\\.onnx\\.v1 layers of runtime onnx`,
      );
      // Start-up (what the finding hit) and tern pull both refuse before caching anything.
      // A generous bound: a tern that accepted the layer would go on serving (not ready) rather than exit.
      const served = await runTern([], { PIPELINE_URL: reference, PORT: "0", PERSISTENT_VOLUME_DIR: persist }, {
        timeoutMs: 60_000,
      });
      assertEquals(served.code, 1, served.stderr);
      assertMatch(served.stderr, said);
      assert(!/Starting engine|Fetched/.test(served.stdout), served.stdout);
      const pulled = await runTern(["pull", reference], { PERSISTENT_VOLUME_DIR: persist });
      assertEquals(pulled.code, 1, pulled.stderr);
      assertMatch(pulled.stderr, said);
    }
    const refs = await Array.fromAsync(Deno.readDir(`${persist}/oci/refs`)).catch(() => []);
    assertEquals(refs.length, 0, "a refused pipeline was recorded as good");
    const blobs = await Array.fromAsync(Deno.readDir(`${persist}/oci/blobs/sha256`)).catch(() => []);
    assertEquals(blobs.length, 0, `refused pipelines left blobs: ${blobs.map((b) => b.name).join(", ")}`);
  }));

/** A layer for pushRaw. */
interface RawLayer {
  mediaType: string;
  bytes: Uint8Array;
  name: string;
  runtime: string;
}

/** Pushes a tern pipeline manifest with exactly these layers (as another tool might) to an anonymous registry. */
async function pushRaw(host: string, repository: string, tag: string, layers: RawLayer[]): Promise<void> {
  const upload = async (bytes: Uint8Array) => {
    const digest = `sha256:${await hex(bytes as Uint8Array<ArrayBuffer>)}`;
    const start = await fetch(`http://${host}/v2/${repository}/blobs/uploads/`, { method: "POST" });
    await start.body?.cancel();
    assertEquals(start.status, 202);
    const url = new URL(start.headers.get("location")!, `http://${host}`);
    url.searchParams.set("digest", digest);
    const put = await fetch(url, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body: bytes as Uint8Array<ArrayBuffer>,
    });
    await put.body?.cancel();
    assertEquals(put.status, 201);
    return { digest, size: bytes.length };
  };
  const config = new TextEncoder().encode(JSON.stringify({
    name: "mixed",
    version: crypto.randomUUID(),
    steps: layers.map((l) => ({ model: l.name })),
  }));
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    artifactType: "application/vnd.tern.pipeline.v1",
    config: { mediaType: "application/vnd.tern.pipeline.config.v1+json", ...await upload(config) },
    layers: await Promise.all(layers.map(async (l) => ({
      mediaType: l.mediaType,
      ...await upload(l.bytes),
      annotations: { "ai.tern.model.name": l.name, "ai.tern.model.runtime": l.runtime },
    }))),
  });
  const put = await fetch(`http://${host}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
    body: manifest,
  });
  await put.body?.cancel();
  assertEquals(put.status, 201);
}

async function hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

/** Runs `use` against a fresh registry and an empty persistent volume; both are gone afterwards. */
async function withRegistry(auth: RegistryAuth, use: (registry: TestRegistry, persist: string) => Promise<void>) {
  const registry = await startRegistry(auth);
  const persist = await Deno.makeTempDir({ prefix: "tern-registry-pv-" });
  try {
    await use(registry, persist);
  } finally {
    await registry.stop();
    await Deno.remove(persist, { recursive: true });
  }
}
