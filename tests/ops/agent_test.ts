/**
 * The edge's Ops sync (src/ops/agent.ts) with its real inference log against
 * the real hub app in-process, whose clock the tests move: join once and
 * resume after restarts without the token, the refusals that stop start-up,
 * and every log row reaching the hub exactly once through an outage, a lost
 * acknowledgement and a restart.
 */
import { type InferenceLog, openInferenceLog } from "../../src/logs/mod.ts";
import { ATTESTATION_LINE, type OpsAgent, startOpsAgent } from "../../src/ops/agent.ts";
import type { EdgeBundle } from "../../src/ops/edge_bundle.ts";
import { SESSION_FILE } from "../../src/ops/session.ts";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { openTestHub, type TestHub } from "../support/hub.ts";
import { demoEntry } from "../support/log_entry.ts";

const DAY = 24 * 3600_000;

/** An agent on `dir` against `hub`, printing into `lines`. */
function agent(
  hub: TestHub,
  bundle: EdgeBundle,
  dir: string,
  options: {
    log?: InferenceLog;
    lines?: string[];
    now?: () => number;
    fetch?: typeof fetch;
    pageRows?: number;
    state?: Parameters<typeof startOpsAgent>[0]["state"];
    follow?: (url: string) => Promise<void>;
    trialMs?: number;
  } = {},
): OpsAgent {
  const lines = options.lines ?? [];
  return startOpsAgent({
    bundle,
    dir,
    plainHttp: false,
    checkinIntervalMs: 200,
    pageRows: options.pageRows ?? 100,
    lingerMs: 20,
    trialMs: options.trialMs,
    log: options.log?.upload,
    onCommit: options.log ? (l) => options.log!.writer.onCommit(l) : undefined,
    state: options.state ?? (() => ({ status: "Running", pipelineName: "p", pipelineUrl: null, pipelineVersion: "v" })),
    follow: options.follow,
    version: "test",
    fetch: options.fetch ?? hub.fetch,
    now: options.now ?? Date.now,
    random: () => 0.5,
    info: (line) => lines.push(line),
    error: (line) => lines.push(line),
  });
}

/** The hub's view of its only edge (`GET /edges`). */
async function hubEdge(hub: TestHub) {
  return (await (await hub.fetch("http://hub.test/edges")).json()).edges[0];
}

