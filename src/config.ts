/**
 * @module
 * The one place where environment variables and command-line flags are read,
 * validated and defaulted. Flags win over the environment. Anything invalid
 * is a ConfigError naming the variable and what it accepts; `main.ts` prints
 * it and exits with code 2. `tern --help` is generated from OPTIONS.
 */
import { parseArgs } from "node:util";
import { ConfigError } from "./errors.ts";
import { type EdgeBundle, parseEdgeBundle } from "./ops/edge_bundle.ts";
import { MAX_PAGE_ROWS, opsBaseUrl } from "./ops/protocol.ts";
import { HUB_OPTIONS, type HubConfig, parseHubConfig } from "./hub/config.ts";
import { type OptionDef, OPTIONS } from "./config_options.ts";
import {
  parseBearerToken,
  parseBool,
  parseChoice,
  parseCount,
  parseCpus,
  parsePort,
  parseSize,
  parseStorageCap,
} from "./config_values.ts";

export { helpText, OPTIONS } from "./config_options.ts";
export { MIN_LOG_STORAGE_BYTES, parseSize } from "./config_values.ts";

/** The commands tern runs. */
export type Command = "serve" | "help" | "version" | "publish" | "pull" | "hub" | "health" | "backends";

const COMMANDS: readonly Command[] = ["serve", "help", "version", "publish", "pull", "hub", "health", "backends"];
/** The INFERENCE_BACKEND values (src/engine/select.ts builds each; config stays free of engine modules). */
export const BACKEND_CHOICES = ["auto", "wasm", "native", "cuda", "webgpu"] as const;
/** One INFERENCE_BACKEND value. */
export type BackendChoice = typeof BACKEND_CHOICES[number];
/** Longest OPS_CHECKIN_INTERVAL: well inside the 7 days after which Ops drops an edge's session. */
const MAX_CHECKIN_INTERVAL_S = 86_400;
/** The LOG_DURABILITY values. */
const LOG_DURABILITIES = ["durable", "fsync", "async", "off"] as const;
/** The LOG_FORMAT values. */
const LOG_FORMATS = ["text", "json"] as const;

/**
 * Every environment variable tern reads: deno.json's `--allow-env` lists each of them (with TMPDIR and the
 * variables dependencies read), and no other is read (tests/permissions_test.ts).
 */
export const ENV_NAMES: readonly string[] = [
  ...new Set([
    ...OPTIONS.map((o) => o.env),
    ...HUB_OPTIONS.flatMap((o) => o.env ? [o.env] : []),
    "TERN_HUB_TEST_CLOCK_OFFSET_MS",
  ]),
];

/** The environment as parseConfig reads it: the variables in ENV_NAMES that are set. */
export function readEnvironment(): Record<string, string> {
  return Object.fromEntries(ENV_NAMES.flatMap((name) => {
    let value: string | undefined;
    try {
      value = Deno.env.get(name);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotCapable)) throw err;
      throw new ConfigError(
        `tern's permission set does not allow reading ${name}: add it to --allow-env in deno.json's tern task`,
      );
    }
    return value === undefined ? [] : [[name, value]];
  }));
}

/** What `tern publish` was given. */
export interface PublishArgs {
  /** A pipeline.json or a folder holding one. */
  spec?: string;
  /** Short form: pipeline name and model files. */
  name?: string;
  models: string[];
  /** Where to push; default OCI_REGISTRY/<name>:<version>. */
  reference?: string;
}

