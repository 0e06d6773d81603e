/**
 * API_TOKEN, TLS and HUB_API_TOKEN against the real processes: every route
 * but the health checks refuses a request without the bearer token (401 JSON
 * `api_token_required`); HTTPS with TLS_CERT/TLS_KEY, and a renewed
 * certificate served after SIGHUP with no restart; the hub's read routes need
 * HUB_API_TOKEN while an edge's uploads (their own tokens) go on.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { spawnForPort } from "../support/child_port.ts";
import { addEdge, freePort, startHub, until } from "../support/hub_process.ts";
import { loadReference, recordsBody } from "../support/reference.ts";
import { runTern, startTern, ternCommand } from "../support/tern_process.ts";
import { fetchTrusting, makeCert } from "../support/tls_cert.ts";

const ref = loadReference();
const TOKEN = "api-T0ken-that-must-never-show";
const JSON_ROWS = { "content-type": "application/json; format=pandas-records" };

/** Every route a client can reach, with a body where it takes one. */
const ROUTES: [string, string, BodyInit?][] = [
  ["GET", "/models"],
  ["GET", "/pipelines"],
  ["POST", "/infer", recordsBody([ref.inputs[0]])],
  ["POST", "/logs", "{}"],
  ["GET", "/logs/status"],
  ["GET", "/metrics"],
  ["GET", "/"],
  ["GET", "/v2/models"],
  ["GET", "/no/such/route"],
];

Deno.test("API_TOKEN: every route but the health checks needs the bearer token; without it, or wrong, a 401 JSON error", async () => {
  const tern = await startTern({ env: { API_TOKEN: TOKEN } });
  try {
    for (const path of ["/health", "/health/ready", "/v2/health/live", "/v2/health/ready"]) {
      const res = await fetch(`${tern.url}${path}`);
      await res.body?.cancel();
      assertEquals(res.status, 200, `${path} stays open for probes`);
    }
    for (const [method, path, body] of ROUTES) {
      for (const auth of [undefined, "Bearer wrong", `Bearer ${TOKEN}x`, TOKEN, `Basic ${btoa(`u:${TOKEN}`)}`]) {
        const res = await fetch(`${tern.url}${path}`, {
          method,
          body,
          headers: { ...JSON_ROWS, ...(auth ? { authorization: auth } : {}) },
        });
        assertEquals(res.status, 401, `${method} ${path} with ${auth ?? "no Authorization"}`);
        assertEquals(res.headers.get("www-authenticate"), 'Bearer realm="tern"');
        const reply = await res.json();
        assertEquals(reply.code, "api_token_required");
        assert(!JSON.stringify(reply).includes(TOKEN), "the reply never shows the token");
      }
      const res = await fetch(`${tern.url}${path}`, {
        method,
        body,
        headers: { ...JSON_ROWS, authorization: `bearer ${TOKEN}` },
      });
      await res.body?.cancel();
      assert(res.status !== 401, `${method} ${path} with the token: ${res.status}`);
    }
    assert(!tern.output().includes(TOKEN), "tern never prints the token");
  } finally {
    await tern.stop();
  }
});

