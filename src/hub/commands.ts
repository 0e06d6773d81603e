/**
 * @module
 * `tern hub …`: serve, and the commands that manage the fleet straight in the
 * hub's database (they work while hubs serve): add-edge prints an EDGE_BUNDLE
 * on stdout, remove-edge, set-pipeline, edges.
 */
import { base64Url, JOIN_TOKEN_TTL_MS, tokenHash } from "../ops/protocol.ts";
import { type HubConfig, hubHelpText } from "./config.ts";
import { edgesTable, edgeView } from "./edges_view.ts";
import { describeStore, openHubStore } from "./open_store.ts";
import { hubDbPath } from "./store_sqlite.ts";
import { type HubOutput, serveHub } from "./serve.ts";
import type { HubStore } from "./store.ts";
import { NotFound } from "../errors.ts";

/** The bundle format's version. */
export const BUNDLE_VERSION = "1";

/** Runs one `tern hub` command. */
export async function runHub(config: HubConfig, out: HubOutput = consoleOutput): Promise<void> {
  if (config.command === "help") return out.info(hubHelpText());
  if (config.command === "serve") return await serveHub(config, out);
  // The fleet commands write the database a hub serves from: a mistyped --state-dir (or a command run from another
  // folder than ./hub-state's) would quietly make a new, empty one, whose bundles no hub knows.
  const fresh = config.databaseUrl === undefined && !await exists(hubDbPath(config.stateDir));
  const store = await openHubStore(config);
  out.error(
    `hub state: ${describeStore(config)}${
      fresh ? " (made now: no hub has served from it; give the --state-dir or --database-url of the hub)" : ""
    }`,
  );
  try {
    await manage(store, config, out);
  } finally {
    await store.close();
  }
}

async function manage(store: HubStore, config: HubConfig, out: HubOutput): Promise<void> {
  const now = Date.now() + config.clockOffsetMs;
  const name = config.name!;
  switch (config.command) {
    case "add-edge": {
      const bundle = await addEdge(store, { ...config, name }, now);
      out.info(bundle);
      out.error(
        `Added edge '${name}'. Above is its EDGE_BUNDLE: its join token works once, until ${
          new Date(now + JOIN_TOKEN_TTL_MS).toISOString()
        }. Start the edge with EDGE_BUNDLE=<that line>; it reaches this hub at ${config.opscenterHost}${
          config.opscenterHostGiven
            ? ""
            : " (no --opscenter-host given: only an edge on this machine reaches localhost; give the address edges use)"
        }.`,
      );
      return;
    }
    case "remove-edge":
      if (!await store.removeEdge(name)) throw new NotFound(`no edge named '${name}'`);
      out.error(`Removed edge '${name}' and the log rows it uploaded; its session no longer works.`);
      return;
    case "set-pipeline":
      if (!await store.setPipeline(name, config.pipelineUrl!)) throw new NotFound(`no edge named '${name}'`);
      out.error(`Edge '${name}' is assigned ${config.pipelineUrl}; it hears so at its next check-in.`);
      return;
    case "edges":
      out.info(edgesTable((await store.edges()).map(edgeView), now));
      return;
  }
}

/** Registers edge `name` with a fresh join token; returns its EDGE_BUNDLE (the one place the token is shown). */
export async function addEdge(
  store: HubStore,
  edge: { name: string; pipelineUrl?: string; workspace: string; opscenterHost: string },
  now: number,
): Promise<string> {
  const token = base64Url(crypto.getRandomValues(new Uint8Array(32)));
  await store.addEdge({
    id: crypto.randomUUID(),
    name: edge.name,
    workspaceId: edge.workspace,
    pipelineUrl: edge.pipelineUrl ?? null,
    tokenHash: await tokenHash(token),
    tokenCreatedAt: now,
    createdAt: now,
  });
  return edgeBundle({
    BUNDLE_VERSION,
    EDGE_NAME: edge.name,
    JOIN_TOKEN: token,
    OPSCENTER_HOST: edge.opscenterHost,
    PIPELINE_URL: edge.pipelineUrl ?? "",
    WORKSPACE_ID: edge.workspace,
  });
}

/** The EDGE_BUNDLE: base64 of `export KEY=VALUE` lines. */
export function edgeBundle(values: Record<string, string>): string {
  const text = Object.entries(values).map(([k, v]) => `export ${k}=${v}`).join("\n") + "\n";
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

const consoleOutput: HubOutput = {
  info: (line) => console.log(line),
  error: (line) => console.error(line),
};

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}
