/**
 * The hub's side of docs/ops-protocol.md, driven by the edge's real client
 * against the real hub app and store with a fake clock: one-time join tokens
 * and their 24 h TTL, the 7-day session expiry, request tokens that cannot be
 * replayed or moved to another body, and pages stored once each.
 */
import { tableFromIPC } from "apache-arrow";
import { SignJWT } from "jose";
import { logRecordJson } from "../../src/codec/log_json.ts";
import type { StoredLogRow } from "../../src/logs/query.ts";
import { type EdgeKey, OpsClient } from "../../src/ops/client.ts";
import type { EdgeBundle } from "../../src/ops/edge_bundle.ts";
import { OpsRefused, OpsUnavailable } from "../../src/ops/errors.ts";
import { encodePage, uploadPage } from "../../src/ops/page.ts";
import { bodyHash, pageKey, TOKEN_ALG, TOKEN_AUDIENCE } from "../../src/ops/protocol.ts";
import { signRequestToken } from "../../src/ops/request_token.ts";
import { newKeyPair, signingKey } from "../../src/ops/session.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "../support/assert.ts";
import { openTestHub, type TestHub } from "../support/hub.ts";
import { createClient } from "@libsql/client";
import { HUB_DB_FILE, openSqliteHubStore } from "../../src/hub/store_sqlite.ts";

const HOUR = 3600_000;
const DAY = 24 * HOUR;

async function edgeKey(): Promise<EdgeKey> {
  const pair = await newKeyPair();
  return {
    key: await signingKey({
      version: 1,
      edgeName: "x",
      opsHost: "x",
      tokenSha256: "",
      ...pair,
      edgeId: null,
      joinedAt: null,
      lastContact: null,
    }),
    publicJwk: pair.publicJwk,
  };
}

/** `rows` as one upload page, as the edge's log worker builds it. */
const asPage = (rows: StoredLogRow[]) => uploadPage(rows, rows.length, rows[0].partition);

function client(hub: TestHub, edgeName: string): OpsClient {
  return new OpsClient({ base: new URL("http://hub.test"), edgeName, fetch: hub.fetch, now: hub.now });
}

/** Edge "edge-1" added and joined with a fresh key: its key, client and id. */
async function joinedEdge(hub: TestHub) {
  const bundle = await hub.addEdge("edge-1");
  const key = await edgeKey();
  const edge = client(hub, "edge-1");
  const { edge_id } = await edge.join(key, joinRequest(bundle));
  return { key, edge, edge_id };
}

function joinRequest(bundle: EdgeBundle) {
  return { edge_name: bundle.EDGE_NAME, join_token: bundle.JOIN_TOKEN, tern_version: "test" };
}

const CHECK_IN = {
  status: "Running" as const,
  pipeline_name: "p",
  pipeline_url: null,
  pipeline_version: "v",
  backlog_rows: 0,
  evicted_rows: 0,
  tern_version: "test",
};

/** `n` log rows of edge `partition` from id `first`. */
function rows(first: number, n: number, partition: string): StoredLogRow[] {
  return Array.from({ length: n }, (_, i) => ({
    id: first + i,
    time: 1_700_000_000_000 + first + i,
    inJson: `{"tensor":[${first + i}.0,2.5]}`,
    outJson: `{"variable":[${(first + i) * 10}.5]}`,
    anomalyCount: 0,
    pipelineName: "house-price",
    pipelineVersion: "v1",
    lastModel: '{"model_name":"m","model_sha":"abc"}',
    elapsedJson: "[1000,2000]",
    droppedJson: i % 2 ? '["in.image"]' : "[]",
    partition,
    uploaded: 0,
  }));
}

async function refusal(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof OpsRefused) return err.code;
    throw err;
  }
  throw new Error("expected a refusal");
}