/** Everything tern needs to know from its environment, resolved once at start-up. */
export interface Config {
  command: Command;
  /** OCI reference of the pipeline; undefined → the built-in demo. */
  pipelineUrl?: string;
  ociRegistry?: string;
  ociUsername?: string;
  /** Never printed. */
  ociPassword?: string;
  edgeBundle?: EdgeBundle;
  /** Seconds between check-ins with Ops (EDGE_BUNDLE). */
  opsCheckinIntervalSeconds: number;
  /** Plain HTTP to a non-loopback OPSCENTER_HOST (explicit opt-in). */
  opsPlainHttp: boolean;
  /** For `tern hub …` (src/hub/config.ts). */
  hub?: HubConfig;
  /** Cap of the inference log in bytes (with plateauPageSize). */
  localInferenceStorageBytes?: number;
  /** Rows per upload page (with localInferenceStorageBytes). */
  plateauPageSize?: number;
  /** CPUs (threads) the inference engine may use. */
  configCpus: number;
  debug: boolean;
  persistentVolumeDir: string;
  host: string;
  port: number;
  /** Largest accepted request body in bytes. */
  maxRequestBytes: number;
  /** Most rows in one inference request. */
  maxRequestRows: number;
  /** Request bodies served at once, in bytes. */
  maxInflightBytes: number;
  /** Which runtime runs each model. */
  inferenceBackend: BackendChoice;
  /** ONNXRUNTIME_LIB_DIR: an onnxruntime (GPU) build for the native backends. */
  onnxruntimeLibDir?: string;
  /** WEBGPU_ALLOW_SOFTWARE: INFERENCE_BACKEND=webgpu may use a software adapter (testing). */
  webgpuAllowSoftware: boolean;
  /** Adaptive batching: for every model (`on`), none (`off`), or models served on a GPU runtime (`auto`). */
  batching: "auto" | "on" | "off";
  /** Adaptive batching: a batch runs at once at this many rows. */
  batchMaxRows: number;
  /** Plain HTTP to a non-loopback registry (explicit opt-in). */
  ociPlainHttp: boolean;
  /** Seconds without an answer or a byte before a registry request is cut off. */
  ociTimeoutSeconds: number;
  /** Seconds between checks of PIPELINE_URL's tag for a new version; 0: never. */
  pipelineFollowIntervalSeconds: number;
  /** For `tern publish`. */
  publish?: PublishArgs;
  /** For `tern backends`: the model file to measure (undefined: the built-in demo model). */
  backendsModel?: string;
  /** Inference log: reply after commit (durable), after commit and sync (fsync), before (async), or no log (off). */
  logDurability: typeof LOG_DURABILITIES[number];
  /** METRICS: /metrics served and requests counted. */
  metrics: boolean;
  /** LOG_FORMAT: tern's own output lines as text or JSON objects. */
  logFormat: typeof LOG_FORMATS[number];
  /** API_TOKEN: the bearer token every request but the health checks must carry; never printed. */
  apiToken?: string;
  /** TLS_CERT and TLS_KEY: PEM files to serve HTTPS with (both or neither), read again on SIGHUP. */
  tls?: { certFile: string; keyFile: string };
}

/** Defaults that depend on the machine, passed in by main.ts. */
export interface MachineDefaults {
  cpus: number;
  persistentVolumeDir: string;
}

