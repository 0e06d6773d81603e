/**
 * @module
 * Stopping under load, through the real process (and dist/tern with TERN_BIN): SIGTERM lets every request in flight
 * finish and answers it, flushes the log (LOG_DURABILITY=async queues rows after the reply) so every answered request
 * is logged, and exits 0; a second signal exits at once. The model takes about 100 ms a run, so requests queue.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { publishModel } from "../support/publish.ts";
import { startRegistry } from "../support/registry.ts";
import { startTern, ternCommand } from "../support/tern_process.ts";
import { spawnForPort } from "../support/child_port.ts";

const SLOW = new URL("../testdata/slow_matmul.onnx", import.meta.url).pathname;

/** What the clients saw. */
interface Seen {
  /** Status of every reply. */
  statuses: number[];
  /** Requests sent before the signal and answered after it: in flight when it came. */
  inFlightAnswered: number;
  /** Requests sent before the signal that got no reply (an in-flight request dropped). */
  droppedBeforeSignal: number;
}

/** `clients` loops sending inferences, each waiting for its reply, until a request after the signal fails. */
function load(url: string, clients: number, signalled: () => boolean): { seen: Seen; done: Promise<void> } {
  const seen: Seen = { statuses: [], inFlightAnswered: 0, droppedBeforeSignal: 0 };
  const client = async () => {
    while (true) {
      const sentBefore = !signalled();
      try {
        const res = await fetch(`${url}/infer`, {
          method: "POST",
          headers: { "content-type": "application/json; format=pandas-records" },
          body: JSON.stringify([{ x: [2] }]),
        });
        await res.body?.cancel();
        seen.statuses.push(res.status);
        if (sentBefore && signalled()) seen.inFlightAnswered++;
      } catch {
        // Not accepted: tern stopped listening. Only a request sent before the signal counts as dropped.
        if (sentBefore) seen.droppedBeforeSignal++;
        return;
      }
    }
  };
  return { seen, done: Promise.all(Array.from({ length: clients }, client)).then(() => {}) };
}

async function logRows(persist: string): Promise<number> {
  const tern = await startTern({ env: { PERSISTENT_VOLUME_DIR: persist } });
  try {
    const res = await fetch(`${tern.url}/logs`, {
      method: "POST",
      headers: { "content-type": "application/json; format=pandas-records" },
      body: "{}",
    });
    assertEquals(res.status, 200);
    return (await res.json()).length;
  } finally {
    await tern.stop();
  }
}

Deno.test("SIGTERM under load: every request in flight is answered, every answered request is logged, exit 0", async () => {
  const registry = await startRegistry("none");
  const persist = await Deno.makeTempDir({ prefix: "tern-shutdown-" });
  try {
    const reference = `${registry.host}/pipelines/slow:v1`;
    const published = await publishModel(SLOW, "slow", reference);
    assertEquals(published.code, 0, published.stderr);
    const tern = await startTern({
      env: { PIPELINE_URL: reference, LOG_DURABILITY: "async", PERSISTENT_VOLUME_DIR: persist },
      readyTimeoutMs: 60_000,
    });
    let signalled = false;
    const { seen, done } = load(tern.url, 4, () => signalled);
    // Every client has had replies: four requests are running or queued (one at a time, ≈ 100 ms each).
    while (seen.statuses.length < 4) await new Promise((r) => setTimeout(r, 20));
    // Signal mid-run, 50 ms after a reply, when the client that got it has sent its next request long since (within
    // a millisecond or so). At a random moment that request could still be on its way on a kept-alive connection that
    // tern, stopping, closes as idle: a request tern never received, which no server can answer.
    const replies = seen.statuses.length;
    while (seen.statuses.length === replies) await new Promise((r) => setTimeout(r, 2));
    await new Promise((r) => setTimeout(r, 50));
    signalled = true;
    const code = await tern.stop();
    await done;
    assertEquals(code, 0, tern.output());
    assertMatch(tern.output(), /SIGTERM: finishing in-flight requests and stopping/);
    assertEquals(seen.statuses.filter((s) => s !== 200), [], "a request got an error reply");
    assertEquals(seen.droppedBeforeSignal, 0, "a request in flight at the signal got no reply");
    assert(seen.inFlightAnswered > 0, "no request was in flight at the signal");
    assertEquals(await logRows(persist), seen.statuses.length, "answered requests and logged rows differ");
  } finally {
    await registry.stop();
    await Deno.remove(persist, { recursive: true });
  }
});

