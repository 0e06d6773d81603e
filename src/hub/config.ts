/**
 * @module
 * `tern hub …`'s options: flag, environment variable, meaning and default,
 * and their parsing. src/config.ts hands every `tern hub` command line here
 * (with the environment it read), so it stays the one entry where options are
 * read. Anything invalid is a ConfigError (exit 2) naming the option.
 *
 * Test-only, not in --help: TERN_HUB_TEST_CLOCK_OFFSET_MS adds that many ms
 * to the hub's clock, so end-to-end tests can age join tokens and sessions.
 */
import { parseArgs } from "node:util";
import { ConfigError, errorText } from "../errors.ts";
import { opsBaseUrl } from "../ops/protocol.ts";
import { parseReference } from "../registry/reference.ts";
import { parseBearerToken, parseBool, parsePort } from "../config_values.ts";

/** The hub's commands. */
export type HubCommand = "serve" | "add-edge" | "remove-edge" | "set-pipeline" | "edges" | "help";

const HUB_COMMANDS: readonly HubCommand[] = ["serve", "add-edge", "remove-edge", "set-pipeline", "edges", "help"];

/** Everything `tern hub` needs, resolved once. */
export interface HubConfig {
  command: HubCommand;
  host: string;
  port: number;
  /** libSQL: where hub.db lives (unless databaseUrl). */
  stateDir: string;
  /** PostgreSQL URL; may hold a password: never printed. */
  databaseUrl?: string;
  /** HTTPS: PEM certificate chain and key files (serve); both or neither. */
  tlsCert?: string;
  tlsKey?: string;
  /** What edges use to reach this hub: written into every bundle. */
  opscenterHost: string;
  /** Whether --opscenter-host (HUB_OPSCENTER_HOST) was given, rather than defaulting to localhost. */
  opscenterHostGiven: boolean;
  /** add-edge, remove-edge, set-pipeline: the edge. */
  name?: string;
  /** add-edge, set-pipeline. */
  pipelineUrl?: string;
  workspace: string;
  debug: boolean;
  /** Test-only shift of the hub's clock. */
  clockOffsetMs: number;
  /** HUB_API_TOKEN: the bearer token the read routes (fleet page, /edges, an edge's logs, /metrics) need; never printed. */
  apiToken?: string;
}

/** One hub option. */
interface HubOption {
  flag: string;
  env?: string;
  help: string;
  default?: string;
  boolean?: boolean;
}

/** Every option of `tern hub`. */
export const HUB_OPTIONS: readonly HubOption[] = [
  { flag: "host", env: "HUB_HOST", help: "address to listen on (serve)", default: "0.0.0.0" },
  { flag: "port", env: "HUB_PORT", help: "port to listen on (serve; 0 = any free port)", default: "8090" },
  {
    flag: "state-dir",
    env: "HUB_STATE_DIR",
    help: "folder of the hub's libSQL database hub.db (when HUB_DATABASE_URL is unset)",
    default: "./hub-state",
  },
  {
    flag: "database-url",
    env: "HUB_DATABASE_URL",
    help: "postgres://user:password@host:port/db: keep the hub's state in PostgreSQL, shared by every hub process " +
      "behind a load balancer (never printed)",
  },
  {
    flag: "tls-cert",
    env: "HUB_TLS_CERT",
    help: "PEM certificate (chain) file: serve HTTPS, as edges require for a non-loopback hub (with --tls-key)",
  },
  { flag: "tls-key", env: "HUB_TLS_KEY", help: "PEM private key file of --tls-cert (never printed)" },
  {
    flag: "api-token",
    env: "HUB_API_TOKEN",
    help: "bearer token (Authorization: Bearer …) every route but /health and the edges' /v1 protocol needs: " +
      "the fleet page, /edges, /edges/{name}/logs, /metrics (serve; never printed; unset: those routes are open)",
  },
  {
    flag: "opscenter-host",
    env: "HUB_OPSCENTER_HOST",
    help: "host[:port][/path] edges use to reach this hub, written into each EDGE_BUNDLE (add-edge)",
    default: "localhost:<port>",
  },
  { flag: "name", help: "the edge's name (add-edge, remove-edge, set-pipeline)" },
  { flag: "edge", help: "the same as --name" },
  {
    flag: "pipeline-url",
    help: "OCI reference of the pipeline the edge serves (set-pipeline; add-edge: without it the bundle's " +
      "PIPELINE_URL is empty and the edge serves its own PIPELINE_URL or the built-in demo)",
  },
  { flag: "workspace", help: "the edge's WORKSPACE_ID (add-edge)", default: "default" },
  { flag: "debug", env: "DEBUG", help: "one line per request (serve; true/false)", default: "false", boolean: true },
];

