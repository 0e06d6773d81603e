/**
 * Where the registry credentials go: only to the registry they were given for (OCI_REGISTRY, else the PIPELINE_URL
 * tern started with, or the reference `tern publish`/`pull` names), and over plain HTTP only to loopback or to that
 * registry itself when OCI_PLAIN_HTTP allowed it. A hostile registry here is a real HTTP server on loopback whose
 * challenge names a token realm elsewhere; requests to any host but loopback are recorded and never sent.
 */
import type { Config } from "../../src/config.ts";
import { parseConfig } from "../../src/config.ts";
import { AuthError } from "../../src/registry/auth.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { RegistryError } from "../../src/registry/errors.ts";
import { credentialsFor } from "../../src/registry/mod.ts";
import { parseReference } from "../../src/registry/reference.ts";
import { credentialsWarning, registrySettings } from "../../src/registry_settings.ts";
import { clientFor } from "../../src/registry/mod.ts";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";

const CREDS = { OCI_USERNAME: "robot", OCI_PASSWORD: "s3cret" };
const MACHINE = { cpus: 2, persistentVolumeDir: "/tmp/tern-credentials-test" };

function config(env: Record<string, string>, args: string[] = []): Config {
  return parseConfig(args, env, MACHINE);
}

Deno.test("without OCI_REGISTRY the credentials belong to the start-up PIPELINE_URL's host: an assigned pipeline elsewhere gets none", () => {
  const settings = registrySettings(config({ ...CREDS, PIPELINE_URL: "reg.example.com/pipelines/a:v1" }));
  const to = (url: string) => credentialsFor(parseReference(url), settings);
  assertEquals(to("reg.example.com/pipelines/b:v2"), { username: "robot", password: "s3cret" });
  assertEquals(to("elsewhere.example.net/pipelines/b:v2"), undefined);
  // OCI_REGISTRY names the host outright.
  const named = registrySettings(config({ ...CREDS, OCI_REGISTRY: "other.example.com" }));
  assertEquals(credentialsFor(parseReference("other.example.com/p/x:1"), named)?.username, "robot");
  assertEquals(credentialsFor(parseReference("reg.example.com/p/x:1"), named), undefined);
  // No PIPELINE_URL and no OCI_REGISTRY (the demo, until Ops assigns one): nobody gets them.
  assertEquals(credentialsFor(parseReference("reg.example.com/p/x:1"), registrySettings(config(CREDS))), undefined);
  // tern publish: the registry it pushes to.
  const publish = registrySettings(config(CREDS), "push.example.com");
  assertEquals(credentialsFor(parseReference("push.example.com/p/x:1"), publish)?.username, "robot");
});

/** A registry on loopback whose Bearer challenge names `realm`; and a fetch that sends only loopback requests. */
function hostileRegistry(realm: (port: number) => string) {
  const elsewhere: string[] = [];
  let port = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req): Response => {
    if (new URL(req.url).pathname === "/token") return Response.json({ token: "t0ken" });
    if (req.headers.get("authorization") === "Bearer t0ken") return new Response("{}", { status: 404 });
    return new Response(null, {
      status: 401,
      headers: { "www-authenticate": `Bearer realm="${realm(port)}",service="reg"` },
    });
  });
  port = server.addr.port;
  const fetchLoopbackOnly: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.hostname !== "127.0.0.1") {
      elsewhere.push(url.origin);
      return Promise.reject(new TypeError("not sent: the test reaches loopback only"));
    }
    return fetch(input, init);
  };
  return { registry: `127.0.0.1:${port}`, elsewhere, fetch: fetchLoopbackOnly, stop: () => server.shutdown() };
}

Deno.test("a plain-HTTP token realm on another host never gets the credentials, though the registry is on loopback", async () => {
  const hostile = hostileRegistry(() => "http://auth.example.test/token");
  try {
    for (const plainHttp of [false, true]) {
      const client = new RegistryClient({
        registry: hostile.registry,
        credentials: { username: "robot", password: "s3cret" },
        plainHttp,
        fetch: hostile.fetch,
        attempts: 1,
      });
      const err = await client.getManifest("p/x", "v1").then(() => undefined, (e) => e);
      assert(err instanceof RegistryError && !(err instanceof AuthError), String(err));
      assertMatch(
        err.message,
        /refusing to send credentials to the plain-HTTP token realm http:\/\/auth\.example\.test/,
      );
    }
    assertEquals(hostile.elsewhere, []);
  } finally {
    await hostile.stop();
  }
});

Deno.test("a plain-HTTP token realm on loopback gets them (the registry then answers with the token's access)", async () => {
  const friendly = hostileRegistry((port) => `http://127.0.0.1:${port}/token`);
  try {
    const client = new RegistryClient({
      registry: friendly.registry,
      credentials: { username: "robot", password: "s3cret" },
      fetch: friendly.fetch,
      attempts: 1,
    });
    const err = await client.getManifest("p/x", "v1").then(() => undefined, (e) => e);
    assert(err instanceof RegistryError, String(err));
    assertMatch(err.message, /not found/); // past the token: the 404 of the authorised request
  } finally {
    await friendly.stop();
  }
});

Deno.test("credentials set but withheld from a registry that asks for a login: the error says whose they are and what to set; start-up warns when they are nobody's", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="reg"' } }),
  );
  const registry = `127.0.0.1:${server.addr.port}`;
  try {
    for (
      const [env, whose] of [
        [{ ...CREDS, PIPELINE_URL: "reg.example.com/p/a:v1" }, "belong to reg\\.example\\.com \\(OCI_REGISTRY"],
        [CREDS, "name no registry \\(neither OCI_REGISTRY nor a PIPELINE_URL at start\\), so they are sent nowhere"],
      ] as const
    ) {
      const client = clientFor(parseReference(`${registry}/p/b:v1`), registrySettings(config(env)), () => {});
      const err = await client.getManifest("p/b", "v1").then(() => undefined, (e) => e);
      assert(err instanceof AuthError, String(err));
      assertMatch(
        err.message,
        new RegExp(
          `OCI_USERNAME and OCI_PASSWORD are set but ${whose}.*: if they are this registry's, set OCI_REGISTRY=${registry}`,
        ),
      );
    }
  } finally {
    await server.shutdown();
  }
  assertMatch(credentialsWarning(config(CREDS)) ?? "", /neither OCI_REGISTRY nor PIPELINE_URL names the registry/);
  assertEquals(credentialsWarning(config({ ...CREDS, PIPELINE_URL: "reg.example.com/p/a:v1" })), undefined);
  assertEquals(credentialsWarning(config({ ...CREDS, OCI_REGISTRY: "reg.example.com" })), undefined);
  assertEquals(credentialsWarning(config({})), undefined);
});