/** Parses argv and env into a Config; throws ConfigError on anything invalid. */
export function parseConfig(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  machine: MachineDefaults,
): Config {
  // `tern hub …` has options of its own (src/hub/config.ts), read from the same environment.
  if (args[0] === "hub") {
    // LOG_FORMAT applies to the hub too.
    const shared = parseConfig([], { LOG_FORMAT: env.LOG_FORMAT }, machine);
    return { ...shared, command: "hub", hub: parseHubConfig(args.slice(1), env) };
  }
  // A boolean flag alone means true; `--debug=false` (`--batching=auto`) gives it a value, as its variable does.
  const given = new Map<string, string>();
  const rest = args.filter((arg) => {
    const m = /^--([a-z-]+)=(.*)$/s.exec(arg);
    const o = m && OPTIONS.find((o) => o.boolean && o.flag === m[1]);
    if (o) given.set(o.flag, m![2]);
    return !o;
  });
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
        name: { type: "string" },
        model: { type: "string", multiple: true },
        ...Object.fromEntries(
          OPTIONS.map((
            o,
          ) => [o.flag, { type: o.boolean ? "boolean" : "string" } as const]),
        ),
      },
    });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}; see tern --help`);
  }
  const { values, positionals } = parsed;
  const command = values.help ? "help" : values.version ? "version" : positionals[0] ?? "serve";
  if (!COMMANDS.includes(command as Command)) {
    const before = rest[rest.indexOf(command) - 1];
    const flag = OPTIONS.find((o) => o.boolean && before === `--${o.flag}`);
    if (flag) {
      throw new ConfigError(`--${flag.flag} takes its value after '=' (--${flag.flag}=${command}), not '${command}'`);
    }
    throw new ConfigError(`unknown command '${command}'; commands: ${COMMANDS.join(", ")} (serve is the default)`);
  }
  const operands = positionals.slice(1);
  const maxOperands = command === "publish" ? 2 : command === "pull" || command === "backends" ? 1 : 0;
  if (operands.length > maxOperands) {
    throw new ConfigError(`unexpected argument '${operands[maxOperands]}'; see tern --help`);
  }
  if ((values.name !== undefined || values.model !== undefined) && command !== "publish") {
    throw new ConfigError("--name and --model belong to tern publish");
  }
  // Help and version answer whatever the environment holds: they get the defaults.
  if (command === "help" || command === "version") return { ...parseConfig([], {}, machine), command };

  /** Flag value if given, else the environment's; empty strings count as unset. */
  const read = (o: OptionDef): string | undefined => {
    const flag = given.get(o.flag) ?? (values as Record<string, string | boolean | undefined>)[o.flag];
    if (flag !== undefined) return String(flag);
    const v = env[o.env];
    return v === undefined || v === "" ? undefined : v;
  };
  const get = (envName: string) => read(OPTIONS.find((o) => o.env === envName)!);
  /** For options whose OPTIONS default is a real value (HOST, PORT, MAX_REQUEST_SIZE). */
  const getOrDefault = (envName: string): string => get(envName) ?? OPTIONS.find((o) => o.env === envName)!.default!;

  const bundleText = get("EDGE_BUNDLE");
  let edgeBundle: EdgeBundle | undefined;
  if (bundleText !== undefined) {
    try {
      edgeBundle = parseEdgeBundle(bundleText);
    } catch (err) {
      throw new ConfigError(
        `EDGE_BUNDLE ${(err as Error).message}: expected base64 of 'export KEY=VALUE' lines as the Ops server gives it`,
      );
    }
  }

  const opsPlainHttp = parseBool("OPS_PLAIN_HTTP", get("OPS_PLAIN_HTTP"));
  if (edgeBundle) {
    try {
      opsBaseUrl(edgeBundle.OPSCENTER_HOST, opsPlainHttp);
    } catch (err) {
      throw new ConfigError(`EDGE_BUNDLE: ${(err as Error).message}`);
    }
  }
  const checkinInterval = parseCount("OPS_CHECKIN_INTERVAL", getOrDefault("OPS_CHECKIN_INTERVAL"), "seconds");
  if (checkinInterval > MAX_CHECKIN_INTERVAL_S) {
    throw new ConfigError(
      `OPS_CHECKIN_INTERVAL='${checkinInterval}' is above ${MAX_CHECKIN_INTERVAL_S} seconds (one day): an edge must reach Ops at least every 7 days`,
    );
  }

  const storage = get("LOCAL_INFERENCE_STORAGE");
  const pageSize = get("PLATEAU_PAGE_SIZE");
  if ((storage === undefined) !== (pageSize === undefined)) {
    const [set, unset] = storage === undefined
      ? ["PLATEAU_PAGE_SIZE", "LOCAL_INFERENCE_STORAGE"]
      : ["LOCAL_INFERENCE_STORAGE", "PLATEAU_PAGE_SIZE"];
    throw new ConfigError(
      `${set} is set but ${unset} is not: set both (e.g. LOCAL_INFERENCE_STORAGE=1Gi PLATEAU_PAGE_SIZE=1000) or neither`,
    );
  }

  const ociPassword = readSecret("OCI_PASSWORD", get("OCI_PASSWORD"), get("OCI_PASSWORD_FILE"));
  if ((ociPassword === undefined) !== (get("OCI_USERNAME") === undefined)) {
    throw new ConfigError(
      ociPassword === undefined
        ? "OCI_USERNAME is set but OCI_PASSWORD (or OCI_PASSWORD_FILE) is not: set both, or neither"
        : "OCI_PASSWORD is set but OCI_USERNAME is not: set both, or neither",
    );
  }
  return {
    command: command as Command,
    pipelineUrl: (command === "pull" ? operands[0] : undefined) ?? get("PIPELINE_URL") ?? edgeBundle?.PIPELINE_URL,
    ociRegistry: get("OCI_REGISTRY"),
    ociUsername: get("OCI_USERNAME"),
    ociPassword,
    edgeBundle,
    opsCheckinIntervalSeconds: checkinInterval,
    opsPlainHttp,
    localInferenceStorageBytes: storage === undefined ? undefined : parseStorageCap(storage),
    plateauPageSize: pageSize === undefined ? undefined : parsePageSize(pageSize),
    configCpus: parseCpus(get("CONFIG_CPUS"), machine.cpus),
    debug: parseBool("DEBUG", get("DEBUG")),
    persistentVolumeDir: get("PERSISTENT_VOLUME_DIR") ??
      machine.persistentVolumeDir,
    host: getOrDefault("HOST"),
    port: parsePort(getOrDefault("PORT")),
    ...requestLimits(
      parseSize("MAX_REQUEST_SIZE", getOrDefault("MAX_REQUEST_SIZE")),
      parseCount("MAX_REQUEST_ROWS", getOrDefault("MAX_REQUEST_ROWS"), "rows"),
      parseSize("MAX_INFLIGHT_SIZE", getOrDefault("MAX_INFLIGHT_SIZE")),
      get("MAX_INFLIGHT_SIZE") === undefined,
    ),
    inferenceBackend: parseChoice("INFERENCE_BACKEND", getOrDefault("INFERENCE_BACKEND"), BACKEND_CHOICES),
    onnxruntimeLibDir: get("ONNXRUNTIME_LIB_DIR"),
    webgpuAllowSoftware: parseBool("WEBGPU_ALLOW_SOFTWARE", get("WEBGPU_ALLOW_SOFTWARE")),
    batching: parseBatching(get("BATCHING")),
    batchMaxRows: parseCount("BATCH_MAX_ROWS", getOrDefault("BATCH_MAX_ROWS"), "rows"),
    ociPlainHttp: parseBool("OCI_PLAIN_HTTP", get("OCI_PLAIN_HTTP")),
    ociTimeoutSeconds: parseCount("OCI_TIMEOUT", getOrDefault("OCI_TIMEOUT"), "seconds"),
    pipelineFollowIntervalSeconds: parseFollowInterval(getOrDefault("PIPELINE_FOLLOW_INTERVAL")),
    publish: command === "publish" ? publishArgs(values.name, values.model ?? [], operands) : undefined,
    backendsModel: command === "backends" ? operands[0] : undefined,
    logDurability: parseChoice(
      "LOG_DURABILITY",
      getOrDefault("LOG_DURABILITY"),
      LOG_DURABILITIES,
    ),
    metrics: parseBool("METRICS", getOrDefault("METRICS")),
    logFormat: parseChoice("LOG_FORMAT", getOrDefault("LOG_FORMAT"), LOG_FORMATS),
    apiToken: parseBearerToken("API_TOKEN", readSecret("API_TOKEN", get("API_TOKEN"), get("API_TOKEN_FILE"))),
    tls: tlsFiles(get("TLS_CERT"), get("TLS_KEY")),
  };
}

/** The most rows one request may hold: the inference log's queue bound (one request never bypasses it). */
export const MAX_REQUEST_ROWS_LIMIT = 20_000;

/** The smallest MAX_REQUEST_SIZE taken: below it, a number meant as MiB (`16`) would refuse every request. */
const MIN_REQUEST_BYTES = 1024;

function requestLimits(
  maxRequestBytes: number,
  maxRequestRows: number,
  maxInflightBytes: number,
  inflightDefault: boolean,
): Pick<Config, "maxRequestBytes" | "maxRequestRows" | "maxInflightBytes"> {
  if (maxRequestRows > MAX_REQUEST_ROWS_LIMIT) {
    throw new ConfigError(
      `MAX_REQUEST_ROWS='${maxRequestRows}' is above ${MAX_REQUEST_ROWS_LIMIT}, the inference log's queue bound`,
    );
  }
  if (maxRequestBytes < MIN_REQUEST_BYTES) {
    throw new ConfigError(
      `MAX_REQUEST_SIZE is ${maxRequestBytes} bytes, below the ${MIN_REQUEST_BYTES} taken: too small for a request ` +
        `(a size without a unit is bytes: write ${maxRequestBytes}Mi for ${maxRequestBytes} MiB)`,
    );
  }
  if (maxInflightBytes < maxRequestBytes) {
    throw new ConfigError(
      `MAX_INFLIGHT_SIZE (${maxInflightBytes} bytes${
        inflightDefault ? ", its default" : ""
      }) is below MAX_REQUEST_SIZE (${maxRequestBytes} bytes): no request of the largest size could run; ` +
        "raise MAX_INFLIGHT_SIZE with it",
    );
  }
  return { maxRequestBytes, maxRequestRows, maxInflightBytes };
}