/** Edge names: what fits a DNS label and a file name. */
const EDGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Parses `tern hub <args>`; `env` is the environment config.ts read. */
export function parseHubConfig(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): HubConfig {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: "boolean", short: "h" },
        ...Object.fromEntries(HUB_OPTIONS.map((o) => [o.flag, { type: o.boolean ? "boolean" : "string" } as const])),
      },
    });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}; see tern hub --help`);
  }
  const { values, positionals } = parsed;
  const command = (values.help ? "help" : positionals[0] ?? "help") as HubCommand;
  if (!HUB_COMMANDS.includes(command)) {
    throw new ConfigError(`unknown hub command '${command}'; commands: ${HUB_COMMANDS.join(", ")}`);
  }
  if (positionals.length > 1) throw new ConfigError(`unexpected argument '${positionals[1]}'; see tern hub --help`);
  const flag = (name: string) => (values as Record<string, string | boolean | undefined>)[name];
  const get = (name: string): string | undefined => {
    const o = HUB_OPTIONS.find((x) => x.flag === name)!;
    const f = flag(name);
    if (f !== undefined) return String(f);
    const v = o.env ? env[o.env] : undefined;
    return v === undefined || v === "" ? undefined : v;
  };
  const port = parsePort(get("port") ?? "8090", "HUB_PORT");
  const databaseUrl = get("database-url");
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(
      "HUB_DATABASE_URL must be a postgres:// or postgresql:// URL (unset: libSQL in HUB_STATE_DIR)",
    );
  }
  const nameFlag = get("name");
  const edgeFlag = get("edge");
  if (nameFlag !== undefined && edgeFlag !== undefined && nameFlag !== edgeFlag) {
    throw new ConfigError("--name and --edge name the same edge: give one");
  }
  const name = nameFlag ?? edgeFlag;
  const config: HubConfig = {
    command,
    host: get("host") ?? "0.0.0.0",
    port,
    stateDir: get("state-dir") ?? "./hub-state",
    databaseUrl,
    tlsCert: get("tls-cert"),
    tlsKey: get("tls-key"),
    opscenterHost: get("opscenter-host") ?? `localhost:${port}`,
    opscenterHostGiven: get("opscenter-host") !== undefined,
    name,
    pipelineUrl: get("pipeline-url"),
    workspace: get("workspace") ?? "default",
    debug: parseBool("DEBUG", get("debug")),
    clockOffsetMs: clockOffset(env.TERN_HUB_TEST_CLOCK_OFFSET_MS),
    apiToken: parseBearerToken("HUB_API_TOKEN", get("api-token")),
  };
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new ConfigError("HUB_TLS_CERT and HUB_TLS_KEY come together: set both to serve HTTPS, or neither");
  }
  const need = (what: keyof HubConfig, as: string) => {
    if (config[what] === undefined) throw new ConfigError(`tern hub ${command} needs ${as}`);
  };
  if (config.pipelineUrl !== undefined && /\s/.test(config.pipelineUrl)) {
    throw new ConfigError("--pipeline-url must not contain spaces");
  }
  // What the edge will refuse is refused here, when the operator types it, not at the edge's next check-in.
  if (config.pipelineUrl !== undefined) {
    if (config.pipelineUrl === "") throw new ConfigError("--pipeline-url must not be empty");
    try {
      parseReference(config.pipelineUrl, "registry.invalid"); // a reference without a host takes the edge's OCI_REGISTRY
    } catch (err) {
      throw new ConfigError(`--pipeline-url ${errorText(err)}`);
    }
  }
  // A bundle line is `export WORKSPACE_ID=<id>`: one word, or the edge would read another value (or another line).
  if (command === "add-edge" && !/^[A-Za-z0-9._:-]{1,128}$/.test(config.workspace)) {
    throw new ConfigError(
      `--workspace '${config.workspace}' must be 1–128 letters, digits, '.', '_', ':' or '-' (default: default)`,
    );
  }
  if (command === "add-edge" && config.opscenterHostGiven) {
    try {
      opsBaseUrl(config.opscenterHost, true);
    } catch (err) {
      throw new ConfigError(`--opscenter-host '${config.opscenterHost}': ${errorText(err)}`);
    }
  }
  if (["add-edge", "remove-edge", "set-pipeline"].includes(command)) {
    need("name", command === "set-pipeline" ? "--edge NAME" : "--name NAME");
    if (!EDGE_NAME.test(name!)) {
      throw new ConfigError(
        `edge name '${name}' must be 1–63 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      );
    }
  }
  if (command === "set-pipeline") {
    need("pipelineUrl", "--pipeline-url REFERENCE");
  }
  return config;
}

function clockOffset(text: string | undefined): number {
  if (text === undefined || text === "") return 0;
  if (!/^[+-]?\d+$/.test(text.trim())) {
    throw new ConfigError(`TERN_HUB_TEST_CLOCK_OFFSET_MS='${text}' must be a whole number of ms (test-only)`);
  }
  return Number(text);
}

/** The text of `tern hub --help`. */
export function hubHelpText(): string {
  const rows = HUB_OPTIONS.map((o) =>
    `  --${o.flag}${o.boolean ? "" : " <value>"}\n      ${o.env ? `${o.env}: ` : ""}${o.help}${
      o.default ? ` [default: ${o.default}]` : ""
    }`
  );
  return [
    "tern hub: a self-hosted Ops center for tern edges (docs/ops-protocol.md)",
    "",
    "Usage: tern hub serve [--port N] [--state-dir DIR | --database-url postgres://…] [--tls-cert F --tls-key F]",
    "       tern hub add-edge --name NAME [--pipeline-url REFERENCE] [--workspace ID] [--opscenter-host HOST]",
    "                          prints the edge's EDGE_BUNDLE (its join token is valid 24 h)",
    "       tern hub remove-edge --name NAME      forgets the edge and the log rows it uploaded",
    "       tern hub set-pipeline --edge NAME --pipeline-url REFERENCE",
    "       tern hub edges                        last contact, status, pipeline, backlog, rows received",
    "",
    "Options (each also read from the environment variable named; flags win):",
    ...rows,
  ].join("\n");
}