Deno.test("TLS: HTTPS with TLS_CERT and TLS_KEY, and tern health over it; after SIGHUP a renewed certificate is served, no restart; a bad pair keeps the old one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-e2e-tls-" });
  try {
    const first = await makeCert(dir, "first");
    const second = await makeCert(dir, "second");
    const live = { certFile: `${dir}/live.crt`, keyFile: `${dir}/live.key` };
    await Deno.copyFile(first.certFile, live.certFile);
    await Deno.copyFile(first.keyFile, live.keyFile);
    const [program, ...pre] = ternCommand();
    const { watched, port } = await spawnForPort(
      new Deno.Command(program, {
        args: [...pre, "--host", "127.0.0.1", "--port", "0"],
        cwd: dir,
        env: {
          NO_COLOR: "1",
          PERSISTENT_VOLUME_DIR: `${dir}/persist`,
          TLS_CERT: live.certFile,
          TLS_KEY: live.keyFile,
          API_TOKEN: TOKEN,
        },
        stdout: "piped",
        stderr: "piped",
      }),
      /Listening on https:\/\/[^:]+:(\d+)/,
      30_000,
    );
    try {
      assert(port !== undefined, `tern did not listen on https:\n${watched.output()}`);
      const url = `https://127.0.0.1:${port}`;
      await until("ready over HTTPS", async () => (await fetchTrusting(first.ca, `${url}/health/ready`)) === 200);
      const infer = { method: "POST", headers: { ...JSON_ROWS, authorization: `Bearer ${TOKEN}` } };
      assertEquals(
        await fetchTrusting(first.ca, `${url}/infer`, { ...infer, body: recordsBody([ref.inputs[0]]) }),
        200,
      );
      const plain = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status, (e) => String(e));
      assert(typeof plain === "string", `plain HTTP on the TLS port answered ${plain}`);
      // The container HEALTHCHECK, with the same settings: HTTPS, though its CA is in no store it knows.
      const health = await runTern(["health", "--host", "127.0.0.1", "--port", String(port)], {
        TLS_CERT: live.certFile,
        TLS_KEY: live.keyFile,
      });
      assertEquals(health.code, 0, health.stderr);
      assertMatch(health.stdout, new RegExp(`^https://127\\.0\\.0\\.1:${port}/health/ready: 200 \\{"status":"ready"`));

      // Renewal: new files, SIGHUP; the new certificate is served on the same port.
      await Deno.copyFile(second.certFile, live.certFile);
      await Deno.copyFile(second.keyFile, live.keyFile);
      Deno.kill(watched.child.pid, "SIGHUP");
      await until("the reload", () => watched.output().includes("SIGHUP: TLS certificate reloaded"));
      await until(
        "the new certificate served",
        async () => (await fetchTrusting(second.ca, `${url}/health`)) === 200,
      );
      assert(typeof await fetchTrusting(first.ca, `${url}/health`) === "string", "the old certificate is gone");
      assertEquals(
        await fetchTrusting(second.ca, `${url}/infer`, { ...infer, body: recordsBody([ref.inputs[1]]) }),
        200,
      );

      // A key file that does not read keeps the certificate in use; so does one that reads but holds no key (a
      // renewal that copied the certificate over it), which used to stop tern.
      await Deno.remove(live.keyFile);
      Deno.kill(watched.child.pid, "SIGHUP");
      await until("the refusal", () => watched.output().includes("the TLS certificate was not reloaded"));
      assertEquals(await fetchTrusting(second.ca, `${url}/health`), 200);
      await Deno.copyFile(second.certFile, live.keyFile);
      Deno.kill(watched.child.pid, "SIGHUP");
      await until("the second refusal", () => /not reloaded.*are not a PEM certificate/.test(watched.output()));
      assertEquals(await fetchTrusting(second.ca, `${url}/health`), 200);
      for (const secret of [TOKEN, second.key.split("\n")[1], first.key.split("\n")[1]]) {
        assert(!watched.output().includes(secret), "no secret or key material printed");
      }
    } finally {
      assertEquals(await watched.stop("SIGTERM"), 0, watched.output());
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("HUB_API_TOKEN: the fleet page, /edges, an edge's logs and /metrics need it; /health and edges' uploads do not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-e2e-hubtoken-" });
  const state = { stateDir: `${dir}/hub` };
  const hub = await startHub(state, freePort(), { HUB_API_TOKEN: TOKEN, DEBUG: "true" });
  const bundle = await addEdge(state, "edge-t", hub.host);
  const tern = await startTern({
    env: { EDGE_BUNDLE: bundle, OPS_CHECKIN_INTERVAL: "1", PLATEAU_PAGE_SIZE: "100", LOCAL_INFERENCE_STORAGE: "64Mi" },
  });
  try {
    const res = await fetch(`${tern.url}/infer`, { method: "POST", headers: JSON_ROWS, body: recordsBody(ref.inputs) });
    await res.body?.cancel();
    assertEquals(res.status, 200);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const edge = async () => (await (await fetch(`${hub.url}/edges`, { headers: auth })).json()).edges[0];
    await until("the rows uploaded", async () => (await edge())?.rows_received === ref.inputs.length);
    const routes: [string, string, string?][] = [["GET", "/"], ["GET", "/edges"], ["GET", "/metrics"], [
      "POST",
      "/edges/edge-t/logs",
      "{}",
    ]];
    for (const [method, path, body] of routes) {
      const refused = await fetch(`${hub.url}${path}`, { method, body });
      assertEquals(refused.status, 401, `${method} ${path}`);
      assertEquals((await refused.json()).code, "api_token_required");
      const ok = await fetch(`${hub.url}${path}`, { method, body, headers: auth });
      await ok.body?.cancel();
      assertEquals(ok.status, 200, `${method} ${path} with the token`);
    }
    const health = await fetch(`${hub.url}/health`);
    assertEquals(health.status, 200);
    await health.body?.cancel();
    assert(!hub.output().includes(TOKEN), "the hub never prints its token");
  } finally {
    await tern.stop();
    await hub.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