/** PIPELINE_FOLLOW_INTERVAL: whole seconds, 0 for never. */
function parseFollowInterval(text: string): number {
  if (!/^\s*\d+\s*$/.test(text)) {
    throw new ConfigError(`PIPELINE_FOLLOW_INTERVAL='${text}' must be a whole number of seconds (0: never check)`);
  }
  return Number(text);
}

/** TLS_CERT and TLS_KEY: both or neither. */
function tlsFiles(certFile: string | undefined, keyFile: string | undefined): Config["tls"] {
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError("TLS_CERT and TLS_KEY come together: set both to serve HTTPS, or neither");
  }
  return certFile === undefined ? undefined : { certFile, keyFile: keyFile! };
}

/** A secret NAME, or the content of NAME_FILE (never both); errors never show the secret. */
function readSecret(name: string, value: string | undefined, file: string | undefined): string | undefined {
  if (file === undefined) return value;
  if (value !== undefined) {
    throw new ConfigError(`${name} and ${name}_FILE are both set: set one of them`);
  }
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (err) {
    throw new ConfigError(`${name}_FILE='${file}' cannot be read (${(err as Error).name})`);
  }
  const secret = text.replace(/[\r\n]+$/, "");
  if (secret === "") throw new ConfigError(`${name}_FILE='${file}' is empty`);
  return secret;
}

