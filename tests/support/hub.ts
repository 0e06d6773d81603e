/**
 * @module
 * The real hub in-process for tests: its Hono app over a real store (libSQL in
 * a temporary folder, or a given PostgreSQL store) with a clock the test moves,
 * and a `fetch` that reaches the app, for the edge's real Ops client.
 */
import { createHubApp } from "../../src/hub/app.ts";
import { addEdge } from "../../src/hub/commands.ts";
import { openSqliteHubStore } from "../../src/hub/store_sqlite.ts";
import type { HubStore } from "../../src/hub/store.ts";
import { type EdgeBundle, parseEdgeBundle } from "../../src/ops/edge_bundle.ts";

/** A hub app with a fake clock. */
export interface TestHub {
  store: HubStore;
  /** Reaches the app; every request passes through `gate` first (a test can make the hub "down"). */
  fetch: typeof fetch;
  /** Requests by path, e.g. `/v1/join`. */
  requests: Map<string, number>;
  /** The hub's clock, ms. */
  now(): number;
  /** Moves the hub's clock. */
  advance(ms: number): void;
  /** While true, every request fails as if the hub were unreachable. */
  down: boolean;
  /** add-edge: the bundle's values. */
  addEdge(name: string, pipelineUrl?: string): Promise<EdgeBundle>;
  close(): Promise<void>;
}

/** Starts a hub app on `store` (default: libSQL in a fresh temporary folder); `log` gets the hub's log lines. */
export async function openTestHub(store?: HubStore, log: (line: string) => void = () => {}): Promise<TestHub> {
  const dir = store ? undefined : await Deno.makeTempDir({ prefix: "tern-hub-test-" });
  const s = store ?? await openSqliteHubStore(dir!);
  let clock = Date.now();
  const app = createHubApp({ store: s, now: () => clock, log });
  const requests = new Map<string, number>();
  const hub: TestHub = {
    store: s,
    requests,
    down: false,
    fetch: async (input, init) => {
      if (hub.down) throw new TypeError("error sending request: Connection refused (os error 111)");
      const req = new Request(input, init);
      const path = new URL(req.url).pathname;
      requests.set(path, (requests.get(path) ?? 0) + 1);
      return await app.fetch(req);
    },
    now: () => clock,
    advance: (ms) => clock += ms,
    addEdge: async (name, pipelineUrl) =>
      parseEdgeBundle(
        await addEdge(s, { name, pipelineUrl, workspace: "default", opscenterHost: "127.0.0.1:9" }, clock),
      ),
    close: async () => {
      await s.close();
      if (dir) await Deno.remove(dir, { recursive: true });
    },
  };
  return hub;
}
