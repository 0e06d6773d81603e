/**
 * Secrets and outbound connections, with real peers: a registry behind a
 * Bearer token server (OCI_PASSWORD), a `tern hub` (EDGE_BUNDLE's JOIN_TOKEN,
 * HUB_API_TOKEN) and API_TOKEN, DEBUG=true everywhere. tern runs under
 * `strace -f -e trace=connect` through start-up (pull, join), inference, a
 * refused request and log upload: every connect() it makes goes to the
 * registry, its token realm or the hub, and nothing else. Then everything
 * every process printed (publish, pull, serve, hub) is searched for the
 * OCI password, the join token, both API tokens, the bundle and the edge's
 * private key: none appears. (TLS key material: tests/e2e/security_test.ts.)
 */
import { parseEdgeBundle } from "../../src/ops/edge_bundle.ts";
import { SESSION_FILE } from "../../src/ops/session.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { recordFigures } from "../support/figures.ts";
import { addEdge, freePort, startHub, until } from "../support/hub_process.ts";
import { publishModel } from "../support/publish.ts";
import { loadReference, recordsBody } from "../support/reference.ts";
import { REGISTRY_USER, startRegistry } from "../support/registry.ts";
import { requireSystemPackage } from "../support/system_packages.ts";
import { runTern, startTern } from "../support/tern_process.ts";

const ref = loadReference();
const MODEL = new URL("../../assets/demo/house-price-estimator.onnx", import.meta.url).pathname;
const API_TOKEN = "edge-Api-T0ken-secret";
const HUB_API_TOKEN = "hub-Api-T0ken-secret";
const JSON_TYPE = "application/json; format=pandas-records";

/** The connect() targets in an strace log: `address:port` for IPv4/IPv6, `unix:path` for AF_UNIX. */
function connectTargets(log: string): string[] {
  const targets: string[] = [];
  for (const line of log.split("\n")) {
    if (!line.includes("connect(")) continue;
    const inet = /sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)/.exec(line);
    const inet6 = /sin6_port=htons\((\d+)\).*inet_pton\(AF_INET6, "([^"]+)"/.exec(line);
    const unix = /sun_path="([^"]*)"/.exec(line);
    if (inet) targets.push(`${inet[2]}:${inet[1]}`);
    else if (inet6) targets.push(`[${inet6[2]}]:${inet6[1]}`);
    else if (unix) targets.push(`unix:${unix[1]}`);
    else if (/AF_UNSPEC/.test(line)) continue; // disconnecting a UDP socket
    else targets.push(`other:${line.trim()}`);
  }
  return targets;
}

