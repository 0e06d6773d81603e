/**
 * Ops sync between real processes: tern with an EDGE_BUNDLE and `tern hub`
 * (libSQL), both the source or both TERN_BIN. The edge joins once and resumes
 * after restarts; the refusals stop start-up with a message saying what to
 * do; 10,000 inferences reach the hub exactly once although it is stopped for
 * part of the run, and although tern is killed with SIGKILL in the middle of
 * an upload, or its log files are removed while its session stays; and no
 * secret is ever printed, DEBUG on.
 */
import { ATTESTATION_LINE } from "../../src/ops/agent.ts";
import { parseEdgeBundle } from "../../src/ops/edge_bundle.ts";
import { SESSION_FILE } from "../../src/ops/session.ts";
import { LOG_DB_FILE } from "../../src/logs/db.ts";
import { JOURNAL_FILE } from "../../src/logs/journal.ts";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { addEdge, edgeOf, freePort, type HubProcess, runToExit, startHub, until } from "../support/hub_process.ts";
import { startOpsProxy } from "../support/ops_proxy.ts";
import { loadReference, recordsBody } from "../support/reference.ts";
import { requireSystemPackage } from "../support/system_packages.ts";
import { startTern, type TernProcess } from "../support/tern_process.ts";

const ref = loadReference();
const HOUR = 3600_000;
const OCI_PASSWORD = "oci-Pa55word-never-shown";
const PAGE = 500;

/** The environment of an edge with `bundle` keeping its state in `persist`. */
function edgeEnv(bundle: string, persist: string): Record<string, string> {
  return {
    EDGE_BUNDLE: bundle,
    PERSISTENT_VOLUME_DIR: persist,
    OPS_CHECKIN_INTERVAL: "1",
    PLATEAU_PAGE_SIZE: String(PAGE),
    LOCAL_INFERENCE_STORAGE: "256Mi",
    DEBUG: "true",
    OCI_USERNAME: "robot",
    OCI_PASSWORD,
  };
}

/** Sends `rows` inference rows (the reference rows, repeated) in requests of 500. */
async function infer(tern: TernProcess, rows: number): Promise<void> {
  for (let sent = 0; sent < rows; sent += 500) {
    const n = Math.min(500, rows - sent);
    const batch = Array.from({ length: n }, (_, i) => ref.inputs[(sent + i) % ref.inputs.length]);
    const res = await fetch(`${tern.url}/infer`, {
      method: "POST",
      headers: { "content-type": "application/json; format=pandas-records" },
      body: recordsBody(batch),
    });
    await res.body?.cancel();
    assertEquals(res.status, 200, "serving never waits on Ops");
  }
}

interface LogRecord {
  in: unknown;
  out: unknown;
  time: number;
  metadata: { id: number; partition: string };
}

async function logsOf(url: string): Promise<LogRecord[]> {
  return await (await fetch(url, { method: "POST", body: "{}" })).json();
}