Deno.test("join binds the edge's key and burns the token: another key gets join_token_used, the same key is answered again", async () => {
  const hub = await openTestHub();
  try {
    const bundle = await hub.addEdge("edge-1", "reg.example/p:1");
    const key = await edgeKey();
    const reply = await client(hub, "edge-1").join(key, joinRequest(bundle));
    assertEquals([reply.edge_name, reply.workspace_id, reply.pipeline_url, reply.session_ttl_s], [
      "edge-1",
      "default",
      "reg.example/p:1",
      7 * 24 * 3600,
    ]);
    const again = await client(hub, "edge-1").join(key, joinRequest(bundle));
    assertEquals(again.edge_id, reply.edge_id);
    assertEquals(
      await refusal(async () => client(hub, "edge-1").join(await edgeKey(), joinRequest(bundle))),
      "join_token_used",
    );
    const [edge] = (await (await hub.fetch("http://hub.test/edges")).json()).edges;
    assertEquals(edge.joined_at, hub.now());
    // The store never holds the token, only its hash.
    const stored = await hub.store.edgeByName("edge-1");
    assert(!JSON.stringify(stored).includes(bundle.JOIN_TOKEN));
  } finally {
    await hub.close();
  }
});

Deno.test("a join token is refused after 24 h (join_token_expired); a wrong token or unknown edge is join_token_invalid", async () => {
  const hub = await openTestHub();
  try {
    const bundle = await hub.addEdge("edge-1");
    assertEquals(
      await refusal(async () =>
        client(hub, "edge-1").join(await edgeKey(), { ...joinRequest(bundle), join_token: "not-it" })
      ),
      "join_token_invalid",
    );
    assertEquals(
      await refusal(async () =>
        client(hub, "edge-9").join(await edgeKey(), { ...joinRequest(bundle), edge_name: "edge-9" })
      ),
      "join_token_invalid",
    );
    hub.advance(24 * HOUR - 60_000);
    const fresh = await hub.addEdge("edge-2");
    hub.advance(2 * 60_000);
    assertEquals(
      await refusal(async () => client(hub, "edge-1").join(await edgeKey(), joinRequest(bundle))),
      "join_token_expired",
    );
    await client(hub, "edge-2").join(await edgeKey(), joinRequest(fresh));
  } finally {
    await hub.close();
  }
});

Deno.test("a session without contact for over 7 days is refused (session_expired); any contact within them renews it", async () => {
  const hub = await openTestHub();
  try {
    const { key, edge } = await joinedEdge(hub);
    hub.advance(6 * DAY);
    const reply = await edge.checkIn(key, CHECK_IN);
    assertEquals(reply.session_expires_at, hub.now() + 7 * DAY);
    hub.advance(6 * DAY);
    await edge.upload(key, (await hub.store.edgeByName("edge-1"))!.id, asPage(rows(1, 3, "edge-1")));
    hub.advance(7 * DAY + 1000);
    assertEquals(await refusal(() => edge.checkIn(key, CHECK_IN)), "session_expired");
    assertEquals(await refusal(() => edge.upload(key, "id", asPage(rows(4, 1, "edge-1")))), "session_expired");
  } finally {
    await hub.close();
  }
});

