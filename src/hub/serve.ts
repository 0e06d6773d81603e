/**
 * @module
 * `tern hub serve`: opens the store, serves the hub's app, forgets expired
 * request-token ids every minute, and stops on SIGINT/SIGTERM after finishing
 * requests in flight.
 */
import { errorText } from "../errors.ts";
import { createHubApp } from "./app.ts";
import type { HubConfig } from "./config.ts";
import { describeStore, openHubStore } from "./open_store.ts";
import { isLoopbackHost } from "../loopback.ts";
import { listenError } from "../server/listen.ts";

/** Where the hub writes its lines. */
export interface HubOutput {
  info(line: string): void;
  error(line: string): void;
}

/** How often expired request-token ids are deleted. */
const PURGE_MS = 60_000;

/**
 * The warning for a hub that serves its read routes (the fleet, every edge's uploaded inputs and outputs, metrics)
 * without HUB_API_TOKEN on an address other hosts reach; undefined when it has the token or listens on loopback.
 */
export function openReadsWarning(config: Pick<HubConfig, "host" | "apiToken">): string | undefined {
  if (config.apiToken !== undefined || isLoopbackHost(config.host)) return undefined;
  return `warning: HUB_API_TOKEN is not set, so the fleet page, /edges, /metrics and every edge's uploaded log ` +
    `(its inputs and outputs) are open to whoever reaches ${config.host}; set HUB_API_TOKEN, or listen on ` +
    `loopback (HUB_HOST=127.0.0.1) behind a proxy that authenticates`;
}

/** Serves until a signal stops it. */
export async function serveHub(config: HubConfig, out: HubOutput): Promise<void> {
  const now = () => Date.now() + config.clockOffsetMs;
  if (config.clockOffsetMs !== 0) {
    out.error(
      `warning: TERN_HUB_TEST_CLOCK_OFFSET_MS shifts this hub's clock by ${config.clockOffsetMs} ms (tests only)`,
    );
  }
  const open = openReadsWarning(config);
  if (open) out.error(open);
  const store = await openHubStore(config);
  const app = createHubApp({
    store,
    now,
    log: out.info,
    debugLog: config.debug ? (line) => out.info(`debug: ${line}`) : undefined,
    apiToken: config.apiToken,
  });
  const purge = setInterval(() => {
    store.purgeTokenIds(now()).catch((err) => out.error(`purging expired token ids failed: ${errorText(err)}`));
  }, PURGE_MS);
  const tls = config.tlsCert === undefined ? undefined : {
    cert: await Deno.readTextFile(config.tlsCert),
    key: await Deno.readTextFile(config.tlsKey!),
  };
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: config.host,
      port: config.port,
      ...tls,
      onListen: ({ hostname, port }) =>
        out.info(
          `tern hub listening on ${tls ? "https" : "http"}://${hostname}:${port} (state: ${describeStore(config)})`,
        ),
    }, app.fetch);
  } catch (err) {
    clearInterval(purge);
    await store.close();
    throw listenError(err, config.host, config.port, { host: "HUB_HOST", port: "HUB_PORT" });
  }
  const stop = async (signal: string) => {
    out.info(`${signal}: finishing in-flight requests and stopping`);
    clearInterval(purge);
    let code = 0;
    for (const step of [() => server.shutdown(), () => store.close()]) {
      try {
        await step();
      } catch (err) {
        out.error(`while stopping: ${errorText(err)}`);
        code = 1;
      }
    }
    Deno.exit(code);
  };
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  await server.finished;
}
