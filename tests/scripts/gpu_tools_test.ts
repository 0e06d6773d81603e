/**
 * scripts/gpu/registry.py and scripts/gpu/load.py, the stdlib-only stand-ins
 * for a registry and wrk on the GPU machine (no network, Deno, wrk or Docker
 * there), against the real tern: `tern publish` pushes to the registry, tern
 * pulls its pipeline from it, and load.py drives tern's /infer.
 */
import { fileURLToPath } from "node:url";
import { assert, assertEquals } from "../support/assert.ts";
import { spawnForPort } from "../support/child_port.ts";
import { publishModel } from "../support/publish.ts";
import { startTern } from "../support/tern_process.ts";

const script = (name: string) => fileURLToPath(new URL(`../../scripts/gpu/${name}`, import.meta.url));
const FIXTURE = fileURLToPath(new URL("../testdata/batch1_multi_output.onnx", import.meta.url));
const ZERO_DIGEST = `sha256:${"0".repeat(64)}`;

/** sha256:<hex> of `bytes`. */
async function digestOf(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `sha256:${Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** `res` with its (empty) body released. */
async function drained(res: Response): Promise<Response> {
  await res.body?.cancel();
  return res;
}

/** The first error code of an OCI error body. */
async function errorCode(res: Response): Promise<string> {
  return (await res.json()).errors?.[0]?.code;
}

Deno.test("registry.py takes tern publish and serves tern's pull; load.py drives tern's /infer", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-gpu-tools-" });
  const { watched: registry, port } = await spawnForPort(
    new Deno.Command("/usr/bin/python3", {
      args: [script("registry.py"), "0", `${dir}/registry`],
      stdout: "piped",
      stderr: "piped",
    }),
    /^listening (\d+)$/m,
    10_000,
  );
  try {
    assert(port !== undefined, `registry.py did not start:\n${registry.output()}`);
    const base = `http://127.0.0.1:${port}/v2`;

    // tern publish: HEAD blob, POST upload, PUT ?digest=, PUT manifest (tern's pull below: GET manifest and blobs).
    const reference = `127.0.0.1:${port}/pipelines/gpu-tools:v1`;
    const published = await publishModel(FIXTURE, "gpu-tools", reference);
    assertEquals(published.code, 0, `${published.stdout}\n${published.stderr}\n${registry.output()}`);

    // What tern does not send: a missing manifest, an upload in two parts (PATCH, PUT), a wrong digest.
    const missing = await fetch(`${base}/pipelines/gpu-tools/manifests/absent`);
    assertEquals([missing.status, await errorCode(missing)], [404, "MANIFEST_UNKNOWN"]);
    const bytes = new TextEncoder().encode("abc");
    const digest = await digestOf(bytes);
    const start = await drained(await fetch(`${base}/scratch/blobs/uploads/`, { method: "POST" }));
    assertEquals(start.status, 202);
    const location = new URL(start.headers.get("location")!, base).href;
    const patch = await drained(await fetch(location, { method: "PATCH", body: bytes.slice(0, 2) }));
    assertEquals([patch.status, patch.headers.get("range")], [202, "0-1"]);
    const put = await drained(await fetch(`${location}?digest=${digest}`, { method: "PUT", body: bytes.slice(2) }));
    assertEquals([put.status, put.headers.get("docker-content-digest")], [201, digest]);
    assertEquals(await (await fetch(`${base}/scratch/blobs/${digest}`)).text(), "abc");
    const wrong = await drained(await fetch(`${base}/scratch/blobs/uploads/`, { method: "POST" }));
    const bad = await fetch(new URL(`${wrong.headers.get("location")}?digest=${ZERO_DIGEST}`, base), {
      method: "PUT",
      body: bytes,
    });
    assertEquals([bad.status, await errorCode(bad)], [400, "DIGEST_INVALID"]);
    const absentBlob = await drained(await fetch(`${base}/scratch/blobs/${ZERO_DIGEST}`, { method: "HEAD" }));
    assertEquals(absentBlob.status, 404);

    const tern = await startTern({ env: { PIPELINE_URL: reference, LOG_DURABILITY: "off" } });
    try {
      const body = `${dir}/body.json`;
      await Deno.writeTextFile(body, JSON.stringify([{ x: [0.5, 3, -1, 2] }]));
      const out = await new Deno.Command("/usr/bin/python3", {
        args: [script("load.py"), `${tern.url}/infer`, body, "application/json; format=pandas-records", "2", "2"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder();
      assertEquals(out.code, 0, text.decode(out.stderr));
      const result = JSON.parse(text.decode(out.stdout));
      assertEquals([result.connections, result.seconds, result.errors, result.firstError], [2, 2, 0, null]);
      assert(result.requests > 0, `load.py sent no successful request: ${JSON.stringify(result)}`);
      assert(result.p50Ms > 0 && result.p99Ms >= result.p50Ms, JSON.stringify(result));
    } finally {
      await tern.stop();
    }
  } finally {
    await registry.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