Deno.test("request tokens: a replay, a token for another body or endpoint, a foreign key and no token are all refused", async () => {
  const hub = await openTestHub();
  try {
    const { key } = await joinedEdge(hub);
    const body = new TextEncoder().encode(JSON.stringify(CHECK_IN));
    const post = async (token: string | undefined, path = "/v1/checkin", payload = body) =>
      await hub.fetch(`http://hub.test${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: payload,
      });
    const sign = async (k: EdgeKey, op: "checkin" | "logs" = "checkin", b = body) =>
      await signRequestToken({ edgeName: "edge-1", key: k.key, op, body: b, nowMs: hub.now() });
    const token = await sign(key);
    assertEquals((await post(token)).status, 200);
    const replay = await post(token);
    assertEquals([replay.status, (await replay.json()).code], [401, "token_replayed"]);
    const otherBody = await post(
      await sign(key),
      "/v1/checkin",
      new TextEncoder().encode(JSON.stringify({ ...CHECK_IN, backlog_rows: 9 })),
    );
    assertEquals([otherBody.status, (await otherBody.json()).code], [401, "unauthorized"]);
    const otherOp = await post(await sign(key, "logs"));
    assertMatch((await otherOp.json()).error, /for 'logs', not 'checkin'/);
    const foreign = await post(await sign(await edgeKey()));
    assertEquals([foreign.status, (await foreign.json()).code], [401, "unauthorized"]);
    const none = await post(undefined);
    assertEquals(none.status, 401);
    // A token made on a clock 10 minutes away from the hub's is refused (5 minutes are tolerated).
    const behind = await signRequestToken({
      edgeName: "edge-1",
      key: key.key,
      op: "checkin",
      body,
      nowMs: hub.now() - 600_000,
    });
    assertEquals((await post(behind)).status, 401);
    const close = await signRequestToken({
      edgeName: "edge-1",
      key: key.key,
      op: "checkin",
      body,
      nowMs: hub.now() - 60_000,
    });
    assertEquals((await post(close)).status, 200);
    // A token signed to live a day is refused, fresh as it is: Ops takes lifetimes up to 5 minutes.
    const iat = Math.floor(hub.now() / 1000);
    const longLived = await new SignJWT({ op: "checkin", bsh: await bodyHash(body) })
      .setProtectedHeader({ alg: TOKEN_ALG, typ: "JWT" })
      .setIssuer("edge-1").setSubject("edge-1").setAudience(TOKEN_AUDIENCE).setJti(crypto.randomUUID())
      .setIssuedAt(iat).setExpirationTime(iat + 86_400)
      .sign(key.key);
    const refused = await post(longLived);
    assertEquals(refused.status, 401);
    assertMatch(
      (await refused.json()).error,
      /valid for 86400 s \(exp − iat\); Ops takes tokens valid for at most 300 s/,
    );
  } finally {
    await hub.close();
  }
});

Deno.test("a page is stored once: sent again it is acknowledged as duplicates; pages breaking the rules are bad_page", async () => {
  const hub = await openTestHub();
  try {
    const { key, edge, edge_id } = await joinedEdge(hub);
    const first = await edge.upload(key, edge_id, asPage(rows(1, 500, "edge-1")));
    assertEquals([first.first_id, first.last_id, first.stored_rows, first.duplicate_rows], [1, 500, 500, 0]);
    const again = await edge.upload(key, edge_id, asPage(rows(1, 500, "edge-1")));
    assertEquals([again.stored_rows, again.duplicate_rows], [0, 500]);
    // Overlapping pages (a restart with another page size) still store each row once.
    const overlap = await edge.upload(key, edge_id, asPage(rows(401, 200, "edge-1")));
    assertEquals([overlap.stored_rows, overlap.duplicate_rows], [100, 100]);
    const [view] = (await (await hub.fetch("http://hub.test/edges")).json()).edges;
    assertEquals([view.rows_received, view.pages_received, view.duplicate_rows, view.largest_page_rows], [
      600,
      2,
      600,
      500,
    ]);

    const upload = async (page: StoredLogRow[], idempotencyKey: string) => {
      const body = encodePage(page);
      const token = await signRequestToken({ edgeName: "edge-1", key: key.key, op: "logs", body, nowMs: hub.now() });
      const res = await hub.fetch("http://hub.test/v1/logs", {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/vnd.apache.arrow.stream",
          "idempotency-key": idempotencyKey,
        },
        body: body as Uint8Array<ArrayBuffer>,
      });
      return [res.status, await res.json()] as const;
    };
    const [s1, wrongKey] = await upload(rows(700, 2, "edge-1"), pageKey(edge_id, 700, 799));
    assertEquals([s1, wrongKey.code], [400, "bad_page"]);
    const [s2, wrongPartition] = await upload(rows(700, 2, "edge-2"), pageKey(edge_id, 700, 701));
    assertEquals(s2, 400);
    assertMatch(wrongPartition.error, /partition must be the edge name 'edge-1'/);
    const [s3, unordered] = await upload(
      [...rows(702, 1, "edge-1"), ...rows(701, 1, "edge-1")],
      pageKey(edge_id, 702, 701),
    );
    assertEquals(s3, 400);
    assertMatch(unordered.error, /above the previous row's/);
    const [s4] = await upload(rows(703, 1, "edge-1"), pageKey(edge_id, 703, 703));
    assertEquals(s4, 200);
  } finally {
    await hub.close();
  }
});

Deno.test("POST /edges/{name}/logs answers with the edge's /logs shapes (pandas-records JSON and Arrow) and filters", async () => {
  const hub = await openTestHub();
  try {
    const { key, edge, edge_id } = await joinedEdge(hub);
    const sent = rows(1, 2500, "edge-1");
    for (let i = 0; i < sent.length; i += 1000) await edge.upload(key, edge_id, asPage(sent.slice(i, i + 1000)));

    const logs = async (filter: unknown, accept?: string) =>
      await hub.fetch("http://hub.test/edges/edge-1/logs", {
        method: "POST",
        headers: accept ? { accept } : {},
        body: JSON.stringify(filter),
      });
    const json = await (await logs({})).json();
    assertEquals(json.length, 2500);
    // Row for row what the edge's own /logs writes for the same rows.
    for (const i of [0, 1, 1499, 2499]) assertEquals(json[i], JSON.parse(logRecordJson(sent[i])));
    assertEquals((await (await logs({ after: 2490 })).json()).map((r: { metadata: { id: number } }) => r.metadata.id), [
      2491,
      2492,
      2493,
      2494,
      2495,
      2496,
      2497,
      2498,
      2499,
      2500,
    ]);
    assertEquals((await (await logs({ after: 10, limit: 5 })).json()).length, 5);
    const arrow = await logs({ start: sent[2000].time }, "application/vnd.apache.arrow.file");
    assertEquals(arrow.headers.get("content-type"), "application/vnd.apache.arrow.file");
    const table = tableFromIPC(new Uint8Array(await arrow.arrayBuffer()));
    assertEquals(table.numRows, 500);
    assertEquals(Number(table.getChild("metadata.id")!.get(0)), 2001);
    assertEquals(table.getChild("metadata.partition")!.get(0), "edge-1");
    const bad = await logs({ since: 1 });
    assertEquals([bad.status, (await bad.json()).code], [400, "bad_filter"]);
    const unknown = await hub.fetch("http://hub.test/edges/nobody/logs", { method: "POST", body: "{}" });
    assertEquals(unknown.status, 404);
  } finally {
    await hub.close();
  }
});

Deno.test("removed edges: their session is refused (unknown_edge), also once their name is added again", async () => {
  const hub = await openTestHub();
  try {
    const { key } = await joinedEdge(hub);
    assert(await hub.store.removeEdge("edge-1"));
    assertEquals(await refusal(() => client(hub, "edge-1").checkIn(key, CHECK_IN)), "unknown_edge");
    await assertRejects(() => hub.addEdge("edge-2").then(() => hub.addEdge("edge-2")), /already exists/);
    await hub.addEdge("edge-1");
    // The old install, with the session of the edge that was removed, is refused as removed, not left retrying.
    assertEquals(await refusal(() => client(hub, "edge-1").checkIn(key, CHECK_IN)), "unknown_edge");
  } finally {
    await hub.close();
  }
});

Deno.test("a hub that is down or answers 5xx is OpsUnavailable (retried), never a refusal", async () => {
  const hub = await openTestHub();
  try {
    const bundle = await hub.addEdge("edge-1");
    hub.down = true;
    await assertRejects(async () => client(hub, "edge-1").join(await edgeKey(), joinRequest(bundle)), OpsUnavailable);
    hub.down = false;
    const broken = new OpsClient({
      base: new URL("http://hub.test"),
      edgeName: "edge-1",
      fetch: () => Promise.resolve(new Response("no healthy upstream", { status: 503 })),
      now: Date.now,
    });
    await assertRejects(async () => broken.join(await edgeKey(), joinRequest(bundle)), /answered join with 503/);
  } finally {
    await hub.close();
  }
});

Deno.test("a database failure is 503 unavailable (retried by the edge), logged with its cause and SQL, never with the rows or keys it carried", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-hub-test-" });
  const lines: string[] = [];
  const hub = await openTestHub(await openSqliteHubStore(dir), (line) => lines.push(line));
  try {
    const { key, edge, edge_id } = await joinedEdge(hub);
    // The table the rows go to is gone (as good as a full disk or a database that went away, and reproducible).
    const other = createClient({ url: `file:${dir}/${HUB_DB_FILE}` });
    await other.execute("DROP TABLE log_rows");
    other.close();
    const page = rows(1, 3, "edge-1");
    const err = await edge.upload(key, edge_id, asPage(page)).catch((e) => e);
    assert(err instanceof OpsUnavailable, String(err));
    assertEquals(err.status, 503);
    assertMatch(err.message, /unavailable: Ops cannot use its database now/);
    assert(!/log_rows|no such table/.test(err.message), err.message); // nothing of the schema for the caller
    const logged = lines.join("\n");
    assertMatch(logged, /hub database: ingest failed: database query failed: .*no such table: log_rows/);
    assertMatch(logged, /\(query: insert into "log_rows"/);
    for (const secret of [page[0].inJson, page[1].outJson, edge_id]) assert(!logged.includes(secret), logged);
    // The rest of the hub keeps answering.
    assertEquals((await hub.fetch("http://hub.test/health")).status, 200);
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a check-in reporting a pipeline reference over 2,048 characters is refused (bad_request)", async () => {
  const hub = await openTestHub();
  try {
    const { key, edge } = await joinedEdge(hub);
    await edge.checkIn(key, { ...CHECK_IN, pipeline_url: `reg.example.com/p/a:${"v".repeat(100)}` });
    const err = await edge.checkIn(key, { ...CHECK_IN, pipeline_url: `reg.example.com/p/${"a".repeat(3000)}:v1` })
      .catch((e) => e);
    assert(err instanceof OpsUnavailable, String(err));
    assertEquals(err.status, 400);
    assertMatch(err.message, /'pipeline_url' is longer than 2048 characters/);
  } finally {
    await hub.close();
  }
});

Deno.test("a stranger cannot make the hub hold a large body: an upload's token is checked before its body is read; join and check-in take 64 KiB", async () => {
  const hub = await openTestHub();
  try {
    await joinedEdge(hub);
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1 << 20;
        controller.enqueue(new Uint8Array(1 << 20));
      },
    });
    const forged = `${btoa(JSON.stringify({ alg: "EdDSA" }))}.${btoa(JSON.stringify({ sub: "edge-1" }))}.c2ln`;
    const res = await hub.fetch("http://hub.test/v1/logs", {
      method: "POST",
      headers: { authorization: `Bearer ${forged}`, "content-type": "application/vnd.apache.arrow.stream" },
      body: endless,
    });
    assertEquals([res.status, (await res.json()).code], [401, "unauthorized"]);
    await endless.cancel().catch(() => {});
    assert(pulled <= 2 << 20, `the hub read ${pulled} bytes of an unauthenticated body`);
    for (const path of ["/v1/join", "/v1/checkin"]) {
      const big = await hub.fetch(`http://hub.test${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${forged}`, "content-type": "application/json" },
        body: JSON.stringify({ edge_name: "edge-1", pad: "x".repeat(100_000) }),
      });
      const code = (await big.json()).code;
      // join reads its small body first; check-in refuses the token before reading anything.
      assertEquals([big.status, code], path === "/v1/join" ? [413, "payload_too_large"] : [401, "unauthorized"]);
    }
  } finally {
    await hub.close();
  }
});