Deno.test("secrets never printed (DEBUG on, every path); tern connects only to the registry, its token realm and the hub", async () => {
  await requireSystemPackage("strace");
  const dir = await Deno.makeTempDir({ prefix: "tern-e2e-egress-" });
  const registry = await startRegistry("token");
  const state = { stateDir: `${dir}/hub` };
  const hubPort = freePort();
  const hub = await startHub(state, hubPort, { HUB_API_TOKEN, DEBUG: "true" });
  const outputs: Record<string, string> = {};
  try {
    const credentials = { OCI_USERNAME: REGISTRY_USER.username, OCI_PASSWORD: REGISTRY_USER.password, DEBUG: "true" };
    const reference = `${registry.host}/pipelines/house-price:v1`;
    const published = await publishModel(MODEL, "house-price", reference, credentials);
    assertEquals(published.code, 0, published.stderr);
    outputs.publish = published.stdout + published.stderr;
    const pulled = await runTern(["pull", reference], credentials, { timeoutMs: 120_000 });
    assertEquals(pulled.code, 0, pulled.stderr);
    outputs.pull = pulled.stdout + pulled.stderr;

    const bundle = await addEdge(state, "edge-s", hub.host);
    const joinToken = parseEdgeBundle(bundle).JOIN_TOKEN;
    const persist = `${dir}/persist`;
    const straceLog = `${dir}/connect.log`;
    const tern = await startTern({
      wrap: ["strace", "-f", "-qq", "-e", "trace=connect", "-o", straceLog, "--"],
      env: {
        ...credentials,
        PIPELINE_URL: reference,
        PERSISTENT_VOLUME_DIR: persist,
        EDGE_BUNDLE: bundle,
        API_TOKEN,
        OPS_CHECKIN_INTERVAL: "1",
        PLATEAU_PAGE_SIZE: "10",
        LOCAL_INFERENCE_STORAGE: "64Mi",
        // A source run is `deno run`, whose CLI would look up dl.deno.land for a newer Deno; the binary never does.
        DENO_NO_UPDATE_CHECK: "1",
      },
      readyTimeoutMs: 120_000,
    });
    let privateKey = "";
    try {
      const auth = { authorization: `Bearer ${API_TOKEN}` };
      const res = await fetch(`${tern.url}/infer`, {
        method: "POST",
        headers: { "content-type": JSON_TYPE, ...auth },
        body: recordsBody(ref.inputs.slice(0, 25)),
      });
      assertEquals(res.status, 200);
      await res.body?.cancel();
      for (const [path, headers] of [["/models", {}], ["/models", auth], ["/metrics", auth], ["/", auth]] as const) {
        await (await fetch(`${tern.url}${path}`, { headers })).body?.cancel();
      }
      await (await fetch(`${tern.url}/infer`, { method: "POST", headers: auth, body: "{not json" })).body?.cancel();
      const edgeRows = async () => {
        const list = await (await fetch(`${hub.url}/edges`, { headers: { authorization: `Bearer ${HUB_API_TOKEN}` } }))
          .json();
        return list.edges[0]?.rows_received ?? 0;
      };
      await until("the rows uploaded", async () => (await edgeRows()) === 25);
      privateKey = JSON.parse(await Deno.readTextFile(`${persist}/${SESSION_FILE}`)).privateJwk.d;
    } finally {
      // strace's child is tern: stop tern itself, and strace ends with it.
      const children = (await Deno.readTextFile(`/proc/${tern.pid}/task/${tern.pid}/children`)).trim().split(/\s+/);
      for (const pid of children) Deno.kill(Number(pid), "SIGTERM");
      await tern.stop();
      outputs.serve = tern.output();
    }
    outputs.hub = hub.output();

    const allowed = new Set([registry.host, new URL(registry.tokenRealm!).host, `127.0.0.1:${hubPort}`]);
    const targets = connectTargets(await Deno.readTextFile(straceLog));
    const inet = targets.filter((t) => !t.startsWith("unix:"));
    const unexpected = inet.filter((t) => !allowed.has(t));
    recordFigures("egress", {
      connects: targets.length,
      inet_connects: inet.length,
      distinct_targets: [...new Set(targets)].map((t) => allowed.has(t) ? `${t} (allowed)` : t),
      unexpected: unexpected.length,
    });
    assert(inet.length > 0, "strace saw no connection at all");
    assertEquals(unexpected, [], "connections beyond the registry, its token realm and the hub");
    assert(inet.some((t) => t === `127.0.0.1:${hubPort}`), "the upload went to the hub");

    const secrets: Record<string, string> = {
      "OCI password": REGISTRY_USER.password,
      "JOIN_TOKEN": joinToken,
      "API_TOKEN": API_TOKEN,
      "HUB_API_TOKEN": HUB_API_TOKEN,
      "EDGE_BUNDLE": bundle,
      "the edge's private key": privateKey,
    };
    const leaks: string[] = [];
    for (const [what, secret] of Object.entries(secrets)) {
      assert(secret.length >= 8, `${what} is too short to search for`);
      for (const [where, text] of Object.entries(outputs)) if (text.includes(secret)) leaks.push(`${what} in ${where}`);
    }
    recordFigures("secrets", {
      secrets_searched: Object.keys(secrets),
      outputs_searched: Object.keys(outputs),
      output_bytes: Object.values(outputs).reduce((n, t) => n + t.length, 0),
      leaks: leaks.length,
    });
    assertEquals(leaks, []);
    assert(outputs.serve.includes("debug: "), "DEBUG output was on");
  } finally {
    await hub.stop();
    await registry.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