/** The hub holds each of the edge's rows exactly once, equal to the edge's own /logs, in pages of ≤ PAGE. */
async function assertExactlyOnce(hubUrl: string, tern: TernProcess, name: string, total: number): Promise<void> {
  const edge = await edgeOf(hubUrl, name);
  assertEquals(edge.rows_received, total);
  assert(edge.largest_page_rows <= PAGE, `a page of ${edge.largest_page_rows} rows (PLATEAU_PAGE_SIZE ${PAGE})`);
  const atHub = await logsOf(`${hubUrl}/edges/${name}/logs`);
  assertEquals(atHub.map((r) => r.metadata.id), Array.from({ length: total }, (_, i) => i + 1));
  assert(atHub.every((r) => r.metadata.partition === name), "partition = edge name");
  const atEdge = await logsOf(`${tern.url}/logs`);
  assertEquals(atEdge.length, total);
  assertEquals(atHub, atEdge, "the hub's rows are the edge's rows, in the same shape");
}

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tern-e2e-ops-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("join once, resume after a restart; a second install, an expired token and an expired session are refused; no secret is printed", async () => {
  await withTemp(async (dir) => {
    const state = { stateDir: `${dir}/hub` };
    const port = freePort();
    const printed: string[] = [];
    const hubs: HubProcess[] = [];
    const hub = async (env: Record<string, string> = {}) => {
      const h = await startHub(state, port, { DEBUG: "true", ...env });
      hubs.push(h);
      return h;
    };
    try {
      let h = await hub();
      const bundle = await addEdge(state, "edge-a", h.host);
      const serveArgs = ["--host", "127.0.0.1", "--port", "0"];

      const first = await startTern({ env: edgeEnv(bundle, `${dir}/p1`) });
      await until("the attestation line", () => first.output().includes(ATTESTATION_LINE));
      // The join sets last contact; only a check-in sets the status.
      await until("a check-in", async () => (await edgeOf(h.url, "edge-a")).status === "Running");
      assertEquals((await Deno.stat(`${dir}/p1/${SESSION_FILE}`)).mode! & 0o777, 0o600);
      assertEquals(await first.stop(), 0);
      printed.push(first.output());

      const restarted = await startTern({ env: edgeEnv(bundle, `${dir}/p1`) });
      await until("a check-in after the restart", () => /checked in/.test(restarted.output()));
      assertEquals(await restarted.stop(), 0);
      printed.push(restarted.output());
      assertMatch(restarted.output(), /resumes its session .* the join token is not sent again/);
      assert(!restarted.output().includes(ATTESTATION_LINE), "the restart did not join again");

      const second = await runToExit(serveArgs, edgeEnv(bundle, `${dir}/p2`));
      printed.push(second.stdout + second.stderr);
      assertEquals(second.code, 1, second.stderr);
      assertMatch(second.stderr, /JOIN_TOKEN of this EDGE_BUNDLE was already used.*create a new edge bundle/);

      const late = await addEdge(state, "edge-b", h.host);
      await h.stop();
      h = await hub({ TERN_HUB_TEST_CLOCK_OFFSET_MS: String(25 * HOUR) });
      const expiredToken = await runToExit(serveArgs, edgeEnv(late, `${dir}/p3`));
      printed.push(expiredToken.stdout + expiredToken.stderr);
      assertEquals(expiredToken.code, 1, expiredToken.stderr);
      assertMatch(expiredToken.stderr, /JOIN_TOKEN of this EDGE_BUNDLE has expired.*create a new edge bundle/);

      await h.stop();
      h = await hub({ TERN_HUB_TEST_CLOCK_OFFSET_MS: String(8 * 24 * HOUR) });
      const expiredSession = await runToExit(serveArgs, edgeEnv(bundle, `${dir}/p1`));
      printed.push(expiredSession.stdout + expiredSession.stderr);
      assertEquals(expiredSession.code, 1, expiredSession.stderr);
      assertMatch(expiredSession.stderr, /session of edge 'edge-a' expired.*over 7 days.*create a new edge bundle/);
      await h.stop();

      // DEBUG was on everywhere; neither tern nor the hub printed a join token, the key, a request token or the password.
      const all = [...printed, ...hubs.map((x) => x.output())].join("\n");
      assertMatch(all, /debug: config/);
      const privateKey = JSON.parse(await Deno.readTextFile(`${dir}/p1/${SESSION_FILE}`)).privateJwk.d;
      for (
        const [what, secret] of [
          ["a join token", parseEdgeBundle(bundle).JOIN_TOKEN],
          ["a join token", parseEdgeBundle(late).JOIN_TOKEN],
          ["the private key", privateKey],
          ["the OCI password", OCI_PASSWORD],
          ["a request token (JWT)", "eyJ"],
        ]
      ) assert(!all.includes(secret), `${what} was printed`);
    } finally {
      for (const h of hubs) await h.stop();
    }
  });
});

Deno.test("10,000 inferences while the hub is stopped for part of the run: the hub holds each row exactly once", async () => {
  await withTemp(async (dir) => {
    const state = { stateDir: `${dir}/hub` };
    const port = freePort();
    let hub = await startHub(state, port);
    const bundle = await addEdge(state, "edge-1", hub.host);
    const tern = await startTern({ env: edgeEnv(bundle, `${dir}/persist`) });
    try {
      await until("the join", () => tern.output().includes(ATTESTATION_LINE));
      await infer(tern, 3000);
      await until("some rows uploaded", async () => (await edgeOf(hub.url, "edge-1")).rows_received > 0);
      await hub.stop();
      await infer(tern, 4000);
      await until("the outage noticed", () => /Ops upload failed/.test(tern.output()));
      hub = await startHub(state, port);
      await infer(tern, 3000);
      await until("all 10,000 rows at the hub", async () => (await edgeOf(hub.url, "edge-1")).rows_received === 10_000);
      await until("a check-in reporting no backlog", async () => (await edgeOf(hub.url, "edge-1")).backlog_rows === 0);
      await assertExactlyOnce(hub.url, tern, "edge-1", 10_000);
      assertMatch(tern.output(), /Ops is reachable again/);

      // The fleet commands work beside the serving hub; pandas reads the fleet's log as it reads an edge's.
      const listed = await runToExit(["hub", "edges", "--state-dir", state.stateDir], {});
      assertMatch(listed.stdout, /^edge-1 +\S+ \(\d+ s ago\) +Running +- +0 +10000 +0$/m);
      await requireSystemPackage("python3-pandas");
      const file = `${dir}/fleet.json`;
      await Deno.writeFile(
        file,
        new Uint8Array(
          await (await fetch(`${hub.url}/edges/edge-1/logs`, { method: "POST", body: "{}" })).arrayBuffer(),
        ),
      );
      const pandas = await new Deno.Command("/usr/bin/python3", {
        args: [
          "-c",
          "import sys, pandas as pd; df = pd.read_json(sys.argv[1], orient='records'); print(df.shape, df['metadata'][0]['partition'])",
          file,
        ],
        stdout: "piped",
      }).output();
      assertEquals(new TextDecoder().decode(pandas.stdout).trim(), "(10000, 5) edge-1");

      const assigned = await runToExit([
        "hub",
        "set-pipeline",
        "--edge",
        "edge-1",
        "--pipeline-url",
        "reg.example/p:2",
        "--state-dir",
        state.stateDir,
      ], {});
      assertEquals(assigned.code, 0, assigned.stderr);
      await until(
        "the assignment heard",
        () => tern.output().includes("Ops assigns pipeline reg.example/p:2 to edge 'edge-1'"),
      );
      const removed = await runToExit(["hub", "remove-edge", "--name", "edge-1", "--state-dir", state.stateDir], {});
      assertEquals(removed.code, 0, removed.stderr);
      await until(
        "the refusal heard",
        () => /Ops no longer knows edge 'edge-1'.*Serving goes on without Ops sync/.test(tern.output()),
      );
      await infer(tern, 500);
    } finally {
      await tern.stop();
      await hub.stop();
    }
  });
});