/** BATCHING: auto (the default), or true/false. */
function parseBatching(text: string | undefined): Config["batching"] {
  if (text === undefined || text.trim().toLowerCase() === "auto") return "auto";
  try {
    return parseBool("BATCHING", text) ? "on" : "off";
  } catch {
    throw new ConfigError(`BATCHING='${text}' must be auto, true or false`);
  }
}

function publishArgs(name: string | undefined, models: string[], operands: string[]): PublishArgs {
  if (models.length > 0 || name !== undefined) {
    if (!name || models.length === 0) {
      throw new ConfigError("tern publish: the short form needs --name and --model FILE");
    }
    if (operands.length > 1) throw new ConfigError("tern publish --name … --model …: give one reference");
    return { name, models, reference: operands[0] };
  }
  if (operands.length === 0) {
    throw new ConfigError("tern publish: give a pipeline spec (file or folder) or --name and --model FILE");
  }
  return { spec: operands[0], models: [], reference: operands[1] };
}

/** PLATEAU_PAGE_SIZE: rows per Ops upload page, at most what Ops takes in one page. */
function parsePageSize(text: string): number {
  const rows = parseCount("PLATEAU_PAGE_SIZE", text, "rows");
  if (rows > MAX_PAGE_ROWS) {
    throw new ConfigError(`PLATEAU_PAGE_SIZE='${text}' is more rows than Ops takes in one page (${MAX_PAGE_ROWS})`);
  }
  return rows;
}