Deno.test("a second signal while requests are still draining exits at once (128 + the signal's number)", async () => {
  const registry = await startRegistry("none");
  try {
    const reference = `${registry.host}/pipelines/slow:v1`;
    const published = await publishModel(SLOW, "slow", reference);
    assertEquals(published.code, 0, published.stderr);
    const tern = await startTern({ env: { PIPELINE_URL: reference, LOG_DURABILITY: "off" }, readyTimeoutMs: 60_000 });
    // Thirty requests for a model that runs one at a time: seconds of work queued.
    const requests = Array.from({ length: 30 }, () =>
      fetch(`${tern.url}/infer`, {
        method: "POST",
        headers: { "content-type": "application/json; format=pandas-records" },
        body: JSON.stringify([{ x: [2] }]),
      }).then((res) => res.body?.cancel(), () => {}));
    await new Promise((r) => setTimeout(r, 200));
    Deno.kill(tern.pid, "SIGTERM");
    while (!/SIGTERM: finishing in-flight requests/.test(tern.output())) await new Promise((r) => setTimeout(r, 20));
    const code = await tern.kill("SIGINT");
    await Promise.all(requests);
    assertEquals(code, 130, tern.output());
    assertMatch(tern.output(), /SIGINT again: exiting at once/);
  } finally {
    await registry.stop();
  }
});

/**
 * Starts tern serving with `env` (from a temporary folder), sends SIGTERM once its output matches `when` (whose
 * first group is the port it listens on), and asserts it stopped as it should: the stop line, exit 0 (not 134, 139
 * or 143, as onnxruntime's aborts and an unhandled signal give).
 */
async function sigtermWhen(env: Record<string, string>, when: RegExp): Promise<void> {
  const cwd = await Deno.makeTempDir({ prefix: "tern-shutdown-start-" });
  const [program, ...pre] = ternCommand();
  try {
    const { watched, port } = await spawnForPort(
      new Deno.Command(program, {
        args: [...pre, "--host", "127.0.0.1", "--port", "0"],
        cwd,
        env: { NO_COLOR: "1", PERSISTENT_VOLUME_DIR: `${cwd}/persist`, ...env },
        stdout: "piped",
        stderr: "piped",
      }),
      when,
      60_000,
    );
    assert(port !== undefined, watched.output());
    const code = await watched.stop("SIGTERM");
    assertEquals(code, 0, watched.output());
    assertMatch(watched.output(), /SIGTERM: finishing in-flight requests and stopping/);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

Deno.test("SIGTERM right after the Listening line, while start-up fetches the pipeline and a worker loads onnxruntime: exit 0", async () => {
  // A registry that accepts and never answers: tern listens, its native worker warms up, the fetch hangs.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    await sigtermWhen({
      PIPELINE_URL: `127.0.0.1:${listener.addr.port}/pipelines/house-price:v1`,
      OCI_TIMEOUT: "60",
      INFERENCE_BACKEND: "native",
    }, /Listening on http:\/\/[^:]+:(\d+)/);
  } finally {
    listener.close();
    for (const conn of held) conn.close();
    await accepting.catch(() => {});
  }
});

Deno.test("SIGTERM while the first model loads (in its worker, being timed): the load finishes, then exit 0 (it crashed, 139)", async () => {
  const registry = await startRegistry("none");
  try {
    const reference = `${registry.host}/pipelines/slow:v1`;
    const published = await publishModel(SLOW, "slow", reference);
    assertEquals(published.code, 0, published.stderr);
    // The load has begun: a worker loads the ≈100 ms-a-run model and times several runs of it.
    await sigtermWhen({ PIPELINE_URL: reference }, /Listening on http:\/\/[^:]+:(\d+)[\s\S]*Starting engine/);
  } finally {
    await registry.stop();
  }
});