Deno.test("kill -9 of tern while an upload is in flight, then a restart: every row still reaches the hub exactly once", async () => {
  await withTemp(async (dir) => {
    const state = { stateDir: `${dir}/hub` };
    const hub = await startHub(state, freePort());
    // The third upload's page is stored by the hub, but its reply never reaches tern.
    const proxy = startOpsProxy([hub.host], { holdUpload: 3 });
    const bundle = await addEdge(state, "edge-k", proxy.host);
    const env = edgeEnv(bundle, `${dir}/persist`);
    let tern = await startTern({ env });
    try {
      await infer(tern, 5000);
      await proxy.held;
      const stored = (await edgeOf(hub.url, "edge-k")).rows_received;
      await tern.kill("SIGKILL");
      proxy.release();

      tern = await startTern({ env });
      await until("all 5,000 rows at the hub", async () => (await edgeOf(hub.url, "edge-k")).rows_received === 5000);
      const edge = await edgeOf(hub.url, "edge-k");
      assert(stored > 0 && stored < 5000, `killed mid-way: ${stored} rows were at the hub`);
      assert(edge.duplicate_rows > 0, "the page in flight at the kill was sent again and not stored twice");
      assertMatch(tern.output(), /Ops upload: Ops already held \d+ of the log rows sent \(up to row \d+\)/);
      await assertExactlyOnce(hub.url, tern, "edge-k", 5000);
    } finally {
      await tern.stop();
      await proxy.stop();
      await hub.stop();
    }
  });
});

Deno.test("the log files removed while the Ops session stays: the rows served after reach the hub as new rows", async () => {
  await withTemp(async (dir) => {
    const state = { stateDir: `${dir}/hub` };
    const hub = await startHub(state, freePort());
    const bundle = await addEdge(state, "edge-r", hub.host);
    const persist = `${dir}/persist`;
    const env = edgeEnv(bundle, persist);
    let tern = await startTern({ env });
    const hubIds = async () => (await logsOf(`${hub.url}/edges/edge-r/logs`)).map((r) => r.metadata.id);
    const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
    try {
      await infer(tern, 1000);
      await until("1,000 rows at the hub", async () => (await edgeOf(hub.url, "edge-r")).rows_received === 1000);
      await tern.stop();
      // As an operator freeing space (or a corrupt log moved away) would: the session file stays.
      await Deno.remove(`${persist}/${LOG_DB_FILE}`);
      for (const name of [`${LOG_DB_FILE}-wal`, `${LOG_DB_FILE}-shm`, JOURNAL_FILE]) {
        await Deno.remove(`${persist}/${name}`).catch(() => {});
      }

      tern = await startTern({ env });
      const said = /its rows continue from id (\d+), so that Ops takes them as new/.exec(tern.output());
      assert(said, `no word of the log's new row ids:\n${tern.output()}`);
      const from = Number(said[1]);
      assert(from > 1000, `continues from ${from}`);
      await infer(tern, 1000);
      await until("2,000 rows at the hub", async () => (await edgeOf(hub.url, "edge-r")).rows_received === 2000);
      assertEquals((await edgeOf(hub.url, "edge-r")).duplicate_rows, 0);
      assertEquals(await hubIds(), [...range(1, 1000), ...range(from, 1000)]);
      const atHub = await logsOf(`${hub.url}/edges/edge-r/logs`);
      assertEquals(atHub.slice(1000), await logsOf(`${tern.url}/logs`), "the new log's rows, as the edge holds them");

      // A restart with this log kept goes on from where it is: no second jump.
      await tern.stop();
      tern = await startTern({ env });
      assert(!/its rows continue from id/.test(tern.output()), tern.output());
      await infer(tern, 10);
      await until("2,010 rows at the hub", async () => (await edgeOf(hub.url, "edge-r")).rows_received === 2010);
      assertEquals((await hubIds()).slice(2000), range(from + 1000, 10));
    } finally {
      await tern.stop();
      await hub.stop();
    }
  });
});
