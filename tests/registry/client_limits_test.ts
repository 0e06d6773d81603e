/**
 * A registry (or a middlebox before it) that misbehaves after its headers: a manifest body that stalls is cut off
 * (unavailable, so start-up serves from the cache) instead of hanging tern; a manifest over the OCI limit of 4 MiB
 * is refused without being held whole; a rate-limited blob waits as Retry-After asks. The registry is a real HTTP
 * server on loopback.
 */
import { RegistryClient } from "../../src/registry/client.ts";
import { RegistryError } from "../../src/registry/errors.ts";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";

/** Serves every manifest GET with `body`. */
function registryAnswering(body: () => ReadableStream<Uint8Array>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () =>
    new Response(body(), {
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
    }));
  return { registry: `127.0.0.1:${server.addr.port}`, stop: () => server.shutdown() };
}

Deno.test("a manifest body that stops sending after the headers is cut off after OCI_TIMEOUT, as unavailable", async () => {
  let stalled: ReadableStreamDefaultController<Uint8Array> | undefined;
  const registry = registryAnswering(() =>
    new ReadableStream({
      start(controller) {
        stalled = controller;
        controller.enqueue(new TextEncoder().encode('{"schemaVersion":'));
      },
    })
  );
  try {
    const client = new RegistryClient({ registry: registry.registry, idleTimeoutMs: 300, attempts: 1 });
    const err = await client.getManifest("p/x", "v1").then(() => undefined, (e) => e);
    assert(err instanceof RegistryError, String(err));
    assert(err.unavailable, "a stalled registry must count as unavailable (the cache serves)");
    assertMatch(err.message, /manifest p\/x:v1: 127\.0\.0\.1:\d+ sent no data for 300 ms/);
  } finally {
    stalled?.close();
    await registry.stop();
  }
});

Deno.test("a manifest over 4 MiB is refused, and the registry's stream is cancelled rather than read to its end", async () => {
  let sent = 0;
  let cancelled = false;
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  const registry = registryAnswering(() =>
    new ReadableStream({
      pull(controller) {
        sent += chunk.length;
        controller.enqueue(chunk);
      },
      cancel() {
        cancelled = true;
      },
    })
  );
  try {
    const client = new RegistryClient({ registry: registry.registry, attempts: 1 });
    const err = await client.getManifest("p/x", "v1").then(() => undefined, (e) => e);
    assert(err instanceof RegistryError && !err.unavailable, String(err));
    assertMatch(err.message, /manifest p\/x:v1 is larger than 4194304 bytes: refused/);
    for (let i = 0; i < 50 && !cancelled; i++) await new Promise((r) => setTimeout(r, 20));
    assert(cancelled, `the body was not cancelled (${sent} bytes sent)`);
  } finally {
    await registry.stop();
  }
});

Deno.test("a blob answered 429 is fetched again no sooner than its Retry-After asks, then kept", async () => {
  const blob = new TextEncoder().encode("model bytes ".repeat(1000));
  const digest = `sha256:${
    Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", blob)), (b) => b.toString(16).padStart(2, "0"))
      .join("")
  }`;
  const arrivals: number[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    arrivals.push(performance.now());
    return arrivals.length === 1
      ? new Response("slow down", { status: 429, headers: { "retry-after": "1" } })
      : new Response(blob);
  });
  const dir = await Deno.makeTempDir({ prefix: "tern-blob-429-" });
  try {
    const client = new RegistryClient({ registry: `127.0.0.1:${server.addr.port}`, backoffMs: 10 });
    await client.downloadBlob("p/x", digest, blob.length, `${dir}/blob`);
    assertEquals(await Deno.readFile(`${dir}/blob`), blob);
    assertEquals(arrivals.length, 2);
    assert(arrivals[1] - arrivals[0] >= 900, `fetched again after ${Math.round(arrivals[1] - arrivals[0])} ms`);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