/** The log rows the hub holds for edge-1 (`POST /edges/edge-1/logs`). */
async function hubRows(hub: TestHub) {
  return await (await hub.fetch("http://hub.test/edges/edge-1/logs", { method: "POST", body: "{}" })).json();
}

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what} did not happen`);
}

/** A test hub, and edge-1 added to it with a durable log in a fresh folder; the hub is closed after `fn`. */
async function withEdge(
  fn: (edge: { hub: TestHub; bundle: EdgeBundle; dir: string; log: InferenceLog }) => Promise<void>,
): Promise<void> {
  const hub = await openTestHub();
  try {
    await withDirs(async (tempDir) => {
      const dir = await tempDir();
      const bundle = await hub.addEdge("edge-1");
      await fn({ hub, bundle, dir, log: await edgeLog(dir) });
    });
  } finally {
    await hub.close();
  }
}

/** A durable inference log of edge-1 in `dir`. */
function edgeLog(dir: string): Promise<InferenceLog> {
  return openInferenceLog({ dir, sync: "normal", walLimitBytes: 1 << 20 }, {
    durability: "durable",
    partition: "edge-1",
  });
}

async function withDirs(fn: (dirs: () => Promise<string>) => Promise<void>): Promise<void> {
  const made: string[] = [];
  try {
    await fn(async () => {
      const d = await Deno.makeTempDir({ prefix: "tern-ops-agent-" });
      made.push(d);
      return d;
    });
  } finally {
    for (const d of made) await Deno.remove(d, { recursive: true });
  }
}

Deno.test("joins once (attestation line, 0600 session without the token); a restart resumes without sending the token", async () => {
  const hub = await openTestHub();
  await withDirs(async (tempDir) => {
    const dir = await tempDir();
    const bundle = await hub.addEdge("edge-1");
    const lines: string[] = [];
    let a = agent(hub, bundle, dir, { lines });
    assertEquals(await a.firstContact, undefined);
    await a.stop();
    assert(lines.includes(ATTESTATION_LINE), lines.join("\n"));
    const file = `${dir}/${SESSION_FILE}`;
    assertEquals((await Deno.stat(file)).mode! & 0o777, 0o600);
    assert(!(await Deno.readTextFile(file)).includes(bundle.JOIN_TOKEN), "the session never holds the join token");
    assertEquals(hub.requests.get("/v1/join"), 1);

    const again: string[] = [];
    a = agent(hub, bundle, dir, { lines: again });
    assertEquals(await a.firstContact, undefined);
    await a.stop();
    assertEquals(hub.requests.get("/v1/join"), 1, "the restart did not join again");
    assert(!again.includes(ATTESTATION_LINE));
    assertMatch(again.join("\n"), /resumes its session .* the join token is not sent again/);
    const edge = await hubEdge(hub);
    assertEquals(edge.status, "Running");
  });
  await hub.close();
});

Deno.test("an edge that cannot keep its key does not join: the join token stays unused for a start that can", async () => {
  const hub = await openTestHub();
  await withDirs(async (tempDir) => {
    const dir = await tempDir();
    const bundle = await hub.addEdge("edge-1");
    // The session's temporary file cannot be made (a folder is in its place: refused even to root).
    await Deno.mkdir(`${dir}/${SESSION_FILE}.tmp`);
    const lines: string[] = [];
    const blocked = agent(hub, bundle, dir, { lines });
    const failed = await blocked.firstContact;
    await blocked.stop();
    assertMatch(
      String(failed?.message),
      /the edge's key could not be written to .*; not joining, so the JOIN_TOKEN stays/,
    );
    assertEquals(hub.requests.get("/v1/join"), undefined);
    assert(!lines.includes(ATTESTATION_LINE));

    await Deno.remove(`${dir}/${SESSION_FILE}.tmp`);
    const next = agent(hub, bundle, dir, { lines });
    assertEquals(await next.firstContact, undefined, "the token was still unused");
    await next.stop();
    assert(lines.includes(ATTESTATION_LINE));
  });
  await hub.close();
});

Deno.test("start-up refusals: a second fresh install with the same bundle, an expired join token; each says to create a new bundle", async () => {
  const hub = await openTestHub();
  await withDirs(async (tempDir) => {
    const bundle = await hub.addEdge("edge-1");
    const first = agent(hub, bundle, await tempDir());
    assertEquals(await first.firstContact, undefined);
    await first.stop();

    const second = agent(hub, bundle, await tempDir());
    const refused = await second.firstContact;
    await second.stop();
    assertMatch(String(refused?.message), /JOIN_TOKEN of this EDGE_BUNDLE was already used.*create a new edge bundle/);

    const late = await hub.addEdge("edge-2");
    hub.advance(DAY + 1000);
    const expired = agent(hub, late, await tempDir());
    const why = await expired.firstContact;
    await expired.stop();
    assertMatch(String(why?.message), /JOIN_TOKEN of this EDGE_BUNDLE has expired.*24 hours.*create a new edge bundle/);
  });
  await hub.close();
});

Deno.test("an expired session is refused: by Ops after 7 days without contact, then at every start without asking", async () => {
  const hub = await openTestHub();
  await withDirs(async (tempDir) => {
    const dir = await tempDir();
    const bundle = await hub.addEdge("edge-1");
    const a = agent(hub, bundle, dir);
    assertEquals(await a.firstContact, undefined);
    await a.stop();

    hub.advance(8 * DAY);
    const b = agent(hub, bundle, dir);
    const refused = await b.firstContact;
    await b.stop();
    assertMatch(String(refused?.message), /session of edge 'edge-1' expired.*over 7 days.*create a new edge bundle/);

    const before = [...hub.requests.values()].reduce((x, y) => x + y, 0);
    const c = agent(hub, bundle, dir);
    assertMatch(String((await c.firstContact)?.message), /expired.*create a new edge bundle/);
    await c.stop();
    assertEquals([...hub.requests.values()].reduce((x, y) => x + y, 0), before, "refused without a request");
  });
  await hub.close();
});

Deno.test("a session whose last contact is over 7 days old on the edge's clock is refused without asking Ops, but not for good: a corrected clock resumes it", async () => {
  const hub = await openTestHub();
  await withDirs(async (tempDir) => {
    const dir = await tempDir();
    const bundle = await hub.addEdge("edge-1");
    const a = agent(hub, bundle, dir);
    assertEquals(await a.firstContact, undefined);
    await a.stop();
    const checkIns = hub.requests.get("/v1/checkin") ?? 0;
    const later = agent(hub, bundle, dir, { now: () => Date.now() + 8 * DAY });
    assertMatch(
      String((await later.firstContact)?.message),
      /this device's clock \(.*\) says its Ops session expired.*If the clock is wrong, set it right/,
    );
    await later.stop();
    assertEquals(hub.requests.get("/v1/checkin") ?? 0, checkIns);
    // The clock was wrong (a board's RTC before NTP): the next start, with the right time, resumes the session.
    const corrected = agent(hub, bundle, dir);
    assertEquals(await corrected.firstContact, undefined);
    await corrected.stop();
    assert((hub.requests.get("/v1/checkin") ?? 0) > checkIns, "the resumed session did not check in");
  });
  await hub.close();
});

Deno.test("every log row reaches the hub exactly once, in pages of at most pageRows: through an outage, a lost reply and a restart", async () => {
  const hub = await openTestHub();
  await withDirs(async (tempDir) => {
    const dir = await tempDir();
    const bundle = await hub.addEdge("edge-1");
    const settings = { dir, sync: "normal" as const, walLimitBytes: 1 << 20 };
    let log = await openInferenceLog(settings, { durability: "durable", partition: "edge-1" });
    // One upload's reply is lost after the hub stored the page, as on a link that drops mid-answer.
    let lose = 3;
    const lossy: typeof fetch = async (input, init) => {
      const res = await hub.fetch(input, init);
      if (new URL(new Request(input).url).pathname === "/v1/logs" && --lose === 0) {
        throw new TypeError("connection reset by peer");
      }
      return res;
    };
    const lines: string[] = [];
    let a = agent(hub, bundle, dir, { log, lines, fetch: lossy });
    assertEquals(await a.firstContact, undefined);
    for (let i = 0; i < 10; i++) await log.writer.append(demoEntry(i * 100, 100));
    await until("a first part uploaded", async () => (await log.upload.backlog()) < 1000);

    hub.down = true;
    for (let i = 10; i < 20; i++) await log.writer.append(demoEntry(i * 100, 100));
    await until("the outage noticed", () => lines.some((l) => /Ops upload failed/.test(l)));
    hub.down = false;
    for (let i = 20; i < 23; i++) await log.writer.append(demoEntry(i * 100, 100));
    await until("some of the backlog uploaded", async () => (await log.upload.backlog()) < 1500);

    // A restart in the middle: the new agent resumes from the first row not marked uploaded.
    await a.stop();
    await log.close();
    log = await openInferenceLog(settings, { durability: "durable", partition: "edge-1" });
    a = agent(hub, bundle, dir, { log, lines });
    for (let i = 23; i < 25; i++) await log.writer.append(demoEntry(i * 100, 100));
    await until("the backlog uploaded", async () => (await log.upload.backlog()) === 0);
    await a.stop();
    await log.close();

    const edge = await hubEdge(hub);
    assertEquals(edge.rows_received, 2500);
    assert(edge.duplicate_rows >= 1, "the page whose reply was lost was sent again");
    assert(edge.largest_page_rows <= 100, `a page of ${edge.largest_page_rows} rows`);
    const rows = await hubRows(hub);
    assertEquals(
      rows.map((r: { metadata: { id: number } }) => r.metadata.id),
      Array.from({ length: 2500 }, (_, i) => i + 1),
    );
    assertEquals(rows[2499].in.tensor[0], 2400 + 99);
    assert(rows.every((r: { metadata: { partition: string } }) => r.metadata.partition === "edge-1"));
    assert(lines.some((l) => /Ops is reachable again/.test(l)), lines.join("\n"));
  });
  await hub.close();
});

Deno.test("rows logged before the edge joined (the host's partition) reach the hub as the edge's, and stay so on /logs here", async () => {
  const hub = await openTestHub();
  await withDirs(async (tempDir) => {
    const dir = await tempDir();
    const bundle = await hub.addEdge("edge-1");
    const settings = { dir, sync: "normal" as const, walLimitBytes: 1 << 20 };
    // Served without EDGE_BUNDLE first: tern stamps rows with the host's name.
    let log = await openInferenceLog(settings, { durability: "durable", partition: "host-7" });
    for (let i = 0; i < 3; i++) await log.writer.append(demoEntry(i * 100, 100));
    await log.close();
    log = await openInferenceLog(settings, { durability: "durable", partition: "edge-1" });
    await log.writer.append(demoEntry(300, 100));
    const lines: string[] = [];
    const a = agent(hub, bundle, dir, { log, lines });
    await until("the backlog uploaded", async () => (await log.upload.backlog()) === 0);
    await a.stop();
    const local = [];
    for await (const page of log.read({ after: 299, limit: 2 })) local.push(...page.map((r) => r.partition));
    assertEquals(local, ["host-7", "edge-1"]);
    await log.close();
    const rows = await hubRows(hub);
    assertEquals(rows.length, 400);
    assert(rows.every((r: { metadata: { partition: string } }) => r.metadata.partition === "edge-1"));
    assertEquals(lines.filter((l) => /upload failed/.test(l)), []);
  });
  await hub.close();
});

Deno.test("no log page goes to Ops before its rows are on disk here: a power cut cannot take a row Ops has", async () => {
  await withEdge(async ({ hub, bundle, dir, log }) => {
    const events: string[] = [];
    let durable = 0;
    // The log as it is, with its durable mark and the pages the hub takes noted in order.
    const watched = {
      ...log,
      upload: {
        ...log.upload,
        durableThrough: async () => {
          durable = await log.upload.durableThrough();
          events.push(`synced through ${durable}`);
          return durable;
        },
      },
    };
    const noting: typeof fetch = async (input, init) => {
      const req = new Request(input, init);
      if (new URL(req.url).pathname === "/v1/logs") {
        const last = Number((req.headers.get("idempotency-key") ?? "").split("-").pop());
        assert(last <= durable, `rows up to ${last} sent with the log synced through ${durable}`);
        events.push(`sent through ${last}`);
      }
      return await hub.fetch(req);
    };
    const a = agent(hub, bundle, dir, { log: watched, fetch: noting, pageRows: 50 });
    try {
      for (let i = 0; i < 4; i++) {
        await log.writer.append(demoEntry(i * 60, 60));
        await until("the rows uploaded", async () => (await log.upload.backlog()) === 0);
      }
    } finally {
      await a.stop();
    }
    await log.close();
    assertEquals((await hubEdge(hub)).rows_received, 240);
    assert(events.some((e) => e.startsWith("synced")) && events.some((e) => e.startsWith("sent")), events.join("\n"));
  });
});

Deno.test("a page a proxy before Ops refuses as too large (413) is sent again in halves, and later pages keep that size", async () => {
  await withEdge(async ({ hub, bundle, dir, log }) => {
    for (let i = 0; i < 3; i++) await log.writer.append(demoEntry(i * 100, 100));
    // As nginx's client_max_body_size: bodies over 40 % of the first full page are refused before Ops sees them.
    let limit = 0;
    const proxy: typeof fetch = async (input, init) => {
      const size = (init?.body as Uint8Array | undefined)?.length ?? 0;
      if (new URL(new Request(input).url).pathname === "/v1/logs") {
        limit ||= size * 0.4;
        if (size > limit) return new Response("<html>413 Request Entity Too Large</html>", { status: 413 });
      }
      return await hub.fetch(input, init);
    };
    const lines: string[] = [];
    const a = agent(hub, bundle, dir, { log, lines, fetch: proxy, pageRows: 100 });
    await until("the backlog uploaded", async () => (await log.upload.backlog()) === 0);
    await a.stop();
    await log.close();
    const edge = await hubEdge(hub);
    assertEquals([edge.rows_received, edge.largest_page_rows], [300, 25]);
    assertEquals(lines.filter((l) => /413/.test(l)), [
      "Ops upload: a page of 100 rows was too large (413); sending pages of 50 rows",
      "Ops upload: a page of 50 rows was too large (413); sending pages of 25 rows",
    ]);
  });
});

Deno.test("a pipeline Ops assigns is asked for again at each check-in until it serves; Ops hears it is in use only then", async () => {
  const hub = await openTestHub();
  await withDirs(async (tempDir) => {
    const bundle = await hub.addEdge("edge-1");
    const assigned = "reg.example/p@sha256:2";
    await hub.store.setPipeline("edge-1", assigned);
    let serving = "reg.example/p:1";
    const asked: string[] = [];
    const lines: string[] = [];
    const a = agent(hub, bundle, await tempDir(), {
      lines,
      state: () => ({ status: "Running", pipelineName: "p", pipelineUrl: serving, pipelineVersion: "v" }),
      // The first two pulls fail (the registry away): the old pipeline serves on.
      follow: (url) => {
        asked.push(url);
        if (asked.length === 3) serving = url;
        return Promise.resolve();
      },
    });
    assertEquals(await a.firstContact, undefined);
    const inUse = async () => (await hubEdge(hub)).pipeline_in_use;
    await until("a check-in while it does not serve yet", async () => await inUse() === "reg.example/p:1");
    await until("the assignment serving", () => serving === assigned);
    await until("Ops told", async () => await inUse() === assigned);
    const asks = asked.length;
    await new Promise((r) => setTimeout(r, 600)); // three more check-ins
    await a.stop();
    assertEquals([asks, asked.length], [3, 3], "once it serves it is not asked for again");
    assertEquals(lines.filter((l) => l.startsWith("Ops assigns pipeline")).length, 1);
  });
  await hub.close();
});

Deno.test("rows the storage cap evicts before Ops had them are said once each, and Ops is told: received + lost = all", async () => {
  const hub = await openTestHub();
  await withDirs(async (tempDir) => {
    const dir = await tempDir();
    const bundle = await hub.addEdge("edge-1");
    const CAP = 512 * 1024;
    const log = await openInferenceLog({ dir, sync: "normal", walLimitBytes: CAP / 8, capBytes: CAP }, {
      durability: "durable",
      partition: "edge-1",
    });
    const lines: string[] = [];
    const a = agent(hub, bundle, dir, { log, lines });
    assertEquals(await a.firstContact, undefined);
    hub.down = true; // a long outage: the cap fills with rows Ops never had
    let entries = 0;
    while (await log.upload.evictedUnsent() === 0) await log.writer.append(demoEntry(entries++ * 100, 100));
    for (let i = 0; i < 10; i++) await log.writer.append(demoEntry(entries++ * 100, 100));
    const lost = await log.upload.evictedUnsent();
    hub.down = false;
    await until("the backlog uploaded and Ops told", async () => {
      const e = await hubEdge(hub);
      return await log.upload.backlog() === 0 && e.evicted_rows === lost;
    });
    await a.stop();
    await log.close();
    const e = await hubEdge(hub);
    assertEquals(e.rows_received + e.evicted_rows, entries * 100, "every row either arrived or is counted lost");
    const said = lines.filter((l) => l.includes("LOCAL_INFERENCE_STORAGE evicted"));
    assert(said.length >= 1, lines.join("\n"));
    const sum = said.reduce((n, l) => n + Number(/evicted (\d+) log rows/.exec(l)![1]), 0);
    assertEquals(sum, lost, `each lost row is said once:\n${said.join("\n")}`);
    assertMatch(said.at(-1)!, new RegExp(`\\(${lost} since the log was created\\): they will not reach Ops`));
  });
  await hub.close();
});

/**
 * A proxy before the hub that refuses (with `refusal`) every log page whose ids include one of `rows` (all pages when
 * `rows` is undefined); `acked` gets the id ranges the hub took.
 */
function refusingRow(hub: TestHub, rows: number[] | undefined, refusal: () => Response, acked: number[][] = []) {
  const proxy: typeof fetch = async (input, init) => {
    const req = new Request(input, init);
    if (new URL(req.url).pathname !== "/v1/logs") return await hub.fetch(req);
    const [first, last] = (req.headers.get("idempotency-key") ?? "").split(":").pop()!.split("-").map(Number);
    if (rows === undefined || rows.some((row) => first <= row && row <= last)) return refusal();
    const res = await hub.fetch(req);
    if (res.ok) acked.push([first, last]);
    return res;
  };
  return proxy;
}

/** Ops' own 400 for a page holding a row it will not take. */
const badPage = () => Response.json({ error: "a column of the wrong type", code: "bad_page" }, { status: 400 });

/**
 * 300 rows of edge-1 uploaded through a proxy refusing (with `refusal`) every page holding one of `refused`, until
 * none is left unsent: what the edge said, the id ranges the hub took, the rows kept here and the ids the hub holds.
 */
async function uploadPast(refused: number[], refusal: () => Response) {
  const hub = await openTestHub();
  try {
    let result: { lines: string[]; acked: number[][]; kept: number; hubIds: number[] } | undefined;
    await withDirs(async (tempDir) => {
      const dir = await tempDir();
      const bundle = await hub.addEdge("edge-1");
      const log = await edgeLog(dir);
      for (let i = 0; i < 3; i++) await log.writer.append(demoEntry(i * 100, 100));
      const lines: string[] = [];
      const acked: number[][] = [];
      const a = agent(hub, bundle, dir, {
        log,
        lines,
        fetch: refusingRow(hub, refused, refusal, acked),
        pageRows: 100,
      });
      try {
        await until("the backlog uploaded or passed over", async () => (await log.upload.backlog()) === 0);
      } finally {
        await a.stop();
      }
      let kept = 0;
      for await (const page of log.read({})) kept += page.length;
      await log.close();
      result = {
        lines,
        acked,
        kept,
        hubIds: (await hubRows(hub)).map((r: { metadata: { id: number } }) => r.metadata.id),
      };
    });
    return result!;
  } finally {
    await hub.close();
  }
}

for (
  const [status, refusal] of [
    [413, () => new Response("<html>413 Request Entity Too Large</html>", { status: 413 })],
    [400, badPage],
  ] as const
) {
  Deno.test(`one row Ops never takes (${status} at one row) is passed over, said, and kept here: every other row is uploaded`, async () => {
    const { lines, acked, kept, hubIds } = await uploadPast([150], refusal);
    assertEquals(kept, 300);
    assertEquals(hubIds.includes(150), false);
    assertEquals(hubIds.length, 299);
    const passedOver = lines.filter((l) => /will not take log row/.test(l));
    assertEquals(passedOver.length, 1, lines.join("\n"));
    assertMatch(
      passedOver[0],
      new RegExp(`will not take log row 150 \\(.*${status}.*\\); passed over`),
    );
    // Once the row is passed over, full pages go again (a 413 at one row was that row's, not a body limit).
    assert(acked.some(([f, l]) => f > 150 && l - f + 1 >= 99), JSON.stringify(acked));
  });
}

Deno.test("an upload reply that does not acknowledge the page (a catch-all route answering {}) marks nothing uploaded", async () => {
  await withEdge(async ({ hub, bundle, dir, log }) => {
    await log.writer.append(demoEntry(0, 10));
    let catchAll = true;
    const gateway: typeof fetch = async (input, init) => {
      const req = new Request(input, init);
      if (catchAll && new URL(req.url).pathname === "/v1/logs") return Response.json({});
      return await hub.fetch(req);
    };
    const lines: string[] = [];
    const a = agent(hub, bundle, dir, { log, lines, fetch: gateway });
    try {
      await until("the reply refused", () => lines.some((l) => /does not acknowledge them/.test(l)));
      assertEquals(await log.upload.backlog(), 10);
      catchAll = false;
      await until("the backlog uploaded", async () => (await log.upload.backlog()) === 0);
    } finally {
      await a.stop();
    }
    await log.close();
    assertEquals((await hubEdge(hub)).rows_received, 10);
  });
});

for (
  const [what, refusal] of [
    [
      "a proxy's own 400 page",
      () => new Response("<html>400 No required SSL certificate was sent</html>", { status: 400 }),
    ],
    [
      "a hub refusing every page (bad_page)",
      () => Response.json({ error: "unknown column", code: "bad_page" }, { status: 400 }),
    ],
  ] as const
) {
  Deno.test(`when every page is refused (${what}) no row is passed over: the backlog waits, whole`, async () => {
    const hub = await openTestHub();
    await withDirs(async (tempDir) => {
      const dir = await tempDir();
      const bundle = await hub.addEdge("edge-1");
      const log = await edgeLog(dir);
      await log.writer.append(demoEntry(0, 20));
      let tries = 0;
      const proxy = refusingRow(hub, undefined, () => {
        tries++;
        return refusal();
      });
      const lines: string[] = [];
      const a = agent(hub, bundle, dir, { log, lines, fetch: proxy, pageRows: 10 });
      try {
        await until("the pages tried a few times over", () => tries >= 20);
      } finally {
        await a.stop();
      }
      assertEquals(await log.upload.backlog(), 20);
      await log.close();
      assertEquals(lines.filter((l) => /will not take log row/.test(l)), []);
      // A proxy's 400 is a failure like any; Ops' bad_page for every row keeps them all on trial, none taken.
      const said = what.includes("proxy") ? /Ops upload failed: .*400/ : /Ops refused log row 1 alone/;
      assert(lines.some((l) => said.test(l)), lines.join("\n"));
    });
    await hub.close();
  });
}

Deno.test("a refused row whose trial is over is sent again before anything is passed over: Ops, fixed meanwhile, takes it", async () => {
  await withEdge(async ({ hub, bundle, dir, log }) => {
    await log.writer.append(demoEntry(0, 100));
    let refusing = true;
    const refused = refusingRow(hub, [100], badPage);
    const lines: string[] = [];
    const a = agent(hub, bundle, dir, {
      log,
      lines,
      fetch: (input, init) => refusing ? refused(input, init) : hub.fetch(new Request(input, init)),
      trialMs: 300,
    });
    try {
      await until("row 100 on trial", () => lines.some((l) => /Ops refused log row 100 alone/.test(l)));
      refusing = false; // the hub is upgraded: it takes that row now
      await new Promise((r) => setTimeout(r, 400));
      await log.writer.append(demoEntry(100, 1)); // the row after it, once its trial is over
      await until("every row at the hub", async () => (await hubRows(hub)).length === 101);
    } finally {
      await a.stop();
    }
    await log.close();
    assertEquals(
      (await hubRows(hub)).map((r: { metadata: { id: number } }) => r.metadata.id),
      Array.from({ length: 101 }, (_, i) => i + 1),
    );
    assertEquals(lines.filter((l) => /will not take log row/.test(l)), [], "row 100 was passed over");
  });
});

Deno.test("rows Ops refuses one after another (one request's) are passed over together once Ops takes the row after them", async () => {
  const { lines, hubIds } = await uploadPast([150, 151, 152], badPage);
  assertEquals([hubIds.length, hubIds.filter((id) => id >= 150 && id <= 152)], [297, []]);
  assertMatch(lines.join("\n"), /will not take log rows 150, 151, 152 \(.*bad_page.*\); passed over/);
});
